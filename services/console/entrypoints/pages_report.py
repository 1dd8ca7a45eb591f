"""The employer's report journey (issue 15): fill in the 综合风险评估报告 (附件4) with the 附件2 checklist item
by item, see the score as it is answered and a preview of the grades, category and trace, submit it, then
follow the submission (status, result in words, the PDFs). Staff of a county, city or province may fill one
in for an employer of their jurisdiction (``/report/new?credit_code=…``) and list their jurisdiction's.

The form's inputs are named by the Report's own JSON paths (``enterprise.name``, ``hazards[0].exposed``,
``self_check.items.4.1`` …): the form becomes the Report JSON here, and every field an API refusal names lands
next to the input of that name (a removed hazard row renumbers the API's indices; :class:`Draft` maps them back).
Everything is decided by the assessment service (``/rules/report-form``, ``/reports:preview``, ``/reports``);
the console only parses the form and shows the answers."""

from __future__ import annotations

import copy
import re
import typing
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from services.console.adapters.services import ApiAnswer, ServiceDown
from services.console.entrypoints.web import CSRF_FIELD, ActingVisitor, Panel, SignedInVisitor, Visitor, render, see_other
from shared import i18n
from shared.contracts import Nature
from shared.dates import CHINA, china_today
from shared.errors import Refusal

router = APIRouter()

PAGE_SIZE = 20
MAX_HAZARD_ROWS = 100  # the API takes 200; a browser form of 100 rows already holds ~800 inputs (Starlette parses 1,000 at most)
NATURE_OPTIONS = [("", "按目录认定")] + [(nature, nature) for nature in typing.get_args(Nature)]
STATUS_TITLES = {"accepted": "已受理，正在分类", "classified": "已分类", "rejected": "已退回"}
SubmissionId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z-]+$", description="the submission id (a UUID)")]

# --------------------------------------------------------------------------- the form's inputs, named by the Report's JSON paths

FIELD_LABELS = {
    "enterprise.credit_code": "统一社会信用代码", "enterprise.name": "单位名称", "enterprise.region_code": "所在县（区）",
    "enterprise.industry_codes": "行业代码", "enterprise.employees": "职工总数", "enterprise.production_started_on": "投产日期",
    "assessor.type": "评估方式", "assessor.org_id": "技术服务机构统一社会信用代码", "assessor.org_name": "技术服务机构名称",
    "assessed_on": "评估日期", "publicity.start": "公示开始日期", "publicity.end": "公示结束日期", "signed_by": "签字人",
    "sealed": "加盖单位公章", "enterprise": "单位基本信息", "assessor": "评估机构", "publicity": "公示", "hazards": "职业病危害因素",
    "self_check": "附件2 自查表", "submission_id": "提交编号",
}
HAZARD_LABELS = {"factor": "危害因素", "exposed": "接触人数", "compliant": "接触水平", "tested_on": "检测日期",
                 "test_report_no": "检测报告编号", "nature": "性质", "free_silica_percent": "游离二氧化硅含量"}
FIXED_INPUTS = ("enterprise.credit_code", "enterprise.name", "enterprise.region_code", "enterprise.industry_codes", "enterprise.employees",
                "enterprise.production_started_on", "assessor.type", "assessor.org_id", "assessor.org_name", "assessed_on",
                "publicity.start", "publicity.end", "signed_by", "sealed")
SECTIONS = ("enterprise", "assessor", "hazards", "self_check", "publicity")  # a section's own problems (``publicity``: ends before it starts)
HAZARD_INPUT = re.compile(r"^hazards\[(\d{1,4})\]\.(" + "|".join(HAZARD_LABELS) + r")$")
ITEM_PREFIX = "self_check.items."
INTEGER = re.compile(r"^[+-]?\d{1,9}$")
NUMBER = re.compile(r"^[+-]?(\d{1,9}(\.\d{0,6})?|\.\d{1,6})$")


