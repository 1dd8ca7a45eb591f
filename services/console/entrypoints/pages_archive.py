"""The archive side of the console (issue 15): the staff's dashboard, the archive list, an employer's page (every
role: an employer its own), the bulk intake of a county's 附件6 and the rule data in force (province).

Every page reads the services' APIs with the signed-in person's own token, one call per panel, concurrently
(``visitor.panels``): a service that is down blanks its panel only. Lists are paged by the registry (50 a page).

The bulk intake parses the workbook with the assessment's own 附件6 reader (``services.assessment.adapters.spreadsheets``,
what ``ohs bulk employers`` uses: no second parser) and sends the rows to ``POST assessment /reports:batch`` 500 at a
time, in a job of the console process (an asyncio task: the page polls its progress with htmx). Jobs are kept in
memory per session, a few at a time (:data:`JOBS_PER_SESSION`, :data:`JOBS_IN_ALL`), for :data:`JOB_KEPT` after they
end; the per-row error file (.xlsx, the CLI's layout) is offered for download. Declared limits: the file
(:data:`MAX_UPLOAD_BYTES`), its rows (:data:`MAX_ROWS`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path as PathParam, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from services.assessment.adapters import report_files, spreadsheets
from services.assessment.adapters.report_files import LayoutError, ParsedRow, RowProblem
from services.console.adapters.services import ApiAnswer, ServiceApis, ServiceDown
from services.console.domain.accounts import Account
from services.console.entrypoints.pages_sampling import NON_SITE_WORDS
from services.console.entrypoints.web import (
    ActingStaff,
    SignedInVisitor,
    StaffVisitor,
    Visitor,
    field_problems,
    render,
    see_other,
    service_token,
)
from shared import i18n
from shared.contracts import REF_LENGTH, TEXT_LENGTH
from shared.dates import china_today
from shared.errors import Refusal
from shared.http import MAX_OFFSET
from shared.identifiers import credit_code_problem
from shared.limits import MIB, route_body_limit
from shared.runtime import content_disposition

router = APIRouter()
log = logging.getLogger(__name__)

PAGE_SIZE = 50
MAX_PAGE = MAX_OFFSET // PAGE_SIZE  # the registry pages up to an offset of 1,000,000
CATEGORIES = ("甲", "乙", "丙")
# the penalty's case statuses (三步法) in their order, with the domain's terms (terms.po)
CASE_STATUSES = {"open": "已立案", "educated": "已教育引导", "rectifying": "限期改正中", "committed": "承诺改正中",
                 "penalty_pending": "待处罚", "closed": "已结案"}
REMINDER_KINDS = {"reassessment_overdue": "逾期未重新评估", "first_assessment_overdue": "首次评估逾期",
                  "reassessment_due_soon": "即将到期"}
FORM_TEXT = 2 * TEXT_LENGTH  # the console takes a little more than the API, so that the API's own message says what is too long
FORM_REF = 2 * REF_LENGTH

CreditCode = Annotated[str, PathParam(min_length=1, max_length=64, description="统一社会信用代码")]


EPISODES_SHOWN = 20  # the latest exceedance episodes on an employer's page


def not_found() -> Refusal:
    return Refusal(404, "console.page.not_found")


def is_county(code: str) -> bool:
    """A county-level GB/T 2260 code (a city's ends in 00, a province's in 0000)."""
    return len(code) == 6 and code.isdigit() and not code.endswith("00")


def checked_code(credit_code: str) -> str:
    """A credit code that is one (anything else names no page: 404), safe to put in an API path."""
    if credit_code_problem(credit_code):
        raise not_found()
    return credit_code


# --------------------------------------------------------------------------- the dashboard


@router.get("/dashboard", response_class=HTMLResponse, summary="Staff's dashboard: employers per category, reports awaiting, "
            "reminders, cases by step, rectification items overdue — each panel from one API")
async def dashboard(request: Request, visitor: StaffVisitor) -> HTMLResponse:
    panels = await visitor.panels(
        categories=("registry", "/reports/categories", {"region_code": visitor.scope}),
        awaiting=("assessment", "/reports", {"status": "accepted", "limit": 5}),
        rejected=("assessment", "/reports", {"status": "rejected", "limit": 5}),
        reminders=("registry", "/reminders", {"limit": 8}),
        cases=("penalty", "/reports/cases-by-status", {"nearest": 5}),
        rectifications=("registry", "/rectifications", {"status": "overdue", "limit": 5}),
    )
    wide = not is_county(visitor.scope)
    categories = panels["categories"]
    chart = category_chart(categories.data) if wide and categories.ok else None
    cases = case_summary(panels["cases"].data, china_today()) if panels["cases"].ok else None
    return render(request, "archive/dashboard.html", visitor, panels=panels, wide=wide, chart=chart, cases=cases,
                  categories=CATEGORIES, case_statuses=CASE_STATUSES, reminder_kinds=REMINDER_KINDS)


def category_chart(report: dict[str, Any]) -> dict[str, Any]:
    """The stacked bar chart of employers per county and category (static/js/charts.js draws it)."""
    rows = [r for r in report.get("rows", []) if r.get("listed", True) or r.get("total")]
    return {
        "labels": [r.get("name") or r["region_code"] for r in rows],
        "series": [{"name": c, "data": [r["counts"].get(c, 0) for r in rows]} for c in report.get("categories", CATEGORIES)],
        "links": [f"/enterprises?county={r['region_code']}" for r in rows],
        "unit": "家",
    }


def case_summary(summary: dict[str, Any], today: date) -> dict[str, Any]:
    """The penalty's counts per step and the cases awaiting correction whose deadline is nearest (passed first),
    each with its days left."""
    counts = {status: 0 for status in CASE_STATUSES} | {k: int(v) for k, v in (summary.get("counts") or {}).items()}
    total = int(summary.get("total") or 0)
    nearest = [{**c, "days_left": (date.fromisoformat(c["deadline"]) - today).days} for c in summary.get("nearest") or []]
    return {"counts": counts, "total": total, "open": total - counts.get("closed", 0), "nearest": nearest}


# --------------------------------------------------------------------------- the archive


class _NamesOfCounties:
    """The counties of a city or province and their names, kept ten minutes per region (the region tree is
    reference data): the list page does not ask the registry's per-county report on every page."""

    TTL_S = 600.0

    def __init__(self) -> None:
        self._kept: dict[str, tuple[float, dict[str, str | None]]] = {}

    def get(self, region: str) -> dict[str, str | None] | None:
        kept = self._kept.get(region)
        return kept[1] if kept is not None and time.monotonic() - kept[0] < self.TTL_S else None

    def put(self, region: str, names: dict[str, str | None]) -> dict[str, str | None]:
        if len(self._kept) > 1000:  # a province has some 40 cities: this never fills but by mistake
            self._kept.clear()
        self._kept[region] = (time.monotonic(), names)
        return names


