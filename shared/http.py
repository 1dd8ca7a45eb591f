"""FastAPI dependencies every service's routes share (after Netflix dispatch's
``database/core.py``): declare what a route needs as a typed parameter, and the dependency
parses, authenticates or authorises it before the route body runs.

* ``CurrentPrincipal`` — the caller from a valid bearer token, else 401.
* ``ReaderLocale`` — the reader's language from ``Accept-Language``: ``zh_CN`` (the default) or ``en``.
* ``StaffPrincipal`` — the caller, who must be supervision staff (county, city, province), else 403.
* ``ReaderPrincipal`` — staff or an auditor (region-wide reads), else 403.
* ``CreditCodePath`` — a ``{credit_code}`` path parameter that is a valid 统一社会信用代码, else 422.
* ``RegionQuery`` — an optional GB/T 2260 region code (the route checks it is one, and in scope).
* ``LimitQuery``, ``OffsetQuery`` — paging, bounded (limit 1–1000, offset 0–1,000,000).
* ``DayQuery``, ``FromQuery``, ``ToQuery`` — optional date query parameters, YYYY-MM-DD, bounded.
* ``UnitOfWorkDep`` — the service's unit-of-work factory; the route hands it the use case.
* ``RuntimeDep`` — the service's runtime (settings, rule books on ``app.state``), for the rare
  route that needs more than the unit of work.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import BeforeValidator

from shared.auth import Principal, authenticate
from shared.contracts import EARLIEST_DATE, LATEST_DATE, iso_date
from shared.errors import Refusal, request_locale
from shared.identifiers import credit_code_problem, region_problem
from shared.unit_of_work import UnitOfWorkFactory

CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
ReaderLocale = Annotated[str, Depends(request_locale)]  # the reader's language (Accept-Language): zh_CN by default, or en


def day_query(alias: str | None = None, description: str | None = None) -> Any:
    """An optional date query parameter, written YYYY-MM-DD, between 1949-10-01 and 2100-12-31 (else 422)."""
    return Annotated[date | None, BeforeValidator(lambda v: v if v is None else iso_date(v)), Query(
        alias=alias, ge=EARLIEST_DATE, le=LATEST_DATE,
        description=description or f"a date (YYYY-MM-DD) between {EARLIEST_DATE} and {LATEST_DATE}",
        json_schema_extra={"formatMinimum": EARLIEST_DATE.isoformat(), "formatMaximum": LATEST_DATE.isoformat()},
    )]


RegionQuery = Annotated[str | None, Query(
    min_length=1, max_length=12, description="GB/T 2260 code: a county, or a city / province covering its counties; default: the token's region",
)]
def listed_region(principal: Principal, region_code: str | None) -> str:
    """The region a staff or auditor listing covers: ``region_code`` (422 when it is no GB/T 2260 code),
    by default the token's own; 403 when it lies outside the token's jurisdiction."""
    if region_code is not None and (problem := region_problem(region_code)):
        raise Refusal(422, problem.code, problem.params, field="region_code")
    region = region_code or principal.region_code
    if region is None or not principal.covers_region(region):
        raise Refusal(403, "errors.auth.region_outside_jurisdiction", {"region_code": region, "token_region": principal.region_code})
    return region


MAX_OFFSET = 1_000_000
LimitQuery = Annotated[int, Query(ge=1, le=1000, description="how many items at most (1–1000)")]
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"how many items to skip (0–{MAX_OFFSET:,})")]

DayQuery = day_query()
FromQuery = day_query("from", "first day, inclusive (YYYY-MM-DD, China time)")
ToQuery = day_query("to", "last day, inclusive (YYYY-MM-DD, China time)")


async def require_staff(principal: CurrentPrincipal) -> Principal:
    """The caller, who must be supervision staff; anyone else gets 403 naming their role."""
    if not principal.is_staff:
        raise Refusal(403, "errors.auth.staff_only")
    return principal


StaffPrincipal = Annotated[Principal, Depends(require_staff)]


async def require_staff_or_auditor(principal: CurrentPrincipal) -> Principal:
    """The caller, who must be staff or an auditor (reads of a whole region); an employer or an organisation gets 403."""
    if principal.role not in ("county", "city", "province", "auditor"):
        raise Refusal(403, "errors.auth.staff_or_auditor_only")
    return principal


ReaderPrincipal = Annotated[Principal, Depends(require_staff_or_auditor)]


def valid_credit_code(credit_code: Annotated[str, Path(min_length=1, max_length=64, description="统一社会信用代码 (GB 32100-2015)")]) -> str:
    """The ``{credit_code}`` path parameter, checked (length, alphabet, check character), else 422."""
    if problem := credit_code_problem(credit_code):
        raise Refusal(422, problem.code, problem.params, field="credit_code")
    return credit_code


CreditCodePath = Annotated[str, Depends(valid_credit_code)]


def unit_of_work(request: Request) -> UnitOfWorkFactory[Any]:
    return request.app.state.runtime.uow


UnitOfWorkDep = Annotated[UnitOfWorkFactory[Any], Depends(unit_of_work)]


def runtime(request: Request) -> Any:
    return request.app.state.runtime


RuntimeDep = Annotated[Any, Depends(runtime)]