@dataclass
class Draft:
    """A posted form as the Report JSON, with what a page needs to show it again and to place the API's problems."""

    report: dict[str, Any]
    values: dict[str, str]  # every input as typed, by name
    rows: list[int]  # the form's hazard rows, in order: the API's hazards[k] is the form's hazards[rows[k]]
    items: list[str]  # the checklist's item ids, as the form lists them
    unanswered: list[str]
    missing: list[str] = field(default_factory=list)  # required inputs left empty, in form order

    @property
    def answered(self) -> int:
        return len(self.items) - len(self.unanswered)

    def inputs(self) -> list[str]:
        """Every input a problem may be shown next to (and the sections' own places)."""
        names = list(FIXED_INPUTS) + list(SECTIONS)
        names += [f"hazards[{i}].{part}" for i in self.rows for part in HAZARD_LABELS]
        names += [ITEM_PREFIX + item for item in self.items]
        return names

    def form_path(self, path: str) -> str:
        """The API's ``hazards[k]…`` as the form's row (rows removed in the browser leave gaps in the form's numbering)."""
        found = re.match(r"^hazards\[(\d+)\]", path)
        if found and int(found[1]) < len(self.rows):
            return f"hazards[{self.rows[int(found[1])]}]" + path[found.end():]
        return path

    def api_path(self, name: str) -> str:
        """The form's ``hazards[i]…`` as the report's (its place among the rows posted)."""
        found = re.match(r"^hazards\[(\d+)\]", name)
        if found and int(found[1]) in self.rows:
            return f"hazards[{self.rows.index(int(found[1]))}]" + name[found.end():]
        return name

    def label(self, name: str) -> str:
        found = HAZARD_INPUT.match(name)
        if found and int(found[1]) in self.rows:
            return f"危害因素第{self.rows.index(int(found[1])) + 1}行 · {HAZARD_LABELS[found[2]]}"
        if name.startswith(ITEM_PREFIX):
            return f"自查项目 {name[len(ITEM_PREFIX):]}"
        return FIELD_LABELS.get(name, name)


def _number(raw: str) -> Any:
    """A number as JSON, or the text as typed (the API then says why it is no number)."""
    if NUMBER.match(raw):
        value = float(raw)
        return int(value) if value.is_integer() and "." not in raw else value
    return raw


def _integer(raw: str) -> Any:
    return int(raw) if INTEGER.match(raw) else raw


def _boolean(raw: str) -> Any:
    return {"true": True, "false": False}.get(raw, raw)


