"""Registry HTTP API: parse, delegate to views, answer."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request

from services.registry import views
from shared.db import in_session
from shared.jurisdiction import region_prefix
from shared.identifiers import credit_code_problem, region_problem

router = APIRouter(tags=["archive 分类监督执法档案"])


def _engine(request: Request):  # noqa: ANN202
    return request.app.state.runtime.engine


@router.get("/enterprises/{credit_code}", summary="One employer's archive: current classification, trace and history")
async def get_enterprise(credit_code: str, request: Request) -> dict:
    problem = credit_code_problem(credit_code)
    if problem:
        raise HTTPException(status_code=422, detail=f"credit_code: 统一社会信用代码 {problem}")

    found = await in_session(_engine(request), lambda session: views.enterprise(session, credit_code))
    if found is None:
        raise HTTPException(status_code=404, detail=f"no archive for {credit_code}")
    return found


@router.get("/enterprises", summary="List archived employers by region (county, city or province code) and category")
async def list_enterprises(
    request: Request,
    region_code: str | None = Query(default=None, description="GB/T 2260 code; a city or province code covers its counties"),
    category: Literal["甲", "乙", "丙"] | None = Query(default=None, description="综合风险类别"),
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> dict:
    if region_code is not None:
        problem = region_problem(region_code)
        if problem:
            raise HTTPException(status_code=422, detail=f"region_code: {problem}")
    prefix = region_prefix(region_code) if region_code else None

    total, items = await in_session(_engine(request), lambda session: views.enterprises(session, prefix, category, limit, offset))
    return {"total": total, "limit": limit, "offset": offset, "items": items}
