"""Sampling plans, draws, publication (一公开), verification, results, statistics, the roster: HTTP.

Staff (county / city / province) create plans, draw and record results inside their jurisdiction;
auditors read; employers have no access. The publication of a plan, the list of published draws
(``GET /publications``) and ``POST /verify`` are public (no token): that is the 一公开. Routes parse,
authorise and hand the work to the service layer (commands) or to ``services/sampling/views.py`` (reads).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from services.sampling import views
from services.sampling.adapters.xlsx import publication_xlsx
from services.sampling.domain.draw import DrawRefused
from services.sampling.domain.publication import TooLarge, Unusable, mismatch_text, verify
from services.sampling.service_layer import plans, results, roster
from services.sampling.service_layer.commands import (
    PERIOD_PATTERN,
    ConflictIn,
    PlanIn,
    ResultIn,
    RosterIn,
    parse_publication,
    publication_schema,
)
from services.sampling.service_layer.errors import Conflict, Invalid, Problem
from shared.auth import Principal
from shared.dates import china_today
from shared.errors import Issue, Refusal, once_more_after_a_race, validation_issues
from shared.http import OffsetQuery, ReaderLocale, ReaderPrincipal, StaffPrincipal, UnitOfWorkDep, require_staff
from shared.identifiers import credit_code_problem, region_problem
from shared.rule_data import NoApplicableRules
from shared.runtime import content_disposition
from shared.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)
router = APIRouter(tags=["plans and draws 双随机、一公开"])
public = APIRouter(tags=["publication 一公开 (no token)"])
roster_router = APIRouter(tags=["inspectors 执法检查人员名录库"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

RegionPath = Annotated[str, Path(min_length=1, max_length=12, description="GB/T 2260 region code")]
IdPath = Annotated[str, Path(min_length=1, max_length=64)]
PeriodQuery = Annotated[str | None, Query(pattern=PERIOD_PATTERN, max_length=6, description="2026 (its quarters too) or 2026Q1")]
PUBLICATIONS_MAX_LIMIT = 200  # published draws per page of GET /publications
PublicationsLimit = Annotated[int, Query(ge=1, le=PUBLICATIONS_MAX_LIMIT, description="how many draws at most (1–200)")]
VERIFY_MAX_BODY_BYTES = 64 * 1024 * 1024  # a province's publication: 200,000 employers, their targets, the roster
VERIFY_MAX_WORK = 10_000_000  # targets × inspectors the public endpoint recomputes (a few seconds); more: verify offline
ROLE = {"county": "县", "city": "市", "province": "省"}  # a staff token's level, named as a term
_verifier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sampling-verify")  # one at a time, off the event loop


def refused_fields(code: str, params: dict[str, Any], problems: Sequence[Problem], status: int = 422) -> Refusal:
    """Problems of the fields as one refusal (``shared.errors``): ``code``'s sentence, each field with its own code."""
    return Refusal(status, code, params, errors=[Issue(p.field, p.code, p.params) for p in problems])


def _draw_problem(problem: dict[str, Any]) -> Problem:
    """A target the draw cannot staff (or a roster too small), as a problem of ``inspectors``."""
    if problem.get("code"):
        return Problem("inspectors", problem["code"], problem.get("params") or {})
    return Problem("inspectors", "sampling.error.draw_problem", {"problem": problem.get("message", "")})


def region_refusal(region_code: str, problem: str) -> Refusal:
    """422 on region_code: the check's own code when it has one (``shared.problems.Problem``), else ours."""
    code = getattr(problem, "code", None)
    if code:
        return Refusal(422, code, getattr(problem, "params", {}), field="region_code")
    return Refusal(422, "sampling.error.region_code_invalid", {"region_code": region_code, "problem": str(problem)}, field="region_code")


def _check_region(region_code: str) -> None:
    if problem := region_problem(region_code):
        raise region_refusal(region_code, problem)


