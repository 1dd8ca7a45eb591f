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

    def begin_write(self) -> None:
        """A use case that reads what it then writes (a device's last reading, a shift's detector state) calls this
        first. On SQLite it takes the database's write lock before the first read (``BEGIN IMMEDIATE``, waiting up
        to the engine's busy timeout for another writer: the timer, the consumer, another batch): what it reads
        cannot change under it, and it never has to upgrade a read snapshot to a write (which SQLite refuses at
        once with "database is locked"). PostgreSQL needs nothing here: the use cases lock their devices' rows."""
        self.monitoring.begin_write()
