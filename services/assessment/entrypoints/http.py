"""Assessment HTTP API: submit a report (附件4) — or a county's thousands at once — follow it, print it; and what
the console's report form asks: the rule data a form needs, a preview of the classification, the submissions listed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, SkipValidation, create_model

from services.assessment import views
from services.assessment.adapters.documents import render_notice_pdf, render_report_pdf
from services.assessment.domain.assessment_rules import AssessmentRules
from services.assessment.domain.rules import NoApplicableRules
from services.assessment.service_layer import handlers
from shared import i18n
from shared.auth import Principal
from shared.contracts import (
    AssessmentClassified,
    Category,
    HazardGrade,
    LostPoints,
    ManagementGrade,
    Nature,
    Report,
    RuleSetRef,
)
from shared.contracts.envelope import RequestModel
from shared.dates import china_today
from shared.errors import FieldError, Issue, Refusal, language_headers, once_more_after_a_race, refusal_of
from shared.http import (
    CurrentPrincipal,
    DayQuery,
    OffsetQuery,
    ReaderLocale,
    RegionQuery,
    RuntimeDep,
    UnitOfWorkDep,
    listed_region,
    valid_credit_code,
)
from shared.identifiers import county_region_problem, region_problem
from shared.jurisdiction import region_prefix
from shared.limits import MIB, route_body_limit
from shared.runtime import content_disposition

router = APIRouter(tags=["reports 综合风险评估报告"])
log = logging.getLogger(__name__)
SubmissionIdPath = Annotated[str, Path(min_length=1, max_length=64, description="the submission id (a UUID)")]


@router.post(
    "/reports",
    status_code=202,
    summary="Submit a comprehensive risk assessment report; it is classified asynchronously",
    responses={
        403: {"description": "the token may not submit for this employer (another employer, outside the region, an auditor)"},
        404: {"description": "staff: the employer is archived in a region outside the token's jurisdiction (RULES §5a)"},
        409: {"description": "the submission id holds a different report"},
        422: {"description": "which field is wrong, and why"},
    },
)
async def post_report(report: Report, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> Any:
    def submit(u: Any) -> tuple[dict[str, Any], bool]:
        accepted = handlers.submit_report(u, report, principal, china_today())
        return views.submission_view(accepted.submission), accepted.new

    try:
        # the same report sent twice at the same moment: the second insert meets the first one's row; once more,
        # it finds it and answers as the duplicate it is
        view, new = await once_more_after_a_race(lambda: uow.run(submit))
    except handlers.SUBMISSION_ERRORS as error:
        raise submission_refused(error, report) from error
    log.info(
        "report %s for %s (%s) submitted by %s%s",
        view["submission_id"], report.enterprise.credit_code, report.enterprise.region_code, principal.describe(),
        "" if new else " (identical to an earlier submission: no-op)",
    )
    body = {**view, "duplicate": not new, "links": {"self": f"/reports/{view['submission_id']}"}}
    return JSONResponse(status_code=202, content=body, headers={"Location": body["links"]["self"]})


def submission_refused(error: Exception, report: Report) -> Refusal:
    """What ``POST /reports`` (and its preview) answers a report the use case refuses."""
    if isinstance(error, handlers.NotInJurisdiction):  # archived in a region the token does not cover: as if absent
        return refusal_of(error, 404, "errors.employer.not_in_jurisdiction", {"credit_code": report.enterprise.credit_code})
    if isinstance(error, handlers.SubmissionRefused):
        return refusal_of(error, 403, "errors.submission.refused")
    if isinstance(error, handlers.ReportInvalid):
        return Refusal(422, "errors.report.invalid", errors=[Issue.of(p) for p in error.problems])
    if isinstance(error, handlers.SubmissionConflict):
        return refusal_of(error, 409, "errors.submission.conflict", {"submission_id": str(report.submission_id)})
    if isinstance(error, handlers.AssessorDisqualified):
        return Refusal(422, "errors.assessor.may_not_submit", errors=[Issue.of(error, "assessor.org_id")])
    raise error


BATCH_MAX_BODY_BYTES = 20 * MIB  # 5,000 reports of 4 KiB (a typical report is 1–2 KiB); OHS_MAX_BODY_BYTES does not apply


class ReportBatch(RequestModel):
    """Up to 5,000 reports, each exactly as ``POST /reports`` takes it."""

    # SkipValidation: each item is checked on its own by the use case (a malformed one is that item's "invalid",
    # never a 422 of the whole batch); the OpenAPI still shows each item as a Report
    reports: list[SkipValidation[Report]] = Field(
        min_length=1, max_length=handlers.BATCH_LIMIT,
        description=f"1 to {handlers.BATCH_LIMIT:,} reports, each as POST /reports takes it; each is decided on its own",
    )


class BatchItem(BaseModel):
    index: int = Field(description="the item's position in `reports`, from 0")
    status: handlers.ItemStatus = Field(description=(
        "accepted (new), duplicate (the identical report is already kept), invalid (see errors), refused (the token may not "
        "submit it: 403 on POST /reports), not_found (an employer outside the token's jurisdiction: 404), conflict "
        "(the submission id holds a different report: 409)"))
    submission_id: str | None = Field(default=None, description="accepted and duplicate: the submission that keeps the report")
    errors: list[FieldError] | None = Field(default=None, description="invalid: each field, its code and why, as the 422 of POST /reports names them")
    detail: str | None = Field(default=None, description="why, in a sentence in the reader's language (all but accepted and duplicate)")
    code: str | None = Field(default=None, description="the stable code of detail, as the error body of POST /reports gives it "
                             "(errors.report.invalid, errors.submission.conflict …)")


class BatchTotals(BaseModel):
    received: int
    accepted: int
    duplicate: int
    invalid: int
    refused: int
    not_found: int
    conflict: int


class BatchAnswer(BaseModel):
    results: list[BatchItem] = Field(description="one per item, in the request's order")
    totals: BatchTotals


@router.post(
    "/reports:batch",
    summary=f"Submit up to {handlers.BATCH_LIMIT:,} reports at once; each item is decided as POST /reports decides it",
    description=(
        "Each item is decided on its own, exactly as `POST /reports` would decide it sent alone, in order (an item "
        "repeating an earlier one of the batch is its duplicate); one bad item never fails the others. The answer is "
        "`200` with one result per item; the accepted reports are kept and announced together and classified "
        f"asynchronously, as from `POST /reports`. At most {handlers.BATCH_LIMIT:,} reports, "
        f"{BATCH_MAX_BODY_BYTES // MIB} MiB, {handlers.MAX_REPORT_BYTES // 1024} KiB per report."
    ),
    response_model=BatchAnswer,
    responses={
        413: {"description": f"the body is larger than {BATCH_MAX_BODY_BYTES // MIB} MiB: send fewer reports at once"},
        422: {"description": "not a list of 1 to 5,000 reports (a malformed report is that item's `invalid`, not a 422)"},
    },
    openapi_extra=route_body_limit(BATCH_MAX_BODY_BYTES),
)
async def post_reports_batch(batch: ReportBatch, principal: CurrentPrincipal, uow: UnitOfWorkDep, locale: ReaderLocale) -> Any:
    today = china_today()
    results = await uow.run(lambda u: handlers.submit_reports(
        u, batch.reports, principal, today, preload=lambda reports: views.preloaded(u.session, reports)))
    body = views.batch_view(results)
    log.info("a batch of %d reports submitted by %s: %s", len(results), principal.describe(),
             ", ".join(f"{n} {status}" for status, n in body["totals"].items() if n and status != "received"))
    for item, result in zip(body["results"], results, strict=True):
        said_in(item, result, locale)
    return JSONResponse(status_code=200, content=body, headers=language_headers(locale))


def said_in(item: dict[str, Any], result: handlers.ItemResult, locale: str) -> None:
    """One item of a batch's answer in the reader's language, each text with its code, as ``POST /reports`` says it."""
    if result.errors:
        item["errors"] = [Issue.of(problem).view(locale) for problem in result.errors]
    if result.detail is not None:
        code = result.code if result.code and i18n.has(result.code) else None
        item["detail"] = i18n.text(code, result.params, locale) if code else result.detail
        item["code"] = code or _ITEM_CODES[result.status]


# the code of an item's detail when its result carries none (a refusal not said with a code)
_ITEM_CODES: dict[str, str] = {
    "invalid": "errors.report.invalid", "refused": "errors.submission.refused", "not_found": "errors.http.not_found",
    "conflict": "errors.http.conflict", "accepted": "errors.http.error", "duplicate": "errors.http.error",
}


@router.get("/reports/{submission_id}", summary="A submission's status: accepted, classified (with result) or rejected (with reasons)")
async def get_report(submission_id: SubmissionIdPath, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> dict[str, Any]:
    found = await uow.run(lambda u: views.submission(u.session, submission_id))
    if found is None or not principal.can_read(found["credit_code"], found["region_code"]):
        raise Refusal(404, "errors.submission.not_found", {"submission_id": submission_id})
    return found


async def _pdf(
    uow: UnitOfWorkDep, runtime: Any, principal: Principal, submission_id: str, render: Callable[..., bytes], name: str
) -> Response:
    found = await uow.run(lambda u: views.submission_document(u.session, submission_id))
    if found is None or not principal.can_read(found["credit_code"], found["region_code"]):
        raise Refusal(404, "errors.submission.not_found", {"submission_id": submission_id})
    if found["status"] != "classified" or found["result"] is None:
        code = "errors.document.rejected" if found["status"] == "rejected" else "errors.document.not_classified"
        raise Refusal(409, code, {"submission_id": submission_id})
    report, result = Report.model_validate(found["report"]), AssessmentClassified.model_validate(found["result"])
    content = await asyncio.to_thread(render, report, result, templates=runtime.settings.templates_dir)
    disposition = content_disposition("inline", f"{result.credit_code}.pdf", f"{result.credit_code}-{name}.pdf")
    return Response(content, media_type="application/pdf", headers={"Content-Disposition": disposition})


@router.get(
    "/reports/{submission_id}/document",
    summary="The printable 评估报告 (附件4) of a classified report, as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 409: {"description": "the report is not classified"}},
)
async def get_report_document(submission_id: SubmissionIdPath, principal: CurrentPrincipal, uow: UnitOfWorkDep, runtime: RuntimeDep) -> Response:
    return await _pdf(uow, runtime, principal, submission_id, render_report_pdf, "评估报告")


@router.get(
    "/reports/{submission_id}/notice",
    summary="The 公示 notice for the bulletin board, as PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 409: {"description": "the report is not classified"}},
)
async def get_report_notice(submission_id: SubmissionIdPath, principal: CurrentPrincipal, uow: UnitOfWorkDep, runtime: RuntimeDep) -> Response:
    return await _pdf(uow, runtime, principal, submission_id, render_notice_pdf, "公示")


# --------------------------------------------------------------------------- what the console's report form asks (issue 15)


def assessment_rules(request: Request) -> AssessmentRules:
    """The rule data the service loaded at start-up (``app.state.rules``)."""
    return request.app.state.rules


RulesDep = Annotated[AssessmentRules, Depends(assessment_rules)]


class RuleSetSource(RuleSetRef):
    source: str = Field(description="where the rule data comes from, as the rule data says it (Chinese)")


class CatalogueFactor(BaseModel):
    name: str = Field(description="the factor's name, as a report names it (hazards[].factor)")
    nature: Nature = Field(description="严重 or 一般: a catalogued factor's nature; a report need not declare it")


class FactorCatalogueForm(BaseModel):
    provisional: bool
    source: str | None
    factors: list[CatalogueFactor] = Field(description="in the rule data's order; a factor not listed needs hazards[].nature")


class ChecklistSectionForm(BaseModel):
    id: str
    title: str


class ChecklistItemForm(BaseModel):
    id: str = Field(description="the key of self_check.items, e.g. 4.1")
    section: str = Field(description="the id of its section")
    text: str = Field(description="the item as the rule data words it (Chinese)")
    points: float = Field(description="分值: the item's full points")
    veto: bool = Field(description="否决项: not earning its full points caps the management grade at C")
    na_allowed: bool = Field(description='may be answered "n/a" (不适用): removed from both the points earned and the points that apply')


class ChecklistForm(BaseModel):
    provisional: bool
    source: str | None
    total_points: float = Field(description="the items' points summed (附件2: 100)")
    sections: list[ChecklistSectionForm]
    items: list[ChecklistItemForm] = Field(description="every item, in checklist order")


class ManagementBandForm(BaseModel):
    grade: ManagementGrade
    min: float = Field(description="the lowest score of the grade")


class ReportForm(BaseModel):
    region_code: str
    on: date
    rule_set: RuleSetSource
    natures: list[Nature] = Field(description="what hazards[].nature may be, for a factor outside the catalogue")
    factor_catalogue: FactorCatalogueForm
    silica_threshold_percent: float = Field(description="dust with free silica at or above this percentage is 严重 whatever its name")
    checklist: ChecklistForm
    management_bands: list[ManagementBandForm] = Field(description="score → management grade, best first")


@router.get(
    "/rules/report-form",
    tags=["rules 规则"],
    summary="What a form for the report (附件4) needs from the rule data in force: factor catalogue, 附件2 checklist, rule-set version",
    description=(
        "The rule set that classifies a report of an employer of `region_code` assessed on `on` (pass the report's "
        "`assessed_on`; default: today in China): its factor catalogue, the free-silica threshold, the 附件2 self-check "
        "checklist item by item (id, section, text, points, 否决项, n/a allowed), the management bands, and the rule set's "
        "jurisdiction, version, effective date, provisional flag and source. Texts are the rule data's own, in Chinese. "
        "Any valid token."
    ),
    response_model=ReportForm,
    responses={404: {"description": "no rule data is in force for the region on that day (`errors.rules.not_in_force`)"},
               422: {"description": "`region_code` is no county-level GB/T 2260 code, or `on` no date in range"}},
)
async def get_report_form(
    _: CurrentPrincipal,
    rules: RulesDep,
    region_code: str = Query(min_length=1, max_length=12, description="the employer's county (GB/T 2260), e.g. 141029"),
    on: DayQuery = None,
) -> dict[str, Any]:
    if problem := county_region_problem(region_code):
        raise Refusal(422, problem.code, problem.params, field="region_code")
    day = on or china_today()
    try:
        rule_set = rules.rule_book.for_region(region_code, day)
    except NoApplicableRules as error:
        raise Refusal(404, "errors.rules.not_in_force", {"region_code": region_code, "on": day.isoformat()}) from error
    return views.report_form(rule_set, region_code, day)


class Reason(BaseModel):
    field: str | None = Field(description="the field at fault (self_check.items, hazards[0].factor …)")
    code: str = Field(description="the stable message code")
    params: dict[str, Any] = Field(description="the values of the text")
    message: str = Field(description="the reason in the reader's language")


ClassifiedResult = create_model(  # type: ignore[call-overload]
    "ClassifiedResult",
    __doc__="The classification as GET /reports/{id} will show it in `result` once classified, without the event's envelope.",
    **{name: (info.annotation, info) for name, info in AssessmentClassified.model_fields.items() if name not in views.ENVELOPE},
)


class PreviewClassified(BaseModel):
    outcome: Literal["classified"]
    result: ClassifiedResult = Field(  # type: ignore[valid-type]
        description="hazard_grade, management_grade, score, category, lost_points, flags, trace (rule, detail, code, params), "
        "rule_set, shortcomings … as the classification will announce them")


class PreviewRejected(BaseModel):
    outcome: Literal["rejected"]
    reasons: list[Reason] = Field(description="every reason the classification would reject the report (an unanswered checklist item, "
                                  "a factor outside the catalogue without a nature, no rule data …)")


class RunningScoreView(BaseModel):
    items: int = Field(description="items on the checklist")
    answered: int = Field(description="items answered so far (points or n/a)")
    earned: float = Field(description="points earned on the answered items that apply")
    applicable: float = Field(description="full points of the answered items that apply (n/a removed)")
    score: float | None = Field(description="earned / applicable × 100, one decimal half-up; null while no item that applies is answered")
    not_applicable: list[str] = Field(description="items answered n/a")
    lost_points: list[LostPoints] = Field(description="answered items that earned less than their points")
    vetoed: list[str] = Field(description="否决项 answered below their points: the management grade will be C")


class PreviewPartial(BaseModel):
    outcome: Literal["partial"]
    rule_set: RuleSetRef = Field(description="the rule set whose checklist scores the answers")
    unanswered: list[str] = Field(description="the ids of the checklist items not answered yet, in checklist order")
    running: RunningScoreView


PreviewAnswer = Annotated[PreviewClassified | PreviewRejected | PreviewPartial, Field(discriminator="outcome")]


@router.post(
    "/reports:preview",
    summary="Preview a report's classification (grades, category, trace) before submitting it; nothing is kept",
    description=(
        "The body, the token's rights and the validation are those of `POST /reports` (403 / 404 / 422 alike); the report "
        "is then classified by the same code, with the rule data in force, as if received today, and the answer says what "
        "would come of it. Nothing is stored, queued or announced.\n\n"
        "* `{\"outcome\": \"classified\", \"result\": {…}}` — the result `GET /reports/{id}` would show once classified "
        "(without the event's envelope: event_id, occurred_at, producer, schema_version);\n"
        "* `{\"outcome\": \"rejected\", \"reasons\": [{field, code, params, message}]}` — the classification would reject it "
        "(as `reason_messages` of a rejected submission);\n"
        "* with `?partial=true`, the checklist (`self_check.items`) may be answered in part, for a score computed as "
        "the form is filled in: `{\"outcome\": \"partial\", \"rule_set\", \"unanswered\": [item ids], \"running\": {items, "
        "answered, earned, applicable, score, not_applicable, lost_points, vetoed}}`, no category; answers that cannot be "
        "scored (an unknown item, more than its points) are `rejected` with their reasons. `self_check` still needs a score "
        "or at least one answer, as the contract says."
    ),
    response_model=PreviewAnswer,
    responses={
        403: {"description": "the token may not submit for this employer (another employer, outside the region, an auditor)"},
        404: {"description": "staff: the employer is archived in a region outside the token's jurisdiction (RULES §5a)"},
        422: {"description": "which field is wrong, and why (as POST /reports)"},
    },
)
async def preview_report(
    report: Report, principal: CurrentPrincipal, uow: UnitOfWorkDep, rules: RulesDep,
    partial: bool = Query(False, description="true: the checklist may be answered in part; the answer is the score so far"),
) -> Any:
    today = china_today()
    try:
        preview = await uow.run(lambda u: handlers.preview_report(u, report, principal, today, rules, partial=partial))
    except handlers.SUBMISSION_ERRORS as error:
        raise submission_refused(error, report) from error
    return views.preview_view(preview)


class SubmissionItem(BaseModel):
    submission_id: str
    credit_code: str
    enterprise_name: str | None = Field(description="as the report names it")
    region_code: str = Field(description="the county the report was recorded in (it decides who reads it)")
    assessed_on: date | None
    received_at: datetime
    decided_at: datetime | None = Field(description="when it was classified or rejected")
    status: Literal["accepted", "classified", "rejected"]
    category: Category | None = Field(description="classified: 甲/乙/丙")
    hazard_grade: HazardGrade | None
    management_grade: ManagementGrade | None
    score: float | None
    links: dict[str, str] = Field(description="self: GET /reports/{id}, with the result or the reasons")


class SubmissionsPage(BaseModel):
    items: list[SubmissionItem]
    total: int = Field(description="how many submissions match, on every page")


@router.get(
    "/reports",
    summary="The submissions the token may read, newest first, a page at a time",
    description=(
        "An employer: its own (`credit_code` is optional; another employer's code lists nothing). Staff and auditors: those "
        "recorded in their jurisdiction (`region_code` narrows it to a county or city inside it; outside it: 403), optionally "
        "one employer's (`credit_code`). `status` keeps one status. Newest received first; `total` counts every match."
    ),
    response_model=SubmissionsPage,
    responses={403: {"description": "`region_code` lies outside the token's jurisdiction"},
               422: {"description": "which query parameter is wrong, and why"}},
)
async def list_reports(
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    credit_code: str | None = Query(None, min_length=1, max_length=64, description="统一社会信用代码: one employer's submissions"),
    status: Literal["accepted", "classified", "rejected"] | None = Query(None, description="only submissions of this status"),
    region_code: RegionQuery = None,
    limit: int = Query(50, ge=1, le=200, description="how many items at most (1–200)"),
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    if credit_code is not None:
        credit_code = valid_credit_code(credit_code)  # the same check (and 422) as a {credit_code} path parameter
    if principal.role == "employer":
        if region_code is not None and (problem := region_problem(region_code)):
            raise Refusal(422, problem.code, problem.params, field="region_code")
        if credit_code not in (None, principal.credit_code):
            return {"items": [], "total": 0}  # another employer's submissions are none of this token's
        scope = {"credit_code": principal.credit_code, "region_prefix": region_prefix(region_code) if region_code else None}
    else:
        scope = {"credit_code": credit_code, "region_prefix": region_prefix(listed_region(principal, region_code))}
    return await uow.run(lambda u: views.submissions_page(u.session, **scope, status=status, limit=limit, offset=offset))