def draft_of(form: FormData, credit_code: str) -> Draft:
    """The posted form as the Report JSON. Nothing is judged here: a value that is no number is sent as typed and
    the API names the field; an empty optional input is left out, an empty required one too (and listed in
    ``missing``, for the running score)."""
    values = {name: value for name, value in form.multi_items() if isinstance(value, str) and len(name) <= 80 and name != CSRF_FIELD}
    missing: list[str] = []

    def take(target: dict[str, Any], key: str, name: str, convert: Any = str, required: bool = False) -> None:
        raw = values.get(name, "").strip()
        if raw:
            target[key] = convert(raw)
        elif required:
            missing.append(name)

    enterprise: dict[str, Any] = {"credit_code": credit_code}
    take(enterprise, "name", "enterprise.name", required=True)
    take(enterprise, "region_code", "enterprise.region_code", required=True)
    enterprise["industry_codes"] = [code.upper() for code in re.split(r"[\s,，;；、]+", values.get("enterprise.industry_codes", "")) if code]
    take(enterprise, "employees", "enterprise.employees", _integer, required=True)
    take(enterprise, "production_started_on", "enterprise.production_started_on")

    assessor: dict[str, Any] = {"type": values.get("assessor.type") or "self"}
    if assessor["type"] != "self":  # the organisation's inputs count only when an organisation assessed
        take(assessor, "org_id", "assessor.org_id", lambda raw: raw.upper())
        take(assessor, "org_name", "assessor.org_name")

    report: dict[str, Any] = {"submission_id": values.get("submission_id") or str(uuid.uuid4()), "enterprise": enterprise, "assessor": assessor}
    take(report, "assessed_on", "assessed_on", required=True)

    rows = sorted({int(found[1]) for name in values if (found := HAZARD_INPUT.match(name))})[:MAX_HAZARD_ROWS * 2]
    hazards = []
    for i in rows:
        hazard: dict[str, Any] = {}
        take(hazard, "factor", f"hazards[{i}].factor", required=True)
        take(hazard, "exposed", f"hazards[{i}].exposed", _integer, required=True)
        take(hazard, "compliant", f"hazards[{i}].compliant", _boolean, required=True)
        take(hazard, "tested_on", f"hazards[{i}].tested_on")
        take(hazard, "test_report_no", f"hazards[{i}].test_report_no")
        take(hazard, "nature", f"hazards[{i}].nature")
        take(hazard, "free_silica_percent", f"hazards[{i}].free_silica_percent", _number)
        hazards.append(hazard)
    if not rows:
        missing.append("hazards")
    report["hazards"] = hazards

    items = [name[len(ITEM_PREFIX):] for name in values if name.startswith(ITEM_PREFIX)]
    answers = {item: ("n/a" if values[ITEM_PREFIX + item] == "n/a" else _number(values[ITEM_PREFIX + item].strip()))
               for item in items if values[ITEM_PREFIX + item].strip()}
    report["self_check"] = {"items": answers}

    publicity: dict[str, Any] = {}
    take(publicity, "start", "publicity.start", required=True)
    take(publicity, "end", "publicity.end", required=True)
    report["publicity"] = publicity
    take(report, "signed_by", "signed_by", required=True)
    report["sealed"] = values.get("sealed") == "true"
    if not report["sealed"]:
        missing.append("sealed")
    return Draft(report, values, rows, items, [item for item in items if item not in answers], missing)


STAND_IN_HAZARD = {"factor": "—", "exposed": 0, "compliant": True}
API_HAZARD = re.compile(r"^hazards\[(\d+)\](?:\.(\w+))?")


def stand_in(report: dict[str, Any], path: str, today: date) -> bool:
    """Put a harmless value at the API path ``path`` of ``report`` (or leave an optional field out), only to score the
    checklist while other parts are empty or wrong (``?partial=true``): never submitted. False: no stand-in for it."""
    enterprise, publicity = report["enterprise"], report["publicity"]
    assessed_on = report.get("assessed_on") if isinstance(report.get("assessed_on"), str) else today.isoformat()
    hazard = API_HAZARD.match(path)
    if hazard and int(hazard[1]) < len(report["hazards"]):
        row, part = report["hazards"][int(hazard[1])], hazard[2]
        if part is None or part not in HAZARD_LABELS:
            report["hazards"][int(hazard[1])] = dict(STAND_IN_HAZARD)
        elif part in STAND_IN_HAZARD:
            row[part] = STAND_IN_HAZARD[part]
        else:
            row.pop(part, None)
        return True
    if path == "hazards":
        report["hazards"] = [dict(STAND_IN_HAZARD)]
    elif path == "enterprise.name":
        enterprise["name"] = "—"
    elif path == "enterprise.employees":
        enterprise["employees"] = 1_000_000  # never below the exposed headcounts typed
    elif path == "enterprise.industry_codes" or path.startswith("enterprise.industry_codes["):
        enterprise["industry_codes"] = []
    elif path == "enterprise.production_started_on":
        enterprise.pop("production_started_on", None)
    elif path == "assessor" or path.startswith("assessor."):
        report["assessor"] = {"type": "self"}
    elif path == "assessed_on":
        report["assessed_on"] = today.isoformat()
    elif path == "publicity.start":
        publicity["start"] = assessed_on
        if isinstance(publicity.get("end"), str) and publicity["end"] < assessed_on:
            publicity["end"] = assessed_on
    elif path in ("publicity.end", "publicity"):
        publicity["end"] = publicity["start"] if isinstance(publicity.get("start"), str) else assessed_on
    elif path == "signed_by":
        report["signed_by"] = "—"
    elif path == "sealed":
        report["sealed"] = True
    elif path == "submission_id":
        report["submission_id"] = str(uuid.uuid4())
    else:
        return False
    return True


