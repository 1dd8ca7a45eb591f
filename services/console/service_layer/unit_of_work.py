"""The console's unit of work: accounts, sessions and the audit log over one session, with the outbox of
:class:`shared.unit_of_work.SqlUnitOfWork` (revocations are published through it)."""

from __future__ import annotations

from typing import Self

from services.console.adapters.repository import (
    AbstractAccountRepository,
    AbstractAuditLog,
    AbstractSessionRepository,
    SqlAccountRepository,
    SqlAuditLog,
    SqlSessionRepository,
)
from shared.unit_of_work import AbstractUnitOfWork, SqlUnitOfWork


class AbstractConsoleUnitOfWork(AbstractUnitOfWork):
    accounts: AbstractAccountRepository
    sessions: AbstractSessionRepository
    audit: AbstractAuditLog


class ConsoleUnitOfWork(SqlUnitOfWork, AbstractConsoleUnitOfWork):
    def __enter__(self) -> Self:
        uow = super().__enter__()
        self.accounts = SqlAccountRepository(self.session)
        self.sessions = SqlSessionRepository(self.session)
        self.audit = SqlAuditLog(self.session)
        return uow
