"""Sampling plans, draws, publication (一公开), verification, results, statistics, the roster: HTTP.

Staff (county / city / province) create plans, draw and record results inside their jurisdiction;
auditors read; employers have no access. The publication of a plan and ``POST /verify`` are public
(no token): that is the 一公开.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services.sampling.adapters.orm import Plan, Task
from services.sampling.domain.draw import DrawRefused
from services.sampling.domain.publication import Unusable, verify
from services.sampling.service_layer import plans as uc
from shared.auth import Principal, authenticate, not_found
from shared.dates import china_today
from shared.db import in_session
from shared.identifiers import region_problem
from shared.rule_data import NoApplicableRules
from shared.runtime import content_disposition, invalid

log = logging.getLogger(__name__)
router = APIRouter(tags=["plans and draws 双随机、一公开"])
public = APIRouter(tags=["publication 一公开 (no token)"])
roster_router = APIRouter(tags=["inspectors 执法检查人员名录库"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _engine(request: Request):  # noqa: ANN202
    return request.app.state.runtime.engine


def _not_employer(principal: Principal, what: str) -> None:
    if principal.role == "employer":
        raise HTTPException(status_code=403, detail=f"{what} are for supervision staff and auditors, not employers")


def _acting(principal: Principal, what: str) -> None:
    _not_employer(principal, what)
    if not principal.is_staff:
        raise HTTPException(status_code=403, detail=f"an auditor reads {what} but does not act on them")


def _check_region(region_code: str) -> None:
    if problem := region_problem(region_code):
        raise HTTPException(status_code=422, detail=f"region_code: {problem}")


def _readable_plan(session: Session, plan_id: str, principal: Principal) -> Plan | None:
    plan = session.get(Plan, plan_id)
    if plan is None or not principal.covers_region(plan.region_code):
        return None
    return plan


# --------------------------------------------------------------------------- plans


@router.post("/plans", status_code=201, summary="Create a sampling plan; its seed is committed (SHA-256) at once",
             description="Staff, for a region inside their jurisdiction. Ratios, minimum counts, full-coverage industries, "
             "甲 non-site and inspectors per task default to the rule file in force; the body may override them. "
             "`hand_down: true` on a city or province creates one plan per county with employers in the pools.",
             responses={403: {"description": "not staff, or the region is outside the token's jurisdiction"}})
async def post_plan(body: uc.PlanIn, request: Request, principal: Principal = Depends(authenticate)) -> Any:
    _acting(principal, "sampling plans")
    if not principal.covers_region(body.region_code):
        raise HTTPException(status_code=403, detail=f"region {body.region_code} is outside the jurisdiction of this "
                            f"{principal.role} token ({principal.region_code})")
    rules = request.app.state.sampling_rules

    def create(session: Session) -> dict[str, Any]:
        plan = uc.create_plan(session, body, rules, principal.describe())
        session.commit()
        return uc.plan_view(session, plan)

    try:
        view = await in_session(_engine(request), create)
    except uc.Invalid as exc:
        return invalid(exc.errors, "the plan is invalid")
    except NoApplicableRules as exc:
        return invalid([{"field": "region_code", "message": str(exc)}], "the plan is invalid")
    log.info("plan %s (%s %s) created by %s", view["id"], body.region_code, body.period, principal.describe())
    await request.app.state.runtime.relay.flush()
    return view


@router.get("/plans", summary="Plans of a region (default: the token's), optionally of a period")
async def get_plans(request: Request, region_code: str | None = Query(default=None), period: str | None = Query(default=None),
                    principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    _not_employer(principal, "sampling plans")
    code = region_code or principal.region_code or ""
    _check_region(code)
    if not principal.covers_region(code):
        raise not_found(f"plans for {code}")
    items = await in_session(_engine(request), lambda session: uc.list_plans(session, code, period))
    return {"region_code": code, "period": period, "items": items}


@router.get("/plans/{plan_id}", summary="One plan: parameters, commitment, status, its draw and tasks with their results")
async def get_plan(plan_id: str, request: Request, principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    _not_employer(principal, "sampling plans")

    def load(session: Session) -> dict[str, Any] | None:
        plan = _readable_plan(session, plan_id, principal)
        return uc.plan_view(session, plan) if plan else None

    view = await in_session(_engine(request), load)
    if view is None:
        raise not_found(f"plan {plan_id}")
    return view


@router.post("/plans/{plan_id}/draw", summary="Draw the plan's targets and inspectors (once: a second call returns the first draw)",
             responses={409: {"description": "a handed-down plan: draw each county's plan"},
                        422: {"description": "too few inspectors without a conflict for a target (named)"}})
async def post_draw(plan_id: str, request: Request, principal: Principal = Depends(authenticate)) -> Any:
    _not_employer(principal, "sampling plans")

    def run(session: Session) -> tuple[dict[str, Any], bool] | None:
        plan = _readable_plan(session, plan_id, principal)
        if plan is None:
            return None
        _acting(principal, "sampling plans")
        stored, created = uc.draw_plan(session, plan, principal.describe())
        try:
            session.commit()
        except IntegrityError:  # drawn at the same moment by another request: theirs is the draw
            session.rollback()
            stored, created = uc.draw_plan(session, plan, principal.describe())
        return uc.draw_view(plan, stored), created

    try:
        found = await in_session(_engine(request), run)
    except DrawRefused as exc:
        return invalid([{"field": "inspectors", "message": p["message"]} for p in exc.problems],
                       "the draw is impossible: too few inspectors without a conflict (回避)")
    except uc.Conflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    if found is None:
        raise not_found(f"plan {plan_id}")
    view, created = found
    if created:
        log.info("plan %s drawn by %s: %s targets", plan_id, principal.describe(), len(view["targets"]))
        await request.app.state.runtime.relay.flush()
    return JSONResponse(status_code=201 if created else 200, content=view)


@router.get("/tasks", summary="The tasks of a plan, with inspectors and results")
async def get_tasks(request: Request, plan_id: str = Query(), principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    _not_employer(principal, "inspection tasks")

    def load(session: Session) -> list[dict[str, Any]] | None:
        plan = _readable_plan(session, plan_id, principal)
        return uc.tasks_view(session, plan.id) if plan else None

    items = await in_session(_engine(request), load)
    if items is None:
        raise not_found(f"plan {plan_id}")
    return {"plan_id": plan_id, "items": items}


@router.post("/tasks/{task_id}/result", summary="Record an inspection's outcome; violations go to the penalty service",
             description="compliant, violations (each with its §7 item code; one penalty case each, "
             "`ohs.inspections.violation-recorded`), or not_inspected with a reason. The same result again: no change; "
             "a different one: 409.",
             responses={409: {"description": "the task already has a different result"}})
async def post_result(task_id: str, body: uc.ResultIn, request: Request, principal: Principal = Depends(authenticate)) -> Any:
    _not_employer(principal, "inspection tasks")
    problems = body.problems(china_today())

    def store(session: Session) -> tuple[dict[str, Any], bool] | None:
        task = session.get(Task, task_id)
        if task is None or not principal.covers_region(task.region_code):
            return None
        _acting(principal, "inspection tasks")
        if problems:
            raise uc.Invalid(problems, "the result is invalid")
        view, created = uc.record_result(session, task, body, principal.describe())
        try:
            session.commit()
        except IntegrityError:  # recorded at the same moment by another request: compare with theirs
            session.rollback()
            view, created = uc.record_result(session, task, body, principal.describe())
        return view, created

    try:
        found = await in_session(_engine(request), store)
    except uc.Invalid as exc:
        return invalid(exc.errors, exc.detail)
    except uc.Conflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    if found is None:
        raise not_found(f"task {task_id}")
    view, created = found
    if created:
        log.info("result of task %s (%s) recorded by %s", task_id, body.outcome, principal.describe())
        await request.app.state.runtime.relay.flush()
    return JSONResponse(status_code=201 if created else 200, content={"task_id": task_id, **view})


# --------------------------------------------------------------------------- statistics


@router.get("/plans/{plan_id}/statistics", summary="Coverage, completion and violation rates of one plan, per category and county")
async def get_plan_statistics(plan_id: str, request: Request, principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    _not_employer(principal, "sampling statistics")

    def load(session: Session) -> dict[str, Any] | None:
        plan = _readable_plan(session, plan_id, principal)
        if plan is None:
            return None
        plans = uc.children_of(session, plan) if plan.hand_down else [plan]
        return {"plan_id": plan.id, "region_code": plan.region_code, "period": plan.period, **uc.statistics(session, plans)}

    view = await in_session(_engine(request), load)
    if view is None:
        raise not_found(f"plan {plan_id}")
    return view


@router.get("/statistics/{region_code}", summary="Coverage, completion and violation rates of every drawn plan of a region")
async def get_region_statistics(region_code: str, request: Request, period: str | None = Query(default=None, description="2026 (its quarters too) or 2026Q1"),
                                principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    _not_employer(principal, "sampling statistics")
    _check_region(region_code)
    if not principal.covers_region(region_code):
        raise not_found(f"statistics for {region_code}")

    def load(session: Session) -> dict[str, Any]:
        return {"region_code": region_code, "period": period,
                **uc.statistics(session, uc.plans_for_statistics(session, region_code, period))}

    return await in_session(_engine(request), load)


# --------------------------------------------------------------------------- public: publication and verification


@public.get("/plans/{plan_id}/publication", summary="The public record of a plan (一公开): no token",
            description="Before the draw: the plan and the commitment. After it: the seed, the pool (credit code, category, "
            "full coverage) with its hash and version, the roster with declared conflicts, the targets with their inspectors, "
            "and the results recorded so far. `POST /verify` (or `python -m services.sampling.verify`) recomputes the draw.")
async def get_publication(plan_id: str, request: Request) -> dict[str, Any]:
    def load(session: Session) -> dict[str, Any] | None:
        plan = session.get(Plan, plan_id)
        return uc.publication(session, plan) if plan else None

    doc = await in_session(_engine(request), load)
    if doc is None:
        raise not_found(f"plan {plan_id}")
    return doc


@public.get("/plans/{plan_id}/publication.xlsx", summary="The public record as .xlsx: sheets 计划, 名录, 抽取结果, 检查结果",
            response_class=Response, responses={200: {"content": {XLSX: {}}}})
async def get_publication_xlsx(plan_id: str, request: Request) -> Response:
    def load(session: Session) -> tuple[dict[str, Any], bytes] | None:
        plan = session.get(Plan, plan_id)
        if plan is None:
            return None
        doc = uc.publication(session, plan)
        return doc, uc.publication_xlsx(doc)

    found = await in_session(_engine(request), load)
    if found is None:
        raise not_found(f"plan {plan_id}")
    doc, content = found
    plan = doc["plan"]
    disposition = content_disposition("attachment", f"sampling-{plan['region_code']}-{plan['period']}-{plan_id[:8]}.xlsx",
                                      f"双随机抽查-{plan['region_code']}-{plan['period']}-{plan_id[:8]}.xlsx")
    return Response(content, media_type=XLSX, headers={"Content-Disposition": disposition})


@public.post("/verify", summary="Recompute a published draw: match, or the first difference (no token)")
async def post_verify(publication: Any = Body(description="a publication, as GET /plans/{id}/publication returns it")) -> Any:
    try:
        return verify(publication)
    except Unusable as exc:
        return invalid([{"field": "(body)", "message": str(exc)}], "not a usable publication")


# --------------------------------------------------------------------------- the roster


def _roster_acting(principal: Principal, region_code: str) -> None:
    _acting(principal, "inspector rosters")
    _check_region(region_code)
    if not principal.covers_region(region_code):
        raise HTTPException(status_code=403, detail=f"region {region_code} is outside the jurisdiction of this "
                            f"{principal.role} token ({principal.region_code})")


@roster_router.put("/inspectors/{region_code}", summary="Replace an agency's inspector roster (with declared conflicts)")
async def put_roster(region_code: str, body: uc.RosterIn, request: Request, principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    _roster_acting(principal, region_code)

    def store(session: Session) -> dict[str, Any]:
        uc.replace_roster(session, region_code, body)
        session.commit()
        return uc.roster_view(session, region_code)

    view = await in_session(_engine(request), store)
    log.info("roster of %s replaced by %s: %s inspectors", region_code, principal.describe(), len(body.inspectors))
    return view


@roster_router.get("/inspectors/{region_code}", summary="An agency's inspector roster")
async def get_roster(region_code: str, request: Request, principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    _not_employer(principal, "inspector rosters")
    _check_region(region_code)
    if not principal.covers_region(region_code):
        raise not_found(f"roster for {region_code}")
    return await in_session(_engine(request), lambda session: uc.roster_view(session, region_code))


@roster_router.post("/inspectors/{region_code}/conflicts", status_code=201, summary="Declare an inspector's conflict with an employer (回避)")
async def post_conflict(region_code: str, body: uc.ConflictIn, request: Request, principal: Principal = Depends(authenticate)) -> Any:
    _roster_acting(principal, region_code)

    def store(session: Session) -> dict[str, Any]:
        uc.add_conflict(session, region_code, body)
        session.commit()
        return uc.roster_view(session, region_code)

    try:
        return await in_session(_engine(request), store)
    except uc.Invalid as exc:
        return invalid(exc.errors, "the conflict is invalid")