def with_placeholders(draft: Draft, today: date) -> tuple[dict[str, Any], list[str]]:
    """The draft with a stand-in for each required input still empty (:func:`stand_in`). Returns the report and
    the stand-ins' API paths."""
    report = copy.deepcopy(draft.report)
    placed = [draft.api_path(name) for name in draft.missing]
    for path in placed:
        stand_in(report, path, today)
    return report, placed


def _related(path: str, other: str) -> bool:
    """The same field, one inside the other, or one holding the other."""
    return path == other or any(a.startswith(b) and a[len(b)] in ".[" for a, b in ((path, other), (other, path)) if len(a) > len(b))


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


@dataclass
class Placed:
    """Problems placed on the form: next to an input (by name), or at the top when no input is theirs."""

    by_input: dict[str, str] = field(default_factory=dict)
    top: list[str] = field(default_factory=list)

    def add(self, draft: Draft, path: str | None, message: str) -> None:
        known = set(draft.inputs())
        target = draft.form_path(path) if path else ""
        while target and target not in known:
            target = _parent(target)
        if target:
            self.by_input[target] = f"{self.by_input[target]}；{message}" if target in self.by_input else message
        else:
            self.top.append(f"{draft.label(draft.form_path(path))}：{message}" if path and path != "(body)" else message)


def placed_problems(draft: Draft, answer: ApiAnswer, ignore: list[str] | tuple[str, ...] = ()) -> Placed:
    """An API refusal's problems next to the form's inputs (its ``detail`` at the top when it names no field)."""
    placed = Placed()
    problems = answer.problems
    for path, message in problems.items():
        if not any(_related(path, stand_in) for stand_in in ignore):
            placed.add(draft, path, message)
    if not problems:
        placed.top.append(answer.detail)
    return placed


def placed_reasons(draft: Draft, reasons: list[dict[str, Any]]) -> Placed:
    placed = Placed()
    for reason in reasons:
        placed.add(draft, reason.get("field"), str(reason.get("message") or reason.get("code") or ""))
    return placed


# --------------------------------------------------------------------------- the form


def _may_fill(visitor: Visitor) -> None:
    """The employer itself or acting staff (``web.ActingVisitor``'s roles) for the pages of the form that are GETs."""
    if not visitor.may_act:  # auditors read only: no form at all
        raise Refusal(404, "console.page.not_found")


def _china_time(value: Any) -> str:
    """An API timestamp (ISO, UTC) as China's wall clock: ``2023年6月1日 14:05``."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    if moment.tzinfo is not None:
        moment = moment.astimezone(CHINA)
    return f"{i18n.local_date(moment.date())} {moment:%H:%M}"


def _context(**extra: Any) -> dict[str, Any]:
    return {"nature_options": NATURE_OPTIONS, "max_rows": MAX_HAZARD_ROWS, "when": _china_time, "status_titles": STATUS_TITLES, **extra}


def _grouped(form: dict[str, Any]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The checklist's sections, each with its items, in checklist order."""
    items = form["checklist"]["items"]
    return [(section, [item for item in items if item["section"] == section["id"]]) for section in form["checklist"]["sections"]]


def _point_options(points: float) -> list[tuple[str, str]]:
    """What an item may be answered: its full points down to 0 in half points."""
    options, value = [], float(points)
    while value > 0:
        options.append((f"{value:g}", f"{value:g} 分（满分）" if value == points else f"{value:g} 分"))
        value -= 0.5
    return options + [("0", "0 分")]