def _county_names(request: Request) -> _NamesOfCounties:
    """The app's one store of county names (made on first use)."""
    state = request.app.state
    if not hasattr(state, "county_names"):
        state.county_names = _NamesOfCounties()
    return state.county_names


@router.get("/enterprises", response_class=HTMLResponse, summary="The archive: filters (category, industry, county, overdue) "
            "and server-side paging, 50 a page")
async def archive(
    request: Request,
    visitor: StaffVisitor,
    category: Annotated[Literal["", "甲", "乙", "丙"], Query(description="综合风险类别")] = "",
    industry: Annotated[str, Query(max_length=5, description="GB/T 4754 code or its start")] = "",
    county: Annotated[str, Query(max_length=6, description="a county of the city or province")] = "",
    overdue: Annotated[bool, Query(description="re-assessment or first assessment overdue")] = False,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> HTMLResponse:
    industry = industry.strip().upper()
    wide = not is_county(visitor.scope)
    filters = {"category": category, "industry": industry, "county": county.strip() if wide else "", "overdue": overdue}
    params = {"category": category, "industry": industry, "region_code": filters["county"], "overdue": "true" if overdue else None,
              "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
    calls: dict[str, tuple[str, str, dict[str, Any]]] = {"archive": ("registry", "/enterprises", params)}
    kept = _county_names(request)
    names = kept.get(visitor.scope)
    if wide and names is None:  # the counties of the city or province, for the filter and the names (kept a while)
        calls["counties"] = ("registry", "/reports/categories", {"region_code": visitor.scope})
    panels = await visitor.panels(**calls)
    listed, counties = panels["archive"], panels.get("counties")
    if counties is not None and counties.ok:
        names = kept.put(visitor.scope, {r["region_code"]: r.get("name") for r in counties.data.get("rows", [])})
    problems: dict[str, str] = {}
    status = 200
    if listed.refused is not None:  # a filter the registry refuses: its message next to the filter
        status = listed.refused.status if listed.refused.status != 404 else 422
        problems = {("county" if k == "region_code" else k): v for k, v in field_problems(listed.refused).items()}
        if not problems and filters["county"]:
            problems["county"] = listed.refused.detail
    elif listed.down is not None:
        status = 503
    return render(request, "archive/enterprises.html", visitor, status, panel=listed, counties=counties, names=names or {}, wide=wide,
                  filters=filters, problems=problems, page=page, size=PAGE_SIZE, categories=CATEGORIES)


# --------------------------------------------------------------------------- one employer


@dataclass
class Act:
    """A staff form refused by the registry, shown again with its messages next to its fields."""

    form: str
    values: dict[str, Any]
    problems: dict[str, str] = field(default_factory=dict)
    detail: str = ""


DONE = {"upgrade": "已记录执法升级。", "dispute": "已标记为有异议。", "verification": "已记录现场核实结果。", "exemption": "已授予免检。",
        "revoke": "已撤销免检。"}


@router.get("/enterprises/{credit_code}", response_class=HTMLResponse, summary="An employer's page: category, trace in words, "
            "versions, overrides, 免检, chain check, transfer, portrait; staff's forms")
async def enterprise_page(request: Request, visitor: SignedInVisitor, credit_code: CreditCode,
                          done: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    return await _enterprise_page(request, visitor, checked_code(credit_code), done=DONE.get(done, ""))


async def _enterprise_page(request: Request, visitor: Visitor, credit_code: str, status_code: int = 200, act: Act | None = None,
                           done: str = "") -> HTMLResponse:
    answer = await visitor.get("registry", f"/enterprises/{credit_code}")  # the page itself: down → the 503 page
    if not answer.ok or not isinstance(answer.body, dict):
        raise not_found()  # another county's employer, another employer, or none: as the API says, 404
    found = answer.body
    calls: dict[str, tuple[str, str, dict[str, Any]]] = {"portrait": ("registry", f"/enterprises/{credit_code}/portrait", {})}
    if visitor.role != "employer" and is_county(str(found.get("region_code", ""))):
        calls["chain"] = ("registry", f"/audit/chain/{found['region_code']}/verify", {})
    # non-site supervision: the employer's exceedance episodes (monitoring; 404 for one without devices: no panel) and,
    # for staff and auditors, its verification tasks (sampling); a service that is down blanks its panel only
    calls["exceedances"] = ("monitoring", "/exceedances", {"credit_code": credit_code, "limit": EPISODES_SHOWN})
    if visitor.role != "employer":
        calls["tasks"] = ("sampling", "/tasks", {"credit_code": credit_code})
    panels = await visitor.panels(**calls)
    verifications = [t for t in panels["tasks"].items if t.get("kind") == "verification"] if "tasks" in panels else []
    episodes = panels["exceedances"].items
    words = {kind: i18n.text(f"registry.override.kind.{kind}") for kind in ("industry_default", "enforcement_upgrade", "dispute", "verification")}
    may_act = visitor.may_act and visitor.is_staff
    return render(request, "archive/enterprise.html", visitor, status_code, archive=found, panels=panels, act=act, done=done,
                  kind_words=words, may_act=may_act, forms_shown=forms_for(found) if may_act else set(), episodes=episodes,
                  verifications=verifications, today=china_today().isoformat(), episodes_shown=EPISODES_SHOWN, **NON_SITE_WORDS)


def forms_for(found: dict[str, Any]) -> set[str]:
    """The staff forms the employer's page offers in the archive's state (the registry decides; a form it would refuse
    in any case is not offered): upgrade and 免检 always, revoking each 免检 not ended, a dispute of the current report
    unless disputed already, the verification of a disputed one."""
    dispute = (found.get("dispute") or {}).get("status")
    shown = {"upgrade", "exemption"} | {f"revoke-{x['id']}" for x in found.get("exemptions") or [] if x.get("status") in ("granted", "in_force")}
    if found.get("source") == "report" and dispute != "disputed":
        shown.add("dispute")
    if dispute == "disputed":
        shown.add("verification")
    return shown


async def _act(request: Request, visitor: Visitor, credit_code: str, form: str, path: str, body: dict[str, Any],
               values: dict[str, Any]) -> Response:
    """POST a staff form to the registry: see the page again on success; on a refusal, the page with the messages."""
    answer = await visitor.call("registry", "POST", path, json=body)
    if answer.ok:
        kind = form.split("-", 1)[0]  # revoke-<exemption id>: the 免检 table
        return see_other(f"/enterprises/{credit_code}?done={kind}#{'exemptions' if kind == 'revoke' else form}")
    if answer.status == 404:
        raise not_found()
    act = Act(form, values, field_problems(answer), answer.detail)
    return await _enterprise_page(request, visitor, credit_code, answer.status, act)


def _steps(value: str) -> int | str:
    return int(value) if value.strip().isdigit() else value  # the API says what is wrong with anything else


@router.post("/enterprises/{credit_code}/upgrade", response_class=HTMLResponse, summary="Enforcement upgrade (registry)")
async def post_upgrade(request: Request, visitor: ActingStaff, credit_code: CreditCode,
                       reason: Annotated[str, Form(max_length=FORM_TEXT)] = "", steps: Annotated[str, Form(max_length=3)] = "1",
                       case_ref: Annotated[str, Form(max_length=FORM_REF)] = "") -> Response:
    code = checked_code(credit_code)
    values = {"reason": reason, "steps": steps, "case_ref": case_ref}
    body = {"reason": reason, "steps": _steps(steps), "case_ref": case_ref.strip() or None}
    return await _act(request, visitor, code, "upgrade", f"/enterprises/{code}/upgrade", body, values)


@router.post("/enterprises/{credit_code}/dispute", response_class=HTMLResponse, summary="Mark the current report disputed (registry)")
async def post_dispute(request: Request, visitor: ActingStaff, credit_code: CreditCode,
                       reason: Annotated[str, Form(max_length=FORM_TEXT)] = "") -> Response:
    code = checked_code(credit_code)
    return await _act(request, visitor, code, "dispute", f"/enterprises/{code}/dispute", {"reason": reason}, {"reason": reason})


@router.post("/enterprises/{credit_code}/verification", response_class=HTMLResponse, summary="Record the on-site verification (registry)")
async def post_verification(request: Request, visitor: ActingStaff, credit_code: CreditCode,
                            finding: Annotated[str, Form(max_length=FORM_TEXT)] = "",
                            resubmission_requested: Annotated[str, Form(max_length=5)] = "") -> Response:
    code = checked_code(credit_code)
    body = {"finding": finding, "resubmission_requested": resubmission_requested in ("1", "on", "true")}
    values = {"finding": finding, "resubmission_requested": body["resubmission_requested"]}
    return await _act(request, visitor, code, "verification", f"/enterprises/{code}/verification", body, values)


@router.post("/enterprises/{credit_code}/exemptions", response_class=HTMLResponse, summary="Grant a 免检 (registry)")
async def post_exemption(request: Request, visitor: ActingStaff, credit_code: CreditCode,
                         valid_from: Annotated[str, Form(max_length=20)] = "", valid_until: Annotated[str, Form(max_length=20)] = "",
                         reason: Annotated[str, Form(max_length=FORM_TEXT)] = "", basis: Annotated[str, Form(max_length=FORM_TEXT)] = "") -> Response:
    code = checked_code(credit_code)
    values = {"valid_from": valid_from, "valid_until": valid_until, "reason": reason, "basis": basis}
    body = {**values, "valid_from": valid_from.strip() or None, "valid_until": valid_until.strip() or None}
    return await _act(request, visitor, code, "exemption", f"/enterprises/{code}/exemptions", body, values)


ExemptionId = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]


@router.post("/enterprises/{credit_code}/exemptions/{exemption_id}/revoke", response_class=HTMLResponse, summary="Revoke a 免检 (registry)")
async def post_revocation(request: Request, visitor: ActingStaff, credit_code: CreditCode, exemption_id: ExemptionId,
                          reason: Annotated[str, Form(max_length=FORM_TEXT)] = "") -> Response:
    code = checked_code(credit_code)
    return await _act(request, visitor, code, f"revoke-{exemption_id}", f"/enterprises/{code}/exemptions/{exemption_id}/revoke",
                      {"reason": reason}, {"reason": reason})


# --------------------------------------------------------------------------- bulk intake (附件6)

MAX_UPLOAD_BYTES = 20 * MIB
UPLOAD_BODY_BYTES = 2 * MAX_UPLOAD_BYTES  # the request's cap: a file a little too large gets the page's message, not a bare 413
MAX_ROWS = 100_000
BATCH_SIZE = 500  # reports per POST /reports:batch (the CLI's default)
RETRIES, BACKOFF_S = 3, 0.5  # a batch the service did not answer (down, 5xx) is sent again: its submission ids make that safe
JOBS_PER_SESSION = 3
JOBS_IN_ALL = 30
JOB_KEPT = timedelta(hours=2)  # a finished job (its error file) is kept this long, or until the session starts more
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{16}$")


class TooManyRows(Exception):
    pass


class IntakeRefused(Exception):
    """The assessment refused the person's token or right to submit (401, 403): the job stops."""


@dataclass
class IntakeJob:
    id: str
    owner: str  # the session (its id hash): a job is its session's only
    filename: str
    started_at: datetime
    state: Literal["reading", "submitting", "done", "failed"] = "reading"
    read: int = 0
    valid: int = 0
    sent: int = 0
    new: int = 0
    already: int = 0
    rejected: int = 0
    problem: str = ""  # why the job stopped (failed), in words
    error_lines: list[tuple[str, str, str, str]] = field(default_factory=list)  # 行号, 统一社会信用代码, 字段, 错误说明
    finished_at: datetime | None = None
    errors_file: bytes | None = None
    task: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        return self.state in ("reading", "submitting")

    @property
    def percent(self) -> int:
        if not self.running:
            return 100
        return int(100 * self.sent / self.valid) if self.valid else 0

    def finish(self, state: Literal["done", "failed"], problem: str = "") -> None:
        self.state, self.problem, self.finished_at = state, problem, datetime.now(timezone.utc)


def _jobs(request: Request) -> dict[str, IntakeJob]:
    state = request.app.state
    if not hasattr(state, "archive_intake_jobs"):
        state.archive_intake_jobs = {}
    return state.archive_intake_jobs


def _acting(visitor: Visitor) -> Visitor:
    if not visitor.may_act:
        raise not_found()  # auditors: no intake (no form is offered to them)
    return visitor


def _job_of(request: Request, visitor: Visitor, job_id: str) -> IntakeJob:
    job = _jobs(request).get(job_id) if JOB_ID.match(job_id) else None
    if job is None or job.owner != visitor.session_id_hash:
        raise not_found()
    return job


def _session_jobs(request: Request, visitor: Visitor) -> list[IntakeJob]:
    return sorted((j for j in _jobs(request).values() if j.owner == visitor.session_id_hash), key=lambda j: j.started_at, reverse=True)


def _make_room(jobs: dict[str, IntakeJob], owner: str, now: datetime) -> bool:
    """Forget finished jobs past :data:`JOB_KEPT`, then the oldest finished ones while the session or the console holds
    too many; False when only running jobs are left in the way."""
    for job in [j for j in jobs.values() if j.finished_at is not None and now - j.finished_at > JOB_KEPT]:
        del jobs[job.id]
    for mine, limit in ((True, JOBS_PER_SESSION), (False, JOBS_IN_ALL)):
        held = sorted((j for j in jobs.values() if not mine or j.owner == owner), key=lambda j: j.started_at)
        while len(held) >= limit:
            finished = next((j for j in held if not j.running), None)
            if finished is None:
                return False
            held.remove(finished)
            del jobs[finished.id]
    return True


@router.get("/intake", response_class=HTMLResponse, summary="Bulk intake of a county's 附件6 (.xlsx/.xls): the upload form and this session's imports")
async def intake_page(request: Request, visitor: StaffVisitor) -> HTMLResponse:
    return _intake_page(request, _acting(visitor))


def _intake_page(request: Request, visitor: Visitor, status_code: int = 200, problems: dict[str, str] | None = None) -> HTMLResponse:
    return render(request, "archive/intake.html", visitor, status_code, jobs=_session_jobs(request, visitor), problems=problems or {},
                  max_mib=MAX_UPLOAD_BYTES // MIB, max_rows=MAX_ROWS)


@router.get("/intake/template.xlsx", summary="The empty 附件6 (the CLI's `ohs bulk template`)")
async def intake_template(visitor: StaffVisitor) -> Response:
    _acting(visitor)
    content = await asyncio.to_thread(_in_a_file, spreadsheets.write_template, "附件6.xlsx")
    return Response(content, media_type=XLSX, headers={"Content-Disposition": content_disposition("attachment", "template.xlsx", "附件6模板.xlsx")})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _in_a_file(write: Callable[[Path], None], name: str) -> bytes:
    """What ``write`` writes to a file (the assessment's writers take a path), as bytes."""
    folder = Path(tempfile.mkdtemp(prefix="ohs-console-"))
    try:
        path = folder / name
        write(path)
        return path.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@router.post("/intake", response_class=HTMLResponse, summary="Upload a 附件6 (.xlsx/.xls, at most 20 MiB and 100,000 rows): "
             "an import job starts; see its progress", openapi_extra=route_body_limit(UPLOAD_BODY_BYTES))
async def intake_upload(request: Request, visitor: ActingStaff, file: Annotated[UploadFile | None, File()] = None) -> Response:
    name = Path(file.filename or "").name if file is not None else ""
    if file is None or not name:
        return _intake_page(request, visitor, 422, {"file": i18n.text("console.intake.no_file")})
    suffix = Path(name).suffix.lower()
    if suffix not in spreadsheets.SHEET_SUFFIXES:
        return _intake_page(request, visitor, 422, {"file": i18n.text("console.intake.not_a_sheet", {"name": name})})
    jobs = _jobs(request)
    now = datetime.now(timezone.utc)
    if not _make_room(jobs, visitor.session_id_hash, now):
        return _intake_page(request, visitor, 429, {"file": i18n.text("console.intake.busy", {"count": JOBS_PER_SESSION})})
    folder = Path(tempfile.mkdtemp(prefix="ohs-console-intake-"))
    path = folder / f"upload{suffix}"
    size = 0
    with path.open("wb") as out:
        while chunk := await file.read(MIB):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                break
            out.write(chunk)
    if size > MAX_UPLOAD_BYTES:
        shutil.rmtree(folder, ignore_errors=True)
        return _intake_page(request, visitor, 413, {"file": i18n.text("console.intake.too_large", {"limit": MAX_UPLOAD_BYTES // MIB})})
    job = IntakeJob(secrets.token_urlsafe(12), visitor.session_id_hash, name, now)
    jobs[job.id] = job
    minter = _token_minter(visitor.account, request.app.state.runtime.settings)
    job.task = asyncio.create_task(_run_intake(job, folder, path, visitor.apis, minter))
    log.info("bulk intake %s: %s (%d bytes) by %s", job.id, name, size, visitor.account.username)
    return see_other(f"/intake/{job.id}")


@router.get("/intake/{job_id}", response_class=HTMLResponse, summary="One import: its progress (polled), its outcome and the error file")
async def intake_job(request: Request, visitor: StaffVisitor, job_id: Annotated[str, PathParam(max_length=32)]) -> HTMLResponse:
    job = _job_of(request, _acting(visitor), job_id)
    return render(request, "archive/intake_job.html", visitor, job=job)


@router.get("/intake/{job_id}/progress", response_class=HTMLResponse, summary="The progress of an import (an htmx partial)")
async def intake_progress(request: Request, visitor: StaffVisitor, job_id: Annotated[str, PathParam(max_length=32)]) -> HTMLResponse:
    job = _job_of(request, _acting(visitor), job_id)
    return render(request, "archive/_intake_progress.html", visitor, job=job)


@router.get("/intake/{job_id}/errors.xlsx", summary="The rows an import refused, with the reason (行号, 统一社会信用代码, 字段, 错误说明)")
async def intake_errors(request: Request, visitor: StaffVisitor, job_id: Annotated[str, PathParam(max_length=32)]) -> Response:
    job = _job_of(request, _acting(visitor), job_id)
    if job.running:
        raise not_found()  # the file is complete when the job is
    if job.errors_file is None:
        lines = list(job.error_lines)
        job.errors_file = await asyncio.to_thread(_in_a_file, lambda path: spreadsheets.write_errors(path, lines), "refused-rows.xlsx")
    stem = Path(job.filename).stem
    return Response(job.errors_file, media_type=XLSX, headers={
        "Content-Disposition": content_disposition("attachment", "intake-errors.xlsx", f"{stem}.errors.xlsx")})


def _token_minter(account: Account, settings: Any) -> Callable[[], str]:
    """A fresh token of the person's own for each batch (a job outlasts one request's token): a disabled account's
    tokens are refused by the services, and the job stops."""
    return lambda: service_token(account, settings)


def _read_rows(path: Path) -> list[ParsedRow]:
    """The workbook's rows as the CLI reads them (``spreadsheets.parse_employer_sheet``, row by row so as to stop past
    :data:`MAX_ROWS`), duplicates marked."""
    rows: list[ParsedRow] = []
    today = china_today()
    for number, record in spreadsheets.sheet_records(path):
        if len(rows) >= MAX_ROWS:
            raise TooManyRows
        rows.append(spreadsheets.parse_employer_row(number, record, today))
    report_files.mark_duplicates(rows)
    return rows


async def _run_intake(job: IntakeJob, folder: Path, path: Path, apis: ServiceApis, mint: Callable[[], str]) -> None:
    outcomes: dict[int, list[RowProblem]] = {}
    rows: list[ParsedRow] = []
    try:
        try:
            rows = await asyncio.to_thread(_read_rows, path)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        valid = [r for r in rows if r.ok]
        job.read, job.valid, job.state = len(rows), len(valid), "submitting"
        for start in range(0, len(valid), BATCH_SIZE):
            batch = valid[start:start + BATCH_SIZE]
            for row, (status, problems) in zip(batch, await _submit(batch, apis, mint), strict=True):
                outcomes[id(row)] = problems
                job.new += status == "new"
                job.already += status == "already"
                row.report = None  # decided: the report is not needed any more
            job.sent += len(batch)
        _tally(job, rows, outcomes)
        job.finish("done")
    except LayoutError as error:
        job.finish("failed", str(error))
    except TooManyRows:
        job.finish("failed", i18n.text("console.intake.too_many_rows", {"limit": f"{MAX_ROWS:,}"}))
    except IntakeRefused as refused:
        _tally(job, rows, outcomes, unsent=str(refused))
        job.finish("failed", str(refused))
    except Exception as error:  # noqa: BLE001 - a job never stays "running": the person sees it stopped, and why
        log.exception("bulk intake %s failed", job.id)
        _tally(job, rows, outcomes, unsent=type(error).__name__)
        job.finish("failed", i18n.text("console.intake.failed", {"error": type(error).__name__}))


def _tally(job: IntakeJob, rows: list[ParsedRow], outcomes: dict[int, list[RowProblem]], unsent: str | None = None) -> None:
    """The error lines, every refused row with its reasons in the rows' order (a row never sent: ``unsent``)."""
    lines: list[tuple[str, str, str, str]] = []
    rejected = 0
    for row in rows:
        problems = row.problems or outcomes.get(id(row), [])
        if not problems and unsent is not None and id(row) not in outcomes:
            problems = [RowProblem(i18n.text("cli.bulk.column.submission"), f"{i18n.text('cli.bulk.problem.not_submitted')}：{unsent}")]
        if problems:
            rejected += 1
            lines += [(row.label, row.credit_code or "", p.column, p.message) for p in problems]
    job.error_lines, job.rejected = lines, rejected


def _submission_problem(message: str) -> RowProblem:
    return RowProblem(i18n.text("cli.bulk.column.submission"), message)


async def _submit(rows: list[ParsedRow], apis: ServiceApis, mint: Callable[[], str]) -> list[tuple[str, list[RowProblem]]]:
    """POST /reports:batch with ``rows``: each row's (new | already | rejected, problems), as the CLI decides them."""
    bodies = [row.report.model_dump(mode="json") for row in rows if row.report is not None]
    failure = ""
    for attempt in range(RETRIES + 1):
        if attempt:
            await asyncio.sleep(BACKOFF_S * 2 ** (attempt - 1))
        try:
            answer = await apis.call("assessment", "POST", "/reports:batch", token=mint(), json={"reports": bodies})
        except ServiceDown as down:
            failure = f"{down.title}: {down.reason}"
            continue
        if answer.status in (401, 403):
            raise IntakeRefused(i18n.text("console.intake.refused", {"status": answer.status, "detail": answer.detail}))
        if answer.status == 413 and len(rows) > 1:
            half = len(rows) // 2
            return [*await _submit(rows[:half], apis, mint), *await _submit(rows[half:], apis, mint)]
        if answer.status == 200:
            try:
                return _batch_outcomes(answer, bodies)
            except (ValueError, TypeError, KeyError) as error:
                failure = i18n.text("cli.bulk.problem.bad_answer", {"error": str(error)})
                continue
        return [("rejected", [_submission_problem(f"HTTP {answer.status}: {answer.detail}")]) for _row in rows]
    return [("rejected", [_submission_problem(i18n.text("cli.bulk.problem.failed", {"retries": RETRIES, "failure": failure}))]) for _row in rows]


def _batch_outcomes(answer: ApiAnswer, bodies: list[dict[str, Any]]) -> list[tuple[str, list[RowProblem]]]:
    """Each row's outcome from the batch's per-item results (``index``: the row's place in the batch)."""
    results = {int(item["index"]): item for item in answer.body["results"]}
    if sorted(results) != list(range(len(bodies))):
        raise ValueError(i18n.text("cli.bulk.problem.result_count", {"results": len(results), "reports": len(bodies)}))
    outcomes: list[tuple[str, list[RowProblem]]] = []
    for index, body in enumerate(bodies):
        item = results[index]
        status, why = item.get("status"), str(item.get("detail") or "")
        if status == "accepted":
            outcomes.append(("new", []))
        elif status == "duplicate":
            outcomes.append(("already", []))
        elif status == "invalid":
            problems = [spreadsheets.sheet_problem(str(e.get("field", "")), str(e.get("message", "")), body.get("hazards"))
                        for e in item.get("errors") or [] if isinstance(e, dict)]
            outcomes.append(("rejected", problems or [RowProblem(i18n.text("cli.bulk.column.row"), why)]))
        elif status == "conflict":
            outcomes.append(("rejected", [RowProblem("submission_id", i18n.text("cli.bulk.problem.conflict", {"detail": why}))]))
        elif status in ("refused", "not_found"):
            outcomes.append(("rejected", [_submission_problem(f"HTTP {403 if status == 'refused' else 404}: {why}")]))
        else:
            outcomes.append(("rejected", [_submission_problem(f"{status}: {why}")]))
    return outcomes


# --------------------------------------------------------------------------- the rule data in force (province)

# the services whose rule data the page shows, in its order: each answers GET /rules/in-force (shared/rules_endpoint.py)
# with every kind of versioned rule data it loads (the name, the jurisdiction, version, effective date, source and file in force)
RULES_OF = {"assessment": "评估服务", "registry": "档案服务", "sampling": "抽查服务", "penalty": "执法服务", "notification": "通知服务"}


@router.get("/rules", response_class=HTMLResponse, summary="Province: the rule-data versions in force for a county on a day, per service")
async def rules_page(request: Request, visitor: StaffVisitor, county: Annotated[str, Query(max_length=6)] = "",
                     on: Annotated[str, Query(max_length=10)] = "") -> HTMLResponse:
    if not visitor.scope.endswith("0000") or visitor.role not in ("province", "auditor"):
        raise not_found()
    counties = await visitor.panel("registry", "/reports/categories", region_code=visitor.scope)
    listed = [r for r in counties.data.get("rows", []) if r.get("listed", True)] if counties.ok else []
    county = county.strip() or (listed[0]["region_code"] if listed else "")
    asked = {"region_code": county, "on": on.strip()}
    panels = await visitor.panels(**{service: (service, "/rules/in-force", asked) for service in RULES_OF}) if county else {}
    problems: dict[str, str] = {}
    for panel in panels.values():
        if panel.refused is not None:
            for name, message in field_problems(panel.refused).items():
                problems.setdefault("county" if name == "region_code" else name, message)
    return render(request, "archive/rules.html", visitor, 422 if problems else 200, counties=counties, listed=listed, county=county,
                  on=on.strip(), panels=panels, problems=problems, services=RULES_OF)
