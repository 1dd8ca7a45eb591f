"""The penalty service's tables about technical service organisations (false-report findings)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from shared.contracts import utc_now


class OrgFinding(SQLModel, table=True):
    """A false-report finding against a 职业卫生技术服务机构, as recorded by an agency."""

    __tablename__ = "penalty_org_finding"

    id: str = Field(primary_key=True, max_length=36)
    org_credit_code: str = Field(index=True, max_length=18)
    org_name: str
    region_code: str = Field(index=True, max_length=6)  # the finding agency's jurisdiction (where the report was used)
    employer_credit_code: str | None = Field(default=None, max_length=18)
    submission_id: str | None = Field(default=None, max_length=36)  # the report found false, when known
    misstated: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    description: str
    severity: str = Field(max_length=8)  # minor | serious
    found_on: date
    status: str = Field(max_length=16)  # recorded | referred | disqualified
    recorded_by: str
    disqualification_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(default_factory=utc_now)


class OrgDisqualification(SQLModel, table=True):
    """A province's decision disqualifying an organisation from comprehensive risk assessment work."""

    __tablename__ = "penalty_org_disqualification"

    id: str = Field(primary_key=True, max_length=36)  # also the announcing event's id
    org_credit_code: str = Field(index=True, max_length=18)
    org_name: str
    decision_no: str = Field(unique=True, max_length=64)
    decided_on: date
    until: date | None = None
    reason: str
    decided_by: str
    region_code: str = Field(max_length=6)  # the deciding province
    created_at: datetime = Field(default_factory=utc_now)


MODELS = [OrgFinding, OrgDisqualification]
