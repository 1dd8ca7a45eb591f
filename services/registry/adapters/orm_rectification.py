"""The registry's rectification tables (整改, issue 13): one row per item, every step of its history,
the employer's submissions and their attachments (the bytes live in the attachment store,
``adapters.attachments``; a row keeps the key, size and SHA-256).

An item's id is ``uuid5(credit code, shortcoming code, origin submission)`` (``domain.rectification``),
so a replay of ``ohs.penalty.screened`` into an empty database raises the same items."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.contracts import utc_now


class RectificationItem(SQLModel, table=True):
    """One shortcoming the employer has to put right, with its status and deadline."""

    __tablename__ = "registry_rectification_item"
    __table_args__ = (Index("ix_registry_rectification_item_shortcoming", "credit_code", "shortcoming_code"),)

    id: str = Field(primary_key=True, max_length=36)
    credit_code: str = Field(index=True, max_length=18)
    region_code: str = Field(index=True, max_length=6)  # where it was raised: the archive's region then (else the report's)
    shortcoming_code: str = Field(max_length=300)  # stable across reports: checklist:4.3, test_expired:矽尘
    shortcoming_kind: str = Field(max_length=32)
    shortcoming_subject: str | None = Field(default=None, max_length=200)
    shortcoming_text: str
    submission_id: str = Field(max_length=36)  # the report that first disclosed it
    latest_submission_id: str = Field(max_length=36)  # the latest report that disclosed it (continued)
    screening_id: str = Field(max_length=36)  # the latest screening of it (penalty's)
    outcome: str = Field(max_length=32)  # eligible_if_corrected | not_eligible | no_violation
    item_code: str | None = Field(default=None, max_length=32)  # 附件5 item, when one applies
    provision_code: str | None = Field(default=None, max_length=32)
    screening: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # duty, reasons, earlier, trace, rule_set
    status: str = Field(index=True, max_length=16)  # open | submitted | returned | cleared | overdue
    deadline: date = Field(index=True)
    deadline_basis: str = ""  # how the deadline was set, for the trace
    raised_on: date
    updated_on: date
    reminded_for: date | None = None  # the deadline a reminder was sent for (once per item and deadline)
    steps: int = 0  # the number of steps in its history (the last step's seq)
    created_at: datetime = Field(default_factory=utc_now)


class RectificationStepRecord(SQLModel, table=True):
    """One step of an item's history, as announced on ``ohs.registry.rectification-progressed``."""

    __tablename__ = "registry_rectification_step"
    __table_args__ = (UniqueConstraint("item_id", "seq", name="uq_registry_rectification_step"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: str = Field(max_length=36)
    seq: int  # 1, 2, … per item
    step: str = Field(max_length=16)  # raised | continued | submitted | returned | cleared | reminded | overdue
    status: str = Field(max_length=16)  # the item's status after the step
    taken_on: date  # the China date of the step
    deadline: date
    actor: str  # principal.describe(), or "system"
    detail: str = ""
    screening_id: str | None = Field(default=None, index=True, max_length=36)
    submission_n: int | None = None  # the employer's submission the step is about (submitted, returned, cleared)
    corrected_on: date | None = None
    corrected_in_time: bool | None = None
    event_id: str = Field(max_length=36, unique=True)  # domain.rectification.step_event_id: what the step is
    recorded_at: datetime = Field(default_factory=utc_now)


class RectificationSubmission(SQLModel, table=True):
    """The employer's correction of an item (text and attachments), and the review it got."""

    __tablename__ = "registry_rectification_submission"
    __table_args__ = (UniqueConstraint("item_id", "n", name="uq_registry_rectification_submission"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: str = Field(max_length=36)
    n: int  # 1, 2, … per item
    text: str
    submitted_on: date
    submitted_at: datetime = Field(default_factory=utc_now)
    actor: str  # the employer, principal.describe()
    decision: str | None = Field(default=None, max_length=16)  # accepted | returned; None while pending
    reviewed_on: date | None = None
    reviewed_by: str | None = None
    review_reason: str | None = None


class RectificationAttachmentRecord(SQLModel, table=True):
    """One file of a submission: where the attachment store keeps it, its type, size and SHA-256."""

    __tablename__ = "registry_rectification_attachment"
    __table_args__ = (UniqueConstraint("item_id", "n", name="uq_registry_rectification_attachment"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: str = Field(max_length=36)
    submission_n: int
    n: int  # 1, 2, … per item, across its submissions (GET /rectifications/{id}/attachments/{n})
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=500)


MODELS = [RectificationItem, RectificationStepRecord, RectificationSubmission, RectificationAttachmentRecord]
