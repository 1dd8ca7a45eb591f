"""Registry HTTP API for auditors: the hash-chained change log of each county (RULES §8).

Staff (county, city, province) and auditors read the chains of the counties in their
jurisdiction; any other county, and any employer token, gets 404 as if the chain did not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from services.registry import views
from shared.auth import Principal
from shared.errors import Refusal
from shared.http import LimitQuery, CurrentPrincipal, UnitOfWorkDep
from shared.identifiers import county_region_problem

router = APIRouter(prefix="/audit", tags=["audit 防篡改变更链"])
RegionPath = Annotated[str, Path(min_length=1, max_length=12, description="county-level GB/T 2260 code")]


def _check_region(region_code: str, principal: Principal) -> None:
    if problem := county_region_problem(region_code):
        raise Refusal(422, problem.code, problem.params, field="region_code")
    if principal.role == "employer" or not principal.covers_region(region_code):
        raise Refusal(404, "errors.audit.chain_not_found", {"region_code": region_code})


@router.get(
    "/chain/{region_code}/verify",
    summary="Verify one county's hash-chained change log",
    description="Recomputes every entry's hash and link. `first_broken` names the first entry that fails, or is null.",
)
async def verify_chain(region_code: RegionPath, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> dict[str, Any]:
    _check_region(region_code, principal)
    return await uow.run(lambda u: views.chain_verification(u.session, region_code))


@router.get(
    "/chain/{region_code}",
    summary="One county's change log, oldest first, with each entry's hash and link",
    description="Page with `from_seq` (inclusive) and `limit`; `next_from_seq` is null on the last page. "
    "`head` is the region's last entry as the registry recorded it: keep a copy to detect a rewritten tail later.",
)
async def get_chain(
    region_code: RegionPath,
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    from_seq: int = Query(default=1, ge=1, le=2**63 - 1, description="first seq to return (seqs are shared by all regions: gaps are normal)"),
    limit: LimitQuery = 100,
) -> dict[str, Any]:
    _check_region(region_code, principal)
    return await uow.run(lambda u: views.chain_page(u.session, region_code, from_seq, limit))
