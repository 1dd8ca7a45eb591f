"""The enforcement side of the console (issue 15): the screenings of reports against 附件5, the
rectification items (an employer's correction with attachments, staff's review, a case in one step),
the cases through the 三步法 with their working-day deadlines and the fine's discretion range, the
case-file review (案卷评查) with its .xlsx, and the technical service organisations.

Every page calls the services with the person's own token: the services decide what the person may see
and do (an answer 404 is a missing page here too); auditors read and are offered no form; a refused form
is shown again with the API's message next to each field."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from services.console.adapters.services import ApiAnswer
from services.console.entrypoints.web import (
    ActingEmployer,
    ActingStaff,
    SignedInVisitor,
    StaffVisitor,
    Visitor,
    field_problems,
    render,
    see_other,
)
from shared.contracts import NAME_LENGTH, TEXT_LENGTH
from shared.dates import china_today
from shared.errors import Refusal
from shared.limits import MIB, route_body_limit
from shared.settings import Settings

router = APIRouter()

PAGE_SIZE = 50
_settings = Settings()
# a correction's body: every attachment at its largest, the text and the multipart framing (as the registry's route)
SUBMISSION_MAX_BODY_BYTES = _settings.attachment_max_files * _settings.attachment_max_bytes + MIB

PageQuery = Annotated[int, Query(ge=1, le=10_000)]
# ids (UUIDs, case ids) and credit codes: letters, digits and hyphens only, so a path of the console is one path of the API
IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z-]+$")]
CreditPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")]
ShortText = Annotated[str, Form(max_length=64)]
LongText = Annotated[str, Form(max_length=TEXT_LENGTH)]
NameText = Annotated[str, Form(max_length=NAME_LENGTH)]

# --------------------------------------------------------------------------- the words of the pages (zh-CN)

WORDS: dict[str, dict[Any, str]] = {
    "case_status": {"open": "已立案", "educated": "已教育引导", "rectifying": "限期改正中", "committed": "承诺改正中",
                    "penalty_pending": "待处罚", "closed": "已结案", "recorded": "已立案"},
    "case_step": {"opened": "立案", "educated": "教育引导", "rectification_ordered": "责令限期改正", "commitment_signed": "告知承诺",
                  "correction_verified": "复查：已改正", "correction_failed": "复查：未改正", "escalated": "逾期转处罚",
                  "penalty_proposed": "拟定罚款（裁量基准）", "decided": "作出决定", "closed": "结案"},
    "decision": {"no_penalty": "不予处罚", "penalty": "予以处罚", None: "尚未决定"},
    "procedure": {"three_step": "三步法", "commitment": "告知承诺", "on_the_spot": "当场改正", None: "—"},
    "harm": {"none": "无", "minor": "轻微", "serious": "严重"},
    "circumstance": {"first_overdue": "首次逾期未改正", "repeated": "再次违法", "harm_caused": "造成危害后果"},
    "outcome": {"eligible_if_corrected": "改正后可不予处罚", "not_eligible": "不适用首违不罚", "no_violation": "不构成违法"},
    "item_status": {"open": "待整改", "submitted": "已提交", "returned": "已退回", "cleared": "已解除", "overdue": "已逾期", None: "尚未下达"},
    "item_step": {"raised": "下达整改", "continued": "延续整改", "submitted": "提交整改材料", "returned": "退回",
                  "cleared": "解除", "reminded": "到期提醒", "overdue": "逾期"},
    "review": {"accepted": "通过（解除）", "returned": "退回"},  # a submission's review as the registry keeps it
    "misstated": {"hazards": "危害因素", "exposure": "接触水平", "headcount": "接触人数", "management": "管理状况", "other": "其他"},
    "severity": {"minor": "一般", "serious": "严重"},
    "finding_status": {"recorded": "已记录", "referred": "已移送省级", "disqualified": "已据此取消资格"},
}
CASE_ORDER = ("open", "educated", "rectifying", "committed", "penalty_pending", "closed")
STEP_FORMS = ("education", "rectification-order", "commitment", "verification", "fine")


def _page(request: Request, name: str, visitor: Visitor, status_code: int = 200, **context: Any) -> HTMLResponse:
    return render(request, f"enforcement/{name}", visitor, status_code, w=WORDS, today=china_today().isoformat(), **context)


def _missing() -> Refusal:
    return Refusal(404, "console.page.not_found")


def _found(answer: ApiAnswer) -> Any:
    """The body of a record's answer; a record the API does not show the person (404, 403, a bad id 422) is a missing page."""
    if answer.ok:
        return answer.body
    raise _missing()


