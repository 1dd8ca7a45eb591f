"""Registry HTTP API for the agency's figures (统计指标) per county and period: classification coverage,
shortcomings raised / cleared / overdue, 风险化解率, screenings by outcome, penalty and no-penalty
decisions — as JSON and as .xlsx.

For supervision staff and auditors (an employer's token: 403). A county sees its own row; a city or
province one row per county of the region asked for (by default its own), or one county of its
jurisdiction. A region outside the caller's jurisdiction answers 404, like one that is not loaded.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from services.registry.adapters.xlsx import figures_workbook
from services.registry.domain.figures import Period, PeriodProblem, period
from services.registry.entrypoints.reports import XLSX, Regions, reader_region
from services.registry.service_layer import figures as use_cases
from shared.dates import CHINA, china_today
from shared.http import FromQuery, ReaderPrincipal, RegionQuery, ToQuery, UnitOfWorkDep
from shared.runtime import content_disposition

router = APIRouter(tags=["figures 统计指标"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "an employer's token: figures are for supervision staff and auditors"},
    404: {"description": "the region is not loaded, or lies outside the caller's jurisdiction"},
    422: {"description": "a bad region code or period (from after to, longer than 10 years): the field is named"},
}
_DESCRIPTION = (
    "Per county and period (from, to: China dates, both included, at most 10 years; default: this year so far). "
    "`definitions` says what each figure counts. 422 names the field of a bad period."
)


def _period(start: Any, end: Any) -> Period:
    try:
        return period(start, end, china_today())
    except PeriodProblem as problem:
        raise HTTPException(status_code=422, detail=str(problem)) from problem


@router.get(
    "/figures",
    summary="The agency's figures per county: classification coverage, shortcomings raised / cleared / overdue, 风险化解率, "
    "screenings by outcome, no-penalty and penalty decisions",
    description=_DESCRIPTION,
    responses=_RESPONSES,
)
async def get_figures(
    principal: ReaderPrincipal, tree: Regions, uow: UnitOfWorkDep, region_code: RegionQuery = None, start: FromQuery = None, end: ToQuery = None,
) -> dict[str, Any]:
    code = reader_region(principal, region_code, tree)
    asked = _period(start, end)
    return await uow.run(lambda u: use_cases.figures(u, tree, code, asked.start, asked.end))


@router.get(
    "/figures.xlsx",
    summary="The same figures as an .xlsx workbook (one row per county, then 合计; sheet 说明: the period and the definitions)",
    description=_DESCRIPTION,
    response_class=Response,
    responses={**_RESPONSES, 200: {"content": {XLSX: {}}}},
)
async def get_figures_xlsx(
    principal: ReaderPrincipal, tree: Regions, uow: UnitOfWorkDep, region_code: RegionQuery = None, start: FromQuery = None, end: ToQuery = None,
) -> Response:
    code = reader_region(principal, region_code, tree)
    asked = _period(start, end)
    result = await uow.run(lambda u: use_cases.figures(u, tree, code, asked.start, asked.end))
    now = datetime.now(timezone.utc).astimezone(CHINA)
    name = f"{asked.start:%Y%m%d}-{asked.end:%Y%m%d}"
    disposition = content_disposition("attachment", f"figures-{code}-{name}.xlsx", f"统计指标-{result['region_name'] or code}-{name}.xlsx")
    return Response(figures_workbook(result, now), media_type=XLSX, headers={"Content-Disposition": disposition})
