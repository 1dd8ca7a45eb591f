"""Registry HTTP API: parse, authorise, delegate to views, answer."""

from __future__ import annotations


from fastapi import APIRouter, Query

from services.registry import views
from shared.auth import Principal
from shared.contracts import Category
from shared.dates import china_today
from shared.errors import Refusal
from shared.http import ReaderLocale, RegionQuery, listed_region, LimitQuery, OffsetQuery, CreditCodePath, CurrentPrincipal, UnitOfWorkDep
from shared.identifiers import region_problem
from shared.jurisdiction import region_prefix

router = APIRouter(tags=["archive 分类监督执法档案"])


@router.get(
    "/enterprises/{credit_code}",
    summary="One employer's archive: current classification, trace, history and the latest transfer between counties",
    description="Readable inside the token's jurisdiction, by the employer itself, and — while a transfer to their "
    "region is pending (RULES §5a) — by the receiving region's staff and auditors.",
)
async def get_enterprise(principal: CurrentPrincipal, credit_code: CreditCodePath, uow: UnitOfWorkDep, locale: ReaderLocale) -> dict:
    found = await uow.run(lambda u: views.enterprise(u.session, credit_code, locale))
    if found is None or not principal.can_read(found["credit_code"], found["region_code"]) and not _receiving(principal, found):
        raise archive_not_found(credit_code)
    return found


def archive_not_found(credit_code: str) -> Refusal:
    """404 for an employer without an archive, or one outside the caller's reach: the same answer."""
    return Refusal(404, "errors.archive.not_found", {"credit_code": credit_code})


def _receiving(principal: Principal, found: dict) -> bool:
    """Staff (or an auditor) of the region a pending transfer of the employer goes to."""
    transfer = found.get("transfer")
    return (
        principal.role != "employer"
        and transfer is not None
        and transfer["status"] == "pending"
        and principal.covers_region(transfer["to"])
    )


@router.get(
    "/enterprises",
    summary="List archived employers by region (county, city or province code), category, industry and overdue assessment, a page at a time",
    description="Staff and auditors list inside their jurisdiction (default: all of it); an employer sees only its own record.",
    responses={403: {"description": "region_code is outside the token's jurisdiction"}},
)
async def list_enterprises(
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    region_code: RegionQuery = None,
    category: Category | None = Query(default=None, description="综合风险类别"),
    industry: str | None = Query(
        default=None, min_length=1, max_length=5, pattern=r"^[A-Z][0-9]{0,4}$",
        description="GB/T 4754-2017 code or its start (门类 letter, 大类 …, e.g. C or C30): employers any of whose industry codes begins so",
    ),
    overdue: bool = Query(
        default=False, description="only employers whose re-assessment (3 years) or first assessment (2 months after starting "
        "production) is overdue today (China date), as GET /reminders counts them",
    ),
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
) -> dict:
    own = principal.credit_code if principal.role == "employer" else None
    if own is None:  # staff and auditors: inside their jurisdiction only
        region_code = listed_region(principal, region_code)
    elif region_code is not None and (problem := region_problem(region_code)):
        raise Refusal(422, problem.code, problem.params, field="region_code")
    prefix = region_prefix(region_code) if region_code else None
    overdue_on = china_today() if overdue else None

    total, items = await uow.run(lambda u: views.enterprises(u.session, prefix, category, limit, offset, credit_code=own,
                                                             industry=industry, overdue_on=overdue_on))
    return {"total": total, "limit": limit, "offset": offset, "items": items}
