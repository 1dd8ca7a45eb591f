"""The notification service's unit of work: its repositories (notifications and read marks, deliveries,
contacts, employers' names) over one session, with the inbox and the outbox of
:class:`shared.unit_of_work.SqlUnitOfWork`. Installed by ``services.notification.bootstrap``."""

from __future__ import annotations

from typing import Self

from services.notification.adapters.repository import (
    AbstractContactRepository,
    AbstractDeliveryRepository,
    AbstractEmployerDirectory,
    AbstractNotificationRepository,
    SqlContactRepository,
    SqlDeliveryRepository,
    SqlEmployerDirectory,
    SqlNotificationRepository,
)
from shared.unit_of_work import AbstractUnitOfWork, SqlUnitOfWork


class AbstractNotificationUnitOfWork(AbstractUnitOfWork):
    """What the notification use cases rely on."""

    notifications: AbstractNotificationRepository
    deliveries: AbstractDeliveryRepository
    contacts: AbstractContactRepository
    employers: AbstractEmployerDirectory  # employers' names, for the wording


class NotificationUnitOfWork(SqlUnitOfWork, AbstractNotificationUnitOfWork):
    def __enter__(self) -> Self:
        uow = super().__enter__()
        self.notifications = SqlNotificationRepository(self.session)
        self.deliveries = SqlDeliveryRepository(self.session)
        self.contacts = SqlContactRepository(self.session)
        self.employers = SqlEmployerDirectory(self.session)
        return uow
