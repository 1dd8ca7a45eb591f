"""An in-memory unit of work for the sampling use cases: repositories over dicts, a ``committed``
flag and the events published, no database (after cosmicpython's ``FakeUnitOfWork``)."""

from __future__ import annotations

import json

from services.sampling.adapters.orm import (
    Draw,
    Inspector,
    InspectorConflict,
    MonitoringCoverage,
    Plan,
    PoolExemption,
    PoolMember,
    Task,
    TaskResult,
)
from services.sampling.adapters.repository import PoolSnapshot
from shared.contracts import Envelope
from shared.jurisdiction import region_prefix
from shared.unit_of_work import AbstractUnitOfWork
from tests.unit.fakes import InMemoryInboxAndOutbox


class FakePoolRepository:
    def __init__(self) -> None:
        self.members: dict[str, PoolMember] = {}
        self.exemptions: dict[str, PoolExemption] = {}
        self.coverage_rows: dict[str, MonitoringCoverage] = {}
        self.pool_version = 0

    def member(self, credit_code: str) -> PoolMember | None:
        return self.members.get(credit_code)

    def preload_members(self, credit_codes: list[str]) -> None:  # everything is in memory already
        pass

    def add_member(self, member: PoolMember) -> None:
        self.members[member.credit_code] = member

    def exemption(self, exemption_id: str) -> PoolExemption | None:
        return self.exemptions.get(exemption_id)

    def add_exemption(self, exemption: PoolExemption) -> None:
        self.exemptions[exemption.exemption_id] = exemption

    def version(self) -> int:
        return self.pool_version

    def bump_version(self) -> int:
        self.pool_version += 1
        return self.pool_version

    def coverage(self, credit_code: str) -> MonitoringCoverage | None:
        return self.coverage_rows.get(credit_code)

    def add_coverage(self, coverage: MonitoringCoverage) -> None:
        self.coverage_rows[coverage.credit_code] = coverage

    def coverages(self, region_code: str) -> dict[str, MonitoringCoverage]:
        return {k: v for k, v in self.coverage_rows.items() if v.region_code.startswith(region_prefix(region_code))}

    def counties_with_members(self, region_code: str) -> list[str]:
        return sorted({m.region_code for m in self.members.values() if m.region_code.startswith(region_prefix(region_code))})

    def snapshot(self, region_code: str) -> PoolSnapshot:
        members = sorted((m for m in self.members.values() if m.region_code.startswith(region_prefix(region_code))),
                         key=lambda m: m.credit_code)
        codes = {m.credit_code for m in members}
        exempt = {e.credit_code: e for e in self.exemptions.values() if e.exempt and e.credit_code in codes}
        return PoolSnapshot(self.pool_version, members, exempt)


class FakePlanRepository:
    def __init__(self) -> None:
        self.plans: dict[str, Plan] = {}
        self.draws: dict[str, Draw] = {}
        self.tasks: dict[str, Task] = {}
        self.results: dict[str, TaskResult] = {}

    def get(self, plan_id: str) -> Plan | None:
        return self.plans.get(plan_id)

    def add(self, plan: Plan) -> None:
        self.plans[plan.id] = plan

    def children(self, plan_id: str) -> list[Plan]:
        return sorted((p for p in self.plans.values() if p.parent_plan_id == plan_id), key=lambda p: p.region_code)

    def draw(self, plan_id: str) -> Draw | None:
        return self.draws.get(plan_id)

    def add_draw(self, draw: Draw) -> None:
        self.draws[draw.plan_id] = draw

    def task(self, task_id: str) -> Task | None:
        return self.tasks.get(task_id)

    def add_task(self, task: Task) -> None:
        self.tasks[task.id] = task

    def task_for_episode(self, episode_id: str) -> Task | None:
        return next((t for t in self.tasks.values() if t.episode_id == episode_id), None)

    def unassigned(self, region_code: str) -> list[Task]:
        return sorted((t for t in self.tasks.values() if t.region_code == region_code and t.unassigned),
                      key=lambda t: (t.created_at, t.id))

    def open_loads(self, region_code: str) -> dict[str, int]:
        loads: dict[str, int] = {}
        for task in self.tasks.values():
            if task.region_code == region_code and task.id not in self.results:
                for inspector in json.loads(task.inspectors):
                    loads[inspector["id"]] = loads.get(inspector["id"], 0) + 1
        return loads

    def result(self, task_id: str) -> TaskResult | None:
        return self.results.get(task_id)

    def add_result(self, result: TaskResult) -> None:
        self.results[result.task_id] = result


class FakeRosterRepository:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Inspector] = {}
        self.declared: dict[tuple[str, str, str], InspectorConflict] = {}

    def inspectors(self, agency: str, active_only: bool = False) -> list[Inspector]:
        return sorted((i for (a, _), i in self.rows.items() if a == agency and (i.active or not active_only)), key=lambda i: i.id)

    def conflicts(self, agency: str) -> list[InspectorConflict]:
        return sorted((c for key, c in self.declared.items() if key[0] == agency), key=lambda c: c.credit_code)

    def inspector(self, agency: str, inspector_id: str) -> Inspector | None:
        return self.rows.get((agency, inspector_id))

    def conflict(self, agency: str, inspector_id: str, credit_code: str) -> InspectorConflict | None:
        return self.declared.get((agency, inspector_id, credit_code))

    def clear(self, agency: str) -> None:
        self.rows = {k: v for k, v in self.rows.items() if k[0] != agency}
        self.declared = {k: v for k, v in self.declared.items() if k[0] != agency}

    def add(self, row: Inspector | InspectorConflict) -> None:
        if isinstance(row, Inspector):
            self.rows[(row.agency_region_code, row.id)] = row
        else:
            self.declared[(row.agency_region_code, row.inspector_id, row.credit_code)] = row


class FakeUnitOfWork(InMemoryInboxAndOutbox, AbstractUnitOfWork):
    """Events count as published once committed (``published``, in order), as the outbox relay would publish them."""

    def __init__(self) -> None:
        super().__init__()
        self.pools = FakePoolRepository()
        self.plans = FakePlanRepository()
        self.roster = FakeRosterRepository()
        self._pending: list[Envelope] = []

    def commit(self) -> None:
        self.committed = True
        self.published += self._pending
        self._pending = []

    def rollback(self) -> None:
        self._pending = []

    def publish(self, event: Envelope) -> None:
        self._pending.append(event)

    def publish_payload(self, *, event_id: str, topic: str, key: str, payload: str) -> None:
        raise AssertionError("the sampling service publishes only its own events")

