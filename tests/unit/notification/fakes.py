"""A notification unit of work in memory, for the handler and delivery tests: repositories over dicts,
a ``committed`` flag and the inbox marks. No database. The delivery job opens a unit of work per step:
hand it ``lambda: uow`` and it works on this one."""

from __future__ import annotations

from datetime import datetime

from services.notification.adapters.orm import Contact, Delivery, KnownEmployer, Notification, NotificationRead
from services.notification.adapters.repository import (
    AbstractContactRepository,
    AbstractDeliveryRepository,
    AbstractEmployerDirectory,
    AbstractNotificationRepository,
)
from services.notification.service_layer.unit_of_work import AbstractNotificationUnitOfWork
from tests.unit.fakes import InMemoryInboxAndOutbox


class FakeNotifications(AbstractNotificationRepository):
    def __init__(self) -> None:
        self.rows: dict[str, Notification] = {}
        self.reads: dict[tuple[str, str], NotificationRead] = {}

    def get(self, notification_id: str) -> Notification | None:
        return self.rows.get(notification_id)

    def add(self, notification: Notification) -> None:
        if notification.id in self.rows and self.rows[notification.id] is not notification:
            raise AssertionError(f"notification {notification.id} added twice")  # the primary key would refuse it
        self.rows[notification.id] = notification

    def read_mark(self, notification_id: str, reader: str) -> NotificationRead | None:
        return self.reads.get((notification_id, reader))

    def add_read_mark(self, mark: NotificationRead) -> None:
        self.reads[(mark.notification_id, mark.reader)] = mark


class FakeDeliveries(AbstractDeliveryRepository):
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Delivery] = {}

    def get(self, notification_id: str, channel: str) -> Delivery | None:
        return self.rows.get((notification_id, channel))

    def add(self, delivery: Delivery) -> None:
        key = (delivery.notification_id, delivery.channel)
        if key in self.rows and self.rows[key] is not delivery:
            raise AssertionError(f"delivery {key} added twice")
        self.rows[key] = delivery

    def due(self, now: datetime, limit: int) -> list[Delivery]:
        due = [d for d in self.rows.values() if d.status == "pending" and d.next_attempt_at is not None and d.next_attempt_at <= now]
        return sorted(due, key=lambda d: (d.next_attempt_at, d.notification_id))[:limit]


class FakeContacts(AbstractContactRepository):
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Contact] = {}

    def get(self, recipient_kind: str, recipient: str) -> Contact | None:
        return self.rows.get((recipient_kind, recipient))

    def add(self, contact: Contact) -> None:
        self.rows[(contact.recipient_kind, contact.recipient)] = contact


class FakeEmployers(AbstractEmployerDirectory):
    def __init__(self) -> None:
        self.rows: dict[str, KnownEmployer] = {}

    def get(self, credit_code: str) -> KnownEmployer | None:
        return self.rows.get(credit_code)

    def add(self, employer: KnownEmployer) -> None:
        self.rows[employer.credit_code] = employer


class FakeUnitOfWork(InMemoryInboxAndOutbox, AbstractNotificationUnitOfWork):
    """Nothing is rolled back (the objects are the repositories' own); ``committed`` says whether the use case committed."""

    def __init__(self) -> None:
        super().__init__()
        self.notifications = FakeNotifications()
        self.deliveries = FakeDeliveries()
        self.contacts = FakeContacts()
        self.employers = FakeEmployers()

    # --- what the tests read ---------------------------------------------------------------
    def for_recipient(self, recipient_kind: str, recipient: str) -> list[Notification]:
        return [n for n in self.notifications.rows.values() if (n.recipient_kind, n.recipient) == (recipient_kind, recipient)]
