"""The registry's own tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.contracts import utc_now


class EnterpriseRecord(SQLModel, table=True):
    """Current state of one employer's archive."""

    __tablename__ = "registry_enterprise"

    credit_code: str = Field(primary_key=True, max_length=18)  # 统一社会信用代码
    name: str
    region_code: str = Field(index=True, max_length=6)
    industry_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    employees: int
    category: str = Field(index=True, max_length=1)  # the effective 综合风险类别 甲/乙/丙: basis, then overrides (RULES §5)
    # the current report's facts; all None for an industry default (no report yet)
    hazard_grade: str | None = Field(default=None, max_length=1)  # Ⅰ/Ⅱ/Ⅲ
    management_grade: str | None = Field(default=None, max_length=1)  # A/B/C
    score: float | None = None
    assessed_on: date | None = None
    submission_id: str | None = Field(default=None, max_length=36)
    report_category: str | None = Field(default=None, max_length=1)  # the current report's result, before overrides
    report_version: int | None = None  # the ClassificationVersion of the current report
    source: str = Field(default="report", max_length=16, sa_column_kwargs={"server_default": "report"})  # report | industry
    dispute_status: str | None = Field(default=None, max_length=32)  # None, disputed, verified, resubmission_requested
    # Versions number every entry of an employer's archive, reports and overrides alike, in one sequence:
    archive_version: int  # the version of the last entry that changed the current state (what sampling compares)
    latest_version: int  # the highest version number given out
    updated_at: datetime = Field(default_factory=utc_now)
    # reminders (RULES §1): the current report's re-assessment deadline (None: no report, or archived
    # before it was kept) and, for a new employer's first assessment, the day production started
    next_assessment_due: date | None = Field(default=None, index=True)
    production_started_on: date | None = None


class ClassificationVersion(SQLModel, table=True):
    """Every classification ever archived for an employer, in arrival order."""

    __tablename__ = "registry_classification_version"
    __table_args__ = (
        UniqueConstraint("credit_code", "version", name="uq_registry_version"),
        UniqueConstraint("submission_id", name="uq_registry_submission"),
    )

    id: int | None = Field(default=None, primary_key=True)
    credit_code: str = Field(index=True, max_length=18)
    version: int
    submission_id: str = Field(max_length=36)
    source_event_id: str = Field(max_length=36)
    region_code: str = Field(max_length=6)
    name: str
    category: str = Field(max_length=1)
    hazard_grade: str = Field(max_length=1)
    management_grade: str = Field(max_length=1)
    score: float
    assessed_on: date
    rule_set: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    factors: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    trace: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    became_current: bool
    recorded_at: datetime = Field(default_factory=utc_now)


class ChangeLogEntry(SQLModel, table=True):
    """One change to an employer's classification, hash-chained per county (RULES §8).

    Append-only: written once by ``service_layer.chain_log.append`` (its hash set in the same
    transaction, once the seq is known). The hash covers every other column (``domain.chain``)."""

    __tablename__ = "registry_change_log"
    __table_args__ = (
        # a chain cannot fork: no two entries of a region follow the same one
        UniqueConstraint("region_code", "prev_hash", name="uq_registry_change_log_link"),
        {"sqlite_autoincrement": True},  # a seq is never given out twice, even after the last row is deleted
    )

    seq: int | None = Field(default=None, primary_key=True)
    region_code: str = Field(index=True, max_length=6)
    credit_code: str = Field(index=True, max_length=18)
    change: str = Field(max_length=32)  # archived, later override, exemption, …
    category_before: str | None = Field(default=None, max_length=1)
    category_after: str | None = Field(default=None, max_length=1)
    actor: str = Field(max_length=300)  # "system:<producer> event <event_id>", or a person from a token
    reason: str
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # the facts hashed
    recorded_at: datetime = Field(default_factory=utc_now)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class ChainHeadRecord(SQLModel, table=True):
    """The last entry of each region's chain; its row is locked while an entry is appended."""

    __tablename__ = "registry_chain_head"

    region_code: str = Field(primary_key=True, max_length=6)
    last_seq: int
    last_hash: str = Field(max_length=64)


