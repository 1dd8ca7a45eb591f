"""The penalty service's own tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from shared.contracts import utc_now


class Case(SQLModel, table=True):
    """A violation found at inspection, and what was decided about it."""

    __tablename__ = "penalty_case"

    id: str = Field(primary_key=True, max_length=36)
    credit_code: str = Field(index=True, max_length=18)
    region_code: str | None = Field(default=None, max_length=6)
    item_code: str = Field(index=True, max_length=16)
    found_on: date
    harm: str = Field(max_length=8)
    corrected_on: date | None = None
    rectification_deadline: date | None = None
    status: str = Field(default="recorded", max_length=16)  # recorded → decided
    decision: str | None = Field(default=None, max_length=16)  # no_penalty | penalty
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    trace: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rule_set: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utc_now)  # breaks ties between same-day findings
    decided_at: datetime | None = None


MODELS = [Case]
