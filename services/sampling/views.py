"""Read models of the sampling service, for HTTP: plain queries returning dicts, no domain logic.

The pools, plans (with their draw, tasks and results), the publication (一公开), statistics and
the inspector rosters. Routes call them inside a unit of work:
``await uow.run(lambda u: views.plan(u.session, plan_id))``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, func, select

from services.sampling.adapters.orm import Draw, Inspector, InspectorConflict, MonitoringCoverage, Plan, PoolMember, Task, TaskResult
from services.sampling.adapters.pools import members_and_exemptions
from services.sampling.domain.publication import FORMAT
from shared import i18n
from shared.contracts import CATEGORIES
from shared.jurisdiction import region_prefix

# --------------------------------------------------------------------------- pools


def _member(m: PoolMember, coverage: dict[str, MonitoringCoverage]) -> dict[str, Any]:
    return {"credit_code": m.credit_code, "name": m.enterprise_name, "region_code": m.region_code,
            "industry_codes": json.loads(m.industry_codes or "[]"), "employees": m.employees,
            "archive_version": m.archive_version, "updated_at": m.updated_at.isoformat(),
            "monitoring": _monitoring(coverage.get(m.credit_code))}


def _monitoring(row: MonitoringCoverage | None) -> dict[str, Any] | None:
    """The employer's online-monitoring coverage as the monitoring service last announced it (facts only: the
    non-site rule weighs them at the draw), or None when it has no monitoring devices."""
    if row is None:
        return None
    return {"period_start": row.period_start.isoformat(), "period_end": row.period_end.isoformat(), "hazards": json.loads(row.hazards),
            "factors": json.loads(row.factors), "announced_at": row.announced_at.isoformat()}


def pools(session: Session, region_code: str) -> dict[str, Any]:
    """The pools of a county (or of every county of a city or province): per category the members
    that may be drawn and their count; employers with a 免检 in force listed apart (``exempted``),
    outside the counts."""
    members, exemptions = members_and_exemptions(session, region_code)
    prefix = region_prefix(region_code)
    coverage = {row.credit_code: row for row in session.exec(
        select(MonitoringCoverage).where(col(MonitoringCoverage.region_code).startswith(prefix)))}
    drawable = [m for m in members if m.credit_code not in exemptions]
    in_pool = {c: [m for m in drawable if m.category == c] for c in CATEGORIES}
    return {
        "region_code": region_code,
        "counts": {c: len(in_pool[c]) for c in CATEGORIES},
        "total": len(drawable),
        "members": {c: [_member(m, coverage) for m in in_pool[c]] for c in CATEGORIES},
        "exempted": [
            {**_member(m, coverage), "category": m.category, "exemption_id": exemptions[m.credit_code].exemption_id,
             "exempt_from": exemptions[m.credit_code].valid_from.isoformat(),
             "exempt_until": exemptions[m.credit_code].valid_until.isoformat()}
            for m in members
            if m.credit_code in exemptions
        ],
    }


# --------------------------------------------------------------------------- plans


def plan_region(session: Session, plan_id: str) -> str | None:
    """The region of the plan (whose jurisdiction reads it), None when there is no such plan."""
    plan = session.get(Plan, plan_id)
    return plan.region_code if plan else None


def task_region(session: Session, task_id: str) -> str | None:
    """The region of the task's employer, None when there is no such task."""
    task = session.get(Task, task_id)
    return task.region_code if task else None


def plan_public(plan: Plan) -> dict[str, Any]:
    p = json.loads(plan.parameters)
    return {
        "id": plan.id, "region_code": plan.region_code, "period": plan.period,
        "ratios": p["ratios"], "minimums": p["minimums"], "inspectors_per_task": p["inspectors_per_task"],
        "jia_non_site": p["jia_non_site"], "full_coverage_industries": p["full_coverage_industries"],
        "exclusions": p["exclusions"], "non_site": p.get("non_site"), "defaults_from": p["defaults_from"],
        "overridden": p.get("overridden", []),
        "parent_plan_id": plan.parent_plan_id, "hand_down": plan.hand_down, "created_at": plan.created_at.isoformat(),
    }


def children_of(session: Session, plan: Plan) -> list[Plan]:
    return list(session.exec(select(Plan).where(Plan.parent_plan_id == plan.id).order_by(col(Plan.region_code))))


def status_of(session: Session, plan: Plan, stored: Draw | None = None) -> str:
    if plan.hand_down:
        return "handed_down"
    stored = stored or session.get(Draw, plan.id)
    if stored is None:
        return "committed"
    tasks = len(session.exec(select(Task.id).where(Task.plan_id == plan.id)).all())
    results = len(session.exec(select(TaskResult.task_id).where(TaskResult.plan_id == plan.id)).all())
    return "completed" if results >= tasks else "drawn"