def _acts_in(principal: Principal, region_code: str) -> None:
    """Staff act inside their jurisdiction only: 403 outside it."""
    if not principal.covers_region(region_code):
        raise Refusal(403, "sampling.error.outside_jurisdiction", {"region_code": region_code, "role": ROLE.get(principal.role, principal.role),
                                                                    "token_region": principal.region_code or "—"})


def _not_found(code: str, **params: Any) -> Refusal:
    return Refusal(404, code, params)


async def _readable(uow: UnitOfWorkFactory[Any], principal: Principal, region_of: Callable[[Session], str | None],
                    missing: Refusal) -> None:
    """404 (``missing``) unless the record exists inside the caller's jurisdiction (``region_of``: its region, None: no record)."""
    region = await uow.run(lambda u: region_of(u.session))
    if region is None or not principal.covers_region(region):
        raise missing


# --------------------------------------------------------------------------- plans


@router.post("/plans", status_code=201, summary="Create a sampling plan; its seed is committed (SHA-256) at once",
             description="Staff, for a region inside their jurisdiction. Ratios, minimum counts, full-coverage industries, "
             "甲 non-site and inspectors per task default to the rule file in force; the body may override them. "
             "`hand_down: true` on a city or province creates one plan per county with employers in the pools.",
             responses={403: {"description": "not staff, or the region is outside the token's jurisdiction"}})
async def post_plan(body: PlanIn, request: Request, principal: StaffPrincipal, uow: UnitOfWorkDep) -> Any:
    _acts_in(principal, body.region_code)
    rules = request.app.state.sampling_rules
    try:
        plan_id = await uow.run(lambda u: plans.create_plan(u, body, rules, principal.describe()))
    except Invalid as exc:
        raise refused_fields(exc.code, exc.params, exc.problems) from exc
    except NoApplicableRules as exc:
        raise Refusal(422, "sampling.error.no_rules", {"region_code": body.region_code}, field="region_code") from exc
    log.info("plan %s (%s %s) created by %s", plan_id, body.region_code, body.period, principal.describe())
    return await uow.run(lambda u: views.plan(u.session, plan_id))


@router.get("/plans", summary="Plans of a region (default: the token's), optionally of a period")
async def get_plans(principal: ReaderPrincipal, uow: UnitOfWorkDep, region_code: str | None = Query(default=None, max_length=12),
                    period: PeriodQuery = None) -> dict[str, Any]:
    code = region_code or principal.region_code or ""
    _check_region(code)
    if not principal.covers_region(code):
        raise _not_found("sampling.error.plans_not_found", region_code=code)
    items = await uow.run(lambda u: views.plans(u.session, code, period))
    return {"region_code": code, "period": period, "items": items}


@router.get("/plans/{plan_id}", summary="One plan: parameters, commitment, status, its draw and tasks with their results")
async def get_plan(principal: ReaderPrincipal, uow: UnitOfWorkDep, plan_id: IdPath) -> dict[str, Any]:
    view = await uow.run(lambda u: views.plan(u.session, plan_id))
    if view is None or not principal.covers_region(view["region_code"]):
        raise _not_found("sampling.error.plan_not_found", plan_id=plan_id)
    return view


@router.post("/plans/{plan_id}/draw", summary="Draw the plan's targets and inspectors (once: a second call returns the first draw)",
             responses={409: {"description": "a handed-down plan: draw each county's plan"},
                        422: {"description": "too few inspectors without a conflict for a target (named)"}})
async def post_draw(principal: ReaderPrincipal, uow: UnitOfWorkDep, plan_id: IdPath) -> Any:
    missing = _not_found("sampling.error.plan_not_found", plan_id=plan_id)
    await _readable(uow, principal, lambda session: views.plan_region(session, plan_id), missing)
    await require_staff(principal)
    try:
        created = await uow.run(lambda u: plans.draw(u, plan_id, principal.describe()))
    except DrawRefused as exc:
        raise refused_fields("sampling.error.draw_impossible", {}, [_draw_problem(p) for p in exc.problems]) from exc
    except Conflict as exc:
        raise Refusal(409, exc.code, exc.params) from exc
    view = await uow.run(lambda u: views.draw(u.session, plan_id))
    if created is None or view is None:
        raise missing
    if created:
        log.info("plan %s drawn by %s: %s targets", plan_id, principal.describe(), len(view["targets"]))
    return JSONResponse(status_code=201 if created else 200, content=view)


