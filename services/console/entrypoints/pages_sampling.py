"""双随机 for staff: the plans of a jurisdiction, a plan's page (commitment, draw, targets with their inspectors,
results, statistics, the roster) and the forms that create a plan, draw it and record an inspection's result.

Every call goes to the sampling API with the signed-in person's own token; the console decides nothing: it sends
what the form said (numbers as numbers when they are numbers, anything else as written, so that the API names
the field) and shows the API's field messages next to the fields. Auditors read; no form is rendered for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.console.adapters.services import ApiAnswer
from services.console.entrypoints.pages_public import china_time
from services.console.entrypoints.web import ActingStaff, StaffVisitor, Visitor, field_problems, render, see_other
from shared.errors import Refusal

router = APIRouter()

CATEGORIES = ("甲", "乙", "丙")
STATUS_WORDS = {"committed": "已承诺、未抽取", "drawn": "已抽取、检查中", "completed": "已完成", "handed_down": "已下发各县"}
OUTCOME_WORDS = {"compliant": "符合要求", "violations": "发现违法行为", "not_inspected": "未检查"}
HARM_WORDS = {"none": "无危害后果", "minor": "轻微", "serious": "严重"}
SELECTION_WORDS = {"random": "随机抽取", "full_coverage": "全覆盖"}
INLINE_ROWS = 3  # violation rows of the result form on the plan page; the task's own page offers more
MAX_ROWS = 100  # the API's most violations in one result
VIOLATION_FIELD = re.compile(r"^violations\[(\d+)\]\.(item_code|harm|description|corrected_on|rectification_deadline|major)$")
EXCLUSION_FIELD = re.compile(r"^exclusions\[(\d+)\]")
WORDS = {"STATUS_WORDS": STATUS_WORDS, "OUTCOME_WORDS": OUTCOME_WORDS, "HARM_WORDS": HARM_WORDS,
         "SELECTION_WORDS": SELECTION_WORDS, "CATEGORIES": CATEGORIES}
# 核查处置 (verification tasks of online monitoring's exceedances): on their pages and on the employer's page
TASK_STATUS_WORDS = {"open": "待核查", "unassigned": "待派员（检查人员不足）", "recorded": "已登记结果"}
EPISODE_STATUS_WORDS = {"open": "进行中", "closed": "已结束"}
MEASURE_WORDS = {"peak": "峰值（最高容许浓度）", "twa": "时间加权平均（PC-TWA）", "stel": "短时间接触（PC-STEL）", "silent": "无数据（设备未上报）"}


def overdue(task: dict[str, Any], today: str) -> bool:
    """Past its deadline (a China date, ``today`` as YYYY-MM-DD) without a result."""
    return task.get("status") != "recorded" and bool(task.get("deadline")) and str(task["deadline"]) < today


NON_SITE_WORDS = {"TASK_STATUS_WORDS": TASK_STATUS_WORDS, "EPISODE_STATUS_WORDS": EPISODE_STATUS_WORDS, "MEASURE_WORDS": MEASURE_WORDS,
                  "overdue": overdue}


def _not_found() -> Refusal:
    return Refusal(404, "console.page.not_found")


def _number_or_text(value: str) -> int | str:
    """A whole number as a number; anything else as written (the API refuses it naming the field)."""
    text = value.strip()
    return int(text) if re.fullmatch(r"-?\d{1,9}", text) else text


def _exclusions(text: str) -> list[dict[str, str]]:
    """One excluded employer a line: its credit code, then the reason (after a space, a comma or a tab)."""
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = re.split(r"[\s,，]+", line.strip(), maxsplit=1)
        found.append({"credit_code": parts[0], "reason": parts[1].strip() if len(parts) > 1 else ""})
    return found


def plan_body(form: dict[str, Any]) -> dict[str, Any]:
    """The POST /plans body of what the form said: only what was filled in (the rest takes the rule file's defaults)."""
    body: dict[str, Any] = {"region_code": form["region_code"].strip(), "period": form["period"].strip()}
    ratios = {c: form[f"ratios.{c}"].strip() for c in CATEGORIES if form[f"ratios.{c}"].strip()}
    if ratios:
        body["ratios"] = ratios  # the decimal text as written: exact (0.1, never 0.1000000001)
    minimums = {c: _number_or_text(form[f"minimums.{c}"]) for c in CATEGORIES if form[f"minimums.{c}"].strip()}
    if minimums:
        body["minimums"] = minimums
    industries = [code for code in re.split(r"[\s,，;；]+", form["full_coverage_industries"]) if code]
    if industries:
        body["full_coverage_industries"] = industries
    if exclusions := _exclusions(form["exclusions"]):
        body["exclusions"] = exclusions
    if form["jia_non_site"] in ("true", "false"):
        body["jia_non_site"] = form["jia_non_site"] == "true"
    if form["inspectors_per_task"].strip():
        body["inspectors_per_task"] = _number_or_text(form["inspectors_per_task"])
    if form["hand_down"]:
        body["hand_down"] = True
    return body


def plan_problems(answer: ApiAnswer) -> dict[str, str]:
    """The API's field messages keyed by the form's fields: an exclusion's problem under ``exclusions`` with its line."""
    problems: dict[str, str] = {}
    for field, message in field_problems(answer).items():
        if found := EXCLUSION_FIELD.match(field):
            line = int(found.group(1)) + 1
            said = f"第 {line} 行：{message}"
            problems["exclusions"] = f"{problems['exclusions']}；{said}" if "exclusions" in problems else said
        elif field not in problems:
            problems[field] = message
    return problems


def result_body(form: Any) -> tuple[dict[str, Any], list[int]]:
    """The POST /tasks/{id}/result body of what the form said, and for each violation sent its row in the form
    (empty rows are left out, so the API's ``violations[k]`` is the form's row ``rows[k]``)."""
    body: dict[str, Any] = {"outcome": str(form.get("outcome", ""))}
    if day := str(form.get("inspected_on", "")).strip():
        body["inspected_on"] = day
    if reason := str(form.get("reason", "")).strip():
        body["reason"] = reason
    violations, rows = [], []
    for row in range(MAX_ROWS):
        def value(name: str, row: int = row) -> str:
            return str(form.get(f"violations[{row}].{name}", "")).strip()

        item = {name: value(name) for name in ("item_code", "harm", "description", "corrected_on", "rectification_deadline")}
        if not any(item.values()):
            continue
        violation: dict[str, Any] = {name: text for name, text in item.items() if text or name == "item_code"}
        violation["major"] = value("major") == "true"
        violations.append(violation)
        rows.append(row)
    if violations:
        body["violations"] = violations
    return body, rows


def result_problems(answer: ApiAnswer, rows: list[int]) -> dict[str, str]:
    """The API's field messages keyed by the result form's fields (``violations[k]`` back to the form's row)."""
    problems: dict[str, str] = {}
    for field, message in field_problems(answer).items():
        if (found := VIOLATION_FIELD.match(field)) and int(found.group(1)) < len(rows):
            field = f"violations[{rows[int(found.group(1))]}].{found.group(2)}"
        elif field not in ("outcome", "inspected_on", "reason", "violations"):  # no field of the form: said above it
            message, field = f"{field}：{message}", "form"
        if field in problems:
            problems[field] += f"；{message}"
        else:
            problems[field] = message
    return problems


def form_values(form: Any) -> dict[str, str]:
    """What the form said, to show it again beside the problems (never the CSRF token)."""
    return {key: str(value) for key, value in form.items() if key != "csrf_token" and isinstance(value, str)}


def newest_first(plans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(reversed(plans))


# --------------------------------------------------------------------------- the plans of a jurisdiction


async def _plans_page(request: Request, visitor: Visitor, status_code: int = 200, form: dict[str, Any] | None = None,
                      problems: dict[str, str] | None = None, refusal: str | None = None,
                      period: str | None = None, region_code: str | None = None) -> HTMLResponse:
    listed = await visitor.panel("sampling", "/plans", region_code=region_code or visitor.scope, period=period)
    plans = newest_first(listed.data.get("items", [])) if listed.ok else []
    return render(request, "sampling/plans.html", visitor, status_code, listed=listed, plans=plans, period=period or "",
                  region_code=region_code or "", form=form or {"region_code": visitor.scope}, problems=problems or {},
                  refusal=refusal, **WORDS)


@router.get("/plans", response_class=HTMLResponse, summary="双随机: the plans of the visitor's jurisdiction, and a form for a new one")
async def plans_page(request: Request, visitor: StaffVisitor,
                     period: Annotated[str | None, Query(max_length=6)] = None,
                     region_code: Annotated[str | None, Query(max_length=12)] = None) -> HTMLResponse:
    return await _plans_page(request, visitor, period=period, region_code=region_code)


@router.post("/plans", response_class=HTMLResponse, summary="Create a sampling plan (its seed committed at once)")
async def create_plan(request: Request, visitor: ActingStaff,
                      region_code: Annotated[str, Form(max_length=12)] = "", period: Annotated[str, Form(max_length=16)] = "",
                      ratio_jia: Annotated[str, Form(alias="ratios.甲", max_length=32)] = "",
                      ratio_yi: Annotated[str, Form(alias="ratios.乙", max_length=32)] = "",
                      ratio_bing: Annotated[str, Form(alias="ratios.丙", max_length=32)] = "",
                      minimum_jia: Annotated[str, Form(alias="minimums.甲", max_length=12)] = "",
                      minimum_yi: Annotated[str, Form(alias="minimums.乙", max_length=12)] = "",
                      minimum_bing: Annotated[str, Form(alias="minimums.丙", max_length=12)] = "",
                      full_coverage_industries: Annotated[str, Form(max_length=1000)] = "",
                      exclusions: Annotated[str, Form(max_length=500_000)] = "",
                      jia_non_site: Annotated[str, Form(max_length=5)] = "",
                      inspectors_per_task: Annotated[str, Form(max_length=12)] = "",
                      hand_down: Annotated[bool, Form()] = False) -> Response:
    form = {"region_code": region_code, "period": period, "ratios.甲": ratio_jia, "ratios.乙": ratio_yi, "ratios.丙": ratio_bing,
            "minimums.甲": minimum_jia, "minimums.乙": minimum_yi, "minimums.丙": minimum_bing,
            "full_coverage_industries": full_coverage_industries, "exclusions": exclusions, "jia_non_site": jia_non_site,
            "inspectors_per_task": inspectors_per_task, "hand_down": hand_down}
    answer = await visitor.call("sampling", "POST", "/plans", json=plan_body(form))
    if answer.ok and isinstance(answer.body, dict) and answer.body.get("id"):
        return see_other(f"/plans/{answer.body['id']}")
    return await _plans_page(request, visitor, answer.status if answer.status >= 400 else 502, form=form,
                             problems=plan_problems(answer), refusal=answer.detail)


# --------------------------------------------------------------------------- one plan


async def _plan_of(visitor: Visitor, plan_id: str) -> dict[str, Any]:
    answer = await visitor.get("sampling", f"/plans/{plan_id}")
    if not answer.ok or not isinstance(answer.body, dict):
        raise _not_found()  # a plan outside the jurisdiction answers 404, like a missing one
    return answer.body


async def _plan_page(request: Request, visitor: Visitor, plan_id: str, status_code: int = 200,
                     draw_refusal: ApiAnswer | None = None) -> HTMLResponse:
    plan = await _plan_of(visitor, plan_id)
    drawn = plan.get("status") in ("drawn", "completed")
    calls: dict[str, tuple[str, str, dict[str, Any]]] = {
        "roster": ("sampling", f"/inspectors/{plan['region_code']}", {}),
        "statistics": ("sampling", f"/plans/{plan_id}/statistics", {}),
    }
    if drawn:
        calls["tasks"] = ("sampling", "/tasks", {"plan_id": plan_id})
    panels = await visitor.panels(**calls)
    tasks = panels["tasks"].items if drawn else []
    draw_problems = list(field_problems(draw_refusal).values()) if draw_refusal is not None else []
    return render(request, "sampling/plan.html", visitor, status_code, plan=plan, drawn=drawn, panels=panels, tasks=tasks,
                  draw_refusal=draw_refusal, draw_problems=draw_problems, rows=INLINE_ROWS, created_local=china_time(plan.get("created_at")),
                  drawn_local=china_time((plan.get("draw") or {}).get("drawn_at")), **WORDS)


@router.get("/plans/{plan_id}", response_class=HTMLResponse, summary="One plan: commitment, draw, targets, results, statistics")
async def plan_page(request: Request, visitor: StaffVisitor, plan_id: str) -> HTMLResponse:
    return await _plan_page(request, visitor, plan_id[:64])


@router.post("/plans/{plan_id}/draw", response_class=HTMLResponse, summary="Draw the plan's targets and inspectors (once)")
async def draw_plan(request: Request, visitor: ActingStaff, plan_id: str) -> Response:
    plan_id = plan_id[:64]
    answer = await visitor.call("sampling", "POST", f"/plans/{plan_id}/draw")
    if answer.ok:
        return see_other(f"/plans/{plan_id}#targets")
    if answer.status == 404:
        raise _not_found()
    return await _plan_page(request, visitor, plan_id, answer.status, draw_refusal=answer)


# --------------------------------------------------------------------------- one task: its result


async def _task_of(visitor: Visitor, plan_id: str, task_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    plan = await _plan_of(visitor, plan_id)
    answer = await visitor.get("sampling", "/tasks", plan_id=plan_id)
    task = next((t for t in answer.items if t.get("id") == task_id), None)
    if task is None:
        raise _not_found()
    return plan, task


def _task_page(request: Request, visitor: Visitor, plan: dict[str, Any], task: dict[str, Any], rows: int, status_code: int = 200,
               values: dict[str, str] | None = None, problems: dict[str, str] | None = None,
               refusal: str | None = None) -> HTMLResponse:
    return render(request, "sampling/task.html", visitor, status_code, plan=plan, task=task, rows=rows, values=values or {},
                  problems=problems or {}, refusal=refusal, **WORDS)


@router.get("/plans/{plan_id}/tasks/{task_id}", response_class=HTMLResponse, summary="One target: its inspectors and result form")
async def task_page(request: Request, visitor: StaffVisitor, plan_id: str, task_id: str,
                    rows: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 5) -> HTMLResponse:
    plan, task = await _task_of(visitor, plan_id[:64], task_id[:64])
    return _task_page(request, visitor, plan, task, rows)


@router.post("/plans/{plan_id}/tasks/{task_id}/result", response_class=HTMLResponse, summary="Record an inspection's result")
async def record_result(request: Request, visitor: ActingStaff, plan_id: str, task_id: str,
                        outcome: Annotated[str, Form(max_length=16)] = "",
                        inspected_on: Annotated[str, Form(max_length=10)] = "",
                        reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    plan_id, task_id = plan_id[:64], task_id[:64]
    sent = await send_result(request, visitor, task_id)
    if sent.answer.ok:
        return see_other(f"/plans/{plan_id}#task-{task_id}")
    plan, task = await _task_of(visitor, plan_id, task_id)
    return _task_page(request, visitor, plan, task, sent.rows_shown, sent.answer.status, values=sent.values, problems=sent.problems,
                      refusal=sent.answer.detail)


@dataclass
class SentResult:
    """A result form sent to the sampling API: its answer and, for a refusal, what the form shows again."""

    answer: ApiAnswer
    rows: list[int]  # the form's row of each violation sent
    values: dict[str, str]

    @property
    def problems(self) -> dict[str, str]:
        return result_problems(self.answer, self.rows)

    @property
    def rows_shown(self) -> int:
        """Rows of the form shown again: five, or two beyond the last row filled in."""
        return min(max([5, *(r + 2 for r in self.rows)]), MAX_ROWS)


async def send_result(request: Request, visitor: Visitor, task_id: str) -> SentResult:
    """POST /tasks/{task_id}/result with what the result form said (a drawn task's or a verification's: one form);
    a 404 (no such task, or outside the jurisdiction) is the page's 404."""
    form = await request.form()  # the violation rows: violations[i].item_code, .harm, … (bounded: MAX_ROWS rows)
    body, rows = result_body(form)
    answer = await visitor.call("sampling", "POST", f"/tasks/{task_id}/result", json=body)
    if answer.status == 404:
        raise _not_found()
    return SentResult(answer, rows, form_values(form))
