"""核查处置 for staff: the verification tasks that online monitoring's exceedances made for the jurisdiction (RULES §10),
each task's page with its exceedance and the result form of a drawn task (one form, one POST body: pages_sampling).

A verification task has no plan: its page is ``/verifications/{credit_code}/{task_id}`` (the sampling API lists an
employer's tasks, and the employer's page links them). Every call carries the signed-in person's own token; the
services decide what they may see. Auditors read; no form is rendered for them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.console.entrypoints.pages_archive import CreditCode, checked_code
from services.console.entrypoints.pages_public import china_time
from services.console.entrypoints.pages_sampling import MAX_ROWS, NON_SITE_WORDS, WORDS, send_result
from services.console.entrypoints.web import ActingStaff, StaffVisitor, Visitor, render, see_other
from shared.dates import china_today
from shared.errors import Refusal
from shared.http import MAX_OFFSET

router = APIRouter()

PAGE_SIZE = 50  # verification tasks per page (the sampling API's most is 200)
VERIFICATION_WORDS = {**WORDS, **NON_SITE_WORDS}
EPISODES_SEARCHED = 1000  # the employer's latest episodes searched for the task's own (the monitoring API's most)


def _not_found() -> Refusal:
    return Refusal(404, "console.page.not_found")


@router.get("/verifications", response_class=HTMLResponse, summary="核查处置: the jurisdiction's verification tasks, the nearest deadline first")
async def verifications_page(request: Request, visitor: StaffVisitor,
                             page: Annotated[int, Query(ge=1, le=MAX_OFFSET // PAGE_SIZE)] = 1) -> HTMLResponse:
    listed = await visitor.panel("sampling", "/tasks", region_code=visitor.scope, kind="verification", limit=PAGE_SIZE,
                                 offset=(page - 1) * PAGE_SIZE)
    body = listed.data if listed.ok and isinstance(listed.data, dict) else {}
    return render(request, "sampling/verifications.html", visitor, listed=listed, tasks=body.get("items", []), page=page, size=PAGE_SIZE,
                  total=body.get("total", 0), today=china_today().isoformat(), **VERIFICATION_WORDS)


async def _verification_of(visitor: Visitor, credit_code: str, task_id: str) -> dict[str, Any]:
    """The employer's verification task (404 when the sampling API has none, or not in the visitor's jurisdiction)."""
    answer = await visitor.get("sampling", "/tasks", credit_code=credit_code)
    task = next((t for t in answer.items if t.get("id") == task_id and t.get("kind") == "verification"), None)
    if task is None:
        raise _not_found()
    return task


async def _verification_page(request: Request, visitor: Visitor, credit_code: str, task_id: str, rows: int, status_code: int = 200,
                             values: dict[str, str] | None = None, problems: dict[str, str] | None = None,
                             refusal: str | None = None) -> HTMLResponse:
    task = await _verification_of(visitor, credit_code, task_id)
    exceedances = await visitor.panel("monitoring", "/exceedances", credit_code=credit_code, limit=EPISODES_SEARCHED)
    episode = next((e for e in exceedances.items if e.get("episode_id") == task.get("episode_id")), None)
    return render(request, "sampling/verification.html", visitor, status_code, task=task, exceedances=exceedances, episode=episode,
                  base=f"/verifications/{credit_code}/{task_id}", rows=rows, values=values or {}, problems=problems or {}, refusal=refusal,
                  today=china_today().isoformat(), china_time=china_time, **VERIFICATION_WORDS)


@router.get("/verifications/{credit_code}/{task_id}", response_class=HTMLResponse,
            summary="One verification task: its exceedance, inspectors, deadline and the result form")
async def verification_page(request: Request, visitor: StaffVisitor, credit_code: CreditCode, task_id: str,
                            rows: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 5) -> HTMLResponse:
    return await _verification_page(request, visitor, checked_code(credit_code), task_id[:64], rows)


@router.post("/verifications/{credit_code}/{task_id}/result", response_class=HTMLResponse,
             summary="Record a verification's result (the form and body of a drawn task's)")
async def record_verification_result(request: Request, visitor: ActingStaff, credit_code: CreditCode, task_id: str,
                                     outcome: Annotated[str, Form(max_length=16)] = "",
                                     inspected_on: Annotated[str, Form(max_length=10)] = "",
                                     reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    code, task_id = checked_code(credit_code), task_id[:64]
    await _verification_of(visitor, code, task_id)  # this employer's verification task, or 404 (never another kind's)
    sent = await send_result(request, visitor, task_id)
    if sent.answer.ok:
        return see_other(f"/verifications/{code}/{task_id}#result")
    return await _verification_page(request, visitor, code, task_id, sent.rows_shown, sent.answer.status, values=sent.values,
                                    problems=sent.problems, refusal=sent.answer.detail)

