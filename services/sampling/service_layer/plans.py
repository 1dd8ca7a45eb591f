"""Sampling plans and their draws (双随机): use cases.

A plan commits its seed at once (``PlanCommitted``); its one draw takes the live pool and the
agency's roster, stores the snapshot and the tasks, and announces them (``DrawPublished``,
``TaskAssigned``). Each use case commits its unit of work; the events go out through the outbox.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from services.sampling.adapters.orm import Draw, MonitoringCoverage, Plan, PoolMember, Task
from services.sampling.domain import draw as algorithm
from services.sampling.domain import non_site
from services.sampling.domain.draw import ALGORITHM, PoolEntry, RosterInspector
from services.sampling.domain.rules import SamplingRules, industry_matches
from services.sampling.service_layer.errors import Conflict, Invalid, Problem
from services.sampling.service_layer.unit_of_work import SamplingUnitOfWork
from shared import i18n
from shared.contracts import CATEGORIES, DrawPublished, InspectorRef, PlanCommitted, TaskAssigned, utc_now
from shared.dates import china_today
from shared.jurisdiction import jurisdiction_level

if TYPE_CHECKING:
    from services.sampling.service_layer.commands import PlanIn

PRODUCER = "sampling"


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def parameters_of(plan: Plan) -> dict[str, Any]:
    return json.loads(plan.parameters)


# --------------------------------------------------------------------------- plans


def period_start(period: str) -> date:
    year = int(period[:4])
    quarter = int(period[5]) if len(period) == 6 else 1
    return date(year, 3 * (quarter - 1) + 1, 1)


def _parameters(request: PlanIn, rules: SamplingRules) -> dict[str, Any]:
    defaults = rules.in_force(request.region_code, period_start(request.period))
    overridden = [name for name in ("ratios", "minimums", "full_coverage_industries", "jia_non_site", "inspectors_per_task")
                  if getattr(request, name) is not None]
    ratios = {**defaults.ratios, **(request.ratios or {})}
    minimums = {c: 0 for c in CATEGORIES} | defaults.minimums | (request.minimums or {})
    industries = (request.full_coverage_industries if request.full_coverage_industries is not None
                  else [i.code_prefix for i in defaults.full_coverage_industries])
    return {
        "ratios": {c: ratios[c] for c in CATEGORIES},
        "minimums": {c: int(minimums.get(c, 0)) for c in CATEGORIES},
        "full_coverage_industries": industries,
        "jia_non_site": defaults.jia_non_site if request.jia_non_site is None else request.jia_non_site,
        "inspectors_per_task": defaults.inspectors_per_task if request.inspectors_per_task is None else request.inspectors_per_task,
        "exclusions": [e.model_dump() for e in request.exclusions],
        "non_site": defaults.non_site.model_dump() if defaults.non_site else None,  # RULES §10, from the defaults only
        "defaults_from": defaults.ref(),
        "overridden": overridden,
    }


def _new_plan(uow: SamplingUnitOfWork, region_code: str, period: str, parameters: dict[str, Any], actor: str,
              parent: str | None = None, hand_down: bool = False) -> Plan:
    seed = secrets.token_hex(32)
    plan = Plan(id=str(uuid.uuid4()), region_code=region_code, period=period, parameters=dumps(parameters), seed=seed,
                commitment=algorithm.commitment_of(seed), algorithm_version=ALGORITHM, parent_plan_id=parent,
                hand_down=hand_down, created_by=actor)
    uow.plans.add(plan)
    uow.publish(PlanCommitted(
        producer=PRODUCER, region_code=region_code, plan_id=uuid.UUID(plan.id), period=period, commitment=plan.commitment,
        algorithm_version=ALGORITHM, ratios={c: float(r) for c, r in parameters["ratios"].items()},
        parent_plan_id=uuid.UUID(parent) if parent else None,
    ))
    return plan


def create_plan(uow: SamplingUnitOfWork, request: PlanIn, rules: SamplingRules, actor: str) -> str:
    """A plan with its committed seed; with ``hand_down`` a province's or city's plan and one child
    per county that has employers in the pools, each with the same parameters and its own seed.
    Returns the plan's id. :class:`Invalid` for a hand-down that cannot be;
    :class:`shared.rule_data.NoApplicableRules` when no defaults cover the region."""
    parameters = _parameters(request, rules)
    if request.hand_down:
        if jurisdiction_level(request.region_code) == 3:
            raise Invalid([Problem("hand_down", "sampling.error.county_hand_down")], "sampling.error.plan_invalid")
        counties = uow.pools.counties_with_members(request.region_code)
        if not counties:
            raise Invalid([Problem("region_code", "sampling.error.no_county_with_employers", {"region_code": request.region_code})],
                          "sampling.error.plan_invalid")
        plan = _new_plan(uow, request.region_code, request.period, parameters, actor, hand_down=True)
        for county in counties:
            _new_plan(uow, county, request.period, parameters, actor, parent=plan.id)
    else:
        plan = _new_plan(uow, request.region_code, request.period, parameters, actor)
    plan_id = plan.id
    uow.commit()
    return plan_id


# --------------------------------------------------------------------------- the draw


@dataclass
class LivePool:
    entries: list[PoolEntry]
    members: dict[str, PoolMember]
    version: int
    non_site: dict[str, dict[str, Any]] = field(default_factory=dict)  # credit code → the non-site rule's decision (treated only)


def _coverage_facts(row: MonitoringCoverage | None) -> non_site.CoverageFacts | None:
    if row is None:
        return None
    return non_site.CoverageFacts(row.period_start, row.period_end, tuple(json.loads(row.hazards)),
                                  tuple(non_site.FactorFacts(**f) for f in json.loads(row.factors)))


def live_pool(uow: SamplingUnitOfWork, plan: Plan, on: date | None = None) -> LivePool:
    """The drawable members of the plan's region now: minus 免检 in force, minus the plan's
    exclusions; full coverage by the members' current industry codes. With a non-site rule (the plan's
    ``non_site``, RULES §10), each member whose monitoring coverage meets it on ``on`` (the day of the draw) is
    treated: ``exempt`` leaves it out of the pool, ``non_site`` keeps it (inspected non-site when drawn)."""
    p = parameters_of(plan)
    snapshot = uow.pools.snapshot(plan.region_code)
    excluded = {e["credit_code"] for e in p["exclusions"]}
    drawable = {m.credit_code: m for m in snapshot.members if m.credit_code not in snapshot.exempt and m.credit_code not in excluded}
    treated: dict[str, dict[str, Any]] = {}
    if p.get("non_site"):
        rule = non_site.NonSiteRule.model_validate(p["non_site"])
        coverages = uow.pools.coverages(plan.region_code)
        day = on or china_today()
        label = non_site.label_of(p["defaults_from"]["jurisdiction"], p["defaults_from"]["version"])
        for code, m in drawable.items():
            facts = _coverage_facts(coverages.get(code))
            if facts is None:
                continue
            assessed = non_site.assess(facts, rule, day, label)
            if assessed.qualifies:
                treated[code] = {"credit_code": code, "enterprise_name": m.enterprise_name, "region_code": m.region_code,
                                 "category": m.category, "treatment": rule.treatment, "rule_set": p["defaults_from"], "facts": facts.public(),
                                 "trace": assessed.trace}
    in_pool = {code: m for code, m in drawable.items()
               if not (code in treated and treated[code]["treatment"] == "exempt")}
    entries = [PoolEntry(code, m.category, industry_matches(json.loads(m.industry_codes or "[]"), p["full_coverage_industries"]))
               for code, m in in_pool.items()]
    return LivePool(sorted(entries, key=lambda e: e.credit_code), drawable, snapshot.version, treated)


def roster_of(uow: SamplingUnitOfWork, agency: str) -> tuple[list[RosterInspector], dict[str, str]]:
    """The agency's active inspectors with their declared conflicts, sorted by id, and their names."""
    inspectors = uow.roster.inspectors(agency, active_only=True)
    conflicts: dict[str, set[str]] = {}
    for c in uow.roster.conflicts(agency):
        conflicts.setdefault(c.inspector_id, set()).add(c.credit_code)
    roster = [RosterInspector(i.id, i.name, frozenset(conflicts.get(i.id, ()))) for i in inspectors]
    return sorted(roster, key=lambda i: i.id), {i.id: i.name for i in inspectors}


