"""The monitoring service's unit of work: its repository over one session, with the inbox and the outbox of
:class:`shared.unit_of_work.SqlUnitOfWork`. Installed by ``services.monitoring.bootstrap``."""

from __future__ import annotations

from typing import Self

from services.monitoring.adapters.repository import SqlMonitoringRepository
from shared.unit_of_work import SqlUnitOfWork


class MonitoringUnitOfWork(SqlUnitOfWork):
    monitoring: SqlMonitoringRepository

    def __enter__(self) -> Self:
        uow = super().__enter__()
        self.monitoring = SqlMonitoringRepository(self.session)
        return uow