TASKS_MAX_LIMIT = 200  # a jurisdiction's tasks per page of GET /tasks?region_code=
TasksLimit = Annotated[int, Query(ge=1, le=TASKS_MAX_LIMIT, description="how many tasks at most (1–200; with region_code)")]


@router.get("/tasks", summary="The tasks of a plan, of an employer or of a jurisdiction (drawn and verification tasks), with inspectors and results",
            description="Exactly one of `plan_id` (the plan's tasks in draw order), `credit_code` (the employer's tasks, newest "
            "first: drawn tasks, `kind: random`, and verification tasks of exceedances of online monitoring, `kind: verification`, "
            "each with its reason, deadline, inspectors and status open | unassigned | recorded) and `region_code` (a county, city "
            "or province: its tasks of one `kind`, by default `verification`, those without a result first by nearest deadline, "
            "paged by `limit` and `offset` with the `total`). An employer the service does not know, or outside the caller's "
            "jurisdiction, answers 404 (as a plan does); so does a region outside it.")
async def get_tasks(principal: ReaderPrincipal, uow: UnitOfWorkDep, locale: ReaderLocale,
                    plan_id: str | None = Query(default=None, min_length=1, max_length=64),
                    credit_code: str | None = Query(default=None, min_length=18, max_length=18, description="统一社会信用代码"),
                    region_code: str | None = Query(default=None, min_length=2, max_length=12, description="GB/T 2260 region code"),
                    kind: Literal["verification", "random"] = Query(default="verification", description="with region_code: which tasks"),
                    limit: TasksLimit = 50, offset: OffsetQuery = 0) -> dict[str, Any]:
    given = [name for name, value in (("plan_id", plan_id), ("credit_code", credit_code), ("region_code", region_code)) if value is not None]
    if len(given) != 1:
        raise Refusal(422, "sampling.error.tasks_query", {}, field=given[1] if len(given) > 1 else "plan_id")
    if region_code is not None:
        _check_region(region_code)
        if not principal.covers_region(region_code):
            raise _not_found("sampling.error.region_tasks_not_found", region_code=region_code)
        return await uow.run(lambda u: views.region_tasks(u.session, region_code, kind, limit, offset, locale))
    if credit_code is not None:
        if problem := credit_code_problem(credit_code):
            raise Refusal(422, problem.code, problem.params, field="credit_code")
        missing = _not_found("sampling.error.employer_not_found", credit_code=credit_code)
        await _readable(uow, principal, lambda session: views.employer_region(session, credit_code), missing)
        return {"credit_code": credit_code, "items": await uow.run(lambda u: views.employer_tasks(u.session, credit_code, locale))}
    assert plan_id is not None
    missing = _not_found("sampling.error.plan_not_found", plan_id=plan_id)
    await _readable(uow, principal, lambda session: views.plan_region(session, plan_id), missing)
    return {"plan_id": plan_id, "items": await uow.run(lambda u: views.tasks(u.session, plan_id))}


@router.post("/tasks/{task_id}/result", summary="Record an inspection's outcome; violations go to the penalty service",
             description="compliant, violations (each with its §7 item code; one penalty case each, "
             "`ohs.inspections.violation-recorded`), or not_inspected with a reason. The same result again: no change; "
             "a different one: 409.",
             responses={409: {"description": "the task already has a different result"}})
