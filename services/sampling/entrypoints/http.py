"""Sampling HTTP API."""

from __future__ import annotations


from fastapi import APIRouter, Depends, HTTPException, Request
from sqlmodel import col, select

from services.sampling.adapters.orm import PoolMember
from services.sampling.domain.pools import CATEGORIES
from shared.auth import Principal, authenticate, not_found
from shared.db import in_session
from shared.identifiers import region_problem
from shared.jurisdiction import region_prefix

router = APIRouter(tags=["pools 检查对象名录库"])


@router.get(
    "/pools/{region_code}",
    summary="Sampling pools of a county (or of every county in a city or province): count and members per category",
    description="For supervision staff and auditors, inside their jurisdiction; a region outside it answers 404.",
    responses={403: {"description": "an employer's token: the pools are not for employers"}},
)
async def get_pools(region_code: str, request: Request, principal: Principal = Depends(authenticate)) -> dict:
    if principal.role == "employer":
        raise HTTPException(status_code=403, detail="the sampling pools are for supervision staff and auditors, not employers")
    problem = region_problem(region_code)
    if problem:
        raise HTTPException(status_code=422, detail=f"region_code: {problem}")
    if not principal.covers_region(region_code):
        raise not_found(f"pools for {region_code}")

    query = (
        select(PoolMember)
        .where(col(PoolMember.region_code).startswith(region_prefix(region_code)))
        .order_by(col(PoolMember.credit_code))
    )
    members = await in_session(request.app.state.runtime.engine, lambda session: list(session.exec(query)))
    pools = {c: [m for m in members if m.category == c] for c in CATEGORIES}
    return {
        "region_code": region_code,
        "counts": {c: len(pools[c]) for c in CATEGORIES},
        "total": len(members),
        "members": {
            c: [
                {"credit_code": m.credit_code, "name": m.enterprise_name, "region_code": m.region_code,
                 "archive_version": m.archive_version, "updated_at": m.updated_at.isoformat()}
                for m in pools[c]
            ]
            for c in CATEGORIES
        },
    }
