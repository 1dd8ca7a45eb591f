"""The sampling service's unit of work: its session with the pools, plans and rosters."""

from __future__ import annotations

from typing import Self

from services.sampling.adapters.repository import PlanRepository, PoolRepository, RosterRepository
from shared.unit_of_work import SqlUnitOfWork


class SamplingUnitOfWork(SqlUnitOfWork):
    pools: PoolRepository
    plans: PlanRepository
    roster: RosterRepository

    def __enter__(self) -> Self:
        super().__enter__()
        self.pools = PoolRepository(self.session)
        self.plans = PlanRepository(self.session)
        self.roster = RosterRepository(self.session)
        return self
