"""The notification service's repositories: notifications (with each reader's read marks), their
deliveries through channels, contacts and employers' names. The SQL ones work in the unit of work's
session (``services.notification.service_layer.unit_of_work``); the handler tests use in-memory ones
(``tests/unit/notification/fakes.py``)."""

from __future__ import annotations

import abc
from datetime import datetime

from sqlmodel import Session, col, select

from services.notification.adapters.orm import Contact, Delivery, KnownEmployer, Notification, NotificationRead
from shared.db import lookup, preload, remember


class AbstractNotificationRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, notification_id: str) -> Notification | None: ...

    @abc.abstractmethod
    def add(self, notification: Notification) -> None: ...

    @abc.abstractmethod
    def read_mark(self, notification_id: str, reader: str) -> NotificationRead | None: ...

    @abc.abstractmethod
    def add_read_mark(self, mark: NotificationRead) -> None: ...


class AbstractDeliveryRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, notification_id: str, channel: str) -> Delivery | None: ...

    @abc.abstractmethod
    def add(self, delivery: Delivery) -> None: ...

    @abc.abstractmethod
    def due(self, now: datetime, limit: int) -> list[Delivery]:
        """Pending deliveries whose next attempt is due at ``now``, oldest first (locked: a concurrent job skips them)."""


class AbstractContactRepository(abc.ABC):
    @abc.abstractmethod
    def get(self, recipient_kind: str, recipient: str) -> Contact | None: ...

    @abc.abstractmethod
    def add(self, contact: Contact) -> None: ...


class AbstractEmployerDirectory(abc.ABC):
    @abc.abstractmethod
    def get(self, credit_code: str) -> KnownEmployer | None: ...

    @abc.abstractmethod
    def add(self, employer: KnownEmployer) -> None: ...

    def preload(self, credit_codes: list[str]) -> None:
        """Load these employers at once (a batch); a store held in memory has nothing to do."""


# --------------------------------------------------------------------------- SQL


class SqlNotificationRepository(AbstractNotificationRepository):
    def __init__(self, session: Session):
        self.session = session

    def get(self, notification_id: str) -> Notification | None:
        return lookup(self.session, Notification, notification_id)

    def add(self, notification: Notification) -> None:
        remember(self.session, notification)

    def read_mark(self, notification_id: str, reader: str) -> NotificationRead | None:
        return self.session.get(NotificationRead, (notification_id, reader))

    def add_read_mark(self, mark: NotificationRead) -> None:
        self.session.add(mark)


class SqlDeliveryRepository(AbstractDeliveryRepository):
    def __init__(self, session: Session):
        self.session = session

    def get(self, notification_id: str, channel: str) -> Delivery | None:
        return self.session.get(Delivery, (notification_id, channel))

    def add(self, delivery: Delivery) -> None:
        self.session.add(delivery)

    def due(self, now: datetime, limit: int) -> list[Delivery]:
        query = (select(Delivery).where(Delivery.status == "pending", col(Delivery.next_attempt_at) <= now)
                 .order_by(col(Delivery.next_attempt_at), col(Delivery.notification_id)).limit(limit)
                 .with_for_update(skip_locked=True))  # PostgreSQL: two replicas' jobs take different rows
        return list(self.session.exec(query))


class SqlContactRepository(AbstractContactRepository):
    def __init__(self, session: Session):
        self.session = session

    def get(self, recipient_kind: str, recipient: str) -> Contact | None:
        return self.session.get(Contact, (recipient_kind, recipient))

    def add(self, contact: Contact) -> None:
        self.session.add(contact)


class SqlEmployerDirectory(AbstractEmployerDirectory):
    def __init__(self, session: Session):
        self.session = session

    def get(self, credit_code: str) -> KnownEmployer | None:
        return lookup(self.session, KnownEmployer, credit_code)

    def add(self, employer: KnownEmployer) -> None:
        remember(self.session, employer)

    def preload(self, credit_codes: list[str]) -> None:
        preload(self.session, KnownEmployer, credit_codes)
