"""Registry HTTP API for the agency: the region tree and the reports (统计报表) over the archive.

Every endpoint needs a bearer token. ``/regions/{code}`` answers any authenticated caller (the
tree is public information). The reports are for supervision staff and auditors: an employer's
token gets 403; a region outside the caller's jurisdiction answers 404, like a region that is
not loaded. Without ``region_code`` a report covers the caller's own region.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from services.registry import report_views
from services.registry.domain.regions import RegionTree
from shared.auth import Principal, authenticate, not_found
from shared.dates import CHINA
from shared.db import in_session
from shared.identifiers import region_problem
from shared.runtime import content_disposition

router = APIRouter(tags=["reports 统计报表"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid bearer token"},
    403: {"description": "an employer's token: reports are for supervision staff and auditors"},
    404: {"description": "the region is not loaded, or lies outside the caller's jurisdiction"},
}
_REGION_QUERY = Query(
    default=None, description="GB/T 2260 code: a county, or a city / province covering its counties; default: the caller's own region"
)


def _engine(request: Request):  # noqa: ANN202
    return request.app.state.runtime.engine


def _tree(request: Request) -> RegionTree:
    return request.app.state.regions


def _checked_code(code: str, field: str) -> str:
    if problem := region_problem(code):
        raise HTTPException(status_code=422, detail=f"{field}: {problem}")
    return code


def staff_region(principal: Principal, region_code: str | None, what: str, tree: RegionTree | None = None) -> str:
    """The region a staff view (``what``: reports, reminders) may cover for ``principal``, by default its own:
    403 for an employer, 422 for a malformed code, 404 outside the jurisdiction (or outside ``tree``, when given)."""
    if principal.role == "employer" or principal.region_code is None:
        raise HTTPException(status_code=403, detail=f"{what} are for supervision staff and auditors; an employer's token reads its own archive only")
    code = _checked_code(region_code or principal.region_code, "region_code")
    if not principal.covers_region(code) or (tree is not None and code not in tree):
        raise not_found(f"region {code}")
    return code


def region_view(tree: RegionTree, code: str) -> dict[str, Any]:
    node = tree.get(code)
    assert node is not None
    level = tree.level(code)
    parent = tree.parent(code)
    view: dict[str, Any] = {
        "code": node.code,
        "name": node.name,
        "level": level,
        "path": list(tree.path(code)),
        "parent_code": parent.code if parent else None,
        "agency": node.agency.model_dump() if node.agency else None,
        "children": [
            {"code": c.code, "name": c.name, "level": tree.level(c.code), **({"pilot_level": c.pilot_level} if c.pilot_level else {})}
            for c in tree.children(code)
        ],
    }
    if level == "county":
        agency = tree.receiving_agency(code)
        view["pilot_level"] = node.pilot_level
        view["receiving_agency"] = {
            "name": agency.name,
            "region_code": agency.region_code,
            "provisional": tree.agency_is_provisional(code),
            "routed": agency.region_code != code,  # another region's agency receives the reports (临汾: 尧都区 → city)
        }
    if node.note:
        view["note"] = node.note
    return view


@router.get(
    "/regions/{code}",
    summary="A region of the tree (province → city → county) with its children; for a county, its receiving agency (受理机构)",
    responses={401: _REPORT_RESPONSES[401], 404: {"description": "the region is not loaded"}},
)
async def get_region(code: str, request: Request, principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    tree = _tree(request)
    _checked_code(code, "code")
    if code not in tree:
        raise not_found(f"region {code}")
    return region_view(tree, code)


@router.get(
    "/reports/categories",
    summary="Employers per county × category (甲/乙/丙) for every county of the region, zeros included, with totals",
    responses=_REPORT_RESPONSES,
)
async def get_category_report(request: Request, region_code: str | None = _REGION_QUERY, principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    tree = _tree(request)
    code = staff_region(principal, region_code, "reports", tree)
    return await in_session(_engine(request), lambda session: report_views.category_counts(session, tree, code))


@router.get(
    "/reports/changes",
    summary="Classification changes recorded in a period (first archives, upgrades toward 丙, downgrades toward 甲)",
    responses=_REPORT_RESPONSES,
)
async def get_change_report(
    request: Request,
    region_code: str | None = _REGION_QUERY,
    start: date | None = Query(default=None, alias="from", description="first day, inclusive (China time); default: the beginning"),
    end: date | None = Query(default=None, alias="to", description="last day, inclusive (China time); default: today"),
    principal: Principal = Depends(authenticate),
) -> dict[str, Any]:
    tree = _tree(request)
    code = staff_region(principal, region_code, "reports", tree)
    if start and end and start > end:
        raise HTTPException(status_code=422, detail=f"from: {start.isoformat()} is after to {end.isoformat()}")
    return await in_session(_engine(request), lambda session: report_views.classification_changes(session, tree, code, start, end))


@router.get(
    "/reports/small-employers",
    summary="Employers with fewer than 100 workers (the scheme's focus) and their category, with counts per category",
    responses=_REPORT_RESPONSES,
)
async def get_small_employer_report(
    request: Request,
    region_code: str | None = _REGION_QUERY,
    max_employees: int = Query(default=99, ge=0, description="at most this many workers (职工总数)"),
    limit: int = Query(default=1000, ge=1, le=10000),
    offset: int = Query(default=0, ge=0),
    principal: Principal = Depends(authenticate),
) -> dict[str, Any]:
    tree = _tree(request)
    code = staff_region(principal, region_code, "reports", tree)
    return await in_session(
        _engine(request), lambda session: report_views.small_employers(session, tree, code, max_employees, limit, offset)
    )


@router.get(
    "/reports/archive.xlsx",
    summary="The region's archive as .xlsx in the 附件6 layout (header in row 1) plus the results; sheet 说明",
    response_class=Response,
    responses={**_REPORT_RESPONSES, 200: {"content": {XLSX: {}}}},
)
async def get_archive_xlsx(request: Request, region_code: str | None = _REGION_QUERY, principal: Principal = Depends(authenticate)) -> Response:
    tree = _tree(request)
    code = staff_region(principal, region_code, "reports", tree)
    now = datetime.now(timezone.utc)
    content, _ = await in_session(_engine(request), lambda session: report_views.archive_xlsx(session, tree, code, now))
    day = now.astimezone(CHINA).strftime("%Y%m%d")
    disposition = content_disposition("attachment", f"archive-{code}-{day}.xlsx", f"分类监督执法档案-{tree.name(code)}-{code}-{day}.xlsx")
    return Response(content, media_type=XLSX, headers={"Content-Disposition": disposition})