def _form_page(request: Request, visitor: Visitor, status: int, *, credit_code: str, form_panel: Panel, values: dict[str, str],
               rows: list[int], placed: Placed, archive: Panel | None = None, down: ServiceDown | None = None,
               draft: Draft | None = None) -> HTMLResponse:
    form = form_panel.data if form_panel.ok else None
    corrections = [(name, draft.label(name), message) for name, message in placed.by_input.items()] if draft else []
    return render(request, "report/new.html", visitor, status, **_context(
        step="form", credit_code=credit_code, form=form, form_panel=form_panel, archive=archive, values=values, rows=rows,
        refused=draft is not None and not down, corrections=corrections,
        problems=placed.by_input, top=placed.top, down=down, sections=_grouped(form) if form else [], point_options=_point_options,
        next_row=(max(rows) + 1) if rows else 0,
        posted_items=[(name[len(ITEM_PREFIX):], value) for name, value in values.items() if name.startswith(ITEM_PREFIX)]))


@router.get("/report/new", response_class=HTMLResponse, summary="The 综合风险评估报告 form, built from the rule data in force")
async def new_report(
    request: Request,
    visitor: SignedInVisitor,
    credit_code: Annotated[str | None, Query(pattern=r"^[0-9A-Za-z]{0,18}$", description="staff: the employer the report is for")] = None,
    region_code: Annotated[str | None, Query(max_length=6, description="the county, for an employer not archived yet")] = None,
    on: Annotated[date | None, Query(description="the day whose rule data builds the form (default: today in China)")] = None,
) -> HTMLResponse:
    _may_fill(visitor)
    code = visitor.scope if visitor.role == "employer" else (credit_code or "").strip().upper()
    if not code:
        return render(request, "report/new.html", visitor, **_context(step="employer", problems={}, values={}))
    archive = await visitor.panel("registry", f"/enterprises/{code}")
    archived = archive.data if archive.ok and isinstance(archive.data, dict) else None
    region = (archived or {}).get("region_code") or (region_code or "").strip()
    if not region:
        suggested = visitor.account.region_code if visitor.role == "employer" else ""
        return render(request, "report/new.html", visitor, **_context(step="county", credit_code=code, archive=archive, problems={},
                                                                    values={"region_code": suggested or ""}))
    today = china_today()
    form_panel = await visitor.panel("assessment", "/rules/report-form", region_code=region, on=(on or today).isoformat())
    if form_panel.refused is not None and not archived:  # no rule data for that county (or no county code): ask again
        message = form_panel.refused.problems.get("region_code") or form_panel.refused.detail
        return render(request, "report/new.html", visitor, 422, **_context(step="county", credit_code=code, archive=archive,
                                                                         problems={"region_code": message}, values={"region_code": region}))
    values = {"submission_id": str(uuid.uuid4()), "enterprise.credit_code": code, "enterprise.region_code": region,
              "assessor.type": "self", "assessed_on": today.isoformat(), "rules_on": (on or today).isoformat()}
    if form_panel.ok:
        values["rules_version"] = f'{form_panel.data["rule_set"]["jurisdiction"]} {form_panel.data["rule_set"]["version"]}'
    if archived:
        values.update({"enterprise.name": archived.get("name") or "", "enterprise.employees": str(archived.get("employees") or ""),
                       "enterprise.industry_codes": " ".join(archived.get("industry_codes") or []),
                       "enterprise.production_started_on": archived.get("production_started_on") or ""})
    status = 200 if form_panel.ok else 503 if form_panel.down else form_panel.refused.status  # type: ignore[union-attr]
    return _form_page(request, visitor, status, credit_code=code, form_panel=form_panel, values=values,
                      rows=[0], placed=Placed(), archive=archive)


@router.get("/report/hazard-row", response_class=HTMLResponse, summary="One more hazard row for the form (htmx)")
async def hazard_row(request: Request, visitor: SignedInVisitor, i: Annotated[int, Query(ge=0, le=MAX_HAZARD_ROWS * 2)] = 0) -> HTMLResponse:
    _may_fill(visitor)
    return render(request, "report/_hazard_row_added.html", visitor, **_context(i=i, values={}, problems={}, next_row=i + 1))