async def post_result(body: ResultIn, principal: ReaderPrincipal, uow: UnitOfWorkDep, task_id: IdPath) -> Any:
    missing = _not_found("sampling.error.task_not_found", task_id=task_id)
    await _readable(uow, principal, lambda session: views.task_region(session, task_id), missing)
    await require_staff(principal)
    if problems := body.problems(china_today()):
        raise refused_fields("sampling.error.result_invalid", {}, problems)
    try:
        created = await uow.run(lambda u: results.record_result(u, task_id, body, principal.describe()))
    except Conflict as exc:
        raise Refusal(409, exc.code, exc.params) from exc
    view = await uow.run(lambda u: views.result(u.session, task_id))
    if created is None or view is None:
        raise missing
    if created:
        log.info("result of task %s (%s) recorded by %s", task_id, body.outcome, principal.describe())
    return JSONResponse(status_code=201 if created else 200, content={"task_id": task_id, **view})


# --------------------------------------------------------------------------- statistics


@router.get("/plans/{plan_id}/statistics", summary="Coverage, completion and violation rates of one plan, per category and county")
async def get_plan_statistics(principal: ReaderPrincipal, uow: UnitOfWorkDep, plan_id: IdPath) -> dict[str, Any]:
    view = await uow.run(lambda u: views.plan_statistics(u.session, plan_id))
    if view is None or not principal.covers_region(view["region_code"]):
        raise _not_found("sampling.error.plan_not_found", plan_id=plan_id)
    return view


@router.get("/statistics/{region_code}", summary="Coverage, completion and violation rates of every drawn plan of a region")
async def get_region_statistics(principal: ReaderPrincipal, uow: UnitOfWorkDep, region_code: RegionPath,
                                period: PeriodQuery = None) -> dict[str, Any]:
    _check_region(region_code)
    if not principal.covers_region(region_code):
        raise _not_found("sampling.error.statistics_not_found", region_code=region_code)
    return await uow.run(lambda u: views.region_statistics(u.session, region_code, period))


# --------------------------------------------------------------------------- public: publication and verification


@public.get("/plans/{plan_id}/publication", summary="The public record of a plan (一公开): no token",
            description="Before the draw: the plan and the commitment. After it: the seed, the pool (credit code, category, "
            "full coverage) with its hash and version, the roster with declared conflicts, the targets with their inspectors, "
            "and the results recorded so far. `POST /verify` (or `python -m services.sampling.verify`) recomputes the draw.")
async def get_publication(uow: UnitOfWorkDep, plan_id: IdPath) -> dict[str, Any]:
    doc = await uow.run(lambda u: views.publication(u.session, plan_id))
    if doc is None:
        raise _not_found("sampling.error.plan_not_found", plan_id=plan_id)
    return doc


@public.get("/plans/{plan_id}/publication.xlsx", summary="The public record as .xlsx: sheets 计划, 名录, 抽取结果, 检查结果",
            response_class=Response, responses={200: {"content": {XLSX: {}}}})
async def get_publication_xlsx(uow: UnitOfWorkDep, plan_id: IdPath, locale: ReaderLocale) -> Response:
    def load(session: Session) -> tuple[dict[str, Any], bytes] | None:
        doc = views.publication(session, plan_id)
        return (doc, publication_xlsx(doc, locale)) if doc is not None else None

    found = await uow.run(lambda u: load(u.session))
    if found is None:
        raise _not_found("sampling.error.plan_not_found", plan_id=plan_id)
    doc, content = found
    plan = doc["plan"]
    disposition = content_disposition("attachment", f"sampling-{plan['region_code']}-{plan['period']}-{plan_id[:8]}.xlsx",
                                      f"双随机抽查-{plan['region_code']}-{plan['period']}-{plan_id[:8]}.xlsx")
    return Response(content, media_type=XLSX, headers={"Content-Disposition": disposition})


@public.get("/publications", summary="The published draws (一公开), newest first: no token",
            description="Only plans that have been drawn (a plan merely committed, or handed down to its counties, is not "
            "listed). Each item: `plan_id`, the agency's `region_code`, `period`, `published_at` (the draw), `targets` (how many), "
            "`algorithm_version` and the links to its publication; nothing a publication does not already disclose. "
            "`region_code` (a province or city: every region under it) and `period` (2026: its quarters too) filter; "
            "`total` counts every match, `limit` (1–200, default 50) and `offset` page them.")
