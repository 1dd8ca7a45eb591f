"""Registry HTTP API for rectification items (整改 → 审核 → 解除).

Every shortcoming penalty screens on a classified report becomes an item for the employer, with a
deadline. The employer lists and reads its own items and submits its correction (text and PDF or
image attachments); supervision staff of the employer's jurisdiction (the archive's region) list
and read them and review a correction: accept (cleared, 解除) or return it with a reason. Auditors
read. An item outside the caller's reach answers 404, like one that does not exist.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from services.registry import views
from services.registry.adapters.attachments import AttachmentMissing, AttachmentStoreError, inspect_upload
from services.registry.domain import rectification as rules
from services.registry.entrypoints.reports import reader_region
from services.registry.service_layer import rectification
from shared.auth import Principal
from shared.contracts import TEXT_LENGTH, RequestModel
from shared.dates import china_today
from shared.errors import INVALID_REQUEST, Issue, Refusal, refusal_of
from shared.http import (
    CurrentPrincipal,
    LimitQuery,
    OffsetQuery,
    RegionQuery,
    RuntimeDep,
    StaffPrincipal,
    UnitOfWorkDep,
    valid_credit_code,
)
from shared.limits import MIB, route_body_limit
from shared.runtime import content_disposition
from shared.settings import Settings

router = APIRouter(tags=["整改 rectification"])
log = logging.getLogger(__name__)

ItemIdPath = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                                 description="the rectification item's id (a UUID)")]
Status = Literal["open", "submitted", "returned", "cleared", "overdue"]

_settings = Settings()
# The request body of a correction: every attachment at its largest, plus the text and the multipart framing.
SUBMISSION_MAX_BODY_BYTES = _settings.attachment_max_files * _settings.attachment_max_bytes + MIB

_NOT_FOUND = {404: {"description": "no such item, or not one the caller may see"}}
_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid bearer token"},
    **_NOT_FOUND,
    409: {"description": "the item does not take this step now (its status), or another step was taken meanwhile"},
}


def _missing(item_id: str) -> Refusal:
    return Refusal(404, "errors.rectification.not_found", {"item_id": item_id})


def _no_items(subject: str | None) -> Refusal:
    return Refusal(404, "errors.rectification.items_not_found", {"subject": subject or ""})


# --------------------------------------------------------------------------- reads


@router.get(
    "/rectifications",
    summary="Rectification items: an employer's own, or those of the employers of the caller's jurisdiction",
    description="The most urgent first (earliest deadline). An employer sees only its own items (`credit_code`, if given, "
    "must be its own); staff and auditors see the items of the employers of `region_code` (default: their own region), or "
    "of one employer with `credit_code`. The employer's region is the archive's.",
    responses={401: {"description": "no valid bearer token"}, 404: {"description": "the employer or region is outside the caller's reach"}},
)
async def get_rectifications(
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    credit_code: str | None = Query(default=None, min_length=1, max_length=18, description="统一社会信用代码 of one employer"),
    region_code: RegionQuery = None,
    status: Status | None = Query(default=None, description="only items in this status"),
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    if credit_code is not None:
        credit_code = valid_credit_code(credit_code)  # the same check (and 422) as a {credit_code} path parameter
    if principal.role == "employer":
        if credit_code not in (None, principal.credit_code) or region_code is not None:
            raise _no_items(credit_code or region_code)
        return await uow.run(lambda u: views.rectification_items(u.session, credit_code=principal.credit_code, status=status,
                                                                 limit=limit, offset=offset))
    region = reader_region(principal, region_code)

    def load(u: Any) -> dict[str, Any] | None:
        if credit_code is not None:
            where = views.rectification_employer_region(u.session, credit_code)
            if where is None or not principal.covers_region(where):
                return None  # unknown, or an employer of another region: the same 404 (its items are not the caller's)
        return views.rectification_items(u.session, credit_code=credit_code, region_code=region, status=status, limit=limit, offset=offset)

    found = await uow.run(load)
    if found is None:
        raise _no_items(credit_code)
    return found


async def _readable(uow: UnitOfWorkDep, principal: Principal, item_id: str, read: Any) -> Any:
    def load(u: Any) -> Any:
        access = views.rectification_access(u.session, item_id)
        if access is None or not principal.can_read(*access):
            return None
        return read(u)

    found = await uow.run(load)
    if found is None:
        raise _missing(item_id)
    return found


@router.get(
    "/rectifications/{item_id}",
    summary="One rectification item with its history (every step) and the employer's submissions",
    responses={401: {"description": "no valid bearer token"}, **_NOT_FOUND},
)
async def get_rectification(principal: CurrentPrincipal, item_id: ItemIdPath, uow: UnitOfWorkDep) -> dict[str, Any]:
    return await _readable(uow, principal, item_id, lambda u: views.rectification(u.session, item_id))


_SAFE_ASCII = re.compile(r"[A-Za-z0-9._ ()-]{1,150}")


@router.get(
    "/rectifications/{item_id}/attachments/{n}",
    summary="Download one attachment of the item's submissions (numbered 1, 2, … across its submissions)",
    response_class=Response,
    responses={200: {"content": {t: {} for t in rules.SIGNATURES}, "description": "the file as stored"}, 401: {"description": "no valid bearer token"},
               **_NOT_FOUND, 503: {"description": "the attachment store cannot be reached"}},
)
async def get_attachment(principal: CurrentPrincipal, item_id: ItemIdPath, n: Annotated[int, Path(ge=1, le=10_000)],
                         request: Request, uow: UnitOfWorkDep) -> Response:
    def load(u: Any) -> Any:
        access = views.rectification_access(u.session, item_id)
        if access is None or not principal.can_read(*access):
            return None
        return views.rectification_attachment(u.session, item_id, n)

    row = await uow.run(load)
    if row is None:
        raise Refusal(404, "errors.rectification.attachment_not_found", {"n": n, "item_id": item_id})
    store = request.app.state.attachments
    try:
        content = await run_in_threadpool(store.get, row["key"])
    except AttachmentMissing as error:
        raise Refusal(404, "errors.rectification.attachment_not_in_store", {"n": n, "item_id": item_id}) from error
    except AttachmentStoreError as error:
        log.warning("the attachment store cannot be read: %s", error)
        raise Refusal(503, "errors.attachments.store_unreadable") from error
    name = row["filename"]
    extension = name[name.rfind("."):] if "." in name else ""
    ascii_name = name if _SAFE_ASCII.fullmatch(name) else f"attachment-{n}{extension if _SAFE_ASCII.fullmatch(extension) else ''}"
    return Response(content=content, media_type=row["content_type"], headers={
        "Content-Disposition": content_disposition("attachment", ascii_name, name),
        "X-Content-Type-Options": "nosniff",
        "X-Content-SHA256": row["sha256"],
    })


# --------------------------------------------------------------------------- the employer's correction


def _item_view(u: Any, item_id: str) -> dict[str, Any]:
    found = views.rectification(u.session, item_id)
    assert found is not None
    return found


@router.post(
    "/rectifications/{item_id}/submission",
    status_code=201,
    summary="The employer submits its correction: text and 0… attachments (PDF, PNG or JPEG)",
    description="`multipart/form-data`: `text` (1–2000 characters) and `files` (up to OHS_ATTACHMENT_MAX_FILES files, each at "
    "most OHS_ATTACHMENT_MAX_BYTES bytes; the types the rectification rules in force allow: PDF, PNG, JPEG). Every file is "
    "checked before any is stored: its declared type, its content (a PDF starts with `%PDF-`, a PNG with its signature, a "
    "JPEG with SOI), its size and its name; a bad one answers 422 naming `files[i]` and why, and nothing is stored. Allowed "
    "while the item is open, returned or overdue; the item becomes `submitted` and awaits review.",
    openapi_extra=route_body_limit(SUBMISSION_MAX_BODY_BYTES),
    responses={**_REFUSALS, 403: {"description": "not an employer's token: only the employer submits its correction"},
               422: {"description": "the text or an attachment is refused (the field and why); nothing stored"},
               503: {"description": "the attachment store cannot be written"}},
)
async def post_submission(
    principal: CurrentPrincipal,
    item_id: ItemIdPath,
    runtime: RuntimeDep,
    request: Request,
    uow: UnitOfWorkDep,
    text: Annotated[str, Form(min_length=1, max_length=TEXT_LENGTH, description="what the employer did to correct it")],
    files: Annotated[list[UploadFile], File(max_length=_settings.attachment_max_files, description="PDF, PNG or JPEG files")] = [],  # noqa: B006
) -> Any:
    if principal.role != "employer":
        raise Refusal(403, "errors.rectification.employer_only")
    text = text.strip()
    if not text or "\x00" in text:
        raise Refusal(422, INVALID_REQUEST, errors=[Issue("text", "errors.rectification.text_invalid")])
    settings = runtime.settings
    max_bytes = settings.attachment_max_bytes
    rulebook = request.app.state.rectification_rules
    store = request.app.state.attachments

    def submit(u: Any) -> dict[str, Any]:
        staged = []
        for index, upload in enumerate(files):
            size, sha256, head, too_big = inspect_upload(upload.file, max_bytes)
            declared = (upload.content_type or "").split(";")[0].strip().lower()
            staged.append(rectification.StagedFile(rules.Upload(index, upload.filename or "", declared, size, head, too_big), sha256, upload.file))
        rectification.submit_correction(u, store, principal, item_id, text, staged, rulebook, max_bytes=max_bytes,
                                        max_files=settings.attachment_max_files, today=china_today())
        return _item_view(u, item_id)

    try:
        return JSONResponse(status_code=201, content=await uow.run(submit))
    except rectification.ItemNotFound as error:
        raise _missing(item_id) from error
    except rectification.AttachmentsRefused as error:
        raise Refusal(422, "errors.attachments.refused", errors=[Issue.of(why, field) for field, why in error.problems]) from error
    except (rules.StepRefused, rectification.ConcurrentChange) as error:
        raise refusal_of(error, 409, "errors.rectification.step_refused", {"item_id": item_id}) from error
    except AttachmentStoreError as error:
        log.warning("the attachment store cannot be written: %s", error)
        raise Refusal(503, "errors.attachments.store_unwritable") from error


# --------------------------------------------------------------------------- staff's review


class ReviewIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    decision: Literal["accept", "return"] = Field(description="accept: cleared (解除); return: the employer corrects again")
    reason: str | None = Field(default=None, max_length=TEXT_LENGTH,
                               description="required to return a correction (422 naming `reason` without it); optional to accept")


@router.post(
    "/rectifications/{item_id}/review",
    summary="Staff review the employer's correction: accept (cleared, 解除) or return it with a reason",
    description="Only an item whose correction awaits review (`submitted`) can be reviewed (409 otherwise). Accepting clears "
    "the item; the step records the day the correction was submitted and whether that was by the deadline (promptly "
    "corrected). Returning it lets the employer submit again.",
    responses={**_REFUSALS, 403: {"description": "not supervision staff"}, 422: {"description": "the decision or reason is invalid"}},
)
async def post_review(principal: StaffPrincipal, item_id: ItemIdPath, body: ReviewIn, uow: UnitOfWorkDep) -> dict[str, Any]:
    def review(u: Any) -> dict[str, Any]:
        rectification.review_correction(u, principal, item_id, body.decision, body.reason, china_today())
        return _item_view(u, item_id)

    try:
        return await uow.run(review)
    except rectification.ItemNotFound as error:
        raise _missing(item_id) from error
    except rectification.ReviewProblem as error:
        raise refusal_of(error, 422, "errors.rectification.return_needs_reason", field=error.field) from error
    except (rules.StepRefused, rectification.ConcurrentChange) as error:
        raise refusal_of(error, 409, "errors.rectification.step_refused", {"item_id": item_id}) from error