@router.get("/report/hazard-row/removed", summary="A removed hazard row (htmx deletes it; the form previews again)")
async def hazard_row_removed(visitor: SignedInVisitor) -> Response:
    _may_fill(visitor)
    return Response(status_code=200, headers={"HX-Trigger": "hazards-changed"})


def _credit_code_of(visitor: Visitor, form: FormData) -> str:
    if visitor.role == "employer":
        return visitor.scope  # an employer reports for itself, whatever the form says
    value = form.get("enterprise.credit_code")
    return value.strip().upper()[:18] if isinstance(value, str) else ""


async def _form_again(visitor: Visitor, draft: Draft) -> Panel:
    """The rule data the form was built from, to show it again (the county and day it was built for)."""
    region = draft.values.get("enterprise.region_code", "")
    on = draft.values.get("rules_on") or china_today().isoformat()
    return await visitor.panel("assessment", "/rules/report-form", region_code=region, on=on)


@router.post("/report/preview", response_class=HTMLResponse, summary="The running score, or the preview of the classification (htmx)")
async def preview(request: Request, visitor: ActingVisitor) -> HTMLResponse:
    form = await request.form()
    draft = draft_of(form, _credit_code_of(visitor, form))
    context = _context(draft=draft, slots=draft.inputs(), problems={}, top=[], rules_version=draft.values.get("rules_version", ""))
    if draft.answered == 0:
        return render(request, "report/_preview.html", visitor, **context, outcome="none")
    today = china_today()
    partial = bool(draft.unanswered or draft.missing)
    body, stand_ins = with_placeholders(draft, today) if partial else (draft.report, [])
    placed = Placed()
    try:
        answer = await _previewed(visitor, body, partial)
        if answer.status == 422 and answer.problems:
            placed = placed_problems(draft, answer, stand_ins)
            retry = copy.deepcopy(body)  # the fields at fault stand in too: the score still shows beside their messages
            if all(stand_in(retry, path, today) for path in answer.problems):
                again = await _previewed(visitor, retry, True)
                answer = again if again.ok else answer
    except ServiceDown as down:
        return render(request, "report/_preview.html", visitor, **context, outcome="down", down=down)
    if not answer.ok or not isinstance(answer.body, dict):
        placed = placed if placed.by_input or placed.top else placed_problems(draft, answer, stand_ins)
        return render(request, "report/_preview.html", visitor, **{**context, "problems": placed.by_input, "top": placed.top}, outcome="refused")
    outcome = answer.body.get("outcome")
    if outcome == "rejected":
        reasons = [r for r in answer.body.get("reasons", []) if not any(_related(r.get("field") or "", s) for s in stand_ins)]
        placed = placed_reasons(draft, reasons)
        return render(request, "report/_preview.html", visitor, **{**context, "problems": placed.by_input, "top": placed.top},
                      outcome="rejected", reasons=reasons)
    missing = [draft.label(name) for name in draft.missing]
    return render(request, "report/_preview.html", visitor, **{**context, "problems": placed.by_input, "top": placed.top},
                  outcome=outcome, answer=answer.body, missing=missing, corrections=len(placed.by_input) + len(placed.top))


async def _previewed(visitor: Visitor, report: dict[str, Any], partial: bool) -> ApiAnswer:
    return await visitor.call("assessment", "POST", "/reports:preview", json=report, params={"partial": "true"} if partial else None)


@router.post("/report", response_class=HTMLResponse, summary="Submit the report; then its submission's page")
async def submit(request: Request, visitor: ActingVisitor) -> Response:
    form = await request.form()
    credit_code = _credit_code_of(visitor, form)
    draft = draft_of(form, credit_code)
    try:
        answer = await visitor.call("assessment", "POST", "/reports", json=draft.report)
    except ServiceDown as down:
        return _form_page(request, visitor, 503, credit_code=credit_code, form_panel=await _form_again(visitor, draft),
                          values=draft.values, rows=draft.rows, placed=Placed(), down=down)
    if answer.ok and isinstance(answer.body, dict) and answer.body.get("submission_id"):
        return see_other(f"/submissions/{answer.body['submission_id']}")
    return _form_page(request, visitor, answer.status if answer.status >= 400 else 422, credit_code=credit_code,
                      form_panel=await _form_again(visitor, draft), values=draft.values, rows=draft.rows,
                      placed=placed_problems(draft, answer), draft=draft)


