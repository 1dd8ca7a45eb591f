"""Penalty HTTP API: record a violation, read cases, read the no-penalty list in force.
Parse, authorise, delegate: the use cases are in ``service_layer.handlers``, the read models in ``views``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ConfigDict, Field, field_validator

from services.penalty import views
from services.penalty.adapters.rules import Rulebook
from services.penalty.domain.no_penalty import ITEM_CODE_PATTERN, NoApplicableList
from services.penalty.domain.words import Problem, said_by
from services.penalty.service_layer import handlers
from shared.contracts import (
    Harm,
    RequestModel,
    SaneDate,
    validate_county_code,
    validate_credit_code,
)
from shared.dates import china_today
from shared.http import (
    DayQuery,
    CurrentPrincipal,
    StaffPrincipal,
    UnitOfWorkDep,
    valid_credit_code,
)
from shared.errors import Issue, Refusal
from shared.identifiers import county_region_problem

router = APIRouter(tags=["cases 案件"])
log = logging.getLogger(__name__)


def rulebook(request: Request) -> Rulebook:
    """The rule data the service loaded at start-up (``app.state.rulebook``)."""
    return request.app.state.rulebook


RulebookDep = Annotated[Rulebook, Depends(rulebook)]
CaseIdPath = Annotated[str, Path(min_length=1, max_length=64, description="the case id")]


def refused_fields(code: str, problems: Sequence[Problem], status: int = 422) -> Refusal:
    """Problems of one or more fields as one refusal (``shared.errors``): one field alone is the headline itself,
    several are listed under ``code``'s sentence."""
    if len(problems) == 1:
        return Refusal(status, problems[0].code, problems[0].params, field=problems[0].field)
    return Refusal(status, code, errors=[Issue(p.field, p.code, p.params) for p in problems])




class ViolationIn(RequestModel):
    """A violation found at inspection."""

    model_config = ConfigDict(extra="forbid")

    credit_code: str = Field(max_length=18, description="统一社会信用代码 of the employer")
    item_code: str = Field(pattern=ITEM_CODE_PATTERN, max_length=16, description="violation item, e.g. 70-4 (RULES §7)")
    found_on: SaneDate
    harm: Harm = Field(description="harmful consequence: none | minor | serious")
    corrected_on: SaneDate | None = None
    rectification_deadline: SaneDate | None = Field(default=None, description="责令限期改正 deadline")
    region_code: str | None = Field(default=None, max_length=6, description="county of the employer; default: from the credit code")
    major: bool = Field(default=False, description="staff's finding that it is a major violation (重大违法): never no penalty; "
                        "the registry raises the employer's category one step")

    _credit = field_validator("credit_code")(validate_credit_code)

    @field_validator("region_code")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return None if value is None else validate_county_code(value)

    def problems(self, today: date) -> list[Problem]:
        found: list[Problem] = []
        if self.found_on > today:
            found.append(Problem("found_on", "penalty.error.day_in_future", {"day": self.found_on.isoformat(), "today": today.isoformat()}))
        if self.corrected_on and self.corrected_on < self.found_on:
            found.append(Problem("corrected_on", "penalty.error.day_before_finding", {"day": self.corrected_on.isoformat(),
                                                                                      "found_on": self.found_on.isoformat()}))
        if self.corrected_on and self.corrected_on > today:
            found.append(Problem("corrected_on", "penalty.error.day_in_future", {"day": self.corrected_on.isoformat(),
                                                                                 "today": today.isoformat()}))
        if self.rectification_deadline and self.rectification_deadline < self.found_on:
            found.append(Problem("rectification_deadline", "penalty.error.day_before_finding", {
                "day": self.rectification_deadline.isoformat(), "found_on": self.found_on.isoformat()}))
        return found


@router.post(
    "/violations",
    status_code=201,
    summary="Record a violation found at inspection; the decision follows",
    description="Supervision staff only, for an employer of their jurisdiction. The case's county is the county the "
    "registry's archive has the employer in (RULES §5a): a region_code naming another county is 422, and a token not "
    "covering it reads the employer as absent (404). An employer not archived yet: region_code, else the registering "
    "authority in the credit code when that is a county.",
    responses={
        403: {"description": "not staff, or (an employer not archived yet) the case's county is outside the token's jurisdiction"},
        404: {"description": "the employer is archived in a county outside the token's jurisdiction"},
        422: {"description": "which field is wrong, and why (region_code: not the archive's county, or no county to take)"},
    },
)
async def post_violation(violation: ViolationIn, principal: StaffPrincipal, uow: UnitOfWorkDep, rules: RulebookDep) -> Any:
    today = china_today()
    command = handlers.NewViolation(**violation.model_dump())

    def record(u: Any) -> dict[str, Any]:
        case = handlers.record_violation_by_staff(u, principal, command, lambda: violation.problems(today), rules)
        return views.case_detail(u.session, case)

    try:
        view = await uow.run(record)
    except handlers.NotInJurisdiction as error:
        raise Refusal(404, error.code, error.params) from error
    except handlers.OutsideJurisdiction as error:
        raise Refusal(403, error.code, error.params) from error
    except handlers.ViolationInvalid as error:
        raise refused_fields("penalty.error.violation_invalid", error.problems) from error
    log.info("case %s (%s, %s) recorded by %s", view["id"], violation.credit_code, view["region_code"], principal.describe())
    return {**view, "links": {"case": f"/cases/{view['id']}"}}


@router.get("/cases/{case_id}", summary="One case: decision, reasons and trace")
async def get_case(case_id: CaseIdPath, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> dict[str, Any]:
    found = await uow.run(lambda u: views.case_by_id(u.session, case_id))
    if found is None or not principal.can_read(found["credit_code"], found["region_code"]):
        raise Refusal(404, "penalty.error.case_not_found", {"case_id": case_id})
    return found


@router.get("/cases", summary="An employer's cases, newest first (only the cases the token may read)")
async def list_cases(
    principal: CurrentPrincipal, uow: UnitOfWorkDep, credit_code: str = Query(max_length=64, description="统一社会信用代码")
) -> dict[str, Any]:
    credit_code = valid_credit_code(credit_code)  # the same check (and 422) as a {credit_code} path parameter
    items = await uow.run(lambda u: views.cases_of(u.session, credit_code, principal.can_read))
    return {"credit_code": credit_code, "total": len(items), "items": items}


@router.get("/rules/no-penalty", tags=["rules 规则"], summary="The no-penalty list (附件5) in force for a region on a date")
async def no_penalty_rules(
    _: CurrentPrincipal,
    rules: RulebookDep,
    region_code: str = Query(max_length=12, description="county GB/T 2260 code"),
    on: DayQuery = None,
) -> dict[str, Any]:
    problem = county_region_problem(region_code)
    if problem:
        raise Refusal(422, *said_by(problem, "penalty.error.region_code_invalid", region_code=region_code), field="region_code")
    day = on or china_today()
    try:
        rule_list = rules.no_penalty.in_force(region_code, day)
    except NoApplicableList as error:
        raise Refusal(404, "penalty.error.no_list_in_force", {"region_code": region_code, "on": day.isoformat()}) from error
    return views.no_penalty_list(rule_list, region_code, day)