def plan(session: Session, plan_id: str) -> dict[str, Any] | None:
    """One plan: parameters, commitment, status, its children (handed down) or its draw and tasks."""
    found = session.get(Plan, plan_id)
    if found is None:
        return None
    stored = session.get(Draw, found.id)
    view = {**plan_public(found), "commitment": found.commitment, "algorithm_version": found.algorithm_version,
            "status": status_of(session, found, stored), "created_by": found.created_by,
            "links": {"publication": f"/plans/{found.id}/publication", "draw": f"/plans/{found.id}/draw"}}
    if found.hand_down:
        view["children"] = [{"id": c.id, "region_code": c.region_code, "commitment": c.commitment} for c in children_of(session, found)]
    if stored is not None:
        record = json.loads(stored.record)
        view["draw"] = {"draw_id": stored.draw_id, "seed": record["seed"], "pool_hash": stored.pool_hash, "pool_version": stored.pool_version,
                        "drawn_at": record["drawn_at"], "quotas": record["quotas"], "non_site": record.get("non_site")}
        view["tasks"] = tasks(session, found.id)
    return view


def plans(session: Session, region_code: str, period: str | None) -> list[dict[str, Any]]:
    """The plans of a region (and the regions under it), optionally of a period (2026: its quarters too)."""
    statement = select(Plan).where(col(Plan.region_code).startswith(region_prefix(region_code))).order_by(col(Plan.created_at))
    if period:
        statement = statement.where(col(Plan.period).startswith(period))
    return [{"id": p.id, "region_code": p.region_code, "period": p.period, "commitment": p.commitment,
             "status": status_of(session, p), "parent_plan_id": p.parent_plan_id} for p in session.exec(statement)]


def draw(session: Session, plan_id: str) -> dict[str, Any] | None:
    """The plan's draw as published, None before it."""
    found, stored = session.get(Plan, plan_id), session.get(Draw, plan_id)
    if found is None or stored is None:
        return None
    record = json.loads(stored.record)
    return {"plan_id": found.id, "region_code": found.region_code, "period": found.period, "commitment": found.commitment,
            "algorithm_version": found.algorithm_version, **record,
            "links": {"publication": f"/plans/{found.id}/publication", "xlsx": f"/plans/{found.id}/publication.xlsx"}}


def tasks(session: Session, plan_id: str) -> list[dict[str, Any]]:
    """The plan's tasks in draw order, each with its inspectors and result."""
    found = list(session.exec(select(Task).where(Task.plan_id == plan_id).order_by(col(Task.position))))
    results = {r.task_id: r for r in session.exec(select(TaskResult).where(TaskResult.plan_id == plan_id))}
    return [task_view(t, results.get(t.id)) for t in found]


def _said(held: str | None, locale: str) -> dict[str, Any] | None:
    """A stored {code, params, …} with its text in the reader's language."""
    if not held:
        return None
    value = json.loads(held)
    return {**value, "text": i18n.text(value["code"], value.get("params") or {}, locale)}


def task_status(task: Task, result: TaskResult | None) -> str:
    """recorded (a result is in), unassigned (the roster could not staff it), or open."""
    if result is not None:
        return "recorded"
    return "unassigned" if task.unassigned else "open"


def task_view(task: Task, result: TaskResult | None, locale: str = i18n.DEFAULT_LOCALE) -> dict[str, Any]:
    return {"id": task.id, "kind": task.kind or "random", "plan_id": task.plan_id, "credit_code": task.credit_code,
            "enterprise_name": task.enterprise_name, "region_code": task.region_code, "category": task.category,
            "selection": task.selection, "on_site": task.on_site, "inspectors": json.loads(task.inspectors),
            "status": task_status(task, result), "reason": _said(task.reason, locale),
            "deadline": task.deadline.isoformat() if task.deadline else None, "episode_id": task.episode_id,
            "unassigned": _said(task.unassigned, locale), "non_site": json.loads(task.non_site) if task.non_site else None,
            "result": result_view(result) if result else None}


def employer_region(session: Session, credit_code: str) -> str | None:
    """The county of an employer the sampling service knows (in the pools, or with a task), None when it knows none."""
    member = session.get(PoolMember, credit_code)
    if member is not None:
        return member.region_code
    task = session.exec(select(Task).where(Task.credit_code == credit_code).order_by(col(Task.id))).first()
    return task.region_code if task else None