def _refused_page(request: Request, visitor: Visitor, answer: ApiAnswer) -> HTMLResponse:
    problems = [{"field": f, "message": m} for f, m in field_problems(answer).items()]
    return render(request, "error.html", visitor, answer.status, status=answer.status, title="请求未被受理", detail=answer.detail, problems=problems)


def _problems(answer: ApiAnswer) -> dict[str, str]:
    """The API's field messages by form field: ``misstated.0`` or ``files[1]`` also under the list's own field."""
    found = field_problems(answer)
    for name, message in list(found.items()):
        found.setdefault(re.split(r"[.\[]", name)[0], message)
    return found


def _headline(answer: ApiAnswer, fields: Any) -> str:
    """The refusal's sentence, with the messages about no field of the form (which cannot stand next to one)."""
    elsewhere = [m for f, m in field_problems(answer).items() if re.split(r"[.\[]", f)[0] not in fields and m not in answer.detail]
    return "：".join([answer.detail, "；".join(elsewhere)]) if elsewhere else answer.detail


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _number(value: str | None) -> int | str | None:
    """A whole number as typed (the API refuses anything else, naming the field), None when left empty."""
    value = _clean(value)
    if value is None:
        return None
    return int(value) if value.isdigit() and len(value) <= 12 else value


def _body(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _offset(page: int) -> int:
    return (page - 1) * PAGE_SIZE


# --------------------------------------------------------------------------- screenings (附件5)


@router.get("/screenings", response_class=HTMLResponse, summary="Screenings of classified reports against 附件5, newest first")
async def screenings(request: Request, visitor: SignedInVisitor, page: PageQuery = 1,
                     outcome: Annotated[str, Query(max_length=32)] = "", credit_code: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    answer = await visitor.get("penalty", "/screenings", limit=PAGE_SIZE, offset=_offset(page), outcome=_clean(outcome),
                               credit_code=_clean(credit_code))
    if not answer.ok and answer.status != 422:
        raise _missing()
    listed = answer.body if answer.ok else {"total": 0, "items": []}
    return _page(request, "screenings.html", visitor, 200 if answer.ok else 422, listed=listed, page=page, size=PAGE_SIZE,
                 filters={"outcome": outcome, "credit_code": credit_code}, problems=_problems(answer) if not answer.ok else {})


async def _screening_page(request: Request, visitor: Visitor, screening_id: str, status_code: int = 200, problem: str | None = None) -> HTMLResponse:
    found = _found(await visitor.get("penalty", f"/screenings/{screening_id}"))
    return _page(request, "screening.html", visitor, status_code, s=found, problem=problem)


@router.get("/screenings/{screening_id}", response_class=HTMLResponse, summary="One screening: outcome, deadline, rectification, trace")
async def screening(request: Request, visitor: SignedInVisitor, screening_id: IdPath) -> HTMLResponse:
    return await _screening_page(request, visitor, screening_id)


async def _open_case(visitor: Visitor, screening_id: str) -> tuple[str | None, ApiAnswer]:
    """Open the screening's case (staff): the new case's id, or the existing one's when it already has its case."""
    answer = await visitor.call("penalty", "POST", f"/screenings/{screening_id}/case")
    if answer.ok:
        return answer.body["id"], answer
    if answer.status == 409:  # it has its case already: that is where the officer wants to be
        again = await visitor.get("penalty", f"/screenings/{screening_id}")
        if again.ok and again.body.get("case_id"):
            return again.body["case_id"], answer
    return None, answer


@router.post("/screenings/{screening_id}/case", summary="Open a case from a screening (立案), then its page")
async def open_case_from_screening(request: Request, visitor: ActingStaff, screening_id: IdPath) -> Response:
    case_id, answer = await _open_case(visitor, screening_id)
    if case_id:
        return see_other(f"/cases/{case_id}?done={'opened' if answer.ok else 'already'}")
    if answer.status in (403, 404):
        raise _missing()
    return await _screening_page(request, visitor, screening_id, answer.status, problem=answer.detail)


# --------------------------------------------------------------------------- rectification items (整改 → 审核 → 解除)


@router.get("/rectifications", response_class=HTMLResponse, summary="Rectification items: an employer's own, staff their jurisdiction's")
async def rectifications(request: Request, visitor: SignedInVisitor, page: PageQuery = 1,
                         status: Annotated[str, Query(max_length=16)] = "", credit_code: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    params = {"limit": PAGE_SIZE, "offset": _offset(page), "status": _clean(status)}
    if visitor.is_staff:
        params["credit_code"] = _clean(credit_code)
    answer = await visitor.get("registry", "/rectifications", **params)
    if not answer.ok and answer.status not in (404, 422):
        raise _missing()
    listed = answer.body if answer.ok else {"total": 0, "items": []}
    problems = _problems(answer) if answer.status == 422 else {}
    if answer.status == 404:  # an employer of another jurisdiction (or unknown): its items are not the person's
        problems = {"credit_code": answer.detail}
    return _page(request, "rectifications.html", visitor, 200 if answer.ok else 422, listed=listed, page=page, size=PAGE_SIZE,
                 filters={"status": status, "credit_code": credit_code}, problems=problems)


async def _item_page(request: Request, visitor: Visitor, item_id: str, status_code: int = 200, *, form: str = "",
                     problems: dict[str, str] | None = None, problem: str | None = None, values: dict[str, Any] | None = None) -> HTMLResponse:
    item = _found(await visitor.get("registry", f"/rectifications/{item_id}"))
    linked = None
    if item.get("screening_id"):  # the screening it came from (penalty): its case, when one was opened
        linked = await visitor.panel("penalty", f"/screenings/{item['screening_id']}")
    return _page(request, "rectification.html", visitor, status_code, item=item, linked=linked, form=form, problems=problems or {},
                 problem=problem, values=values or {}, max_files=_settings.attachment_max_files,
                 max_mb=_settings.attachment_max_bytes // MIB)


@router.get("/rectifications/{item_id}", response_class=HTMLResponse, summary="One rectification item: history, submissions, the next step")
async def rectification(request: Request, visitor: SignedInVisitor, item_id: IdPath) -> HTMLResponse:
    return await _item_page(request, visitor, item_id)


@router.get("/rectifications/{item_id}/attachments/{n}", summary="One attachment of the item's submissions, as the registry keeps it")
async def attachment(visitor: SignedInVisitor, item_id: IdPath, n: Annotated[int, Path(ge=1, le=10_000)]) -> Response:
    answer = await visitor.call("registry", "GET", f"/rectifications/{item_id}/attachments/{n}")
    if not answer.ok:
        raise _missing()
    headers = {"X-Content-Type-Options": "nosniff"}
    for name in ("content-disposition", "x-content-sha256"):
        if name in answer.headers:
            headers[name] = answer.headers[name]
    headers.setdefault("content-disposition", f"attachment; filename=attachment-{n}")
    return Response(answer.content, media_type=answer.headers.get("content-type", "application/octet-stream"), headers=headers)


@router.post("/rectifications/{item_id}/submission", summary="The employer submits its correction: text and attachments",
             openapi_extra=route_body_limit(SUBMISSION_MAX_BODY_BYTES))
async def submit_correction(request: Request, visitor: ActingEmployer, item_id: IdPath, text: LongText = "") -> Response:
    form = await request.form()
    files = []
    for upload in form.getlist("files"):
        if isinstance(upload, UploadFile) and upload.filename:  # a file input left empty sends a part without a name
            files.append(("files", (upload.filename, await upload.read(), upload.content_type or "application/octet-stream")))
    answer = await visitor.call("registry", "POST", f"/rectifications/{item_id}/submission", data={"text": text}, files=files or None)
    if answer.ok:
        return see_other(f"/rectifications/{item_id}?done=submitted")
    if answer.status in (403, 404):
        raise _missing()
    problems = _problems(answer)
    about_files = [m for f, m in field_problems(answer).items() if f.startswith("files")]  # each names its file
    if about_files:
        problems["files"] = "；".join(about_files)
    return await _item_page(request, visitor, item_id, answer.status, form="submission", problems=problems,
                            problem=_headline(answer, ("text", "files")),
                            values={"text": text})


@router.post("/rectifications/{item_id}/review", summary="Staff accept the correction (解除) or return it with a reason")
async def review_correction(request: Request, visitor: ActingStaff, item_id: IdPath, decision: ShortText = "", reason: LongText = "") -> Response:
    answer = await visitor.call("registry", "POST", f"/rectifications/{item_id}/review", json=_body(decision=decision, reason=_clean(reason)))
    if answer.ok:
        return see_other(f"/rectifications/{item_id}?done={'cleared' if decision == 'accept' else 'returned'}")
    if answer.status in (403, 404):
        raise _missing()
    return await _item_page(request, visitor, item_id, answer.status, form="review", problems=_problems(answer),
                            problem=_headline(answer, ("decision", "reason")),
                            values={"decision": decision, "reason": reason})


@router.post("/rectifications/{item_id}/case", summary="Open the case of the screening the item came from, in one step")
async def open_case_from_item(request: Request, visitor: ActingStaff, item_id: IdPath) -> Response:
    item = _found(await visitor.get("registry", f"/rectifications/{item_id}"))
    if not item.get("screening_id"):
        raise _missing()
    case_id, answer = await _open_case(visitor, item["screening_id"])
    if case_id:
        return see_other(f"/cases/{case_id}?done={'opened' if answer.ok else 'already'}")
    if answer.status in (403, 404):
        raise _missing()
    return await _item_page(request, visitor, item_id, answer.status, form="case", problem=answer.detail)


# --------------------------------------------------------------------------- cases (三步法)


def _deadline_key(case: dict[str, Any]) -> tuple[int, int, str]:
    status = case.get("status")
    return (1 if status == "closed" else 0, CASE_ORDER.index(status) if status in CASE_ORDER else len(CASE_ORDER),
            case.get("deadline") or "9999-12-31")


@router.get("/cases", response_class=HTMLResponse, summary="Cases by step, the nearest deadline first")
async def cases(request: Request, visitor: SignedInVisitor, page: PageQuery = 1, status: Annotated[str, Query(max_length=32)] = "",
                credit_code: Annotated[str, Query(max_length=64)] = "", region_code: Annotated[str, Query(max_length=12)] = "") -> HTMLResponse:
    if visitor.role == "employer":
        answer = await visitor.get("penalty", "/cases", credit_code=visitor.scope)
    elif _clean(credit_code):
        answer = await visitor.get("penalty", "/cases", credit_code=_clean(credit_code))
    else:  # the jurisdiction's cases: the case-file review lists them all with their timelines
        answer = await visitor.get("penalty", "/reviews/cases", region_code=_clean(region_code))
    if not answer.ok and answer.status not in (403, 404, 422):
        raise _missing()
    items = list(answer.body["items"]) if answer.ok else []
    counts = {s: sum(1 for c in items if c.get("status") == s) for s in CASE_ORDER}
    if status:
        items = [c for c in items if c.get("status") == status]
    items.sort(key=_deadline_key)
    problems = _problems(answer) if not answer.ok else {}
    if not answer.ok and not problems:
        problems = {"region_code" if _clean(region_code) else "credit_code": answer.detail}
    return _page(request, "cases.html", visitor, 200 if answer.ok else 422, items=items[_offset(page):_offset(page) + PAGE_SIZE],
                 total=len(items), counts=counts, page=page, size=PAGE_SIZE, order=CASE_ORDER,
                 filters={"status": status, "credit_code": credit_code, "region_code": region_code}, problems=problems)


def progress(case: dict[str, Any], commitment_enabled: bool = False) -> list[dict[str, Any]]:
    """The 三步法 as a line: the steps done (from the timeline, with their deadlines), the current one, those to come."""
    line = [{"label": WORDS["case_step"].get(s["step"], s["step"]), "state": "done", "on": s.get("on"), "deadline": s.get("deadline")}
            for s in case.get("timeline") or []]
    status, deadline = case.get("status"), case.get("deadline")
    ahead: list[tuple[str, str | None]] = {
        "open": [("教育引导或告知承诺" if commitment_enabled else "教育引导", None), ("责令限期改正", None), ("复查", None), ("结案", None)],
        "educated": [("责令限期改正", None), ("复查", None), ("结案", None)],
        "rectifying": [("复查", deadline), ("结案", None)],
        "committed": [("复查", deadline), ("结案", None)],
        "penalty_pending": [("罚款", None), ("结案", None)],
    }.get(status, [])
    for index, (label, due) in enumerate(ahead):
        line.append({"label": label, "state": "current" if index == 0 else "next", "on": None, "deadline": due})
    return line


def _days_left(deadline: str | None) -> int | None:
    if not deadline:
        return None
    try:
        return (date.fromisoformat(deadline[:10]) - china_today()).days
    except ValueError:
        return None


async def _case_page(request: Request, visitor: Visitor, case_id: str, status_code: int = 200, *, form: str = "",
                     problems: dict[str, str] | None = None, problem: str | None = None, values: dict[str, Any] | None = None) -> HTMLResponse:
    case = _found(await visitor.get("penalty", f"/cases/{case_id}"))
    rules = None
    if visitor.is_staff and visitor.may_act and case.get("status") in ("open", "educated"):  # 告知承诺 enabled? the default period?
        rules = await visitor.panel("penalty", "/rules/no-penalty", region_code=case["region_code"], on=case.get("found_on"))
    procedure = (rules.data or {}).get("procedure", {}) if rules is not None and rules.ok else {}
    return _page(request, "case.html", visitor, status_code, case=case, line=progress(case, bool(procedure.get("notice_and_commitment"))),
                 procedure=procedure, rules=rules, days_left=_days_left(case.get("deadline")), form=form, problems=problems or {},
                 problem=problem, values=values or {})


@router.get("/cases/{case_id}", response_class=HTMLResponse, summary="One case: decision, reasons, trace, the 三步法 line and the next step")
async def case(request: Request, visitor: SignedInVisitor, case_id: IdPath) -> HTMLResponse:
    return await _case_page(request, visitor, case_id)


async def _step(request: Request, visitor: Visitor, case_id: str, action: str, body: dict[str, Any], values: dict[str, Any]) -> Response:
    answer = await visitor.call("penalty", "POST", f"/cases/{case_id}/{action}", json=body)
    if answer.ok:
        return see_other(f"/cases/{case_id}?done={action}")
    if answer.status in (403, 404):
        raise _missing()
    return await _case_page(request, visitor, case_id, answer.status, form=action, problems=_problems(answer),
                            problem=_headline(answer, values),
                            values=values)


@router.post("/cases/{case_id}/education", summary="Step 1: 教育引导")
async def education(request: Request, visitor: ActingStaff, case_id: IdPath, on: ShortText = "", content: LongText = "") -> Response:
    return await _step(request, visitor, case_id, "education", _body(on=_clean(on), content=content.strip()),
                       {"on": on, "content": content})


@router.post("/cases/{case_id}/rectification-order", summary="Step 2: 责令限期改正, the deadline in working days")
async def rectification_order(request: Request, visitor: ActingStaff, case_id: IdPath, ordered_on: ShortText = "",
                              working_days: ShortText = "") -> Response:
    return await _step(request, visitor, case_id, "rectification-order", _body(ordered_on=_clean(ordered_on), working_days=_number(working_days)),
                       {"ordered_on": ordered_on, "working_days": working_days})


@router.post("/cases/{case_id}/commitment", summary="告知承诺 (where the jurisdiction enables it)")
async def commitment(request: Request, visitor: ActingStaff, case_id: IdPath, signed_on: ShortText = "",
                     commit_by_working_days: ShortText = "") -> Response:
    return await _step(request, visitor, case_id, "commitment",
                       _body(signed_on=_clean(signed_on), commit_by_working_days=_number(commit_by_working_days)),
                       {"signed_on": signed_on, "commit_by_working_days": commit_by_working_days})


@router.post("/cases/{case_id}/verification", summary="Step 3: 复查 — corrected by the deadline: closed without penalty; else escalated")
async def verification(request: Request, visitor: ActingStaff, case_id: IdPath, verified_on: ShortText = "", corrected: ShortText = "",
                       corrected_on: ShortText = "") -> Response:
    said = {"true": True, "false": False}.get(corrected)
    return await _step(request, visitor, case_id, "verification",
                       _body(verified_on=_clean(verified_on), corrected=said, corrected_on=_clean(corrected_on) if said else None),
                       {"verified_on": verified_on, "corrected": corrected, "corrected_on": corrected_on})


@router.post("/cases/{case_id}/fine", summary="The fine of a penalty case, inside the discretion range or with a departure reason")
async def fine(request: Request, visitor: ActingStaff, case_id: IdPath, fine_yuan: ShortText = "", circumstance: ShortText = "",
               departure_reason: LongText = "", decided_on: ShortText = "") -> Response:
    amount = _number(fine_yuan)
    return await _step(request, visitor, case_id, "fine",
                       {"fine_yuan": amount, **_body(circumstance=_clean(circumstance), departure_reason=_clean(departure_reason),
                                                     decided_on=_clean(decided_on))},
                       {"fine_yuan": fine_yuan, "circumstance": circumstance, "departure_reason": departure_reason, "decided_on": decided_on})


# --------------------------------------------------------------------------- 案卷评查 (case-file review)


def _review_params(region_code: str, from_: str, to: str) -> dict[str, Any]:
    return {"region_code": _clean(region_code), "from": _clean(from_), "to": _clean(to)}


@router.get("/reviews", response_class=HTMLResponse, summary="案卷评查: the cases with their timelines and the flags of incomplete files")
async def reviews(request: Request, visitor: StaffVisitor, region_code: Annotated[str, Query(max_length=12)] = "",
                  from_: Annotated[str, Query(alias="from", max_length=10)] = "", to: Annotated[str, Query(max_length=10)] = "",
                  flagged_only: Annotated[bool, Query()] = False, page: PageQuery = 1) -> HTMLResponse:
    params = _review_params(region_code, from_, to)
    answer = await visitor.get("penalty", "/reviews/cases", **params, flagged_only=flagged_only or None)
    if not answer.ok and answer.status not in (403, 404, 422):
        raise _missing()
    listed = answer.body if answer.ok else {"total": 0, "flagged": 0, "items": []}
    problems = _problems(answer) if not answer.ok else {}
    if not answer.ok and not problems:
        problems = {"region_code": answer.detail}
    download = "/reviews/cases.xlsx" + (f"?{urlencode({k: v for k, v in params.items() if v})}" if any(params.values()) else "")
    return _page(request, "reviews.html", visitor, 200 if answer.ok else 422, listed=listed,
                 items=listed["items"][_offset(page):_offset(page) + PAGE_SIZE], page=page, size=PAGE_SIZE, problems=problems,
                 filters={"region_code": region_code, "from": from_, "to": to, "flagged_only": flagged_only}, download=download)


@router.get("/reviews/cases.xlsx", summary="案卷评查 as .xlsx (as penalty writes it)")
async def reviews_xlsx(request: Request, visitor: StaffVisitor, region_code: Annotated[str, Query(max_length=12)] = "",
                       from_: Annotated[str, Query(alias="from", max_length=10)] = "", to: Annotated[str, Query(max_length=10)] = "") -> Response:
    answer = await visitor.call("penalty", "GET", "/reviews/cases.xlsx", params=_review_params(region_code, from_, to))
    if not answer.ok:
        return _refused_page(request, visitor, answer)
    headers = {"Content-Disposition": answer.headers.get("content-disposition", "attachment; filename=case-review.xlsx")}
    return Response(answer.content, media_type=answer.headers.get("content-type", "application/octet-stream"), headers=headers)


# --------------------------------------------------------------------------- technical service organisations


@router.get("/orgs", response_class=HTMLResponse, summary="Find a technical service organisation by its credit code")
async def orgs(request: Request, visitor: StaffVisitor, credit_code: Annotated[str, Query(max_length=64)] = "") -> Response:
    code = re.sub(r"[^0-9A-Z]", "", (credit_code or "").upper())  # as typed, without spaces or separators: penalty checks the rest
    if code:
        return see_other(f"/orgs/{quote(code, safe='')}")
    return _page(request, "orgs.html", visitor)


async def _org_page(request: Request, visitor: Visitor, credit_code: str, status_code: int = 200, *, form: str = "",
                    problems: dict[str, str] | None = None, problem: str | None = None, values: dict[str, Any] | None = None) -> HTMLResponse:
    answer = await visitor.get("penalty", f"/orgs/{credit_code}")
    if answer.status == 422:  # no credit code: say why on the search page
        return _page(request, "orgs.html", visitor, 422, credit_code=credit_code, problems={"credit_code": answer.detail})
    record = _found(answer)
    return _page(request, "org.html", visitor, status_code, record=record, credit_code=credit_code, form=form, problems=problems or {},
                 problem=problem, values=values or {}, misstatements=WORDS["misstated"])


@router.get("/orgs/{credit_code}", response_class=HTMLResponse, summary="An organisation's record: findings and disqualifications")
async def org(request: Request, visitor: StaffVisitor, credit_code: CreditPath) -> HTMLResponse:
    return await _org_page(request, visitor, credit_code)


@router.post("/orgs/{credit_code}/findings", summary="Record a false-report finding against an organisation")
async def finding(request: Request, visitor: ActingStaff, credit_code: CreditPath, org_name: NameText = "", region_code: ShortText = "",
                  employer_credit_code: ShortText = "", submission_id: ShortText = "", description: LongText = "", severity: ShortText = "",
                  found_on: ShortText = "") -> Response:
    form = await request.form()
    misstated = [str(m)[:32] for m in form.getlist("misstated")][:10]
    body = {"org_name": org_name.strip(), "region_code": region_code.strip(), "misstated": misstated, "description": description.strip(),
            "severity": severity, **_body(employer_credit_code=_clean(employer_credit_code), submission_id=_clean(submission_id),
                                          found_on=_clean(found_on))}
    answer = await visitor.call("penalty", "POST", f"/orgs/{credit_code}/findings", json=body)
    if answer.ok:
        return see_other(f"/orgs/{credit_code}?done=finding")
    if answer.status == 404:
        raise _missing()
    values = {**body, "employer_credit_code": employer_credit_code, "submission_id": submission_id, "found_on": found_on}
    return await _org_page(request, visitor, credit_code, answer.status, form="finding", problems=_problems(answer),
                           problem=_headline(answer, values), values=values)


@router.post("/orgs/{credit_code}/disqualification", summary="Disqualify an organisation on its serious findings (province)")
async def disqualification(request: Request, visitor: ActingStaff, credit_code: CreditPath, decision_no: ShortText = "",
                           decided_on: ShortText = "", until: ShortText = "", reason: LongText = "") -> Response:
    if visitor.role != "province":
        raise _missing()
    form = await request.form()
    finding_ids = [str(f)[:64] for f in form.getlist("finding_ids")][:100]
    body = {"decision_no": decision_no.strip(), "finding_ids": finding_ids,
            **_body(decided_on=_clean(decided_on), until=_clean(until), reason=_clean(reason))}
    answer = await visitor.call("penalty", "POST", f"/orgs/{credit_code}/disqualification", json=body)
    if answer.ok:
        return see_other(f"/orgs/{credit_code}?done=disqualified")
    if answer.status == 404:
        raise _missing()
    values = {"decision_no": decision_no, "decided_on": decided_on, "until": until, "reason": reason, "finding_ids": finding_ids}
    return await _org_page(request, visitor, credit_code, answer.status, form="disqualification", problems=_problems(answer),
                           problem=_headline(answer, values), values=values)
