"""Events produced by the sampling service (plans, draws, tasks, inspection results), and the
violation found at an inspection (``ohs.inspections.violation-recorded``: sampling publishes it for a
drawn task's result, the penalty service's ``POST /violations`` for one recorded directly)."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared import topics
from shared.contracts.envelope import AgencyEvent, Category, Event, Harm


class ViolationRecorded(Event):
    """A violation found at an inspection: the penalty service opens (or already holds) the case
    ``case_id`` and takes it through the procedure. Recorded through penalty's HTTP API, or by the
    sampling service from an inspection result (``task_id`` / ``plan_id`` then name the task)."""

    topic: ClassVar[str] = topics.VIOLATION_RECORDED

    case_id: UUID
    region_code: str | None = None
    item_code: str
    found_on: date
    harm: Harm
    corrected_on: date | None
    rectification_deadline: date | None
    task_id: UUID | None = Field(default=None, description="the sampling task (检查任务) whose inspection found it")
    plan_id: UUID | None = Field(default=None, description="the sampling plan of that task")
    inspectors: list[str] = Field(default_factory=list, description="who found it (inspector ids)")
    description: str | None = Field(default=None, description="what was found, in the inspectors' words")
    major: bool = Field(default=False, description="the inspectors' finding that it is a major violation (重大违法): never unpenalised, "
                        "and its penalty raises the employer's category")


class InspectorRef(BaseModel):
    """An inspector (执法检查人员) as published with a task: id and name only."""

    id: str
    name: str


class TaskReason(BaseModel):
    """Why a task exists, as a message code and its parameters (``shared.i18n``, catalogue ``sampling``)."""

    code: str = Field(max_length=80)
    params: dict[str, Any] = Field(default_factory=dict, max_length=20)


class TaskAssigned(Event):
    """A task (检查任务) with its inspectors; keyed by the target employer: a target drawn for inspection
    (``kind: random``), or a verification (核查处置, ``kind: verification``) of an exceedance episode of online
    monitoring (RULES §10), which has no plan, no draw and no period."""

    topic: ClassVar[str] = topics.TASK_ASSIGNED

    task_id: UUID
    plan_id: UUID | None = Field(default=None, description="the plan of a drawn task; None for a verification task")
    draw_id: UUID | None = Field(default=None, description="the draw of a drawn task; None for a verification task")
    region_code: str = Field(description="the target's county")
    period: str | None = Field(default=None, description="the plan's period: 2026 or 2026Q1 (None for a verification task)")
    category: Category | None = None  # 综合风险类别 of the target when drawn (a verification task: when assigned, None if unknown)
    enterprise_name: str
    selection: Literal["random", "full_coverage", "verification"] = Field(
        description="drawn at random, taken in full (mandatory industry), or a verification of an exceedance")
    on_site: bool = Field(description="false: a non-site (非现场) check, as the plan allows for 甲 or the non-site rule decides")
    inspectors: list[InspectorRef]
    kind: Literal["random", "verification"] = Field(default="random", description="a drawn task, or a verification (核查处置)")
    reason: TaskReason | None = Field(default=None, description="a verification task's reason (the exceedance), as a message code")
    deadline: date | None = Field(default=None, description="a verification task's deadline (China date, working days from the episode)")
    episode_id: UUID | None = Field(default=None, description="the exceedance episode a verification task verifies")


class PlanCommitted(AgencyEvent):
    """A sampling plan was created; its seed is committed (SHA-256) before any draw, so the draw
    cannot be steered after the pool is seen."""

    topic: ClassVar[str] = topics.PLAN_COMMITTED

    plan_id: UUID
    period: str
    commitment: str = Field(description="hex SHA-256 of the secret seed")
    algorithm_version: str
    ratios: dict[str, float]
    parent_plan_id: UUID | None = Field(default=None, description="the province's or city's plan this one was handed down from")


class DrawPublished(AgencyEvent):
    """A plan's draw is done and public (一公开): with it anyone can recompute the draw."""

    topic: ClassVar[str] = topics.DRAW_PUBLISHED

    plan_id: UUID
    draw_id: UUID
    period: str
    seed: str = Field(description="the seed revealed; its SHA-256 is the plan's commitment")
    commitment: str
    pool_hash: str = Field(description="hex SHA-256 of the canonical pool the draw used")
    pool_version: int = Field(ge=0, description="the pool version (change counter) the draw used")
    algorithm_version: str
    targets: dict[str, int] = Field(description="targets drawn per category (甲/乙/丙)")
    publication: str = Field(description="path of the public record, GET on the sampling service")


class InspectionRecorded(Event):
    """The outcome of one task's inspection (检查结果), published (一公开); violations found also go
    to the penalty service as ``ohs.inspections.violation-recorded``."""

    topic: ClassVar[str] = topics.INSPECTION_RECORDED

    task_id: UUID
    plan_id: UUID | None = Field(default=None, description="the plan of a drawn task; None for a verification task")
    region_code: str
    category: Category | None = None
    outcome: Literal["compliant", "violations", "not_inspected"]
    inspected_on: date | None
    item_codes: list[str] = Field(default_factory=list, description="§7 item codes of the violations found")
    case_ids: list[UUID] = Field(default_factory=list, description="the penalty cases opened for them")
    reason: str | None = Field(default=None, description="why not inspected")
    kind: Literal["random", "verification"] = Field(default="random", description="the task's kind (a verification: 核查处置)")