async def get_publications(uow: UnitOfWorkDep, region_code: Annotated[str | None, Query(min_length=1, max_length=12,
                           description="GB/T 2260 region code: this region and those under it")] = None,
                           period: PeriodQuery = None, limit: PublicationsLimit = 50, offset: OffsetQuery = 0) -> dict[str, Any]:
    if region_code is not None:
        _check_region(region_code)
    return await uow.run(lambda u: views.publications(u.session, region_code, period, limit, offset))


def _verify_body(body: bytes) -> Any:
    """Parse and verify a publication (in the verifier's thread): the outcome, or the 422 naming what is wrong (the
    verifier's own words quoted in ``problem``)."""
    unusable = "sampling.error.publication_unusable"
    try:
        document = parse_publication(body)
    except ValidationError as exc:
        raise Refusal(422, unusable, errors=validation_issues(exc.errors()[:20])) from exc
    except ValueError as exc:  # not JSON
        raise refused_fields(unusable, {}, [Problem("(body)", "sampling.error.not_json", {"problem": str(exc)})]) from exc
    try:
        return verify(document, max_work=VERIFY_MAX_WORK)
    except TooLarge as exc:
        raise refused_fields(unusable, {}, [Problem("(body)", "sampling.error.verify_offline", {"problem": str(exc)})]) from exc
    except Unusable as exc:
        raise refused_fields(unusable, {}, [Problem("(body)", "sampling.error.publication_field", {"problem": str(exc)})]) from exc


@public.post("/verify", summary="Recompute a published draw: match, or the first difference (no token)",
             description="The body is a publication, as GET /plans/{id}/publication returns it (at most 64 MiB, 200,000 "
             "employers, 10,000 inspectors). Verified off the event loop, one at a time; a draw of more than 10,000,000 "
             "targets × inspectors is verified offline (`ohs sampling verify`).",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": publication_schema()}}}})
async def post_verify(request: Request, locale: ReaderLocale) -> Any:
    body = await request.body()
    outcome = await asyncio.get_running_loop().run_in_executor(_verifier, _verify_body, body)
    if not outcome.get("match"):  # the first difference in the reader's language (Chinese by default)
        outcome = {**outcome, "reason": mismatch_text(outcome, locale)}
    return outcome


# --------------------------------------------------------------------------- the roster


@roster_router.put("/inspectors/{region_code}", summary="Replace an agency's inspector roster (with declared conflicts)")
async def put_roster(body: RosterIn, principal: StaffPrincipal, uow: UnitOfWorkDep, region_code: RegionPath) -> dict[str, Any]:
    _check_region(region_code)
    _acts_in(principal, region_code)
    await once_more_after_a_race(lambda: uow.run(lambda u: roster.replace_roster(u, region_code, body)))  # PUT: the same again
    log.info("roster of %s replaced by %s: %s inspectors", region_code, principal.describe(), len(body.inspectors))
    return await uow.run(lambda u: views.roster(u.session, region_code))


@roster_router.get("/inspectors/{region_code}", summary="An agency's inspector roster")
async def get_roster(principal: ReaderPrincipal, uow: UnitOfWorkDep, region_code: RegionPath) -> dict[str, Any]:
    _check_region(region_code)
    if not principal.covers_region(region_code):
        raise _not_found("sampling.error.roster_not_found", region_code=region_code)
    return await uow.run(lambda u: views.roster(u.session, region_code))


@roster_router.post("/inspectors/{region_code}/conflicts", status_code=201, summary="Declare an inspector's conflict with an employer (回避)")
async def post_conflict(body: ConflictIn, principal: StaffPrincipal, uow: UnitOfWorkDep, region_code: RegionPath) -> Any:
    _check_region(region_code)
    _acts_in(principal, region_code)
    try:
        await uow.run(lambda u: roster.add_conflict(u, region_code, body))
    except Invalid as exc:
        raise refused_fields(exc.code, exc.params, exc.problems) from exc
    return await uow.run(lambda u: views.roster(u.session, region_code))
