"""The procedure of a case through HTTP (三步法, 告知承诺, the fine), the escalation sweep, the case-code
report and the case-file review (案卷评查). Parse, check access, delegate to the service layer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ConfigDict, Field, model_validator

from services.penalty import views
from services.penalty.adapters.orm import Case
from services.penalty.adapters.xlsx import review_workbook
from services.penalty.domain.discretion import Circumstance
from services.penalty.domain.procedure import StepNotAllowed
from services.penalty.domain.words import said_by
from services.penalty.entrypoints.http import CaseIdPath, RulebookDep
from services.penalty.service_layer import handlers
from services.penalty.service_layer.unit_of_work import AbstractPenaltyUnitOfWork
from shared.auth import Principal
from shared.contracts import NAME_LENGTH, TEXT_LENGTH, RequestModel, SaneDate
from shared.dates import china_today
from shared.errors import Refusal
from shared.http import ReaderLocale, RegionQuery, DayQuery, FromQuery, ReaderPrincipal, StaffPrincipal, ToQuery, UnitOfWorkDep
from shared.identifiers import region_problem
from shared.jurisdiction import region_prefix
from shared.runtime import content_disposition

router = APIRouter(tags=["procedure 三步法"])
log = logging.getLogger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_STEP_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "not supervision staff"},
    404: {"description": "no such case, or outside the token's jurisdiction"},
    409: {"description": "the step does not fit the case's status; the detail names the status and what is allowed next"},
    422: {"description": "a field cannot be right (dates before the finding or in the future, a fine outside the baseline without reason)"},
}


class EducationIn(RequestModel):
    model_config = ConfigDict(extra="forbid")
    on: SaneDate = Field(description="the day of the education and guidance (教育引导)")
    by: str | None = Field(default=None, max_length=NAME_LENGTH, description="who gave it (default: the token's name)")
    content: str = Field(min_length=1, max_length=TEXT_LENGTH, description="what was explained")


class RectificationOrderIn(RequestModel):
    model_config = ConfigDict(extra="forbid")
    ordered_on: SaneDate
    working_days: int | None = Field(default=None, ge=1, le=120, description="default: the jurisdiction's rule data (10)")
    by: str | None = Field(default=None, max_length=NAME_LENGTH)


class CommitmentIn(RequestModel):
    model_config = ConfigDict(extra="forbid")
    signed_on: SaneDate
    commit_by_working_days: int | None = Field(default=None, ge=1, le=120, description="default: the jurisdiction's rule data")
    by: str | None = Field(default=None, max_length=NAME_LENGTH)


class VerificationIn(RequestModel):
    model_config = ConfigDict(extra="forbid")
    verified_on: SaneDate
    corrected: bool
    corrected_on: SaneDate | None = Field(default=None, description="required when corrected")
    by: str | None = Field(default=None, max_length=NAME_LENGTH)

    @model_validator(mode="after")
    def _corrected_on(self) -> "VerificationIn":
        if self.corrected and self.corrected_on is None:
            raise ValueError("corrected_on is required when corrected is true")
        return self


class FineIn(RequestModel):
    model_config = ConfigDict(extra="forbid")
    fine_yuan: int = Field(ge=0, le=100_000_000, description="yuan, 0 … 100,000,000")
    circumstance: Circumstance | None = Field(default=None, description="default: as proposed (first_overdue / repeated / harm_caused)")
    departure_reason: str | None = Field(default=None, max_length=TEXT_LENGTH, description="required when the fine is outside the proposed range")
    decided_on: SaneDate | None = Field(default=None, description="default: today in China")
    by: str | None = Field(default=None, max_length=NAME_LENGTH)


Step = Callable[[AbstractPenaltyUnitOfWork, Case], object]


async def _take_step(uow: UnitOfWorkDep, case_id: str, principal: Principal, what: str, step: Step) -> Any:
    """Run one step of the case in a unit of work; 404 outside the jurisdiction, 409 out of order, 422 a bad field."""

    def may_act(case: Case) -> bool:
        return principal.can_act_for(case.credit_code, case.region_code)

    try:
        result = await uow.run(lambda u: views.case_detail(u.session, handlers.take_step(u, case_id, step, may_act)))
    except handlers.CaseNotFound as error:
        raise Refusal(404, error.code, error.params) from None
    except StepNotAllowed as error:
        raise Refusal(409, error.code, error.params) from error
    except handlers.StepProblem as error:
        raise Refusal(422, error.code, error.params, field=error.field) from error
    log.info("case %s: %s by %s", case_id, what, principal.describe())
    return result


@router.post("/cases/{case_id}/education", status_code=201, responses=_STEP_RESPONSES,
             summary="Step 1 of 三步法: education and guidance (教育引导) recorded")
async def post_education(case_id: CaseIdPath, body: EducationIn, principal: StaffPrincipal, uow: UnitOfWorkDep) -> Any:
    return await _take_step(uow, case_id, principal, "record education",
                            lambda u, c: handlers.record_education(u, c, body.on, body.by or principal.name, body.content))


@router.post("/cases/{case_id}/rectification-order", status_code=201, responses=_STEP_RESPONSES,
             summary="Step 2: 责令限期改正, the deadline in working days (statutory holidays and 调休 counted)")
async def post_order(case_id: CaseIdPath, body: RectificationOrderIn, principal: StaffPrincipal, uow: UnitOfWorkDep, rules: RulebookDep) -> Any:
    return await _take_step(uow, case_id, principal, "order rectification",
                            lambda u, c: handlers.order_rectification(u, c, body.ordered_on, body.working_days, body.by or principal.name, rules))


@router.post("/cases/{case_id}/commitment", status_code=201, responses=_STEP_RESPONSES,
             summary="告知承诺 (where the jurisdiction enables it): replaces education and order; a breach escalates")
async def post_commitment(case_id: CaseIdPath, body: CommitmentIn, principal: StaffPrincipal, uow: UnitOfWorkDep, rules: RulebookDep) -> Any:
    return await _take_step(uow, case_id, principal, "record a commitment",
                            lambda u, c: handlers.sign_commitment(u, c, body.signed_on, body.commit_by_working_days, body.by or principal.name, rules))


@router.post("/cases/{case_id}/verification", status_code=201, responses=_STEP_RESPONSES,
             summary="Step 3: verification (复查): corrected by the deadline → no penalty, closed; otherwise escalated → penalty")
async def post_verification(case_id: CaseIdPath, body: VerificationIn, principal: StaffPrincipal, uow: UnitOfWorkDep, rules: RulebookDep) -> Any:
    return await _take_step(uow, case_id, principal, "verify correction",
                            lambda u, c: handlers.verify_correction(u, c, body.verified_on, body.corrected, body.corrected_on,
                                                                    body.by or principal.name, rules))


@router.post("/cases/{case_id}/fine", status_code=201, responses=_STEP_RESPONSES,
             summary="The fine of a penalty case (裁量基准: outside the proposed range only with a departure_reason); closes the case")
async def post_fine(case_id: CaseIdPath, body: FineIn, principal: StaffPrincipal, uow: UnitOfWorkDep, rules: RulebookDep) -> Any:
    return await _take_step(uow, case_id, principal, "record the fine",
                            lambda u, c: handlers.record_fine(u, c, body.fine_yuan, body.circumstance, body.departure_reason,
                                                              body.by or principal.name, rules, body.decided_on))


@router.post("/sweeps/escalation", tags=["operations"], summary="Run the escalation sweep now for the token's jurisdiction "
             "(the service runs it itself hourly; `ohs penalty sweep` for cron)")
async def post_sweep(principal: StaffPrincipal, uow: UnitOfWorkDep, rules: RulebookDep,
                     today: DayQuery = None) -> Any:
    real_today = china_today()
    day = today or real_today
    if day > real_today:
        raise Refusal(422, "penalty.error.day_in_future", {"day": day.isoformat(), "today": real_today.isoformat()}, field="today")
    prefix = region_prefix(principal.region_code or "")
    done = await uow.run(lambda u: handlers.sweep_escalations(u, day, rules, prefix))
    return {"today": day.isoformat(), "escalated": len(done), "lines": done}


def _region(principal: Principal, region_code: str | None) -> str:
    """The region a report covers: by default the token's; 404 outside the jurisdiction (employers: ReaderPrincipal, 403)."""
    if principal.region_code is None:
        raise Refusal(403, "penalty.error.reports_for_staff")
    code = region_code or principal.region_code
    if problem := region_problem(code):
        raise Refusal(422, *said_by(problem, "penalty.error.region_code_invalid", region_code=code), field="region_code")
    if not principal.covers_region(code):
        raise Refusal(404, "penalty.error.region_not_found", {"region_code": code})
    return code