def employer_tasks(session: Session, credit_code: str, locale: str = i18n.DEFAULT_LOCALE) -> list[dict[str, Any]]:
    """An employer's tasks, drawn and verification, newest first (a drawn task: by its draw; a verification: when made)."""
    found = list(session.exec(select(Task).where(Task.credit_code == credit_code)))
    draws = {d.draw_id: d.drawn_at for d in session.exec(select(Draw).where(col(Draw.draw_id).in_(sorted({t.draw_id for t in found if t.draw_id}))))}
    results = {r.task_id: r for r in session.exec(select(TaskResult).where(col(TaskResult.task_id).in_([t.id for t in found])))}

    def when(task: Task) -> str:
        moment = draws.get(task.draw_id) if task.draw_id else task.created_at
        return _utc_text(moment) if moment else ""

    found.sort(key=lambda t: (when(t), t.id), reverse=True)
    return [task_view(t, results.get(t.id), locale) for t in found]


def region_tasks(session: Session, region_code: str, kind: str, limit: int, offset: int,
                 locale: str = i18n.DEFAULT_LOCALE) -> dict[str, Any]:
    """The tasks of a kind of a region (and the regions under it): those without a result first (open, unassigned),
    nearest deadline first (none last), then the recorded ones (by deadline too); ``total`` counts them all, ``items``
    the page."""
    query = (select(Task, TaskResult).join(TaskResult, col(TaskResult.task_id) == col(Task.id), isouter=True)
             .where(col(Task.region_code).startswith(region_prefix(region_code)), col(Task.kind) == kind))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    recorded = col(TaskResult.task_id).is_not(None)
    rows = session.exec(query.order_by(recorded, col(Task.deadline).is_(None), col(Task.deadline), col(Task.id))
                        .offset(offset).limit(limit)).all()
    return {"region_code": region_code, "kind": kind, "total": total, "limit": limit, "offset": offset,
            "items": [task_view(task, result, locale) for task, result in rows]}


def result_view(result: TaskResult) -> dict[str, Any]:
    return {**json.loads(result.body), "case_ids": json.loads(result.case_ids), "recorded_at": result.recorded_at.isoformat(),
            "recorded_by": result.recorded_by}


def result(session: Session, task_id: str) -> dict[str, Any] | None:
    """The task's recorded result, None before one."""
    held = session.get(TaskResult, task_id)
    return result_view(held) if held else None


# --------------------------------------------------------------------------- publication (一公开)


def publication(session: Session, plan_id: str) -> dict[str, Any] | None:
    """The public record: the plan and its commitment; after the draw, the seed, the pool, the roster
    and the targets (everything needed to recompute it), and the results so far."""
    found = session.get(Plan, plan_id)
    if found is None:
        return None
    stored = session.get(Draw, found.id)
    doc: dict[str, Any] = {
        "format": FORMAT, "plan": plan_public(found), "commitment": found.commitment, "algorithm_version": found.algorithm_version,
        "status": status_of(session, found, stored), "draw": None, "results": [],
    }
    if found.hand_down:
        doc["children"] = [{"id": c.id, "region_code": c.region_code, "commitment": c.commitment,
                            "publication": f"/plans/{c.id}/publication"} for c in children_of(session, found)]
    if stored is not None:
        doc["draw"] = json.loads(stored.record)
        doc["results"] = [
            {"task_id": t["id"], "credit_code": t["credit_code"], "outcome": t["result"]["outcome"],
             "inspected_on": t["result"].get("inspected_on"), "item_codes": [v["item_code"] for v in t["result"].get("violations", [])],
             "reason": t["result"].get("reason"), "case_ids": t["result"]["case_ids"]}
            for t in tasks(session, found.id) if t["result"]
        ]
    return doc