# --------------------------------------------------------------------------- the submissions


@router.get("/submissions", response_class=HTMLResponse, summary="Submitted reports: an employer's own, staff's jurisdiction's")
async def submissions(
    request: Request,
    visitor: SignedInVisitor,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    status: Annotated[str | None, Query(pattern="^(accepted|classified|rejected)?$")] = None,
    credit_code: Annotated[str | None, Query(pattern=r"^[0-9A-Za-z]{0,18}$", description="staff: one employer's")] = None,
) -> HTMLResponse:
    one = (credit_code or "").upper() if visitor.role != "employer" else ""
    listing = await visitor.panel("assessment", "/reports", limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, status=status or None,
                                  credit_code=one or None)
    return render(request, "report/submissions.html", visitor, 200 if listing.down is None else 503,
                  **_context(listing=listing, page=page, size=PAGE_SIZE, status=status or "", credit_code=one))


async def _submission(visitor: Visitor, submission_id: str) -> dict[str, Any]:
    answer = await visitor.get("assessment", f"/reports/{submission_id}")
    if answer.status == 404 or not answer.ok or not isinstance(answer.body, dict):
        raise Refusal(404, "console.page.not_found")
    return answer.body


@router.get("/submissions/{submission_id}", response_class=HTMLResponse, summary="A submission: status, result and trace, PDFs")
async def submission(request: Request, visitor: SignedInVisitor, submission_id: SubmissionId) -> HTMLResponse:
    try:
        found = await _submission(visitor, submission_id)
    except ServiceDown as down:
        return render(request, "report/submission.html", visitor, 503, **_context(submission_id=submission_id, sub=None, down=down))
    return render(request, "report/submission.html", visitor, **_context(submission_id=submission_id, sub=found, down=None))


@router.get("/submissions/{submission_id}/status", response_class=HTMLResponse, summary="The submission's status part (htmx polls it)")
async def submission_status(request: Request, visitor: SignedInVisitor, submission_id: SubmissionId) -> HTMLResponse:
    try:
        found = await _submission(visitor, submission_id)
    except ServiceDown as down:  # keep polling, saying why nothing changes
        found, problem = {"submission_id": submission_id, "status": "accepted"}, down
    else:
        problem = None
    return render(request, "report/_status.html", visitor, **_context(submission_id=submission_id, sub=found, down=problem))


async def _pdf(visitor: Visitor, submission_id: str, kind: str) -> Response:
    answer = await visitor.call("assessment", "GET", f"/reports/{submission_id}/{kind}")
    if answer.ok:
        headers = {"Content-Disposition": answer.headers["content-disposition"]} if "content-disposition" in answer.headers else {}
        return Response(answer.content, media_type=answer.headers.get("content-type", "application/pdf"), headers=headers)
    code = answer.body.get("code") if isinstance(answer.body, dict) else None
    if answer.status == 409 and code in ("errors.document.not_classified", "errors.document.rejected"):
        raise Refusal(409, code, {"submission_id": submission_id})
    raise Refusal(404, "console.page.not_found")


@router.get("/submissions/{submission_id}/document.pdf", summary="The printable 评估报告 (PDF), streamed from the assessment service")
async def submission_document(visitor: SignedInVisitor, submission_id: SubmissionId) -> Response:
    return await _pdf(visitor, submission_id, "document")


@router.get("/submissions/{submission_id}/notice.pdf", summary="The 公示 notice (PDF), streamed from the assessment service")
async def submission_notice(visitor: SignedInVisitor, submission_id: SubmissionId) -> Response:
    return await _pdf(visitor, submission_id, "notice")


__all__ = ["router", "draft_of", "with_placeholders", "Draft"]
