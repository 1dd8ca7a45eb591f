"""Penalty HTTP API: record a violation, read cases, read the no-penalty list in force."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any
from uuid import uuid4

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session, col, select

from services.penalty.adapters.orm import Case, CaseStep
from services.penalty.domain.procedure import NEXT
from services.penalty.domain.no_penalty import ITEM_CODE_PATTERN, NoApplicableList
from services.penalty.service_layer import handlers
from shared.auth import Principal, authenticate, not_found
from shared.contracts import FieldProblem, Harm, ViolationRecorded, validate_county_code, validate_credit_code
from shared.dates import china_today
from shared.db import in_session
from shared.identifiers import county_region_problem, credit_code_problem
from shared.runtime import invalid

router = APIRouter(tags=["cases 案件"])
log = logging.getLogger(__name__)


class ViolationIn(BaseModel):
    """A violation found at inspection."""

    model_config = ConfigDict(extra="forbid")

    credit_code: str = Field(description="统一社会信用代码 of the employer")
    item_code: str = Field(pattern=ITEM_CODE_PATTERN, description="violation item, e.g. 70-4 (RULES §7)")
    found_on: date
    harm: Harm = Field(description="harmful consequence: none | minor | serious")
    corrected_on: date | None = None
    rectification_deadline: date | None = Field(default=None, description="责令限期改正 deadline")
    region_code: str | None = Field(default=None, description="county of the employer; default: from the credit code")
    major: bool = Field(default=False, description="staff's finding that it is a major violation (重大违法): never no penalty; "
                        "the registry raises the employer's category one step")

    _credit = field_validator("credit_code")(validate_credit_code)

    @field_validator("region_code")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return None if value is None else validate_county_code(value)

    def problems(self, today: date) -> list[FieldProblem]:
        found: list[FieldProblem] = []
        if self.found_on > today:
            found.append(FieldProblem("found_on", f"{self.found_on} is in the future"))
        if self.corrected_on and self.corrected_on < self.found_on:
            found.append(FieldProblem("corrected_on", f"{self.corrected_on} is before found_on {self.found_on}"))
        if self.corrected_on and self.corrected_on > today:
            found.append(FieldProblem("corrected_on", f"{self.corrected_on} is in the future"))
        if self.rectification_deadline and self.rectification_deadline < self.found_on:
            found.append(FieldProblem("rectification_deadline", f"{self.rectification_deadline} is before found_on {self.found_on}"))
        return found


def step_view(step: CaseStep) -> dict[str, Any]:
    return {"seq": step.seq, "step": step.step, "status": step.status, "on": step.on.isoformat(), "by": step.actor,
            "deadline": step.deadline.isoformat() if step.deadline else None, "detail": step.detail}


def case_view(case: Case, steps: list[CaseStep] | None = None) -> dict[str, Any]:
    proposed = case.proposed_fine
    return {
        "id": case.id,
        "case_code": case.case_code,
        "credit_code": case.credit_code,
        "region_code": case.region_code,
        "item_code": case.item_code,
        "found_on": case.found_on.isoformat(),
        "harm": case.harm,
        "major": case.major,
        "corrected_on": case.corrected_on.isoformat() if case.corrected_on else None,
        "rectification_deadline": case.rectification_deadline.isoformat() if case.rectification_deadline else None,
        "deadline": case.rectification_deadline.isoformat() if case.rectification_deadline else None,
        "procedure": case.procedure,
        "status": case.status,
        "decision": case.decision,
        "reasons": case.reasons,
        "trace": case.trace,
        "rule_set": case.rule_set,
        "first_time": case.first_time,
        "circumstance": case.circumstance,
        "proposed_fine_range": [proposed["min_yuan"], proposed["max_yuan"]] if proposed else None,
        "proposed_fine": proposed,
        "fine_yuan": case.fine_yuan,
        "departure_reason": case.departure_reason,
        "producer": case.producer,
        "task_id": case.task_id,
        "created_at": case.created_at.isoformat(),
        "decided_at": case.decided_at.isoformat() if case.decided_at else None,
        "decided_on": case.decided_on.isoformat() if case.decided_on else None,
        "closed_on": case.closed_on.isoformat() if case.closed_on else None,
        "timeline": [step_view(s) for s in steps] if steps is not None else None,
        "next": list(NEXT.get(case.status, ())),
    }


@router.post(
    "/violations",
    status_code=201,
    summary="Record a violation found at inspection; the decision follows",
    description="Supervision staff only, for an employer of their jurisdiction (the case's county: region_code, "
    "else the registering authority in the credit code when that is a county).",
    responses={403: {"description": "not staff, or the case's county is outside the token's jurisdiction"}},
)
async def post_violation(violation: ViolationIn, request: Request, principal: Principal = Depends(authenticate)) -> Any:
    if not principal.is_staff:
        raise HTTPException(status_code=403, detail=f"only supervision staff record violations, not an {principal.role}'s token")
    runtime = request.app.state.runtime
    event = ViolationRecorded(producer=handlers.PRODUCER, case_id=uuid4(), **violation.model_dump())
    region = handlers.case_region(event)
    if region is None:
        registered = handlers.registration_region(violation.credit_code)
        return invalid(
            [{"field": "region_code", "message": f"the credit code's registering authority {registered} is not a county: "
              "give the employer's county as region_code"}],
            "the violation is invalid",
        )
    if not principal.can_act_for(violation.credit_code, region):
        raise HTTPException(
            status_code=403,
            detail=f"region {region} is outside the jurisdiction of this {principal.role} token ({principal.region_code})",
        )
    problems = violation.problems(china_today())
    if problems:
        return invalid([{"field": p.field, "message": p.message} for p in problems], "the violation is invalid")

    def store(session: Session) -> dict[str, Any]:
        case = handlers.record_violation(session, event, request.app.state.rulebook, actor=principal.name)
        session.commit()
        return case_view(case, handlers.timeline(session, case.id))

    view = await in_session(runtime.engine, store)
    log.info("case %s (%s, %s) recorded by %s", view["id"], violation.credit_code, region, principal.describe())
    await runtime.relay.flush()
    return {**view, "links": {"case": f"/cases/{view['id']}"}}


@router.get("/cases/{case_id}", summary="One case: decision, reasons and trace")
async def get_case(case_id: str, request: Request, principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    def load(session: Session) -> dict[str, Any] | None:
        case = session.get(Case, case_id)
        return case_view(case, handlers.timeline(session, case.id)) if case else None

    found = await in_session(request.app.state.runtime.engine, load)
    if found is None or not principal.can_read(found["credit_code"], found["region_code"]):
        raise not_found(f"case {case_id}")
    return found


@router.get("/cases", summary="An employer's cases, newest first (only the cases the token may read)")
async def list_cases(
    request: Request, credit_code: str = Query(description="统一社会信用代码"), principal: Principal = Depends(authenticate)
) -> dict[str, Any]:
    problem = credit_code_problem(credit_code)
    if problem:
        raise HTTPException(status_code=422, detail=f"credit_code: 统一社会信用代码 {problem}")

    def load(session: Session) -> list[dict[str, Any]]:
        rows = session.exec(select(Case).where(Case.credit_code == credit_code).order_by(col(Case.found_on).desc()))
        return [case_view(c) for c in rows if principal.can_read(c.credit_code, c.region_code)]

    items = await in_session(request.app.state.runtime.engine, load)
    return {"credit_code": credit_code, "total": len(items), "items": items}


@router.get("/rules/no-penalty", tags=["rules 规则"], summary="The no-penalty list (附件5) in force for a region on a date")
async def no_penalty_rules(
    request: Request,
    _: Principal = Depends(authenticate),
    region_code: str = Query(description="county GB/T 2260 code"),
    on: date | None = Query(default=None, description="date (default today)"),
) -> dict[str, Any]:
    problem = county_region_problem(region_code)
    if problem:
        raise HTTPException(status_code=422, detail=f"region_code: {problem}")
    try:
        rule_list = request.app.state.no_penalty_rules.in_force(region_code, on or china_today())
    except NoApplicableList as error:
        raise HTTPException(status_code=404, detail=str(error)) from error
    return {**rule_list.model_dump(mode="json"), "label": rule_list.label(), "region_code": region_code,
            "on": (on or china_today()).isoformat(), "item_codes": [item.code for item in rule_list.items],
            "procedure": rule_list.rules_procedure.model_dump(mode="json")}
