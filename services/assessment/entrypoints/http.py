"""Assessment HTTP API: submit a report (附件4), follow it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from services.assessment.adapters.orm import Submission
from services.assessment.service_layer import handlers
from services.assessment.documents import render_notice_pdf, render_report_pdf
from shared.auth import Principal, authenticate, not_found
from shared.contracts import AssessmentClassified, Report
from shared.dates import china_today
from shared.db import in_session
from shared.runtime import content_disposition, invalid

router = APIRouter(tags=["reports 综合风险评估报告"])
log = logging.getLogger(__name__)


def submission_refusal(principal: Principal, report: Report) -> str | None:
    """Why ``principal`` may not submit ``report``, or None. Not a read: the answer is 403, naming why."""
    enterprise = report.enterprise
    if principal.role == "auditor":
        return "an auditor's token reads; it cannot submit reports"
    if principal.role == "employer":
        if enterprise.credit_code != principal.credit_code:
            return f"an employer's token submits only the employer's own reports (token for {principal.credit_code})"
        return None
    if not principal.can_act_for(enterprise.credit_code, enterprise.region_code):
        return (
            f"enterprise.region_code {enterprise.region_code} is outside the jurisdiction of this {principal.role} token "
            f"({principal.region_code}): staff submit only for employers of their own region"
        )
    return None


def submission_view(s: Submission) -> dict[str, Any]:
    return {
        "submission_id": s.submission_id,
        "credit_code": s.credit_code,
        "region_code": s.region_code,
        "status": s.status,  # accepted | classified | rejected
        "reasons": s.reasons,
        "result": s.result,
        "received_at": s.received_at.isoformat(),
        "decided_at": s.decided_at.isoformat() if s.decided_at else None,
    }


@router.post(
    "/reports",
    status_code=202,
    summary="Submit a comprehensive risk assessment report; it is classified asynchronously",
    responses={
        403: {"description": "the token may not submit for this employer (another employer, outside the region, an auditor)"},
        409: {"description": "the submission id holds a different report"},
        422: {"description": "which field is wrong, and why"},
    },
)
async def post_report(report: Report, request: Request, principal: Principal = Depends(authenticate)) -> Any:
    if refusal := submission_refusal(principal, report):
        raise HTTPException(status_code=403, detail=refusal)
    problems = report.consistency_problems(today=china_today())
    if problems:
        return invalid([{"field": p.field, "message": p.message} for p in problems], "the report is invalid")
    runtime = request.app.state.runtime

    def store(session: Session) -> tuple[dict[str, Any], bool]:
        accepted = handlers.accept_report(session, report, china_today())
        session.commit()
        return submission_view(accepted.submission), accepted.new

    try:
        view, new = await in_session(runtime.engine, store)
    except handlers.SubmissionConflict as error:
        raise HTTPException(status_code=409, detail=str(error)) from error
    except handlers.AssessorDisqualified as error:
        return invalid([{"field": "assessor.org_id", "message": str(error)}], "the assessor may not submit")
    log.info(
        "report %s for %s (%s) submitted by %s%s",
        view["submission_id"], report.enterprise.credit_code, report.enterprise.region_code, principal.describe(),
        "" if new else " (identical to an earlier submission: no-op)",
    )
    if new:
        await runtime.relay.flush()
    body = {**view, "duplicate": not new, "links": {"self": f"/reports/{view['submission_id']}"}}
    return JSONResponse(status_code=202, content=body, headers={"Location": body["links"]["self"]})


@router.get("/reports/{submission_id}", summary="A submission's status: accepted, classified (with result) or rejected (with reasons)")
async def get_report(submission_id: str, request: Request, principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    def load(session: Session) -> dict[str, Any] | None:
        found = session.get(Submission, submission_id)
        return submission_view(found) if found else None

    found = await in_session(request.app.state.runtime.engine, load)
    if found is None or not principal.can_read(found["credit_code"], found["region_code"]):
        raise not_found(f"submission {submission_id}")
    return found


def _classified(session: Session, submission_id: str, principal: Principal) -> tuple[Report, AssessmentClassified]:
    found = session.get(Submission, submission_id)
    if found is None or not principal.can_read(found.credit_code, found.region_code):
        raise not_found(f"submission {submission_id}")
    if found.status != "classified" or found.result is None:
        raise HTTPException(status_code=409, detail=f"submission {submission_id} is {found.status}: only a classified report has a document")
    return Report.model_validate(found.report), AssessmentClassified.model_validate(found.result)


async def _pdf(request: Request, principal: Principal, submission_id: str, render, name: str) -> Response:  # noqa: ANN001
    report, result = await in_session(request.app.state.runtime.engine, lambda s: _classified(s, submission_id, principal))
    content = await asyncio.to_thread(render, report, result, templates=request.app.state.settings.templates_dir)
    disposition = content_disposition("inline", f"{result.credit_code}.pdf", f"{result.credit_code}-{name}.pdf")
    return Response(content, media_type="application/pdf", headers={"Content-Disposition": disposition})


@router.get(
    "/reports/{submission_id}/document",
    summary="The printable 评估报告 (附件4) of a classified report, as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 409: {"description": "the report is not classified"}},
)
async def get_report_document(submission_id: str, request: Request, principal: Principal = Depends(authenticate)) -> Response:
    return await _pdf(request, principal, submission_id, render_report_pdf, "评估报告")


@router.get(
    "/reports/{submission_id}/notice",
    summary="The 公示 notice for the bulletin board, as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 409: {"description": "the report is not classified"}},
)
async def get_report_notice(submission_id: str, request: Request, principal: Principal = Depends(authenticate)) -> Response:
    return await _pdf(request, principal, submission_id, render_notice_pdf, "公示")
