"""Contacts (where a recipient receives e-mail and SMS) and the inbox's read marks: the use cases behind
``PUT /contacts/…`` and ``POST /inbox/{id}/read``. Each commits its unit of work."""

from __future__ import annotations

from collections.abc import Callable

from services.notification.adapters.orm import Contact, Notification, NotificationRead
from services.notification.service_layer.unit_of_work import AbstractNotificationUnitOfWork
from shared import i18n
from shared.contracts import utc_now


class NotificationNotFound(LookupError):
    """No such notification, or one the caller may not read (the same answer: 404); ``code`` and ``params`` say it
    for every language (``shared.i18n``), ``str()`` in Chinese."""

    def __init__(self, notification_id: str) -> None:
        self.notification_id = notification_id
        self.code, self.params = "notification.error.notification_not_found", {"notification_id": notification_id}
        super().__init__(i18n.text(self.code, self.params))


def put_contact(uow: AbstractNotificationUnitOfWork, recipient_kind: str, recipient: str, email: str | None, phone: str | None,
                by: str) -> Contact:
    """Set (replace) the recipient's e-mail address and phone; None clears one. Deliveries still pending go to the new
    addresses; notifications raised from now on get deliveries for them."""
    contact = uow.contacts.get(recipient_kind, recipient) or Contact(recipient_kind=recipient_kind, recipient=recipient, updated_by=by[:200])
    contact.email, contact.phone, contact.updated_at, contact.updated_by = email, phone, utc_now(), by[:200]
    uow.contacts.add(contact)
    uow.commit()
    return contact


def mark_read(uow: AbstractNotificationUnitOfWork, notification_id: str, reader: str,
              may_read: Callable[[Notification], bool]) -> Notification:
    """The reader has read the notification (the first time counts; again changes nothing)."""
    notification = uow.notifications.get(notification_id)
    if notification is None or not may_read(notification):
        raise NotificationNotFound(notification_id)
    if uow.notifications.read_mark(notification_id, reader) is None:
        uow.notifications.add_read_mark(NotificationRead(notification_id=notification_id, reader=reader, read_at=utc_now()))
        uow.commit()
    return notification
