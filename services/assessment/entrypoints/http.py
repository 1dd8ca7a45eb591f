"""Assessment HTTP API: submit a report (附件4) — or a county's thousands at once — follow it, print it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, SkipValidation

from services.assessment import views
from services.assessment.adapters.documents import render_notice_pdf, render_report_pdf
from services.assessment.service_layer import handlers
from shared import i18n
from shared.auth import Principal
from shared.contracts import AssessmentClassified, Report
from shared.contracts.envelope import RequestModel
from shared.dates import china_today
from shared.errors import FieldError, Issue, Refusal, language_headers, once_more_after_a_race, refusal_of
from shared.http import CurrentPrincipal, ReaderLocale, RuntimeDep, UnitOfWorkDep
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

    credit_code = report.enterprise.credit_code
    try:
        # the same report sent twice at the same moment: the second insert meets the first one's row; once more,
        # it finds it and answers as the duplicate it is
        view, new = await once_more_after_a_race(lambda: uow.run(submit))
    except handlers.NotInJurisdiction as error:  # archived in a region the token does not cover: as if absent
        raise refusal_of(error, 404, "errors.employer.not_in_jurisdiction", {"credit_code": credit_code}) from error
    except handlers.SubmissionRefused as error:
        raise refusal_of(error, 403, "errors.submission.refused") from error
    except handlers.ReportInvalid as error:
        raise Refusal(422, "errors.report.invalid", errors=[Issue.of(p) for p in error.problems]) from error
    except handlers.SubmissionConflict as error:
        raise refusal_of(error, 409, "errors.submission.conflict", {"submission_id": str(report.submission_id)}) from error
    except handlers.AssessorDisqualified as error:
        raise Refusal(422, "errors.assessor.may_not_submit", errors=[Issue.of(error, "assessor.org_id")]) from error
    log.info(
        "report %s for %s (%s) submitted by %s%s",
        view["submission_id"], report.enterprise.credit_code, report.enterprise.region_code, principal.describe(),
        "" if new else " (identical to an earlier submission: no-op)",
    )
    body = {**view, "duplicate": not new, "links": {"self": f"/reports/{view['submission_id']}"}}
    return JSONResponse(status_code=202, content=body, headers={"Location": body["links"]["self"]})


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
