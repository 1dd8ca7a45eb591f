"""Sampling HTTP API: the pools."""

from __future__ import annotations

from fastapi import APIRouter, Path

from services.sampling import views
from services.sampling.entrypoints.plans import region_refusal
from shared.errors import Refusal
from shared.http import ReaderPrincipal, UnitOfWorkDep
from shared.identifiers import region_problem

router = APIRouter(tags=["pools 检查对象名录库"])


@router.get(
    "/pools/{region_code}",
    summary="Sampling pools of a county (or of every county in a city or province): count and members per category",
    description="For supervision staff and auditors, inside their jurisdiction; a region outside it answers 404. "
    "Employers with a 免检 in force are listed apart (`exempted`) and not counted. Each member's `monitoring` is its "
    "online-monitoring coverage as the monitoring service last announced it (period, declared hazards, devices, reporting "
    "devices and exceedance episodes per factor; null without devices): the facts the non-site rule weighs at the draw.",
    responses={403: {"description": "an employer's token: the pools are not for employers"}},
)
async def get_pools(principal: ReaderPrincipal, uow: UnitOfWorkDep, region_code: str = Path(min_length=1, max_length=12)) -> dict:
    if problem := region_problem(region_code):
        raise region_refusal(region_code, problem)
    if not principal.covers_region(region_code):
        raise Refusal(404, "sampling.error.pools_not_found", {"region_code": region_code})
    return await uow.run(lambda u: views.pools(u.session, region_code))