def _utc_text(moment: datetime) -> str:
    """A stored UTC moment as ISO 8601 with its offset (SQLite gives it back naive; it was written in UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def publications(session: Session, region_code: str | None, period: str | None, limit: int, offset: int) -> dict[str, Any]:
    """The published draws (一公开), newest first: only plans with a draw (never one merely committed, never a
    handed-down plan, which has no draw of its own), of a region and the regions under it and of a period (2026: its
    quarters too) when given. Each item says no more than the plan's publication already does: plan id, the agency's
    region, period, when it was published (the draw), the number of targets and the algorithm; ``total`` counts them
    all, ``items`` the page."""
    query = select(Plan.id, Plan.region_code, Plan.period, Plan.algorithm_version, Draw.drawn_at).join(
        Draw, col(Draw.plan_id) == col(Plan.id))
    if region_code:
        query = query.where(col(Plan.region_code).startswith(region_prefix(region_code)))
    if period:
        query = query.where(col(Plan.period).startswith(period))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = list(session.exec(query.order_by(col(Draw.drawn_at).desc(), col(Plan.id)).offset(offset).limit(limit)))
    ids = [row[0] for row in rows]
    counted = session.exec(select(Task.plan_id, func.count()).where(col(Task.plan_id).in_(ids)).group_by(col(Task.plan_id))) if ids else []
    targets = {plan_id: n for plan_id, n in counted}
    items = [{"plan_id": plan_id, "region_code": region, "period": plan_period, "published_at": _utc_text(drawn_at),
              "targets": targets.get(plan_id, 0), "algorithm_version": algorithm,
              "links": {"publication": f"/plans/{plan_id}/publication", "xlsx": f"/plans/{plan_id}/publication.xlsx"}}
             for plan_id, region, plan_period, algorithm, drawn_at in rows]
    return {"region_code": region_code, "period": period, "total": total, "limit": limit, "offset": offset, "items": items}


# --------------------------------------------------------------------------- statistics


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _empty() -> dict[str, int]:
    return {"pool": 0, "drawn": 0, "recorded": 0, "inspected": 0, "not_inspected": 0, "with_violations": 0}


def _finish(counts: dict[str, int]) -> dict[str, Any]:
    return {**counts, "coverage_rate": _rate(counts["drawn"], counts["pool"]), "completion_rate": _rate(counts["inspected"], counts["drawn"]),
            "violation_rate": _rate(counts["with_violations"], counts["inspected"])}


def _statistics(session: Session, drawn: list[Plan]) -> dict[str, Any]:
    """Per category and per county: pool size (as drawn), drawn, results, inspected, with violations;
    coverage rate = drawn / pool, completion rate = inspected / drawn, violation rate = with violations / inspected (4 decimals;
    null when the denominator is 0)."""
    by_category = {c: _empty() for c in CATEGORIES}
    by_county: dict[str, dict[str, int]] = {}
    total = _empty()
    drawn_plans = 0
    for p in drawn:
        stored = session.get(Draw, p.id)
        if stored is None:
            continue
        drawn_plans += 1
        record = json.loads(stored.record)
        for county, sizes in record.get("pool_sizes_by_county", {}).items():
            for category, n in sizes.items():
                by_county.setdefault(county, _empty())["pool"] += n
                by_category[category]["pool"] += n
                total["pool"] += n
        results = {r.task_id: r for r in session.exec(select(TaskResult).where(TaskResult.plan_id == p.id))}
        for task in session.exec(select(Task).where(Task.plan_id == p.id)):
            buckets = (by_category[task.category], by_county.setdefault(task.region_code, _empty()), total)
            held = results.get(task.id)
            for bucket in buckets:
                bucket["drawn"] += 1
                if held is not None:
                    bucket["recorded"] += 1
                    if held.outcome == "not_inspected":
                        bucket["not_inspected"] += 1
                    else:
                        bucket["inspected"] += 1
                    if held.outcome == "violations":
                        bucket["with_violations"] += 1
    return {"plans": drawn_plans, "total": _finish(total), "by_category": {c: _finish(v) for c, v in by_category.items()},
            "by_county": {c: _finish(v) for c, v in sorted(by_county.items())}}


def plan_statistics(session: Session, plan_id: str) -> dict[str, Any] | None:
    """Coverage, completion and violation rates of one plan (a handed-down plan: of its counties' plans)."""
    found = session.get(Plan, plan_id)
    if found is None:
        return None
    drawn = children_of(session, found) if found.hand_down else [found]
    return {"plan_id": found.id, "region_code": found.region_code, "period": found.period, **_statistics(session, drawn)}


def region_statistics(session: Session, region_code: str, period: str | None) -> dict[str, Any]:
    """Coverage, completion and violation rates of every drawn plan of a region (and the regions under it)."""
    statement = select(Plan).where(col(Plan.region_code).startswith(region_prefix(region_code)), col(Plan.hand_down).is_(False))
    if period:
        statement = statement.where(col(Plan.period).startswith(period))
    return {"region_code": region_code, "period": period, **_statistics(session, list(session.exec(statement)))}


# --------------------------------------------------------------------------- the roster


def roster(session: Session, agency: str) -> dict[str, Any]:
    """An agency's inspectors by id, each with its declared conflicts by credit code."""
    conflicts: dict[str, list[dict[str, str]]] = {}
    for c in session.exec(select(InspectorConflict).where(InspectorConflict.agency_region_code == agency)
                          .order_by(col(InspectorConflict.credit_code))):
        conflicts.setdefault(c.inspector_id, []).append({"credit_code": c.credit_code, "reason": c.reason})
    inspectors = session.exec(select(Inspector).where(Inspector.agency_region_code == agency).order_by(col(Inspector.id)))
    return {"region_code": agency, "inspectors": [{"id": i.id, "name": i.name, "active": i.active, "conflicts": conflicts.get(i.id, [])}
                                                  for i in inspectors]}


def agencies_with_rosters(session: Session) -> list[str]:
    """Every agency with a roster, sorted."""
    return sorted(set(session.exec(select(Inspector.agency_region_code))))
