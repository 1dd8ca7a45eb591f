"""一公开: the public pages, no sign-in. The list of published draws, and the publication of one draw, which
verifies itself in the reader's browser (``static/js/public-plan.js`` recomputes the draw from the publication
embedded in the page: never the server's answer). The publication is also offered as the JSON and the .xlsx the
sampling service published, byte for byte, for anyone to verify with their own tools.

No visitor and no token: these pages call the sampling service's public routes only.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.console.adapters.services import ApiAnswer
from services.console.entrypoints.web import field_problems, render
from shared.dates import CHINA
from shared.errors import Refusal

router = APIRouter()

PAGE_SIZE = 20  # published draws per page of the list
POOL_ROWS_SHOWN = 2000  # a province's pool (up to 200,000 employers) is in the JSON and the .xlsx, not in the page
PLAN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CATEGORIES = ("甲", "乙", "丙")
STATUS_WORDS = {"committed": "已公开承诺值，尚未抽取", "drawn": "已抽取、检查中", "completed": "已完成", "handed_down": "已下发各县"}
OUTCOME_WORDS = {"compliant": "符合要求", "violations": "发现违法行为", "not_inspected": "未检查"}
SELECTION_WORDS = {"random": "随机抽取", "full_coverage": "全覆盖"}


def _plan_id(value: str) -> str:
    """A plan id as the sampling service makes them; anything else is no page (404), and never reaches a URL."""
    if not PLAN_ID.match(value):
        raise Refusal(404, "console.page.not_found")
    return value


def china_time(value: Any) -> str:
    """An ISO 8601 moment in China time (``2026年6月1日 14:03``; one without an offset was written in UTC, as the
    services store them); anything else as it is."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(CHINA)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


async def _public(request: Request, path: str, **params: Any) -> ApiAnswer:
    """A public route of the sampling service, without a token. A service that is down raises ServiceDown (a 503 page)."""
    return await request.app.state.apis.call("sampling", "GET", path, token=None, params=params)


async def _publication(request: Request, plan_id: str, suffix: str = "") -> ApiAnswer:
    answer = await _public(request, f"/plans/{_plan_id(plan_id)}/publication{suffix}")
    if answer.status == 404 or not answer.ok:
        raise Refusal(404, "console.page.not_found")  # unknown plan: no publication
    return answer


@router.get("/public/plans", response_class=HTMLResponse, summary="一公开: the published draws, newest first (no sign-in)")
async def publications(request: Request, region_code: Annotated[str | None, Query(max_length=12)] = None,
                       period: Annotated[str | None, Query(max_length=6)] = None,
                       page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    region_code, period = (region_code or "").strip() or None, (period or "").strip() or None
    answer = await _public(request, "/publications", region_code=region_code, period=period, limit=PAGE_SIZE,
                           offset=(page - 1) * PAGE_SIZE)
    listed = answer.body if answer.ok and isinstance(answer.body, dict) else {"items": [], "total": 0}
    items = [{**item, "published_local": china_time(item.get("published_at"))} for item in listed.get("items", [])]
    return render(request, "public/plans.html", None, 200 if answer.ok else answer.status, items=items, total=listed.get("total", 0),
                  page=page, size=PAGE_SIZE, region_code=region_code or "", period=period or "",
                  problems=field_problems(answer) if not answer.ok else {}, refusal=None if answer.ok else answer.detail)


@router.get("/public/plans/{plan_id}.json", summary="The publication of a draw as the sampling service published it (JSON)")
async def publication_json(request: Request, plan_id: str) -> Response:
    answer = await _publication(request, plan_id)
    return Response(answer.content, media_type="application/json",
                    headers={"Content-Disposition": f'inline; filename="publication-{plan_id}.json"'})


@router.get("/public/plans/{plan_id}.xlsx", summary="The publication of a draw as .xlsx (计划, 名录, 抽取结果, 检查结果)")
async def publication_xlsx(request: Request, plan_id: str) -> Response:
    answer = await _publication(request, plan_id, ".xlsx")
    headers = {"Content-Disposition": answer.headers.get("content-disposition", f'attachment; filename="publication-{plan_id}.xlsx"')}
    return Response(answer.content, media_type=answer.headers.get("content-type", "application/octet-stream"), headers=headers)


@router.get("/public/plans/{plan_id}", response_class=HTMLResponse, summary="一公开: the publication of one draw, verified in the browser")
async def publication_page(request: Request, plan_id: str) -> HTMLResponse:
    answer = await _publication(request, plan_id)
    publication = answer.body
    if not isinstance(publication, dict) or not isinstance(publication.get("plan"), dict):
        raise Refusal(404, "console.page.not_found")
    draw = publication.get("draw") if isinstance(publication.get("draw"), dict) else None
    results = {r.get("task_id"): r for r in publication.get("results") or [] if isinstance(r, dict)}
    pool = (draw or {}).get("pool") or []
    return render(request, "public/plan.html", None, publication=publication, plan=publication["plan"], draw=draw, results=results,
                  pool_shown=pool[:POOL_ROWS_SHOWN], pool_size=len(pool), drawn_local=china_time((draw or {}).get("drawn_at")),
                  created_local=china_time(publication["plan"].get("created_at")),
                  CATEGORIES=CATEGORIES, STATUS_WORDS=STATUS_WORDS, OUTCOME_WORDS=OUTCOME_WORDS, SELECTION_WORDS=SELECTION_WORDS)
