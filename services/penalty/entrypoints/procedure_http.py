"""The procedure of a case through HTTP (三步法, 告知承诺, the fine), the escalation sweep, the case-code
report and the case-file review (案卷评查). Parse, check access, delegate to the service layer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session

from services.penalty.adapters.orm import Case
from services.penalty.domain.discretion import Circumstance
from services.penalty.domain.procedure import StepNotAllowed
from services.penalty.entrypoints.http import case_view
from services.penalty.service_layer import handlers, reviews
from shared.auth import Principal, authenticate, not_found
from shared.dates import china_today
from shared.db import in_session
from shared.identifiers import region_problem
from shared.jurisdiction import region_prefix
from shared.runtime import content_disposition, invalid

router = APIRouter(tags=["procedure 三步法"])
log = logging.getLogger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_STEP_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "not supervision staff"},
    404: {"description": "no such case, or outside the token's jurisdiction"},
    409: {"description": "the step does not fit the case's status; the detail names the status and what is allowed next"},
    422: {"description": "a field cannot be right (dates before the finding or in the future, a fine outside the baseline without reason)"},
}


class EducationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: date = Field(description="the day of the education and guidance (教育引导)")
    by: str | None = Field(default=None, description="who gave it (default: the token's name)")
    content: str = Field(min_length=1, description="what was explained")


class RectificationOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ordered_on: date
    working_days: int | None = Field(default=None, ge=1, le=120, description="default: the jurisdiction's rule data (10)")
    by: str | None = None


class CommitmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signed_on: date
    commit_by_working_days: int | None = Field(default=None, ge=1, le=120, description="default: the jurisdiction's rule data")
    by: str | None = None


class VerificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    verified_on: date
    corrected: bool
    corrected_on: date | None = Field(default=None, description="required when corrected")
    by: str | None = None

    @model_validator(mode="after")
    def _corrected_on(self) -> "VerificationIn":
        if self.corrected and self.corrected_on is None:
            raise ValueError("corrected_on is required when corrected is true")
        return self


class FineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fine_yuan: int = Field(ge=0)
    circumstance: Circumstance | None = Field(default=None, description="default: as proposed (first_overdue / repeated / harm_caused)")
    departure_reason: str | None = Field(default=None, description="required when the fine is outside the proposed range")
    decided_on: date | None = Field(default=None, description="default: today in China")
    by: str | None = None


def _staff(principal: Principal, what: str) -> None:
    if not principal.is_staff:
        raise HTTPException(status_code=403, detail=f"only supervision staff {what}, not an {principal.role}'s token")


async def _take_step(request: Request, case_id: str, principal: Principal, what: str,
                     work: Callable[[Session, Case], Any]) -> Any:
    _staff(principal, what)
    runtime = request.app.state.runtime

    def run(session: Session) -> dict[str, Any] | JSONResponse:
        case = session.get(Case, case_id)
        if case is None or not principal.can_act_for(case.credit_code, case.region_code):
            raise not_found(f"case {case_id}")
        try:
            work(session, case)
        except StepNotAllowed as error:
            session.rollback()
            raise HTTPException(status_code=409, detail=str(error)) from error
        except handlers.StepProblem as error:
            session.rollback()
            return invalid([{"field": error.field, "message": str(error)}], f"the {what.split()[0]} is invalid")
        session.commit()
        return case_view(case, handlers.timeline(session, case.id))

    result = await in_session(runtime.engine, run)
    if isinstance(result, JSONResponse):
        return result
    log.info("case %s: %s by %s", case_id, what, principal.describe())
    await runtime.relay.flush()
    return result


@router.post("/cases/{case_id}/education", status_code=201, responses=_STEP_RESPONSES,
             summary="Step 1 of 三步法: education and guidance (教育引导) recorded")
async def post_education(case_id: str, body: EducationIn, request: Request, principal: Principal = Depends(authenticate)) -> Any:
    return await _take_step(request, case_id, principal, "record education",
                            lambda s, c: handlers.record_education(s, c, body.on, body.by or principal.name, body.content))


@router.post("/cases/{case_id}/rectification-order", status_code=201, responses=_STEP_RESPONSES,
             summary="Step 2: 责令限期改正, the deadline in working days (statutory holidays and 调休 counted)")
async def post_order(case_id: str, body: RectificationOrderIn, request: Request, principal: Principal = Depends(authenticate)) -> Any:
    rulebook = request.app.state.rulebook
    return await _take_step(request, case_id, principal, "order rectification",
                            lambda s, c: handlers.order_rectification(s, c, body.ordered_on, body.working_days, body.by or principal.name, rulebook))


@router.post("/cases/{case_id}/commitment", status_code=201, responses=_STEP_RESPONSES,
             summary="告知承诺 (where the jurisdiction enables it): replaces education and order; a breach escalates")
async def post_commitment(case_id: str, body: CommitmentIn, request: Request, principal: Principal = Depends(authenticate)) -> Any:
    rulebook = request.app.state.rulebook
    return await _take_step(request, case_id, principal, "record a commitment",
                            lambda s, c: handlers.sign_commitment(s, c, body.signed_on, body.commit_by_working_days, body.by or principal.name, rulebook))


@router.post("/cases/{case_id}/verification", status_code=201, responses=_STEP_RESPONSES,
             summary="Step 3: verification (复查): corrected by the deadline → no penalty, closed; otherwise escalated → penalty")
async def post_verification(case_id: str, body: VerificationIn, request: Request, principal: Principal = Depends(authenticate)) -> Any:
    rulebook = request.app.state.rulebook
    return await _take_step(request, case_id, principal, "verify correction",
                            lambda s, c: handlers.verify_correction(s, c, body.verified_on, body.corrected, body.corrected_on,
                                                                    body.by or principal.name, rulebook))


@router.post("/cases/{case_id}/fine", status_code=201, responses=_STEP_RESPONSES,
             summary="The fine of a penalty case (裁量基准: outside the proposed range only with a departure_reason); closes the case")
async def post_fine(case_id: str, body: FineIn, request: Request, principal: Principal = Depends(authenticate)) -> Any:
    rulebook = request.app.state.rulebook
    return await _take_step(request, case_id, principal, "record the fine",
                            lambda s, c: handlers.record_fine(s, c, body.fine_yuan, body.circumstance, body.departure_reason,
                                                              body.by or principal.name, rulebook, body.decided_on))


@router.post("/sweeps/escalation", tags=["operations"], summary="Run the escalation sweep now for the token's jurisdiction "
             "(the service runs it itself hourly; `python -m services.penalty.sweep` for cron)")
async def post_sweep(request: Request, principal: Principal = Depends(authenticate),
                     today: date | None = Query(default=None, description="default: today in China; not later than today")) -> Any:
    _staff(principal, "run the escalation sweep")
    real_today = china_today()
    day = today or real_today
    if day > real_today:
        return invalid([{"field": "today", "message": f"{day} is in the future (today in China is {real_today})"}], "the sweep is invalid")
    runtime = request.app.state.runtime
    prefix = region_prefix(principal.region_code or "")

    def run(session: Session) -> list[str]:
        done = handlers.sweep_escalations(session, day, request.app.state.rulebook, prefix)
        session.commit()
        return done

    done = await in_session(runtime.engine, run)
    if done:
        await runtime.relay.flush()
    return {"today": day.isoformat(), "escalated": len(done), "lines": done}


def _region(principal: Principal, region_code: str | None) -> str:
    """The region a report covers: by default the token's; 403 for employers, 404 outside the jurisdiction."""
    if principal.role == "employer" or principal.region_code is None:
        raise HTTPException(status_code=403, detail="case reports are for supervision staff and auditors; an employer reads its own cases")
    code = region_code or principal.region_code
    if problem := region_problem(code):
        raise HTTPException(status_code=422, detail=f"region_code: {problem}")
    if not principal.covers_region(code):
        raise not_found(f"region {code}")
    return code


