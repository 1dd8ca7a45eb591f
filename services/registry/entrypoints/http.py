"""Registry HTTP API: parse, delegate to views, answer."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from services.registry import views
from shared.auth import Principal, authenticate, not_found
from shared.db import in_session
from shared.jurisdiction import region_prefix
from shared.identifiers import credit_code_problem, region_problem

router = APIRouter(tags=["archive 分类监督执法档案"])


def _engine(request: Request):  # noqa: ANN202
    return request.app.state.runtime.engine


@router.get("/enterprises/{credit_code}", summary="One employer's archive: current classification, trace and history")
async def get_enterprise(credit_code: str, request: Request, principal: Principal = Depends(authenticate)) -> dict:
    problem = credit_code_problem(credit_code)
    if problem:
        raise HTTPException(status_code=422, detail=f"credit_code: 统一社会信用代码 {problem}")

    found = await in_session(_engine(request), lambda session: views.enterprise(session, credit_code))
    if found is None or not principal.can_read(found["credit_code"], found["region_code"]):
        raise not_found(f"archive for {credit_code}")
    return found


@router.get(
    "/enterprises",
    summary="List archived employers by region (county, city or province code) and category",
    description="Staff and auditors list inside their jurisdiction (default: all of it); an employer sees only its own record.",
    responses={403: {"description": "region_code is outside the token's jurisdiction"}},
)
async def list_enterprises(
    request: Request,
    principal: Principal = Depends(authenticate),
    region_code: str | None = Query(
        default=None, description="GB/T 2260 code; a city or province code covers its counties (default: the token's region)"
    ),
    category: Literal["甲", "乙", "丙"] | None = Query(default=None, description="综合风险类别"),
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> dict:
    if region_code is not None:
        problem = region_problem(region_code)
        if problem:
            raise HTTPException(status_code=422, detail=f"region_code: {problem}")
    own = principal.credit_code if principal.role == "employer" else None
    if own is None:  # staff and auditors: inside their jurisdiction only
        region_code = region_code or principal.region_code
        if region_code is None or not principal.covers_region(region_code):
            raise HTTPException(
                status_code=403,
                detail=f"region_code {region_code} is outside the jurisdiction of this {principal.role} token ({principal.region_code})",
            )
    prefix = region_prefix(region_code) if region_code else None

    total, items = await in_session(
        _engine(request), lambda session: views.enterprises(session, prefix, category, limit, offset, credit_code=own)
    )
    return {"total": total, "limit": limit, "offset": offset, "items": items}
