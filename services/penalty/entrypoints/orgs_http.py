"""Technical service organisations: false-report findings and disqualification (RULES §8)."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import ConfigDict, Field, field_validator

from services.penalty import views
from services.penalty.domain.orgs import ROLE, DisqualificationRefused, Misstatement, Severity
from services.penalty.domain.words import named
from services.penalty.service_layer import orgs
from services.penalty.service_layer.unit_of_work import AbstractPenaltyUnitOfWork
from shared.contracts import (
    NAME_LENGTH,
    TEXT_LENGTH,
    FreeText,
    RequestModel,
    SaneDate,
    validate_county_code,
    validate_credit_code,
)
from shared.dates import china_today
from shared.errors import Refusal, once_more_after_a_race
from services.penalty.entrypoints.http import RulebookDep
from shared.auth import ORGANISATION
from shared.http import CreditCodePath, ReaderPrincipal, StaffPrincipal, UnitOfWorkDep

router = APIRouter(tags=["organisations 技术服务机构"])
log = logging.getLogger(__name__)


class DecisionIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision_no: str = Field(min_length=1, max_length=64, description="the deciding document, e.g. 晋卫监罚〔2026〕12号")
    decided_on: SaneDate
    until: SaneDate | None = Field(default=None, description="last day of the disqualification; null: until lifted")
    reason: str | None = Field(default=None, max_length=TEXT_LENGTH, description="default: the serious findings it rests on")


class FindingIn(RequestModel):
    """A false-report finding against an organisation."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    org_name: str = Field(min_length=1, max_length=NAME_LENGTH)
    region_code: str = Field(max_length=6, description="county where the report was used (inside the token's jurisdiction)")
    employer_credit_code: str | None = Field(default=None, max_length=18, description="the employer whose report was false")
    submission_id: UUID | None = Field(strict=False, default=None, description="the false report, when it went through the platform")
    misstated: list[Misstatement] = Field(min_length=1, max_length=10, description="what the report misstated")
    description: FreeText
    severity: Severity = Field(description="serious: grounds for disqualification (referred to the province)")
    found_on: SaneDate
    disqualification: DecisionIn | None = Field(default=None, description="province staff: disqualify at once on this serious finding")

    _region = field_validator("region_code")(validate_county_code)

    @field_validator("employer_credit_code")
    @classmethod
    def _employer(cls, value: str | None) -> str | None:
        return None if value is None else validate_credit_code(value)


class DisqualificationIn(DecisionIn):
    finding_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=100, description="the serious findings it rests on (at most 100)")


def _refused(error: DisqualificationRefused) -> Refusal:
    """403 for a level that may not decide it; otherwise 422 naming the field."""
    if error.field == "role":
        return Refusal(403, error.code, error.params)
    return Refusal(422, error.code, error.params, field=error.field)


@router.post(
    "/orgs/{credit_code}/findings",
    status_code=201,
    summary="Record a false-report finding against a technical service organisation",
    description="Supervision staff, for a county of their jurisdiction. A serious finding is referred to the province; "
    "province staff may decide the disqualification with it (`disqualification`), which announces ohs.orgs.disqualified.",
)
async def post_finding(principal: StaffPrincipal, credit_code: CreditCodePath, finding: FindingIn, uow: UnitOfWorkDep,
                       rulebook: RulebookDep) -> Any:
    if not principal.covers_region(finding.region_code):
        raise Refusal(403, "penalty.error.outside_jurisdiction", {"region_code": finding.region_code,
                                                                  "role": named(ROLE, principal.role), "token_region": principal.region_code or "—"})
    today = china_today()
    if finding.found_on > today:
        raise Refusal(422, "penalty.error.day_in_future", {"day": finding.found_on.isoformat(), "today": today.isoformat()}, field="found_on")
    new = orgs.NewFinding(
        org_credit_code=credit_code, org_name=finding.org_name, region_code=finding.region_code, employer_credit_code=finding.employer_credit_code,
        submission_id=str(finding.submission_id) if finding.submission_id else None, misstated=list(finding.misstated),
        description=finding.description, severity=finding.severity, found_on=finding.found_on,
    )
    decision = orgs.Decision(**finding.disqualification.model_dump()) if finding.disqualification else None

    def record(u: AbstractPenaltyUnitOfWork) -> dict[str, Any]:
        row, disqualification = orgs.record_finding(
            u, new, recorded_by=principal.describe(), role=principal.role, deciding_region=principal.region_code,
            decision=decision, today=today, rating_rules=rulebook.org_rating,
        )
        return {**views.finding_view(row), "disqualification": views.disqualification_view(disqualification) if disqualification else None}

    try:
        view = await uow.run(record)
    except DisqualificationRefused as error:
        raise _refused(error) from error
    log.info("finding %s against organisation %s (%s) recorded by %s", view["id"], credit_code, finding.severity, principal.describe())
    return view


@router.post(
    "/orgs/{credit_code}/disqualification",
    summary="Disqualify an organisation from comprehensive risk assessment work, on its serious findings",
    description="Province staff only. Announces ohs.orgs.disqualified (the assessment service then refuses the "
    "organisation's reports; the credit feed publishes it). The same decision_no again returns the decision made.",
)
async def post_disqualification(principal: StaffPrincipal, credit_code: CreditCodePath, body: DisqualificationIn, uow: UnitOfWorkDep,
                                rulebook: RulebookDep) -> Any:
    decision = orgs.Decision(decision_no=body.decision_no, decided_on=body.decided_on, until=body.until, reason=body.reason)
    today = china_today()

    def decide(u: AbstractPenaltyUnitOfWork) -> dict[str, Any]:
        row = orgs.disqualify(u, credit_code, decision, body.finding_ids, role=principal.role, decided_by=principal.describe(),
                              region_code=principal.region_code or "", today=today, rating_rules=rulebook.org_rating)
        return views.disqualification_view(row)

    try:
        return await once_more_after_a_race(lambda: uow.run(decide))  # the same decision_no at once: the decision made
    except DisqualificationRefused as error:
        raise _refused(error) from error


@router.get(
    "/orgs/{credit_code}",
    summary="An organisation's record: findings (inside the token's jurisdiction) and disqualifications",
    description="Supervision staff and auditors. Disqualifications are shown to all of them (they bind the whole province).",
)
async def get_org(principal: ReaderPrincipal, credit_code: CreditCodePath, uow: UnitOfWorkDep) -> dict[str, Any]:
    if principal.role == ORGANISATION:  # an organisation reads its own filings and rating only (GET /org/filings, /orgs/{id}/rating)
        raise Refusal(403, "errors.auth.staff_or_auditor_only")
    today = china_today()
    return await uow.run(lambda u: views.org_record(u.session, credit_code, principal.covers_region, today))
