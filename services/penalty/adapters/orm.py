"""The penalty service's own tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.archive_region import ArchivedEmployerBase
from shared.contracts import utc_now


class Case(SQLModel, table=True):
    """A violation found at inspection, and what was decided about it."""

    __tablename__ = "penalty_case"

    id: str = Field(primary_key=True, max_length=36)
    case_code: str | None = Field(default=None, max_length=17, unique=True)  # 行政行为码, given at opening
    credit_code: str = Field(index=True, max_length=18)
    region_code: str | None = Field(default=None, max_length=6, index=True)
    item_code: str = Field(index=True, max_length=16)
    found_on: date
    harm: str = Field(max_length=8)
    major: bool = False  # 重大违法, staff's finding
    corrected_on: date | None = None
    rectification_deadline: date | None = None  # the deadline of the order or the commitment
    procedure: str | None = Field(default=None, max_length=16)  # three_step | commitment | on_the_spot
    status: str = Field(default="recorded", max_length=16)  # see services/penalty/domain/procedure.py
    decision: str | None = Field(default=None, max_length=16)  # no_penalty | penalty
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    trace: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rule_set: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    first_time: bool | None = None
    circumstance: str | None = Field(default=None, max_length=16)  # first_overdue | repeated | harm_caused
    proposed_fine: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # min/max/provision/baseline
    fine_yuan: int | None = None
    departure_reason: str | None = None
    producer: str | None = Field(default=None, max_length=64)  # who recorded the violation (penalty, sampling, …)
    task_id: str | None = Field(default=None, max_length=36)
    description: str | None = None
    created_at: datetime = Field(default_factory=utc_now)  # breaks ties between same-day findings
    decided_at: datetime | None = None
    decided_on: date | None = None  # the China date of the decision
    closed_on: date | None = None


class CaseStep(SQLModel, table=True):
    """One step of a case's procedure (its timeline), as announced on ohs.penalty.case-progressed."""

    __tablename__ = "penalty_case_step"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(index=True, max_length=36)
    seq: int
    step: str = Field(max_length=32)
    status: str = Field(max_length=16)  # the case's status after the step
    on: date
    deadline: date | None = None
    actor: str = Field(max_length=200)
    detail: str
    created_at: datetime = Field(default_factory=utc_now)


class CaseCodeCounter(SQLModel, table=True):
    """The last sequence number given in a region and year (行政行为码)."""

    __tablename__ = "penalty_case_code_counter"

    region_code: str = Field(primary_key=True, max_length=6)
    year: int = Field(primary_key=True)
    last_sequence: int = 0


class ArchivedEmployer(ArchivedEmployerBase, table=True):
    """Where the registry's archive has an employer (a projection of ohs.registry.classification-changed,
    the highest archive version kept): its jurisdiction, never a caller's claim, decides the county of a case opened for it (RULES §5a)."""

    __tablename__ = "penalty_archived_employer"


MODELS: list[type[SQLModel]] = [Case, CaseStep, CaseCodeCounter, ArchivedEmployer]

from services.penalty.adapters.orm_orgs import MODELS as ORG_MODELS  # noqa: E402 - technical service organisations (orm_orgs.py)

MODELS += ORG_MODELS

from services.penalty.adapters.orm_screening import MODELS as SCREENING_MODELS  # noqa: E402 - screenings of reports (orm_screening.py)

MODELS += SCREENING_MODELS

from services.penalty.adapters.orm_org_filings import MODELS as ORG_FILING_MODELS  # noqa: E402 - organisations' filings and rating (issue 17)

MODELS += ORG_FILING_MODELS
