"""Assessment HTTP API: submit a report (附件4), follow it."""

from __future__ import annotations

import asyncio
from urllib.parse import quote
from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from services.assessment.adapters.orm import Submission
from services.assessment.service_layer import handlers
from services.assessment.documents import render_notice_pdf, render_report_pdf
from shared.contracts import AssessmentClassified, Report
from shared.db import in_session
from shared.runtime import invalid

router = APIRouter(tags=["reports 综合风险评估报告"])


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
    responses={409: {"description": "the submission id holds a different report"}, 422: {"description": "which field is wrong, and why"}},
)
async def post_report(report: Report, request: Request) -> Any:
    problems = report.consistency_problems(today=date.today())
    if problems:
        return invalid([{"field": p.field, "message": p.message} for p in problems], "the report is invalid")
    runtime = request.app.state.runtime

    def store(session: Session) -> tuple[dict[str, Any], bool]:
        accepted = handlers.accept_report(session, report, date.today())
        session.commit()
        return submission_view(accepted.submission), accepted.new

    try:
        view, new = await in_session(runtime.engine, store)
    except handlers.SubmissionConflict as error:
        raise HTTPException(status_code=409, detail=str(error)) from error
    except handlers.AssessorDisqualified as error:
        return invalid([{"field": "assessor.org_id", "message": str(error)}], "the assessor may not submit")
    if new:
        await runtime.relay.flush()
    body = {**view, "duplicate": not new, "links": {"self": f"/reports/{view['submission_id']}"}}
    return JSONResponse(status_code=202, content=body, headers={"Location": body["links"]["self"]})


@router.get("/reports/{submission_id}", summary="A submission's status: accepted, classified (with result) or rejected (with reasons)")
async def get_report(submission_id: str, request: Request) -> dict[str, Any]:
    def load(session: Session) -> dict[str, Any] | None:
        found = session.get(Submission, submission_id)
        return submission_view(found) if found else None

    found = await in_session(request.app.state.runtime.engine, load)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no submission {submission_id}")
    return found


def _classified(session: Session, submission_id: str) -> tuple[Report, AssessmentClassified]:
    found = session.get(Submission, submission_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no submission {submission_id}")
    if found.status != "classified" or found.result is None:
        raise HTTPException(status_code=409, detail=f"submission {submission_id} is {found.status}: only a classified report has a document")
    return Report.model_validate(found.report), AssessmentClassified.model_validate(found.result)


async def _pdf(request: Request, submission_id: str, render, name: str) -> Response:  # noqa: ANN001
    report, result = await in_session(request.app.state.runtime.engine, lambda s: _classified(s, submission_id))
    content = await asyncio.to_thread(render, report, result, templates=request.app.state.settings.templates_dir)
    return Response(content, media_type="application/pdf", headers={"Content-Disposition": content_disposition(result.credit_code, name)})


def content_disposition(credit_code: str, name: str) -> str:
    """An ASCII filename for old clients and the Chinese one (RFC 5987) for the rest; headers are Latin-1."""
    return f"inline; filename=\"{credit_code}.pdf\"; filename*=UTF-8''{quote(f'{credit_code}-{name}.pdf')}"


@router.get(
    "/reports/{submission_id}/document",
    summary="The printable 评估报告 (附件4) of a classified report, as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 409: {"description": "the report is not classified"}},
)
async def get_report_document(submission_id: str, request: Request) -> Response:
    return await _pdf(request, submission_id, render_report_pdf, "评估报告")


@router.get(
    "/reports/{submission_id}/notice",
    summary="The 公示 notice for the bulletin board, as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 409: {"description": "the report is not classified"}},
)
async def get_report_notice(submission_id: str, request: Request) -> Response:
    return await _pdf(request, submission_id, render_notice_pdf, "公示")
