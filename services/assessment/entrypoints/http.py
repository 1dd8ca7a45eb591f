"""Assessment HTTP API: submit a report (附件4), follow it."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session

from services.assessment.adapters.orm import Submission
from services.assessment.service_layer import handlers
from shared.contracts import Report
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
        accepted = handlers.accept_report(session, report)
        session.commit()
        return submission_view(accepted.submission), accepted.new

    try:
        view, new = await in_session(runtime.engine, store)
    except handlers.SubmissionConflict as error:
        raise HTTPException(status_code=409, detail=str(error)) from error
    if new:
        await runtime.relay.flush()
    body = {**view, "links": {"self": f"/reports/{view['submission_id']}"}}
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
