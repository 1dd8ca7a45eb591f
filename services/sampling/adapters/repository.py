"""The sampling service's repositories: how its use cases reach its tables.

One repository per aggregate the use cases touch: the pools (members, their 免检, the pool
version), the plans (a plan, its draw, its tasks and their results) and the inspector rosters.
Each takes the unit of work's session; the handler tests use in-memory fakes with the same
methods (``tests/unit/sampling/fakes.py``). The read models (``services/sampling/views.py``)
query the session directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session, col, delete, select

from services.sampling.adapters.orm import (
    Draw, Inspector, InspectorConflict, MonitoringCoverage, Plan, PoolCounter, PoolExemption, PoolMember, Task, TaskResult,
)
from services.sampling.adapters.pools import members_and_exemptions
from shared.db import lookup, preload, remember
from shared.jurisdiction import region_prefix

POOL_COUNTER = "pool"


@dataclass
class PoolSnapshot:
    """A region's pool read consistently: the pool version, the members sorted by credit code and the
    免检 in force among them by credit code."""

    version: int
    members: list[PoolMember]
    exempt: dict[str, PoolExemption]


class PoolRepository:
    """The pools: one member per employer, the 免检 announced, the pool version."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def member(self, credit_code: str) -> PoolMember | None:
        return lookup(self.session, PoolMember, credit_code)

    def add_member(self, member: PoolMember) -> None:
        remember(self.session, member)

    def preload_members(self, credit_codes: list[str]) -> None:
        """Load these employers' members in one query (a batch of announcements)."""
        preload(self.session, PoolMember, credit_codes)

    def exemption(self, exemption_id: str) -> PoolExemption | None:
        return self.session.get(PoolExemption, exemption_id)

    def add_exemption(self, exemption: PoolExemption) -> None:
        self.session.add(exemption)

    def version(self) -> int:
        counter = self.session.get(PoolCounter, POOL_COUNTER)
        return counter.version if counter else 0

    def bump_version(self) -> int:
        """Every change to the pools raises the pool version (a draw records the one it used)."""
        counter = self.session.get(PoolCounter, POOL_COUNTER)
        if counter is None:
            counter = PoolCounter(name=POOL_COUNTER, version=0)
        counter.version += 1
        self.session.add(counter)
        return counter.version

    def coverage(self, credit_code: str) -> MonitoringCoverage | None:
        return self.session.get(MonitoringCoverage, credit_code)

    def add_coverage(self, coverage: MonitoringCoverage) -> None:
        self.session.add(coverage)

    def coverages(self, region_code: str) -> dict[str, MonitoringCoverage]:
        """The monitoring coverage announced for the employers of a region, by credit code."""
        prefix = region_prefix(region_code)
        rows = self.session.exec(select(MonitoringCoverage).where(col(MonitoringCoverage.region_code).startswith(prefix)))
        return {row.credit_code: row for row in rows}

    def counties_with_members(self, region_code: str) -> list[str]:
        prefix = region_prefix(region_code)
        return sorted(set(self.session.exec(select(PoolMember.region_code).where(col(PoolMember.region_code).startswith(prefix)))))

    def snapshot(self, region_code: str) -> PoolSnapshot:
        """The pool of a region and its version, read with no change committed in between."""
        for _ in range(5):
            version = self.version()
            members, exempt = members_and_exemptions(self.session, region_code)
            if self.version() == version:
                break
            self.session.expire_all()
        return PoolSnapshot(version, members, exempt)


class PlanRepository:
    """Plans with their one draw, the draw's tasks and the tasks' results."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, plan_id: str) -> Plan | None:
        return self.session.get(Plan, plan_id)

    def add(self, plan: Plan) -> None:
        self.session.add(plan)

    def children(self, plan_id: str) -> list[Plan]:
        return list(self.session.exec(select(Plan).where(Plan.parent_plan_id == plan_id).order_by(col(Plan.region_code))))

    def draw(self, plan_id: str) -> Draw | None:
        return self.session.get(Draw, plan_id)

    def add_draw(self, draw: Draw) -> None:
        self.session.add(draw)

    def task(self, task_id: str) -> Task | None:
        return self.session.get(Task, task_id)

    def add_task(self, task: Task) -> None:
        self.session.add(task)

    def task_for_episode(self, episode_id: str) -> Task | None:
        return self.session.exec(select(Task).where(Task.episode_id == episode_id)).first()

    def unassigned(self, region_code: str) -> list[Task]:
        """The county's tasks its roster could not staff (verification tasks), oldest first."""
        return list(self.session.exec(select(Task).where(Task.region_code == region_code, col(Task.unassigned).is_not(None))
                                      .order_by(col(Task.created_at), col(Task.id))))

    def open_loads(self, region_code: str) -> dict[str, int]:
        """Inspector id → how many open tasks (no result yet) of the county they hold."""
        recorded = select(TaskResult.task_id)
        open_tasks = self.session.exec(select(Task.inspectors).where(Task.region_code == region_code, col(Task.id).not_in(recorded)))
        loads: dict[str, int] = {}
        for inspectors in open_tasks:
            for inspector in json.loads(inspectors):
                loads[inspector["id"]] = loads.get(inspector["id"], 0) + 1
        return loads

    def result(self, task_id: str) -> TaskResult | None:
        return self.session.get(TaskResult, task_id)

    def add_result(self, result: TaskResult) -> None:
        self.session.add(result)


class RosterRepository:
    """Each agency's inspectors (名录库) and their declared conflicts (回避)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def inspectors(self, agency: str, active_only: bool = False) -> list[Inspector]:
        statement = select(Inspector).where(Inspector.agency_region_code == agency)
        if active_only:
            statement = statement.where(col(Inspector.active).is_(True))
        return list(self.session.exec(statement.order_by(col(Inspector.id))))

    def conflicts(self, agency: str) -> list[InspectorConflict]:
        return list(self.session.exec(select(InspectorConflict).where(InspectorConflict.agency_region_code == agency)
                                      .order_by(col(InspectorConflict.credit_code))))

    def inspector(self, agency: str, inspector_id: str) -> Inspector | None:
        return self.session.get(Inspector, {"agency_region_code": agency, "id": inspector_id})

    def conflict(self, agency: str, inspector_id: str, credit_code: str) -> InspectorConflict | None:
        return self.session.get(InspectorConflict, {"agency_region_code": agency, "inspector_id": inspector_id, "credit_code": credit_code})

    def clear(self, agency: str) -> None:
        """Remove the agency's roster and its conflicts (before a replacement)."""
        self.session.exec(delete(InspectorConflict).where(InspectorConflict.agency_region_code == agency))  # type: ignore[call-overload]
        self.session.exec(delete(Inspector).where(Inspector.agency_region_code == agency))  # type: ignore[call-overload]
        self.session.flush()

    def add(self, row: Inspector | InspectorConflict) -> None:
        self.session.add(row)

