"""Registry HTTP API for auditors: the hash-chained change log of each county (RULES §8).

Staff (county, city, province) and auditors read the chains of the counties in their
jurisdiction; any other county, and any employer token, gets 404 as if the chain did not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlmodel import Session

from services.registry.adapters.orm import ChainHeadRecord
from services.registry.service_layer import chain_log
from shared.auth import Principal, authenticate, not_found
from shared.db import in_session
from shared.identifiers import county_region_problem

router = APIRouter(prefix="/audit", tags=["audit 防篡改变更链"])


def _check_region(region_code: str, principal: Principal) -> None:
    if problem := county_region_problem(region_code):
        raise HTTPException(status_code=422, detail=f"region_code: {problem}")
    if principal.role == "employer" or not principal.covers_region(region_code):
        raise not_found(f"change log for region {region_code}")


@router.get(
    "/chain/{region_code}/verify",
    summary="Verify one county's hash-chained change log",
    description="Recomputes every entry's hash and link. `first_broken` names the first entry that fails, or is null.",
)
async def verify_chain(region_code: str, request: Request, principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    _check_region(region_code, principal)
    engine = request.app.state.runtime.engine
    return await in_session(engine, lambda session: chain_log.verify_view(region_code, chain_log.verify_region(session, region_code)))


def list_chain(session: Session, region_code: str, from_seq: int, limit: int) -> dict[str, Any]:
    entries = chain_log.region_entries(session, region_code, from_seq, limit)
    head = session.get(ChainHeadRecord, region_code)
    return {
        "region_code": region_code,
        "from_seq": from_seq,
        "limit": limit,
        "items": [chain_log.entry_view(e) for e in entries],
        "next_from_seq": entries[-1].seq + 1 if len(entries) == limit else None,  # type: ignore[operator]
        "head": {"last_seq": head.last_seq, "last_hash": head.last_hash} if head is not None else None,
    }


@router.get(
    "/chain/{region_code}",
    summary="One county's change log, oldest first, with each entry's hash and link",
    description="Page with `from_seq` (inclusive) and `limit`; `next_from_seq` is null on the last page. "
    "`head` is the region's last entry as the registry recorded it: keep a copy to detect a rewritten tail later.",
)
async def get_chain(
    region_code: str,
    request: Request,
    principal: Principal = Depends(authenticate),
    from_seq: int = Query(default=1, ge=1, description="first seq to return (seqs are shared by all regions: gaps are normal)"),
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    _check_region(region_code, principal)
    engine = request.app.state.runtime.engine
    return await in_session(engine, lambda session: list_chain(session, region_code, from_seq, limit))
