"""Registry HTTP API for the agency: the region tree and the reports (统计报表) over the archive.

Every endpoint needs a bearer token. ``/regions/{code}`` answers any authenticated caller (the
tree is public information). The reports are for supervision staff and auditors: an employer's
token gets 403; a region outside the caller's jurisdiction answers 404, like a region that is
not loaded. Without ``region_code`` a report covers the caller's own region.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from services.registry import views
from services.registry.domain.regions import RegionTree
from shared.auth import Principal
from shared.contracts import EARLIEST_DATE, LATEST_DATE, MAX_HEADCOUNT
from shared.dates import CHINA
from shared.errors import Refusal
from shared.http import ReaderLocale, RegionQuery, LimitQuery, OffsetQuery, FromQuery, ToQuery, CurrentPrincipal, ReaderPrincipal, UnitOfWorkDep
from shared.identifiers import region_problem
from shared.runtime import content_disposition

router = APIRouter(tags=["reports 统计报表"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid bearer token"},
    403: {"description": "an employer's token: reports are for supervision staff and auditors"},
    404: {"description": "the region is not loaded, or lies outside the caller's jurisdiction"},
}


_DAY_LIMITS = {"formatMinimum": EARLIEST_DATE.isoformat(), "formatMaximum": LATEST_DATE.isoformat()}


def region_tree(request: Request) -> RegionTree:
    return request.app.state.regions  # loaded once by bootstrap


Regions = Annotated[RegionTree, Depends(region_tree)]


def _checked_code(code: str, field: str) -> str:
    if problem := region_problem(code):
        raise Refusal(422, problem.code, problem.params, field=field)
    return code


def reader_region(principal: Principal, region_code: str | None, tree: RegionTree | None = None) -> str:
    """The region a staff or auditor view may cover for ``principal`` (a ``ReaderPrincipal``), by
    default its own: 422 for a malformed code, 404 outside the jurisdiction (or outside ``tree``, when given)."""
    code = _checked_code(region_code or principal.region_code or "", "region_code")
    if not principal.covers_region(code) or (tree is not None and code not in tree):
        raise region_not_found(code)
    return code


def region_not_found(code: str) -> Refusal:
    """404 for a region not loaded, or outside the caller's jurisdiction: the same answer."""
    return Refusal(404, "errors.region.not_found", {"region_code": code})


@router.get(
    "/regions/{code}",
    summary="A region of the tree (province → city → county) with its children; for a county, its receiving agency (受理机构)",
    responses={401: _REPORT_RESPONSES[401], 404: {"description": "the region is not loaded"}},
)
async def get_region(code: Annotated[str, Path(min_length=1, max_length=12)], principal: CurrentPrincipal, tree: Regions) -> dict[str, Any]:
    _checked_code(code, "code")
    if code not in tree:
        raise region_not_found(code)
    return views.region_view(tree, code)


@router.get(
    "/reports/categories",
    summary="Employers per county × category (甲/乙/丙) for every county of the region, zeros included, with totals",
    responses=_REPORT_RESPONSES,
)
async def get_category_report(principal: ReaderPrincipal, tree: Regions, uow: UnitOfWorkDep, region_code: RegionQuery = None) -> dict[str, Any]:
    code = reader_region(principal, region_code, tree)
    return await uow.run(lambda u: views.category_counts(u.session, tree, code))


@router.get(
    "/reports/changes",
    summary="Classification changes recorded in a period (first archives, upgrades toward 丙, downgrades toward 甲)",
    responses=_REPORT_RESPONSES,
)
async def get_change_report(
    principal: ReaderPrincipal,
    tree: Regions,
    uow: UnitOfWorkDep,
    region_code: RegionQuery = None,
    start: FromQuery = None,
    end: ToQuery = None,
) -> dict[str, Any]:
    code = reader_region(principal, region_code, tree)
    if start and end and start > end:
        raise Refusal(422, "errors.period.start_after_end", {"start": start.isoformat(), "end": end.isoformat()}, field="from")
    return await uow.run(lambda u: views.classification_changes(u.session, tree, code, start, end))


@router.get(
    "/reports/small-employers",
    summary="Employers with fewer than 100 workers (the scheme's focus) and their category, with counts per category",
    responses=_REPORT_RESPONSES,
)
async def get_small_employer_report(
    principal: ReaderPrincipal,
    tree: Regions,
    uow: UnitOfWorkDep,
    region_code: RegionQuery = None,
    max_employees: int = Query(default=99, ge=0, le=MAX_HEADCOUNT, description="at most this many workers (职工总数)"),
    limit: LimitQuery = 1000,
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    code = reader_region(principal, region_code, tree)
    return await uow.run(lambda u: views.small_employers(u.session, tree, code, max_employees, limit, offset))


@router.get(
    "/reports/archive.xlsx",
    summary="The region's archive as .xlsx in the 附件6 layout (header in row 1) plus the results; sheet 说明",
    response_class=Response,
    responses={**_REPORT_RESPONSES, 200: {"content": {XLSX: {}}}},
)
async def get_archive_xlsx(principal: ReaderPrincipal, tree: Regions, uow: UnitOfWorkDep, locale: ReaderLocale,
                           region_code: RegionQuery = None) -> Response:
    code = reader_region(principal, region_code, tree)
    now = datetime.now(timezone.utc)
    content, _ = await uow.run(lambda u: views.archive_xlsx(u.session, tree, code, now, locale))
    day = now.astimezone(CHINA).strftime("%Y%m%d")
    disposition = content_disposition("attachment", f"archive-{code}-{day}.xlsx", f"分类监督执法档案-{tree.name(code)}-{code}-{day}.xlsx")
    return Response(content, media_type=XLSX, headers={"Content-Disposition": disposition})
