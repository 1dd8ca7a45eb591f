"""The assessment service's own tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from shared.contracts import utc_now


class Submission(SQLModel, table=True):
    """One submitted report and what became of it: accepted → classified | rejected."""

    __tablename__ = "assessment_submission"

    submission_id: str = Field(primary_key=True, max_length=36)
    credit_code: str = Field(index=True, max_length=18)
    region_code: str = Field(index=True, max_length=6)
    payload_sha256: str = Field(max_length=64)  # the same id with other content is a conflict
    report: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="accepted", max_length=16)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    received_at: datetime = Field(default_factory=utc_now)
    decided_at: datetime | None = None


MODELS = [Submission]
