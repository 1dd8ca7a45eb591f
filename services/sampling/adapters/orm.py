"""The sampling service's own tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from shared.contracts import utc_now


class PoolMember(SQLModel, table=True):
    """One employer's place in the pools; the primary key makes two pools impossible."""

    __tablename__ = "sampling_pool_member"

    credit_code: str = Field(primary_key=True, max_length=18)
    enterprise_name: str
    region_code: str = Field(index=True, max_length=6)
    category: str = Field(index=True, max_length=1)  # 综合风险类别 甲/乙/丙
    archive_version: int
    # GB/T 4754-2017 codes as a JSON list (ClassificationChanged.industry_codes): full-coverage industries
    industry_codes: str = Field(default="[]", sa_column_kwargs={"server_default": "[]"})
    employees: int | None = None  # the headcount in the archive (ClassificationChanged.employees); None until announced
    updated_at: datetime = Field(default_factory=utc_now)


class PoolExemption(SQLModel, table=True):
    """A 免检 as announced by the registry (ohs.registry.exemption-changed). While ``exempt``, the
    employer is left out of the pool (its PoolMember row stays, so it comes back as it was).
    Kept per exemption, whatever arrives first: an exemption may be announced before the
    employer's classification reaches the pool. An ended exemption never starts again."""

    __tablename__ = "sampling_exemption"

    exemption_id: str = Field(primary_key=True, max_length=36)
    credit_code: str = Field(index=True, max_length=18)
    region_code: str = Field(max_length=6)
    valid_from: date
    valid_until: date  # China date, included
    reason: str
    exempt: bool
    updated_at: datetime = Field(default_factory=utc_now)


class PoolCounter(SQLModel, table=True):
    """The pool version: one counter, raised by every change to the pools (a classification placed,
    a 免检 in force or ended). A draw records the version it used."""

    __tablename__ = "sampling_pool_counter"

    name: str = Field(primary_key=True, max_length=20)
    version: int = 0


class Plan(SQLModel, table=True):
    """A sampling plan (抽查计划) for a region and period. ``seed`` stays private until the draw;
    ``commitment`` (its SHA-256) is public from the start. ``parameters`` is the JSON of what the
    algorithm uses (ratios as exact decimal strings, minimums, inspectors per task, 甲 non-site),
    the full-coverage industries, the exclusions and the rule file that supplied the defaults."""

    __tablename__ = "sampling_plan"

    id: str = Field(primary_key=True, max_length=36)
    region_code: str = Field(index=True, max_length=6)
    period: str = Field(index=True, max_length=6)
    parameters: str
    seed: str = Field(max_length=64)
    commitment: str = Field(max_length=64)
    algorithm_version: str = Field(max_length=40)
    parent_plan_id: str | None = Field(default=None, index=True, max_length=36)
    hand_down: bool = False  # a province's or city's plan handed down to its counties: it has no draw of its own
    created_by: str
    created_at: datetime = Field(default_factory=utc_now)


class Draw(SQLModel, table=True):
    """The one draw of a plan (the primary key makes a second impossible): the pool snapshot, the
    roster snapshot and the targets, as published. Never recomputed from the live pool."""

    __tablename__ = "sampling_draw"

    plan_id: str = Field(primary_key=True, max_length=36)
    draw_id: str = Field(unique=True, max_length=36)
    pool_version: int
    pool_hash: str = Field(max_length=64)
    record: str  # the draw as published (JSON): pool, roster, quotas, targets with inspectors
    drawn_by: str
    drawn_at: datetime = Field(default_factory=utc_now)


class Task(SQLModel, table=True):
    """An inspection task (检查任务): one drawn target with its inspectors (``kind`` random), or the verification
    (核查处置, ``kind`` verification) of an exceedance episode of online monitoring: no plan, no draw, a reason
    and a deadline, its inspectors chosen by the rule of a drawn task (none, with ``unassigned``, when the
    county's roster cannot staff it)."""

    __tablename__ = "sampling_task"

    id: str = Field(primary_key=True, max_length=36)
    plan_id: str | None = Field(default=None, index=True, max_length=36)
    draw_id: str | None = Field(default=None, max_length=36)
    position: int  # order in the draw (0 for a verification task)
    credit_code: str = Field(index=True, max_length=18)
    enterprise_name: str
    region_code: str = Field(index=True, max_length=6)
    category: str | None = Field(default=None, max_length=1)
    selection: str = Field(max_length=20)
    on_site: bool
    inspectors: str  # JSON [{"id", "name"}]
    kind: str = Field(default="random", max_length=20, sa_column_kwargs={"server_default": "random"})  # random | verification
    reason: str | None = None  # JSON {"code", "params"}: why the task exists (a verification's exceedance)
    deadline: date | None = None  # a verification task's deadline (China date)
    episode_id: str | None = Field(default=None, unique=True, index=True, max_length=36)  # the exceedance episode verified (one task each)
    unassigned: str | None = None  # JSON {"code", "params"}: why the roster could not staff it
    non_site: str | None = None  # JSON: the non-site rule's decision that this drawn task is inspected non-site (RULES §10)
    created_at: datetime | None = Field(default_factory=utc_now)


class TaskResult(SQLModel, table=True):
    """The outcome of a task's inspection (检查结果); one per task."""

    __tablename__ = "sampling_task_result"

    task_id: str = Field(primary_key=True, max_length=36)
    plan_id: str | None = Field(default=None, index=True, max_length=36)
    outcome: str = Field(max_length=20)  # compliant | violations | not_inspected
    body: str  # the result as recorded (JSON), compared on a repeat
    case_ids: str = "[]"  # JSON list of the penalty cases opened
    recorded_by: str
    recorded_at: datetime = Field(default_factory=utc_now)


class MonitoringCoverage(SQLModel, table=True):
    """An employer's online monitoring coverage as the monitoring service last announced it
    (``ohs.monitoring.coverage``): facts only; the non-site rule of the draw weighs them."""

    __tablename__ = "sampling_monitoring_coverage"

    credit_code: str = Field(primary_key=True, max_length=18)
    region_code: str = Field(index=True, max_length=6)
    period_start: date
    period_end: date
    hazards: str  # JSON list of the hazard factors declared
    factors: str  # JSON [{"factor", "devices", "reporting", "exceedances"}]
    announced_at: datetime  # the event's occurred_at: an older announcement does not replace a newer one
    updated_at: datetime = Field(default_factory=utc_now)


class Inspector(SQLModel, table=True):
    """An inspector (执法检查人员) on an agency's roster (名录库)."""

    __tablename__ = "sampling_inspector"

    agency_region_code: str = Field(primary_key=True, max_length=6)
    id: str = Field(primary_key=True, max_length=64)
    name: str
    active: bool = True


class InspectorConflict(SQLModel, table=True):
    """A declared conflict of interest (回避) of an inspector with an employer."""

    __tablename__ = "sampling_inspector_conflict"

    agency_region_code: str = Field(primary_key=True, max_length=6)
    inspector_id: str = Field(primary_key=True, max_length=64)
    credit_code: str = Field(primary_key=True, max_length=18)
    reason: str
    declared_at: datetime = Field(default_factory=utc_now)


MODELS = [PoolMember, PoolExemption, PoolCounter, Plan, Draw, Task, TaskResult, Inspector, InspectorConflict, MonitoringCoverage]
