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

from fastapi import APIRouter
from fastapi.responses import Response

from services.registry.adapters.xlsx import figures_workbook
from services.registry.domain.figures import MAX_PERIOD_YEARS, Period, PeriodProblem, period
from services.registry.entrypoints.reports import XLSX, Regions, reader_region
from services.registry.service_layer import figures as use_cases
from shared.dates import CHINA, china_today
from shared.errors import Refusal
from shared.http import FromQuery, ReaderLocale, ReaderPrincipal, RegionQuery, ToQuery, UnitOfWorkDep
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
    today = china_today()
    try:
        return period(start, end, today)
    except PeriodProblem as problem:
        raise period_refusal(problem, start, end, today) from problem


def period_refusal(problem: PeriodProblem, start: Any, end: Any, today: Any) -> Refusal:
    """The 422 of a period that cannot be counted, naming its field (``from`` or ``to``) and why."""
    if problem.field == "to":  # from given (a default from is 1 January of to's year), to by default today
        return Refusal(422, "errors.period.too_long", {"start": start.isoformat(), "end": (end or today).isoformat(),
                                                      "years": MAX_PERIOD_YEARS}, field="to")
    if end is None:
        return Refusal(422, "errors.period.start_after_today", {"start": start.isoformat(), "today": today.isoformat()}, field="from")
    return Refusal(422, "errors.period.start_after_end", {"start": start.isoformat(), "end": end.isoformat()}, field="from")


@router.get(
    "/figures",
    summary="The agency's figures per county: classification coverage, shortcomings raised / cleared / overdue, 风险化解率, "
    "screenings by outcome, no-penalty and penalty decisions",
    description=_DESCRIPTION,
    responses=_RESPONSES,
)
async def get_figures(
    principal: ReaderPrincipal, tree: Regions, uow: UnitOfWorkDep, locale: ReaderLocale, region_code: RegionQuery = None,
    start: FromQuery = None, end: ToQuery = None,
) -> dict[str, Any]:
    code = reader_region(principal, region_code, tree)
    asked = _period(start, end)
    return await uow.run(lambda u: use_cases.figures(u, tree, code, asked.start, asked.end, locale))


@router.get(
    "/figures.xlsx",
    summary="The same figures as an .xlsx workbook (one row per county, then 合计; sheet 说明: the period and the definitions)",
    description=_DESCRIPTION,
    response_class=Response,
    responses={**_RESPONSES, 200: {"content": {XLSX: {}}}},
)
async def get_figures_xlsx(
    principal: ReaderPrincipal, tree: Regions, uow: UnitOfWorkDep, locale: ReaderLocale, region_code: RegionQuery = None,
    start: FromQuery = None, end: ToQuery = None,
) -> Response:
    code = reader_region(principal, region_code, tree)
    asked = _period(start, end)
    result = await uow.run(lambda u: use_cases.figures(u, tree, code, asked.start, asked.end, locale))
    now = datetime.now(timezone.utc).astimezone(CHINA)
    name = f"{asked.start:%Y%m%d}-{asked.end:%Y%m%d}"
    disposition = content_disposition("attachment", f"figures-{code}-{name}.xlsx", f"统计指标-{result['region_name'] or code}-{name}.xlsx")
    return Response(figures_workbook(result, now, locale), media_type=XLSX, headers={"Content-Disposition": disposition})
