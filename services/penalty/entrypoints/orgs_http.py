"""Technical service organisations: false-report findings and disqualification (RULES §8)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session, col, select

from services.penalty.adapters.orm_orgs import OrgDisqualification, OrgFinding
from services.penalty.domain.orgs import DisqualificationRefused, Misstatement, Severity
from services.penalty.service_layer import orgs
from shared.auth import Principal, authenticate
from shared.contracts import validate_county_code, validate_credit_code
from shared.dates import china_today
from shared.db import in_session
from shared.identifiers import credit_code_problem
from shared.runtime import invalid

router = APIRouter(tags=["organisations 技术服务机构"])
log = logging.getLogger(__name__)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision_no: str = Field(min_length=1, max_length=64, description="the deciding document, e.g. 晋卫监罚〔2026〕12号")
    decided_on: date
    until: date | None = Field(default=None, description="last day of the disqualification; null: until lifted")
    reason: str | None = Field(default=None, description="default: the serious findings it rests on")


class FindingIn(BaseModel):
    """A false-report finding against an organisation."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    org_name: str = Field(min_length=1, max_length=200)
    region_code: str = Field(description="county where the report was used (inside the token's jurisdiction)")
    employer_credit_code: str | None = Field(default=None, description="the employer whose report was false")
    submission_id: UUID | None = Field(default=None, description="the false report, when it went through the platform")
    misstated: list[Misstatement] = Field(min_length=1, description="what the report misstated")
    description: str = Field(min_length=1)
    severity: Severity = Field(description="serious: grounds for disqualification (referred to the province)")
    found_on: date
    disqualification: DecisionIn | None = Field(default=None, description="province staff: disqualify at once on this serious finding")

    _region = field_validator("region_code")(validate_county_code)

    @field_validator("employer_credit_code")
    @classmethod
    def _employer(cls, value: str | None) -> str | None:
        return None if value is None else validate_credit_code(value)


class DisqualificationIn(DecisionIn):
    finding_ids: list[str] = Field(min_length=1, description="the serious findings it rests on")


def _org_code(code: str) -> str:
    problem = credit_code_problem(code)
    if problem:
        raise HTTPException(status_code=422, detail=f"org_credit_code: 统一社会信用代码 {problem}")
    return code


def _staff(principal: Principal, what: str) -> None:
    if not principal.is_staff:
        raise HTTPException(status_code=403, detail=f"only supervision staff {what}, not an {principal.role}'s token")


def _refused(error: DisqualificationRefused):  # noqa: ANN202
    if error.field == "role":
        raise HTTPException(status_code=403, detail=error.message)
    return invalid([{"field": error.field, "message": error.message}], "the disqualification is refused")


@router.post(
    "/orgs/{org_credit_code}/findings",
    status_code=201,
    summary="Record a false-report finding against a technical service organisation",
    description="Supervision staff, for a county of their jurisdiction. A serious finding is referred to the province; "
    "province staff may decide the disqualification with it (`disqualification`), which announces ohs.orgs.disqualified.",
)
async def post_finding(org_credit_code: str, finding: FindingIn, request: Request, principal: Principal = Depends(authenticate)) -> Any:
    code = _org_code(org_credit_code)
    _staff(principal, "record findings against organisations")
    if not principal.covers_region(finding.region_code):
        raise HTTPException(status_code=403, detail=f"region {finding.region_code} is outside the jurisdiction of this {principal.role} token ({principal.region_code})")
    if finding.found_on > china_today():
        return invalid([{"field": "found_on", "message": f"{finding.found_on} is in the future"}], "the finding is invalid")
    new = orgs.NewFinding(
        org_credit_code=code, org_name=finding.org_name, region_code=finding.region_code, employer_credit_code=finding.employer_credit_code,
        submission_id=str(finding.submission_id) if finding.submission_id else None, misstated=list(finding.misstated),
        description=finding.description, severity=finding.severity, found_on=finding.found_on,
    )
    decision = orgs.Decision(**finding.disqualification.model_dump()) if finding.disqualification else None

    def store(session: Session) -> dict[str, Any]:
        row, disqualification = orgs.record_finding(
            session, new, recorded_by=principal.describe(), role=principal.role, deciding_region=principal.region_code,
            decision=decision, today=china_today(),
        )
        session.commit()
        return {**orgs.finding_view(row), "disqualification": orgs.disqualification_view(disqualification) if disqualification else None}

    try:
        view = await in_session(request.app.state.runtime.engine, store)
    except DisqualificationRefused as error:
        return _refused(error)
    log.info("finding %s against organisation %s (%s) recorded by %s", view["id"], code, finding.severity, principal.describe())
    await request.app.state.runtime.relay.flush()
    return view


@router.post(
    "/orgs/{org_credit_code}/disqualification",
    summary="Disqualify an organisation from comprehensive risk assessment work, on its serious findings",
    description="Province staff only. Announces ohs.orgs.disqualified (the assessment service then refuses the "
    "organisation's reports; the credit feed publishes it). The same decision_no again returns the decision made.",
)
async def post_disqualification(
    org_credit_code: str, body: DisqualificationIn, request: Request, principal: Principal = Depends(authenticate)
) -> Any:
    code = _org_code(org_credit_code)
    _staff(principal, "disqualify organisations")
    decision = orgs.Decision(decision_no=body.decision_no, decided_on=body.decided_on, until=body.until, reason=body.reason)

    def store(session: Session) -> dict[str, Any]:
        row = orgs.disqualify(
            session, code, decision, body.finding_ids, role=principal.role, decided_by=principal.describe(),
            region_code=principal.region_code or "", today=china_today(),
        )
        session.commit()
        return orgs.disqualification_view(row)

    try:
        view = await in_session(request.app.state.runtime.engine, store)
    except DisqualificationRefused as error:
        return _refused(error)
    await request.app.state.runtime.relay.flush()
    return view


@router.get(
    "/orgs/{org_credit_code}",
    summary="An organisation's record: findings (inside the token's jurisdiction) and disqualifications",
    description="Supervision staff and auditors. Disqualifications are shown to all of them (they bind the whole province).",
)
async def get_org(org_credit_code: str, request: Request, principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    code = _org_code(org_credit_code)
    if principal.role == "employer":
        raise HTTPException(status_code=403, detail="organisations' records are for supervision staff and auditors")

    def load(session: Session) -> dict[str, Any]:
        findings = session.exec(select(OrgFinding).where(OrgFinding.org_credit_code == code).order_by(col(OrgFinding.found_on)))
        decisions = session.exec(
            select(OrgDisqualification).where(OrgDisqualification.org_credit_code == code).order_by(col(OrgDisqualification.decided_on))
        )
        visible = [orgs.finding_view(f) for f in findings if principal.covers_region(f.region_code)]
        disqualifications = [orgs.disqualification_view(d) for d in decisions]
        today = china_today()
        return {
            "org_credit_code": code,
            "disqualified": any(d["until"] is None or d["until"] >= today.isoformat() for d in disqualifications),
            "findings": visible,
            "disqualifications": disqualifications,
        }

    return await in_session(request.app.state.runtime.engine, load)