@router.get("/reports/case-codes", tags=["reports 报表"], summary="行政行为码 coverage: every case with a valid code (target 100 %)")
async def case_code_report(request: Request, principal: Principal = Depends(authenticate),
                           region_code: str | None = Query(default=None, description="default: the token's region")) -> Any:
    code = _region(principal, region_code)
    return await in_session(request.app.state.runtime.engine, lambda session: reviews.code_coverage(session, code))


@router.get("/reviews/cases", tags=["reports 报表"], summary="案卷评查: the cases with their full timeline and the flags of incomplete files")
async def review_cases(request: Request, principal: Principal = Depends(authenticate),
                       region_code: str | None = Query(default=None), from_: date | None = Query(default=None, alias="from"),
                       to: date | None = Query(default=None), flagged_only: bool = Query(default=False)) -> Any:
    code = _region(principal, region_code)
    rulebook = request.app.state.rulebook
    files = await in_session(request.app.state.runtime.engine,
                             lambda session: reviews.case_files(session, code, from_, to, rulebook, china_today()))
    if flagged_only:
        files = [f for f in files if f["flags"]]
    return {"region_code": code, "from": from_.isoformat() if from_ else None, "to": to.isoformat() if to else None,
            "total": len(files), "flagged": sum(1 for f in files if f["flags"]), "items": files}


@router.get("/reviews/cases.xlsx", tags=["reports 报表"], response_class=Response, responses={200: {"content": {XLSX: {}}}},
            summary="案卷评查 as .xlsx: sheets 案卷 (one row per case, with flags) and 时间线 (one row per step)")
async def review_cases_xlsx(request: Request, principal: Principal = Depends(authenticate),
                            region_code: str | None = Query(default=None), from_: date | None = Query(default=None, alias="from"),
                            to: date | None = Query(default=None)) -> Response:
    code = _region(principal, region_code)
    rulebook = request.app.state.rulebook
    today = china_today()
    files = await in_session(request.app.state.runtime.engine,
                             lambda session: reviews.case_files(session, code, from_, to, rulebook, today))
    content = reviews.workbook(files)
    day = today.strftime("%Y%m%d")
    disposition = content_disposition("attachment", f"case-review-{code}-{day}.xlsx", f"案卷评查-{code}-{day}.xlsx")
    return Response(content, media_type=XLSX, headers={"Content-Disposition": disposition})
