"""The assessment service's own tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from shared.archive_region import ArchivedEmployerBase
from shared.contracts import utc_now


class Submission(SQLModel, table=True):
    """One submitted report and what became of it: accepted → classified | rejected."""

    __tablename__ = "assessment_submission"
    # GET /reports: a county's submissions newest first, a page at a time; and those of one status (a dashboard's
    # "awaiting classification" and "returned" figures) without reading every submission
    __table_args__ = (Index("ix_assessment_submission_region_received", "region_code", "received_at"),
                      Index("ix_assessment_submission_status_received", "status", "received_at"))

    submission_id: str = Field(primary_key=True, max_length=36)
    credit_code: str = Field(index=True, max_length=18)
    region_code: str = Field(index=True, max_length=6)
    content_sha256: str = Field(index=True, max_length=64)  # the report without its submission id
    report: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="accepted", max_length=16)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # in Chinese, as decided
    reason_messages: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # their codes and params
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))  # the classified event
    received_at: datetime = Field(default_factory=utc_now, index=True)
    decided_at: datetime | None = None


class DisqualifiedOrg(SQLModel, table=True):
    """A technical service organisation barred from comprehensive risk assessment work (from ohs.orgs.disqualified)."""

    __tablename__ = "assessment_disqualified_org"

    org_id: str = Field(primary_key=True, max_length=18)  # the organisation's 统一社会信用代码
    org_name: str
    decision_no: str
    decided_on: date
    until: date | None = None
    reason: str

    def bars(self, day: date) -> bool:
        return self.decided_on <= day and (self.until is None or day <= self.until)

    def describe(self) -> str:
        period = f"until {self.until}" if self.until else "until lifted"
        return (
            f"technical service organisation {self.org_name} ({self.org_id}) is disqualified from comprehensive risk "
            f"assessment work by decision {self.decision_no} of {self.decided_on} ({period}): {self.reason}"
        )


class ArchivedEmployer(ArchivedEmployerBase, table=True):
    """Where the registry's archive has an employer (a projection of ohs.registry.classification-changed,
    the highest archive version kept): its jurisdiction, never a caller's claim, decides who may submit its reports (RULES §5a)."""

    __tablename__ = "assessment_archived_employer"


MODELS = [Submission, DisqualifiedOrg, ArchivedEmployer]

from services.assessment.adapters.orm_test_filings import MODELS as TEST_FILING_MODELS  # noqa: E402 - organisations' test reports (issue 17)

MODELS += TEST_FILING_MODELS
