"""Sampling HTTP API."""

from __future__ import annotations


from fastapi import APIRouter, HTTPException, Request
from sqlmodel import col, select

from services.sampling.adapters.orm import PoolMember
from services.sampling.domain.pools import CATEGORIES
from shared.db import in_session
from shared.identifiers import region_problem
from shared.jurisdiction import region_prefix

router = APIRouter(tags=["pools 检查对象名录库"])


@router.get(
    "/pools/{region_code}",
    summary="Sampling pools of a county (or of every county in a city or province): count and members per category",
)
async def get_pools(region_code: str, request: Request) -> dict:
    problem = region_problem(region_code)
    if problem:
        raise HTTPException(status_code=422, detail=f"region_code: {problem}")

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
