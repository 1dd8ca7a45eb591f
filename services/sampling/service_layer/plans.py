"""Sampling plans, draws, inspection results and the inspector roster: use cases.

Each function works in the caller's session; the caller commits (HTTP: ``in_session``). Events go
to the outbox in the same transaction (``shared.db.enqueue``).
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session, col, delete, select

from services.sampling.adapters.orm import Draw, Inspector, InspectorConflict, Plan, PoolMember, Task, TaskResult
from services.sampling.adapters.pools import members_and_exemptions
from services.sampling.domain import draw as algorithm
from services.sampling.domain.draw import ALGORITHM, CATEGORIES, MIN_INSPECTORS_PER_TASK, PoolEntry, RosterInspector
from services.sampling.domain.publication import FORMAT
from services.sampling.domain.rules import SamplingRules, industry_matches
from services.sampling.service_layer.handlers import pool_version
from shared.contracts import (
    DrawPublished, Harm, InspectionRecorded, InspectorRef, PlanCommitted, TaskAssigned, ViolationRecorded, utc_now,
)
from shared.db import enqueue
from shared.identifiers import credit_code_problem, region_problem
from shared.jurisdiction import jurisdiction_level, region_prefix

PRODUCER = "sampling"
PERIOD_PATTERN = r"^\d{4}(Q[1-4])?$"
ITEM_CODE_PATTERN = r"^\d{2,3}-\d+[a-z]?$"  # 职业病防治法 article - item, as penalty's 附件5 list
CASE_NAMESPACE = uuid.UUID("6f0c5d2e-4b8a-5e1f-9c3d-0a1b2c3d4e5f")  # case ids from (task, item): a retry opens no second case


class Invalid(Exception):
    def __init__(self, errors: list[dict[str, str]], detail: str = "the request is invalid"):
        self.errors, self.detail = errors, detail
        super().__init__(detail)


class Conflict(Exception):
    """409: the request contradicts what is stored."""


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# --------------------------------------------------------------------------- requests


def _credit_code(value: str) -> str:
    if problem := credit_code_problem(value):
        raise ValueError(problem)
    return value


class Exclusion(BaseModel):
    credit_code: str
    reason: str = Field(min_length=1, description="e.g. 注销, 停产, 免检")

    _code = field_validator("credit_code")(_credit_code)


class PlanIn(BaseModel):
    region_code: str = Field(description="the agency's GB/T 2260 code: a county, or a city / province (with hand_down)")
    period: str = Field(pattern=PERIOD_PATTERN, description="2026 or 2026Q1")
    ratios: dict[str, float | str] | None = Field(default=None, description="per category 甲/乙/丙, 0–1; default: the rule file's")
    minimums: dict[str, int] | None = Field(default=None, description="minimum count per category; default: the rule file's")
    full_coverage_industries: list[str] | None = Field(default=None, description="GB/T 4754-2017 code prefixes taken in full")
    exclusions: list[Exclusion] = Field(default_factory=list, description="employers left out (closed 注销, 停产 …)")
    jia_non_site: bool | None = Field(default=None, description="甲 targets are checked non-site (非现场)")
    inspectors_per_task: int | None = Field(default=None, ge=MIN_INSPECTORS_PER_TASK)
    hand_down: bool = Field(default=False, description="a province / city plan handed down: one plan per county with employers")

    @field_validator("region_code")
    @classmethod
    def _region(cls, value: str) -> str:
        if problem := region_problem(value):
            raise ValueError(problem)
        return value

    @field_validator("ratios")
    @classmethod
    def _ratios(cls, value: dict[str, Any] | None) -> dict[str, str] | None:
        if value is None:
            return None
        unknown = set(value) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"unknown categories {', '.join(sorted(unknown))}: use 甲, 乙, 丙")
        out = {}
        for category, ratio in value.items():
            try:
                out[category] = algorithm.ratio_text(ratio)
            except ValueError as exc:
                raise ValueError(f"{category}: {exc}") from exc
        return out

    @field_validator("minimums")
    @classmethod
    def _minimums(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        if value is None:
            return None
        if set(value) - set(CATEGORIES):
            raise ValueError("use the categories 甲, 乙, 丙")
        if any(v < 0 for v in value.values()):
            raise ValueError("minimum counts cannot be negative")
        return value


class ViolationItem(BaseModel):
    item_code: str = Field(pattern=ITEM_CODE_PATTERN, description="§7 item code, e.g. 70-4")
    harm: Harm = Field(description="none | minor | serious")
    description: str | None = None
    corrected_on: date | None = None
    rectification_deadline: date | None = None
    major: bool = Field(default=False, description="the inspectors' finding that it is a major violation (重大违法)")


class ResultIn(BaseModel):
    outcome: str = Field(pattern=r"^(compliant|violations|not_inspected)$", description="compliant | violations | not_inspected")
    inspected_on: date | None = None
    violations: list[ViolationItem] = Field(default_factory=list)
    reason: str | None = Field(default=None, description="why not inspected")

    def problems(self, today: date) -> list[dict[str, str]]:
        errors: list[dict[str, str]] = []

        def add(field: str, message: str) -> None:
            errors.append({"field": field, "message": message})

        if self.outcome in ("compliant", "violations"):
            if self.inspected_on is None:
                add("inspected_on", f"required when the outcome is {self.outcome}")
            elif self.inspected_on > today:
                add("inspected_on", f"{self.inspected_on} is in the future (today is {today} in China)")
        if self.outcome == "violations" and not self.violations:
            add("violations", "at least one violation is required when the outcome is violations")
        if self.outcome != "violations" and self.violations:
            add("violations", f"no violations with the outcome {self.outcome}")
        if self.outcome == "not_inspected" and not (self.reason or "").strip():
            add("reason", "required when the outcome is not_inspected")
        seen: set[str] = set()
        for index, v in enumerate(self.violations):
            if v.item_code in seen:
                add(f"violations[{index}].item_code", f"{v.item_code} is listed twice")
            seen.add(v.item_code)
            for name in ("corrected_on", "rectification_deadline"):
                day = getattr(v, name)
                if day is not None and self.inspected_on is not None and day < self.inspected_on:
                    add(f"violations[{index}].{name}", f"{day} is before the inspection ({self.inspected_on})")
        return errors


class ConflictIn(BaseModel):
    inspector_id: str = Field(min_length=1, max_length=64)
    credit_code: str
    reason: str = Field(min_length=1)

    _code = field_validator("credit_code")(_credit_code)


class RosterConflict(BaseModel):
    credit_code: str
    reason: str = Field(min_length=1)

    _code = field_validator("credit_code")(_credit_code)


class InspectorIn(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1)
    active: bool = True
    conflicts: list[RosterConflict] = Field(default_factory=list)


class RosterIn(BaseModel):
    inspectors: list[InspectorIn]

    @field_validator("inspectors")
    @classmethod
    def _unique(cls, value: list[InspectorIn]) -> list[InspectorIn]:
        ids = [i.id for i in value]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"inspector ids listed twice: {', '.join(twice)}")
        return value


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
        "defaults_from": defaults.ref(),
        "overridden": overridden,
    }


def _new_plan(session: Session, region_code: str, period: str, parameters: dict[str, Any], actor: str,
              parent: str | None = None, hand_down: bool = False) -> Plan:
    seed = secrets.token_hex(32)
    plan = Plan(id=str(uuid.uuid4()), region_code=region_code, period=period, parameters=dumps(parameters), seed=seed,
                commitment=algorithm.commitment_of(seed), algorithm_version=ALGORITHM, parent_plan_id=parent,
                hand_down=hand_down, created_by=actor)
    session.add(plan)
    enqueue(session, PlanCommitted(
        producer=PRODUCER, region_code=region_code, plan_id=uuid.UUID(plan.id), period=period, commitment=plan.commitment,
        algorithm_version=ALGORITHM, ratios={c: float(r) for c, r in parameters["ratios"].items()},
        parent_plan_id=uuid.UUID(parent) if parent else None,
    ))
    return plan


def counties_with_members(session: Session, region_code: str) -> list[str]:
    prefix = region_prefix(region_code)
    return sorted(set(session.exec(select(PoolMember.region_code).where(col(PoolMember.region_code).startswith(prefix)))))


def create_plan(session: Session, request: PlanIn, rules: SamplingRules, actor: str) -> Plan:
    """A plan with its committed seed; with ``hand_down`` a province's or city's plan and one child
    per county that has employers in the pools, each with the same parameters and its own seed."""
    parameters = _parameters(request, rules)
    if request.hand_down:
        if jurisdiction_level(request.region_code) == 3:
            raise Invalid([{"field": "hand_down", "message": "a county's plan cannot be handed down: give a city or province"}])
        counties = counties_with_members(session, request.region_code)
        if not counties:
            raise Invalid([{"field": "region_code", "message": f"no county under {request.region_code} has employers in the pools"}])
        parent = _new_plan(session, request.region_code, request.period, parameters, actor, hand_down=True)
        for county in counties:
            _new_plan(session, county, request.period, parameters, actor, parent=parent.id)
        return parent
    return _new_plan(session, request.region_code, request.period, parameters, actor)


def parameters_of(plan: Plan) -> dict[str, Any]:
    return json.loads(plan.parameters)


def plan_public(plan: Plan) -> dict[str, Any]:
    p = parameters_of(plan)
    return {
        "id": plan.id, "region_code": plan.region_code, "period": plan.period,
        "ratios": p["ratios"], "minimums": p["minimums"], "inspectors_per_task": p["inspectors_per_task"],
        "jia_non_site": p["jia_non_site"], "full_coverage_industries": p["full_coverage_industries"],
        "exclusions": p["exclusions"], "defaults_from": p["defaults_from"], "overridden": p.get("overridden", []),
        "parent_plan_id": plan.parent_plan_id, "hand_down": plan.hand_down, "created_at": plan.created_at.isoformat(),
    }


def children_of(session: Session, plan: Plan) -> list[Plan]:
    return list(session.exec(select(Plan).where(Plan.parent_plan_id == plan.id).order_by(col(Plan.region_code))))


def plan_view(session: Session, plan: Plan) -> dict[str, Any]:
    stored = session.get(Draw, plan.id)
    view = {**plan_public(plan), "commitment": plan.commitment, "algorithm_version": plan.algorithm_version,
            "status": status_of(session, plan, stored), "created_by": plan.created_by,
            "links": {"publication": f"/plans/{plan.id}/publication", "draw": f"/plans/{plan.id}/draw"}}
    if plan.hand_down:
        view["children"] = [{"id": c.id, "region_code": c.region_code, "commitment": c.commitment} for c in children_of(session, plan)]
    if stored is not None:
        record = json.loads(stored.record)
        view["draw"] = {"draw_id": stored.draw_id, "seed": record["seed"], "pool_hash": stored.pool_hash, "pool_version": stored.pool_version,
                        "drawn_at": record["drawn_at"], "quotas": record["quotas"]}
        view["tasks"] = tasks_view(session, plan.id)
    return view


def status_of(session: Session, plan: Plan, stored: Draw | None = None) -> str:
    if plan.hand_down:
        return "handed_down"
    stored = stored or session.get(Draw, plan.id)
    if stored is None:
        return "committed"
    tasks = len(session.exec(select(Task.id).where(Task.plan_id == plan.id)).all())
    results = len(session.exec(select(TaskResult.task_id).where(TaskResult.plan_id == plan.id)).all())
    return "completed" if results >= tasks else "drawn"


def list_plans(session: Session, region_code: str, period: str | None) -> list[dict[str, Any]]:
    statement = select(Plan).where(col(Plan.region_code).startswith(region_prefix(region_code))).order_by(col(Plan.created_at))
    if period:
        statement = statement.where(col(Plan.period).startswith(period))
    return [{"id": p.id, "region_code": p.region_code, "period": p.period, "commitment": p.commitment,
             "status": status_of(session, p), "parent_plan_id": p.parent_plan_id} for p in session.exec(statement)]


# --------------------------------------------------------------------------- the draw


@dataclass
class LivePool:
    entries: list[PoolEntry]
    members: dict[str, PoolMember]


def live_pool(session: Session, plan: Plan) -> LivePool:
    """The drawable members of the plan's region now: minus 免检 in force, minus the plan's exclusions."""
    p = parameters_of(plan)
    members, exempt = members_and_exemptions(session, plan.region_code)
    excluded = {e["credit_code"] for e in p["exclusions"]}
    drawable = {m.credit_code: m for m in members if m.credit_code not in exempt and m.credit_code not in excluded}
    entries = [PoolEntry(code, m.category, industry_matches(json.loads(m.industry_codes or "[]"), p["full_coverage_industries"]))
               for code, m in drawable.items()]
    return LivePool(sorted(entries, key=lambda e: e.credit_code), drawable)


def roster_of(session: Session, agency: str) -> tuple[list[RosterInspector], dict[str, str]]:
    inspectors = list(session.exec(select(Inspector).where(Inspector.agency_region_code == agency, col(Inspector.active).is_(True))))
    conflicts: dict[str, set[str]] = {}
    for c in session.exec(select(InspectorConflict).where(InspectorConflict.agency_region_code == agency)):
        conflicts.setdefault(c.inspector_id, set()).add(c.credit_code)
    roster = [RosterInspector(i.id, i.name, frozenset(conflicts.get(i.id, ()))) for i in inspectors]
    return sorted(roster, key=lambda i: i.id), {i.id: i.name for i in inspectors}


def task_id_for(plan_id: str, credit_code: str) -> str:
    return str(uuid.uuid5(uuid.UUID(plan_id), credit_code))


def draw_plan(session: Session, plan: Plan, actor: str) -> tuple[Draw, bool]:
    """The plan's draw: the stored one when there is one (False), else a new one (True), with its
    tasks and events. :class:`services.sampling.domain.draw.DrawRefused` when inspectors are short."""
    stored = session.get(Draw, plan.id)
    if stored is not None:
        return stored, False
    if plan.hand_down:
        raise Conflict(f"plan {plan.id} was handed down to its counties: draw each county's plan "
                       f"({', '.join(c.id + ' ' + c.region_code for c in children_of(session, plan))})")
    p = parameters_of(plan)
    for _ in range(5):  # the pool and its version read consistently: no change committed in between
        version = pool_version(session)
        pool = live_pool(session, plan)
        if pool_version(session) == version:
            break
        session.expire_all()
    roster, names = roster_of(session, plan.region_code)
    params = algorithm.Parameters(ratios=p["ratios"], minimums=p["minimums"], inspectors_per_task=p["inspectors_per_task"],
                                  jia_non_site=p["jia_non_site"])
    if len(roster) < params.inspectors_per_task and any(True for _ in pool.entries):
        raise algorithm.DrawRefused([{"credit_code": None, "eligible": len(roster), "conflicts": [],
                                      "message": f"the roster of {plan.region_code} has {len(roster)} active inspector(s); "
                                      f"{params.inspectors_per_task} per task are needed (PUT /inspectors/{plan.region_code})"}])
    result = algorithm.draw(plan.seed, pool.entries, roster, params)
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
        task = Task(id=task_id_for(plan.id, t.credit_code), plan_id=plan.id, draw_id=draw_id, position=position,
                    credit_code=t.credit_code, enterprise_name=member.enterprise_name, region_code=member.region_code,
                    category=t.category, selection=t.selection, on_site=t.on_site,
                    inspectors=dumps([{"id": i, "name": names[i]} for i in t.inspectors]))
        session.add(task)
        targets.append({"task_id": task.id, "credit_code": t.credit_code, "enterprise_name": member.enterprise_name,
                        "region_code": member.region_code, "category": t.category, "selection": t.selection,
                        "on_site": t.on_site, "inspectors": [{"id": i, "name": names[i]} for i in t.inspectors]})
        enqueue(session, TaskAssigned(
            producer=PRODUCER, credit_code=t.credit_code, task_id=uuid.UUID(task.id), plan_id=uuid.UUID(plan.id),
            draw_id=uuid.UUID(draw_id), region_code=member.region_code, period=plan.period, category=t.category,  # type: ignore[arg-type]
            enterprise_name=member.enterprise_name, selection=t.selection, on_site=t.on_site,  # type: ignore[arg-type]
            inspectors=[InspectorRef(id=i, name=names[i]) for i in t.inspectors],
        ))
    record = {
        "draw_id": draw_id, "drawn_at": now.isoformat(), "seed": plan.seed, "pool_version": version,
        "pool_hash": algorithm.pool_hash(canonical), "pool": canonical, "roster": algorithm.canonical_roster(roster),
        "quotas": result.quotas, "pool_sizes": result.pool_sizes, "pool_sizes_by_county": counties, "targets": targets,
    }
    stored = Draw(plan_id=plan.id, draw_id=draw_id, pool_version=version, pool_hash=record["pool_hash"], record=dumps(record),
                  drawn_by=actor, drawn_at=now)
    session.add(stored)
    enqueue(session, DrawPublished(
        producer=PRODUCER, region_code=plan.region_code, plan_id=uuid.UUID(plan.id), draw_id=uuid.UUID(draw_id), period=plan.period,
        seed=plan.seed, commitment=plan.commitment, pool_hash=record["pool_hash"], pool_version=version,
        algorithm_version=ALGORITHM, targets=result.quotas, publication=f"/plans/{plan.id}/publication",
    ))
    return stored, True


def draw_view(plan: Plan, stored: Draw) -> dict[str, Any]:
    record = json.loads(stored.record)
    return {"plan_id": plan.id, "region_code": plan.region_code, "period": plan.period, "commitment": plan.commitment,
            "algorithm_version": plan.algorithm_version, **record,
            "links": {"publication": f"/plans/{plan.id}/publication", "xlsx": f"/plans/{plan.id}/publication.xlsx"}}


def tasks_view(session: Session, plan_id: str) -> list[dict[str, Any]]:
    tasks = list(session.exec(select(Task).where(Task.plan_id == plan_id).order_by(col(Task.position))))
    results = {r.task_id: r for r in session.exec(select(TaskResult).where(TaskResult.plan_id == plan_id))}
    return [task_view(t, results.get(t.id)) for t in tasks]


def task_view(task: Task, result: TaskResult | None) -> dict[str, Any]:
    return {"id": task.id, "plan_id": task.plan_id, "credit_code": task.credit_code, "enterprise_name": task.enterprise_name,
            "region_code": task.region_code, "category": task.category, "selection": task.selection, "on_site": task.on_site,
            "inspectors": json.loads(task.inspectors), "result": result_view(result) if result else None}


def result_view(result: TaskResult) -> dict[str, Any]:
    return {**json.loads(result.body), "case_ids": json.loads(result.case_ids), "recorded_at": result.recorded_at.isoformat(),
            "recorded_by": result.recorded_by}


# --------------------------------------------------------------------------- publication (一公开)


def publication(session: Session, plan: Plan) -> dict[str, Any]:
    """The public record: the plan and its commitment; after the draw, the seed, the pool, the roster
    and the targets (everything needed to recompute it), and the results so far."""
    stored = session.get(Draw, plan.id)
    doc: dict[str, Any] = {
        "format": FORMAT, "plan": plan_public(plan), "commitment": plan.commitment, "algorithm_version": plan.algorithm_version,
        "status": status_of(session, plan, stored), "draw": None, "results": [],
    }
    if plan.hand_down:
        doc["children"] = [{"id": c.id, "region_code": c.region_code, "commitment": c.commitment,
                            "publication": f"/plans/{c.id}/publication"} for c in children_of(session, plan)]
    if stored is not None:
        doc["draw"] = json.loads(stored.record)
        doc["results"] = [
            {"task_id": t["id"], "credit_code": t["credit_code"], "outcome": t["result"]["outcome"],
             "inspected_on": t["result"].get("inspected_on"), "item_codes": [v["item_code"] for v in t["result"].get("violations", [])],
             "reason": t["result"].get("reason"), "case_ids": t["result"]["case_ids"]}
            for t in tasks_view(session, plan.id) if t["result"]
        ]
    return doc


# Column and row titles of the publication workbook: Chinese for the public, the JSON key after it for machines.
XLSX_LABELS = {
    "id": "计划编号", "region_code": "行政区划代码", "period": "计划期间", "parent_plan_id": "上级计划编号", "ratio": "抽查比例",
    "minimum": "最低抽查数", "inspectors_per_task": "每户执法人员数", "jia_non_site": "甲类非现场检查",
    "full_coverage_industries": "全覆盖行业", "exclusions": "不纳入名录", "defaults_from": "默认参数来源", "commitment": "种子承诺值",
    "algorithm_version": "算法版本", "status": "状态", "draw_id": "抽取编号", "drawn_at": "抽取时间", "seed": "随机种子",
    "pool_version": "名录版本", "pool_hash": "名录哈希", "credit_code": "统一社会信用代码", "category": "综合风险类别",
    "full_coverage": "全覆盖", "task_id": "任务编号", "enterprise_name": "单位名称", "selection": "抽取方式", "on_site": "现场检查",
    "inspectors": "执法检查人员", "outcome": "检查结果", "inspected_on": "检查日期", "item_codes": "违法事项", "reason": "未检查原因",
    "case_ids": "案件编号",
}


def xlsx_label(key: str, suffix: str = "") -> str:
    return f"{XLSX_LABELS[key]}{suffix} {key}{suffix}"


def publication_xlsx(doc: dict[str, Any]) -> bytes:
    """The publication as a workbook: 计划 (the plan and the draw's seed and hashes), 名录 (the pool
    drawn from), 抽取结果 (targets and inspectors), 检查结果 (results)."""
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    plan = doc["plan"]
    sheet = book.create_sheet("计划")
    sheet.append(["字段 field", "值 value"])
    for key in ("id", "region_code", "period", "parent_plan_id"):
        sheet.append([xlsx_label(key), plan[key]])
    for category in CATEGORIES:
        sheet.append([xlsx_label("ratio", f" {category}"), plan["ratios"][category]])
        sheet.append([xlsx_label("minimum", f" {category}"), plan["minimums"][category]])
    sheet.append([xlsx_label("inspectors_per_task"), plan["inspectors_per_task"]])
    sheet.append([xlsx_label("jia_non_site"), plan["jia_non_site"]])
    sheet.append([xlsx_label("full_coverage_industries"), ", ".join(plan["full_coverage_industries"])])
    sheet.append([xlsx_label("exclusions"), "; ".join(f"{e['credit_code']} {e['reason']}" for e in plan["exclusions"])])
    sheet.append([xlsx_label("defaults_from"), f"{plan['defaults_from']['jurisdiction']} v{plan['defaults_from']['version']}"])
    sheet.append([xlsx_label("commitment"), doc["commitment"]])
    sheet.append([xlsx_label("algorithm_version"), doc["algorithm_version"]])
    sheet.append([xlsx_label("status"), doc["status"]])
    record = doc["draw"] or {}
    for key in ("draw_id", "drawn_at", "seed", "pool_version", "pool_hash"):
        sheet.append([xlsx_label(key), record.get(key)])
    pool = book.create_sheet("名录")
    pool.append([xlsx_label(k) for k in ("credit_code", "category", "full_coverage")])
    for entry in record.get("pool", []):
        pool.append([entry["credit_code"], entry["category"], entry["full_coverage"]])
    targets = book.create_sheet("抽取结果")
    columns = ("task_id", "credit_code", "enterprise_name", "region_code", "category", "selection", "on_site", "inspectors")
    targets.append(["序号 no"] + [xlsx_label(k) for k in columns])
    for index, t in enumerate(record.get("targets", []), start=1):
        targets.append([index, t["task_id"], t["credit_code"], t["enterprise_name"], t["region_code"], t["category"], t["selection"],
                        t["on_site"], ", ".join(f"{i['id']} {i['name']}" for i in t["inspectors"])])
    results = book.create_sheet("检查结果")
    results.append([xlsx_label(k) for k in ("task_id", "credit_code", "outcome", "inspected_on", "item_codes", "reason", "case_ids")])
    for r in doc["results"]:
        results.append([r["task_id"], r["credit_code"], r["outcome"], r["inspected_on"], ", ".join(r["item_codes"]), r["reason"],
                        ", ".join(r["case_ids"])])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


# --------------------------------------------------------------------------- results


def record_result(session: Session, task: Task, request: ResultIn, actor: str) -> tuple[dict[str, Any], bool]:
    """Store the task's result (and announce it, violations to penalty); the stored one when the same
    result comes again (False); :class:`Conflict` when a different one was recorded."""
    body = request.model_dump(mode="json")
    held = session.get(TaskResult, task.id)
    if held is not None:
        if json.loads(held.body) == body:
            return result_view(held), False
        raise Conflict(f"task {task.id} already has a result ({held.outcome}, recorded {held.recorded_at.isoformat()} by "
                       f"{held.recorded_by}); a result is not changed")
    inspectors = [i["id"] for i in json.loads(task.inspectors)]
    case_ids: list[uuid.UUID] = []
    for v in request.violations:
        case_id = uuid.uuid5(CASE_NAMESPACE, f"{task.id}|{v.item_code}")
        case_ids.append(case_id)
        enqueue(session, ViolationRecorded(
            producer=PRODUCER, credit_code=task.credit_code, case_id=case_id, region_code=task.region_code, item_code=v.item_code,
            found_on=request.inspected_on, harm=v.harm, corrected_on=v.corrected_on,  # type: ignore[arg-type]
            rectification_deadline=v.rectification_deadline, task_id=uuid.UUID(task.id), plan_id=uuid.UUID(task.plan_id),
            inspectors=inspectors, description=v.description, major=v.major,
        ))
    enqueue(session, InspectionRecorded(
        producer=PRODUCER, credit_code=task.credit_code, task_id=uuid.UUID(task.id), plan_id=uuid.UUID(task.plan_id),
        region_code=task.region_code, category=task.category, outcome=request.outcome,  # type: ignore[arg-type]
        inspected_on=request.inspected_on, item_codes=[v.item_code for v in request.violations], case_ids=case_ids,
        reason=request.reason,
    ))
    held = TaskResult(task_id=task.id, plan_id=task.plan_id, outcome=request.outcome, body=dumps(body),
                      case_ids=dumps([str(c) for c in case_ids]), recorded_by=actor)
    session.add(held)
    return result_view(held), True


# --------------------------------------------------------------------------- statistics


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _empty() -> dict[str, int]:
    return {"pool": 0, "drawn": 0, "recorded": 0, "inspected": 0, "not_inspected": 0, "with_violations": 0}


def _finish(counts: dict[str, int]) -> dict[str, Any]:
    return {**counts, "coverage_rate": _rate(counts["drawn"], counts["pool"]), "completion_rate": _rate(counts["inspected"], counts["drawn"]),
            "violation_rate": _rate(counts["with_violations"], counts["inspected"])}


def statistics(session: Session, plans: list[Plan]) -> dict[str, Any]:
    """Per category and per county: pool size (as drawn), drawn, results, inspected, with violations;
    coverage rate = drawn / pool, completion rate = inspected / drawn, violation rate = with violations / inspected (4 decimals;
    null when the denominator is 0)."""
    by_category = {c: _empty() for c in CATEGORIES}
    by_county: dict[str, dict[str, int]] = {}
    total = _empty()
    drawn_plans = 0
    for plan in plans:
        stored = session.get(Draw, plan.id)
        if stored is None:
            continue
        drawn_plans += 1
        record = json.loads(stored.record)
        for county, sizes in record.get("pool_sizes_by_county", {}).items():
            for category, n in sizes.items():
                by_county.setdefault(county, _empty())["pool"] += n
                by_category[category]["pool"] += n
                total["pool"] += n
        results = {r.task_id: r for r in session.exec(select(TaskResult).where(TaskResult.plan_id == plan.id))}
        for task in session.exec(select(Task).where(Task.plan_id == plan.id)):
            buckets = (by_category[task.category], by_county.setdefault(task.region_code, _empty()), total)
            result = results.get(task.id)
            for bucket in buckets:
                bucket["drawn"] += 1
                if result is not None:
                    bucket["recorded"] += 1
                    if result.outcome == "not_inspected":
                        bucket["not_inspected"] += 1
                    else:
                        bucket["inspected"] += 1
                    if result.outcome == "violations":
                        bucket["with_violations"] += 1
    return {"plans": drawn_plans, "total": _finish(total), "by_category": {c: _finish(v) for c, v in by_category.items()},
            "by_county": {c: _finish(v) for c, v in sorted(by_county.items())}}


def plans_for_statistics(session: Session, region_code: str, period: str | None) -> list[Plan]:
    statement = select(Plan).where(col(Plan.region_code).startswith(region_prefix(region_code)), col(Plan.hand_down).is_(False))
    if period:
        statement = statement.where(col(Plan.period).startswith(period))
    return list(session.exec(statement))


# --------------------------------------------------------------------------- the roster


def replace_roster(session: Session, agency: str, roster: RosterIn) -> None:
    session.exec(delete(InspectorConflict).where(InspectorConflict.agency_region_code == agency))  # type: ignore[call-overload]
    session.exec(delete(Inspector).where(Inspector.agency_region_code == agency))  # type: ignore[call-overload]
    session.flush()
    for i in roster.inspectors:
        session.add(Inspector(agency_region_code=agency, id=i.id, name=i.name, active=i.active))
        for c in {c.credit_code: c for c in i.conflicts}.values():
            session.add(InspectorConflict(agency_region_code=agency, inspector_id=i.id, credit_code=c.credit_code, reason=c.reason))


def add_conflict(session: Session, agency: str, conflict: ConflictIn) -> None:
    if session.get(Inspector, {"agency_region_code": agency, "id": conflict.inspector_id}) is None:
        raise Invalid([{"field": "inspector_id", "message": f"no inspector {conflict.inspector_id} on the roster of {agency}"}])
    held = session.get(InspectorConflict, {"agency_region_code": agency, "inspector_id": conflict.inspector_id,
                                           "credit_code": conflict.credit_code})
    if held is None:
        session.add(InspectorConflict(agency_region_code=agency, inspector_id=conflict.inspector_id, credit_code=conflict.credit_code,
                                      reason=conflict.reason))
    else:
        held.reason = conflict.reason
        session.add(held)


def roster_view(session: Session, agency: str) -> dict[str, Any]:
    conflicts: dict[str, list[dict[str, str]]] = {}
    for c in session.exec(select(InspectorConflict).where(InspectorConflict.agency_region_code == agency)
                          .order_by(col(InspectorConflict.credit_code))):
        conflicts.setdefault(c.inspector_id, []).append({"credit_code": c.credit_code, "reason": c.reason})
    inspectors = session.exec(select(Inspector).where(Inspector.agency_region_code == agency).order_by(col(Inspector.id)))
    return {"region_code": agency, "inspectors": [{"id": i.id, "name": i.name, "active": i.active, "conflicts": conflicts.get(i.id, [])}
                                                  for i in inspectors]}
