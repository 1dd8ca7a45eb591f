"""Inspection results (检查结果): a task's outcome, announced; violations go to the penalty service."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from services.sampling.adapters.orm import Task, TaskResult
from services.sampling.service_layer.commands import OUTCOME
from services.sampling.service_layer.errors import Conflict
from services.sampling.service_layer.plans import PRODUCER, dumps
from services.sampling.service_layer.unit_of_work import SamplingUnitOfWork
from shared.contracts import InspectionRecorded, ViolationRecorded

if TYPE_CHECKING:
    from services.sampling.service_layer.commands import ResultIn

CASE_NAMESPACE = uuid.UUID("6f0c5d2e-4b8a-5e1f-9c3d-0a1b2c3d4e5f")  # case ids from (task, item): a retry opens no second case


def case_id_for(task_id: str, item_code: str) -> uuid.UUID:
    return uuid.uuid5(CASE_NAMESPACE, f"{task_id}|{item_code}")


def _record(uow: SamplingUnitOfWork, task: Task, request: ResultIn, actor: str) -> bool:
    """Store the task's result and its events (not committed): True; False when the same result is
    stored already; :class:`Conflict` when a different one was recorded."""
    body = request.model_dump(mode="json")
    held = uow.plans.result(task.id)
    if held is not None:
        if json.loads(held.body) == body:
            return False
        raise Conflict("sampling.error.result_recorded", {
            "task_id": task.id, "outcome": OUTCOME.get(held.outcome, held.outcome), "recorded_at": held.recorded_at.isoformat(),
            "recorded_by": held.recorded_by})
    inspectors = [i["id"] for i in json.loads(task.inspectors)]
    plan_id = uuid.UUID(task.plan_id) if task.plan_id else None  # a verification task (核查处置) has no plan
    case_ids: list[uuid.UUID] = []
    for v in request.violations:
        case_id = case_id_for(task.id, v.item_code)
        case_ids.append(case_id)
        uow.publish(ViolationRecorded(
            producer=PRODUCER, credit_code=task.credit_code, case_id=case_id, region_code=task.region_code, item_code=v.item_code,
            found_on=request.inspected_on, harm=v.harm, corrected_on=v.corrected_on,  # type: ignore[arg-type]
            rectification_deadline=v.rectification_deadline, task_id=uuid.UUID(task.id), plan_id=plan_id,
            inspectors=inspectors, description=v.description, major=v.major,
        ))
    uow.publish(InspectionRecorded(
        producer=PRODUCER, credit_code=task.credit_code, task_id=uuid.UUID(task.id), plan_id=plan_id,
        region_code=task.region_code, category=task.category, outcome=request.outcome,  # type: ignore[arg-type]
        inspected_on=request.inspected_on, item_codes=[v.item_code for v in request.violations], case_ids=case_ids,
        reason=request.reason, kind=task.kind,  # type: ignore[arg-type]
    ))
    uow.plans.add_result(TaskResult(task_id=task.id, plan_id=task.plan_id, outcome=request.outcome, body=dumps(body),
                                    case_ids=dumps([str(c) for c in case_ids]), recorded_by=actor))
    return True


def record_result(uow: SamplingUnitOfWork, task_id: str, request: ResultIn, actor: str) -> bool | None:
    """Record the task's result (announced: InspectionRecorded, one ViolationRecorded per violation):
    True when recorded, False when the same result was there already (also from a request at the
    same moment), None when there is no such task. :class:`Conflict` when a different result was
    recorded: a result is not changed."""
    task = uow.plans.task(task_id)
    if task is None:
        return None
    created = _record(uow, task, request, actor)
    if not created:
        return False
    try:
        uow.commit()
    except IntegrityError:  # recorded at the same moment by another request: compare with theirs
        uow.rollback()
        created = _record(uow, task, request, actor)
        if created:
            uow.commit()
    return created