def task_id_for(plan_id: str, credit_code: str) -> str:
    return str(uuid.uuid5(uuid.UUID(plan_id), credit_code))


def _too_few(problem: dict[str, Any]) -> dict[str, Any]:
    """A target the roster cannot staff (the draw's problem, with its message code and parameters), said in Chinese."""
    return {**problem, "message": i18n.text(problem["code"], problem["params"])}


def draw_plan(uow: SamplingUnitOfWork, plan: Plan, actor: str) -> tuple[Draw, bool]:
    """The plan's draw: the stored one when there is one (False), else a new one (True), with its
    tasks and events; not committed. :class:`services.sampling.domain.draw.DrawRefused` when
    inspectors are short; :class:`Conflict` for a handed-down plan."""
    stored = uow.plans.draw(plan.id)
    if stored is not None:
        return stored, False
    if plan.hand_down:
        raise Conflict("sampling.error.plan_handed_down", {
            "plan_id": plan.id, "children": [f"{c.id} {c.region_code}" for c in uow.plans.children(plan.id)]})
    p = parameters_of(plan)
    day = china_today()
    pool = live_pool(uow, plan, day)
    version = pool.version
    roster, names = roster_of(uow, plan.region_code)
    params = algorithm.Parameters(ratios=p["ratios"], minimums=p["minimums"], inspectors_per_task=p["inspectors_per_task"],
                                  jia_non_site=p["jia_non_site"])
    if len(roster) < params.inspectors_per_task and any(True for _ in pool.entries):
        short = {"region_code": plan.region_code, "active": len(roster), "per_task": params.inspectors_per_task}
        raise algorithm.DrawRefused([{"credit_code": None, "eligible": len(roster), "conflicts": [], "code": "sampling.error.roster_too_small",
                                      "params": short, "message": i18n.text("sampling.error.roster_too_small", short)}])
    try:
        result = algorithm.draw(plan.seed, pool.entries, roster, params)
    except algorithm.DrawRefused as refused:  # each target short of inspectors, said with a message code
        raise algorithm.DrawRefused([_too_few(p) for p in refused.problems]) from refused
    canonical = algorithm.canonical_pool(pool.entries)
    draw_id = str(uuid.uuid4())
    now = utc_now()
    counties: dict[str, dict[str, int]] = {}
    for entry in pool.entries:
        county = counties.setdefault(pool.members[entry.credit_code].region_code, {c: 0 for c in CATEGORIES})
        county[entry.category] += 1
    targets = []
    for position, t in enumerate(result.targets):
        member = pool.members[t.credit_code]
        # the draw's on_site stays as the algorithm gives it (what the verifier recomputes); a non-site rule's treatment
        # (RULES §10) makes the task's mode non-site, said beside it (``mode``, ``non_site``)
        treated = pool.non_site.get(t.credit_code)
        on_site = t.on_site and treated is None
        task = Task(id=task_id_for(plan.id, t.credit_code), plan_id=plan.id, draw_id=draw_id, position=position,
                    credit_code=t.credit_code, enterprise_name=member.enterprise_name, region_code=member.region_code,
                    category=t.category, selection=t.selection, on_site=on_site,
                    inspectors=dumps([{"id": i, "name": names[i]} for i in t.inspectors]),
                    non_site=dumps(treated) if treated else None)
        uow.plans.add_task(task)
        target = {"task_id": task.id, "credit_code": t.credit_code, "enterprise_name": member.enterprise_name,
                  "region_code": member.region_code, "category": t.category, "selection": t.selection,
                  "on_site": t.on_site, "inspectors": [{"id": i, "name": names[i]} for i in t.inspectors]}
        if treated:
            target["mode"] = "on_site" if on_site else "non_site"
            target["non_site"] = {"rule": treated["trace"][0]["rule"], "treatment": treated["treatment"]}
        targets.append(target)
        uow.publish(TaskAssigned(
            producer=PRODUCER, credit_code=t.credit_code, task_id=uuid.UUID(task.id), plan_id=uuid.UUID(plan.id),
            draw_id=uuid.UUID(draw_id), region_code=member.region_code, period=plan.period, category=t.category,  # type: ignore[arg-type]
            enterprise_name=member.enterprise_name, selection=t.selection, on_site=on_site,  # type: ignore[arg-type]
            inspectors=[InspectorRef(id=i, name=names[i]) for i in t.inspectors],
        ))
    record = {
        "draw_id": draw_id, "drawn_at": now.isoformat(), "seed": plan.seed, "pool_version": version,
        "pool_hash": algorithm.pool_hash(canonical), "pool": canonical, "roster": algorithm.canonical_roster(roster),
        "quotas": result.quotas, "pool_sizes": result.pool_sizes, "pool_sizes_by_county": counties, "targets": targets,
    }
    if p.get("non_site"):  # beside the pool, outside what is hashed: who the non-site rule treated, and why
        record["non_site"] = {"rule": p["non_site"], "rule_set": p["defaults_from"], "assessed_on": day.isoformat(),
                              "treated": [pool.non_site[code] for code in sorted(pool.non_site)]}
    stored = Draw(plan_id=plan.id, draw_id=draw_id, pool_version=version, pool_hash=record["pool_hash"], record=dumps(record),
                  drawn_by=actor, drawn_at=now)
    uow.plans.add_draw(stored)
    uow.publish(DrawPublished(
        producer=PRODUCER, region_code=plan.region_code, plan_id=uuid.UUID(plan.id), draw_id=uuid.UUID(draw_id), period=plan.period,
        seed=plan.seed, commitment=plan.commitment, pool_hash=record["pool_hash"], pool_version=version,
        algorithm_version=ALGORITHM, targets=result.quotas, publication=f"/plans/{plan.id}/publication",
    ))
    return stored, True


def draw(uow: SamplingUnitOfWork, plan_id: str, actor: str) -> bool | None:
    """Draw the plan, once: True when this call drew it, False when it was drawn already (also by a
    request at the same moment: theirs is the draw), None when there is no such plan."""
    plan = uow.plans.get(plan_id)
    if plan is None:
        return None
    _, created = draw_plan(uow, plan, actor)
    if not created:
        return False
    try:
        uow.commit()
    except IntegrityError:  # drawn at the same moment by another request
        uow.rollback()
        _, created = draw_plan(uow, plan, actor)
        if created:  # theirs did not stay after all
            uow.commit()
    return created
