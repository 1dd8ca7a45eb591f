"""The registry's unit of work: its repositories over one session, the inbox and the outbox.

Installed by ``bootstrap`` (``use_unit_of_work(runtime, RegistryUnitOfWork)``): the Kafka consumer
hands one to each event handler (and commits it), HTTP routes run their use cases in one
(``await uow.run(lambda u: use_case(u, …))``), the periodic sweeps and the CLI open one each.
"""

from __future__ import annotations

from typing import Self

from sqlmodel import Session

from services.registry.adapters.repository import (
    ChangeLogRepository,
    EnterpriseRepository,
    ExemptionRepository,
    OutboxRepository,
    OverrideRepository,
    RectificationRepository,
    ReminderRepository,
    TransferRepository,
    VersionRepository,
)
from services.registry.adapters.orm_portrait import PortraitFactRepository, PortraitRepository
from shared.unit_of_work import SqlUnitOfWork


class RegistryUnitOfWork(SqlUnitOfWork):
    enterprises: EnterpriseRepository
    versions: VersionRepository
    overrides: OverrideRepository
    exemptions: ExemptionRepository
    reminders: ReminderRepository
    change_log: ChangeLogRepository
    transfers: TransferRepository
    rectifications: RectificationRepository
    portraits: PortraitRepository
    portrait_facts: PortraitFactRepository
    outbox: OutboxRepository

    def __enter__(self) -> Self:
        super().__enter__()
        self._bind(self.session)
        return self

    def _bind(self, session: Session) -> None:
        self.enterprises = EnterpriseRepository(session)
        self.versions = VersionRepository(session)
        self.overrides = OverrideRepository(session)
        self.exemptions = ExemptionRepository(session)
        self.reminders = ReminderRepository(session)
        self.change_log = ChangeLogRepository(session)
        self.transfers = TransferRepository(session)
        self.rectifications = RectificationRepository(session)
        self.portraits = PortraitRepository(session)
        self.portrait_facts = PortraitFactRepository(session)
        self.outbox = OutboxRepository(session)

    @classmethod
    def joining(cls, session: Session) -> RegistryUnitOfWork:
        """A unit of work inside a session its caller owns and commits (a test's or a script's
        fixture data): ``commit`` commits that session, and leaving it is up to the caller."""
        uow = cls(session.get_bind())  # type: ignore[arg-type]
        uow.session = session
        uow._bind(session)
        return uow