class OverrideRecord(SQLModel, table=True):
    """An archive entry beside the reports (RULES §5): an industry default, an enforcement upgrade,
    a dispute or an on-site verification, with who, when and why. Never deleted: a newer basis
    (report, industry classification) clears the active ones by setting ``cleared_at`` / ``cleared_by``."""

    __tablename__ = "registry_override"
    __table_args__ = (UniqueConstraint("credit_code", "version", name="uq_registry_override_version"),)

    id: int | None = Field(default=None, primary_key=True)
    credit_code: str = Field(index=True, max_length=18)
    version: int  # archive version, in the same sequence as the employer's ClassificationVersions
    kind: str = Field(max_length=32)  # industry_default, enforcement_upgrade, dispute, verification
    region_code: str = Field(max_length=6)
    category_before: str | None = Field(default=None, max_length=1)
    category_after: str | None = Field(default=None, max_length=1)
    steps: int | None = None  # enforcement_upgrade
    submission_id: str | None = Field(default=None, max_length=36)  # the report current when recorded (None: industry basis)
    actor: str = Field(max_length=300)  # principal.describe(), or "system:<producer> event <event_id>"
    reason: str
    case_ref: str | None = Field(default=None, index=True, max_length=100)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    recorded_at: datetime = Field(default_factory=utc_now)
    cleared_at: datetime | None = None
    cleared_by: str | None = None


class ExemptionRecord(SQLModel, table=True):
    """A 免检 granted to an employer (RULES §6): status granted → in_force → expired, or revoked."""

    __tablename__ = "registry_exemption"

    id: str = Field(primary_key=True, max_length=36)
    credit_code: str = Field(index=True, max_length=18)
    region_code: str = Field(max_length=6)
    valid_from: date  # China dates, both included
    valid_until: date
    reason: str
    basis: str  # the credit assessment or decision it rests on
    status: str = Field(index=True, max_length=16)  # granted, in_force, revoked, expired
    granted_by: str = Field(max_length=300)
    granted_at: datetime = Field(default_factory=utc_now)
    started_at: datetime | None = None  # announced exempt
    ended_at: datetime | None = None
    ended_by: str | None = Field(default=None, max_length=300)
    end_reason: str | None = None


class ReminderRecord(SQLModel, table=True):
    """A reminder the daily sweep has sent (``ohs.registry.reminder-due``): one per employer, kind and
    due day, so that a sweep run again, or two at once, sends it once."""

    __tablename__ = "registry_reminder"

    credit_code: str = Field(primary_key=True, max_length=18)
    kind: str = Field(primary_key=True, max_length=32)  # reassessment_due_soon, reassessment_overdue, first_assessment_overdue
    due_on: date = Field(primary_key=True)
    sent_at: datetime = Field(default_factory=utc_now)


class TransferRecord(SQLModel, table=True):
    """A move of an employer to another county (迁移, RULES §5a): asked by a report naming another
    region than the archive's, confirmed or refused by the receiving region's staff. The employer
    stays in ``from_region`` until the move is accepted. Status: pending → accepted | refused, or
    superseded by a later report; refused at once when ``to_region`` is not a county of the platform."""

    __tablename__ = "registry_transfer"

    id: str = Field(primary_key=True, max_length=36)
    credit_code: str = Field(index=True, max_length=18)
    from_region: str = Field(index=True, max_length=6)  # the archive's region when asked
    to_region: str = Field(index=True, max_length=6)  # the region the report names
    submission_id: str = Field(max_length=36)  # the report that asked
    requested_at: datetime = Field(default_factory=utc_now)
    status: str = Field(index=True, max_length=16)  # pending, accepted, refused, superseded
    reason: str | None = None  # why it was refused or superseded (or the acceptor's note)
    decided_at: datetime | None = None
    decided_by: str | None = Field(default=None, max_length=300)  # principal.describe(), or "system:registry"
    archive_version: int | None = None  # the archive version the accepted move produced


MODELS = [EnterpriseRecord, ClassificationVersion, ChangeLogEntry, ChainHeadRecord, OverrideRecord, ExemptionRecord, ReminderRecord, TransferRecord]

# the tables of the modules beside this one (issue 13): the rectification loop, the portrait and the figures' facts
from services.registry.adapters.orm_portrait import MODELS as _PORTRAIT_MODELS  # noqa: E402
from services.registry.adapters.orm_rectification import MODELS as _RECTIFICATION_MODELS  # noqa: E402

MODELS += _RECTIFICATION_MODELS + _PORTRAIT_MODELS