@router.get("/reports/cases-by-status", tags=["reports 报表"],
            summary="The region's cases per status (三步法), and those whose rectification deadline is nearest (a dashboard's figures)")
async def cases_by_status(principal: ReaderPrincipal, uow: UnitOfWorkDep, region_code: RegionQuery = None,
                          nearest: int = Query(default=5, ge=0, le=views.CASE_SUMMARY_NEAREST_MAX,
                                               description="how many of the cases awaiting correction to list, nearest deadline first")) -> Any:
    code = _region(principal, region_code)
    return await uow.run(lambda u: views.case_summary(u.session, code, nearest))


@router.get("/reports/case-codes", tags=["reports 报表"], summary="行政行为码 coverage: every case with a valid code (target 100 %)")
async def case_code_report(principal: ReaderPrincipal, uow: UnitOfWorkDep,
                           region_code: RegionQuery = None) -> Any:
    code = _region(principal, region_code)
    return await uow.run(lambda u: views.code_coverage(u.session, code))


@router.get("/reviews/cases", tags=["reports 报表"], summary="案卷评查: the cases with their full timeline and the flags of incomplete files")
async def review_cases(principal: ReaderPrincipal, uow: UnitOfWorkDep, rules: RulebookDep,
                       region_code: RegionQuery = None, from_: FromQuery = None,
                       to: ToQuery = None, flagged_only: bool = Query(default=False)) -> Any:
    code = _region(principal, region_code)
    today = china_today()
    files = await uow.run(lambda u: views.case_files(u.session, code, from_, to, rules, today))
    if flagged_only:
        files = [f for f in files if f["flags"]]
    return {"region_code": code, "from": from_.isoformat() if from_ else None, "to": to.isoformat() if to else None,
            "total": len(files), "flagged": sum(1 for f in files if f["flags"]), "items": files}


@router.get("/reviews/cases.xlsx", tags=["reports 报表"], response_class=Response, responses={200: {"content": {XLSX: {}}}},
            summary="案卷评查 as .xlsx: sheets 案卷 (one row per case, with flags) and 时间线 (one row per step)")
async def review_cases_xlsx(principal: ReaderPrincipal, uow: UnitOfWorkDep, rules: RulebookDep, locale: ReaderLocale,
                            region_code: RegionQuery = None, from_: FromQuery = None,
                            to: ToQuery = None) -> Response:
    code = _region(principal, region_code)
    today = china_today()
    files = await uow.run(lambda u: views.case_files(u.session, code, from_, to, rules, today))
    content = review_workbook(files, locale)
    day = today.strftime("%Y%m%d")
    disposition = content_disposition("attachment", f"case-review-{code}-{day}.xlsx", f"案卷评查-{code}-{day}.xlsx")
    return Response(content, media_type=XLSX, headers={"Content-Disposition": disposition})
