"""Non-site supervision (RULES §10) in the sampling service: an open exceedance episode of online monitoring
becomes a verification task (核查处置) of the employer's county agency; the monitoring coverage announced for
an employer is kept for the draw's non-site rule.

Both are Kafka handlers: they run in the consumer's unit of work, which commits them with the inbox mark
(at-least-once, idempotent): a handler never commits.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from services.sampling.adapters.orm import MonitoringCoverage, Task
from services.sampling.domain import verification
from services.sampling.domain.rules import SamplingRules
from services.sampling.service_layer.plans import PRODUCER, dumps, roster_of
from services.sampling.service_layer.unit_of_work import SamplingUnitOfWork
from shared.contracts import InspectorRef, TaskAssigned, utc_now
from shared.contracts.monitoring import ExceedanceDetected
from shared.contracts.monitoring import MonitoringCoverage as CoverageEvent
from shared.contracts.sampling import TaskReason
from shared.dates import CHINA

TASK_NAMESPACE = uuid.UUID("0b9e4f5a-7c2d-5e8f-a1b3-c4d5e6f70812")  # task ids from episodes: a redelivery makes no second task


def task_id_for_episode(episode_id: str) -> str:
    return str(uuid.uuid5(TASK_NAMESPACE, episode_id))


def open_verification_task(uow: SamplingUnitOfWork, event: ExceedanceDetected, rules: SamplingRules) -> None:
    """An open episode: one verification task for the employer's county, with its reason, its deadline in working days
    (the sampling defaults in force there on the episode's day) and its inspectors, announced (TaskAssigned) when the
    roster can staff it; else kept unassigned with the reason. A closed episode, or one that has its task: nothing."""
    episode_id = str(event.episode_id)
    if event.status != "open" or uow.plans.task_for_episode(episode_id) is not None:
        return
    county = event.region_code
    began = _china_day(event.started_at)
    defaults = rules.in_force(county, began)
    deadline = rules.calendar.add_working_days(began, defaults.verification_deadline_working_days)
    code, params = verification.reason_of(event.factor, event.measure, event.observed, event.limit, event.unit, event.post,
                                          event.device_id, _china_text(event.started_at), event.shift_day)
    member = uow.pools.member(event.credit_code)
    task = Task(
        id=task_id_for_episode(episode_id), plan_id=None, draw_id=None, position=0, credit_code=event.credit_code,
        enterprise_name=member.enterprise_name if member else event.credit_code, region_code=county,
        category=member.category if member else None, selection="verification", on_site=True, inspectors="[]",
        kind="verification", reason=dumps({"code": code, "params": params, "rule_set": defaults.ref(),
                                           "deadline_working_days": defaults.verification_deadline_working_days,
                                           "inspectors_per_task": defaults.inspectors_per_task}),
        deadline=deadline, episode_id=episode_id,
    )
    _staff(uow, task)
    uow.plans.add_task(task)


def _staff(uow: SamplingUnitOfWork, task: Task) -> bool:
    """Give the task its inspectors by the rule of a drawn task and announce it (TaskAssigned): True; or keep it
    unassigned with the reason (visible to staff in GET /tasks?credit_code=): False."""
    assert task.episode_id is not None and task.reason is not None
    reason = json.loads(task.reason)
    roster, names = roster_of(uow, task.region_code)
    chosen = verification.choose_inspectors(task.episode_id, task.credit_code, roster, int(reason.get("inspectors_per_task", 2)),
                                            uow.plans.open_loads(task.region_code))
    if chosen.problem is not None:
        task.unassigned = dumps(chosen.problem)
        return False
    inspectors = [{"id": i, "name": names[i]} for i in chosen.inspectors]
    task.inspectors, task.unassigned = dumps(inspectors), None
    uow.publish(TaskAssigned(
        producer=PRODUCER, credit_code=task.credit_code, task_id=uuid.UUID(task.id), region_code=task.region_code,
        category=task.category, enterprise_name=task.enterprise_name, selection="verification", on_site=task.on_site,  # type: ignore[arg-type]
        inspectors=[InspectorRef(**i) for i in inspectors], kind="verification",
        reason=TaskReason(code=reason["code"], params=reason["params"]), deadline=task.deadline, episode_id=uuid.UUID(task.episode_id),
    ))
    return True


def staff_unassigned(uow: SamplingUnitOfWork, agency: str) -> int:
    """After the agency's roster changed: its unassigned verification tasks, oldest first, get inspectors if they now can
    (each counted in the loads of the next). How many were staffed; not committed."""
    staffed = 0
    for task in uow.plans.unassigned(agency):
        if _staff(uow, task):
            staffed += 1
        uow.plans.add_task(task)
    return staffed


def _china_day(moment: datetime) -> date:
    return _aware(moment).astimezone(CHINA).date()


def _china_text(moment: datetime) -> str:
    """A moment as China's wall clock, to the minute (2026-12-01 09:30)."""
    return _aware(moment).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def record_coverage(uow: SamplingUnitOfWork, event: CoverageEvent) -> None:
    """The employer's monitoring coverage as announced; an announcement older than the one held changes nothing.
    A change raises the pool version: the non-site rule may now treat the employer otherwise in a draw."""
    held = uow.pools.coverage(event.credit_code)
    if held is not None and _aware(held.announced_at) >= event.occurred_at:
        return
    if held is None:
        held = MonitoringCoverage(credit_code=event.credit_code, region_code=event.region_code, period_start=event.period_start,
                                  period_end=event.period_end, hazards="[]", factors="[]", announced_at=event.occurred_at)
    held.region_code, held.period_start, held.period_end = event.region_code, event.period_start, event.period_end
    held.hazards = json.dumps(event.hazards, ensure_ascii=False)
    held.factors = json.dumps([f.model_dump() for f in event.factors], ensure_ascii=False)
    held.announced_at, held.updated_at = event.occurred_at, utc_now()
    uow.pools.add_coverage(held)
    uow.pools.bump_version()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
