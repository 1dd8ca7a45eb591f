"""The notification service's read models: plain queries returning dicts, for the routes
(``await uow.run(lambda u: views.x(u.session, …))``): a reader's inbox (whose mailboxes a caller reads is
:class:`Mailboxes`, built from the token by the routes) and a recipient's contact."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Session, and_, col, func, select

from services.notification.adapters.orm import Contact, Delivery, Notification, NotificationRead


@dataclass(frozen=True)
class Mailboxes:
    """The mailboxes a caller reads: an employer its own (by credit code); county staff their county's; city and
    province staff those of the counties they cover (``region_prefix``). Scoped by the data: the county a
    notification was addressed to is the one the event named."""

    recipient_kind: str  # employer | county
    recipient: str | None = None  # the employer's credit code
    region_prefix: str | None = None  # county staff: their county code; city, province: its prefix

    def covers(self, notification: Notification) -> bool:
        if notification.recipient_kind != self.recipient_kind:
            return False
        if self.recipient_kind == "employer":
            return notification.recipient == self.recipient
        return notification.recipient.startswith(self.region_prefix or "\x00")

    def where(self) -> ColumnElement[bool]:
        if self.recipient_kind == "employer":
            return and_(col(Notification.recipient_kind) == "employer", col(Notification.recipient) == self.recipient)
        return and_(col(Notification.recipient_kind) == "county", col(Notification.recipient).startswith(self.region_prefix or "\x00"))


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def notification_view(notification: Notification, read_at: Any, deliveries: list[Delivery]) -> dict[str, Any]:
    return {
        "id": notification.id,
        "kind": notification.kind,
        "subject": notification.subject,
        "body": notification.body,
        "link": notification.link,
        "created_at": _iso(notification.occurred_at),
        "read_at": _iso(read_at),
        "source_topic": notification.source_topic,
        "source_event_id": notification.source_event_id,
        "recipient_kind": notification.recipient_kind,
        "recipient": notification.recipient,
        "credit_code": notification.credit_code,
        "region_code": notification.region_code,
        "deliveries": [{"channel": d.channel, "status": d.status} for d in sorted(deliveries, key=lambda d: d.channel)],
    }


def _read_join(reader: str) -> ColumnElement[bool]:
    return and_(col(NotificationRead.notification_id) == col(Notification.id), col(NotificationRead.reader) == reader)


def inbox(session: Session, mailboxes: Mailboxes, reader: str, unread_only: bool, limit: int, offset: int) -> dict[str, Any]:
    """The reader's notifications, newest first, with the read marks of this reader; ``unread``: how many of
    them this reader has not read, ``total``: how many the filter matches."""
    unread_filter = col(NotificationRead.read_at).is_(None)
    filters = [mailboxes.where()] + ([unread_filter] if unread_only else [])
    rows = session.exec(
        select(Notification, NotificationRead.read_at).outerjoin(NotificationRead, _read_join(reader)).where(*filters)
        .order_by(col(Notification.occurred_at).desc(), col(Notification.id).desc()).offset(offset).limit(limit)
    ).all()
    ids = [n.id for n, _ in rows]
    deliveries: dict[str, list[Delivery]] = {}
    if ids:
        for delivery in session.exec(select(Delivery).where(col(Delivery.notification_id).in_(ids))):
            deliveries.setdefault(delivery.notification_id, []).append(delivery)
    count = select(func.count()).select_from(Notification).outerjoin(NotificationRead, _read_join(reader))
    unread = session.exec(count.where(mailboxes.where(), unread_filter)).one()
    total = session.exec(count.where(*filters)).one()
    return {
        "items": [notification_view(n, read_at, deliveries.get(n.id, [])) for n, read_at in rows],
        "unread": unread,
        "total": total,
    }


def notification_for(session: Session, notification: Notification, reader: str) -> dict[str, Any]:
    """One notification as the inbox shows it to ``reader``."""
    mark = session.get(NotificationRead, (notification.id, reader))
    deliveries = list(session.exec(select(Delivery).where(Delivery.notification_id == notification.id)))
    return notification_view(notification, mark.read_at if mark else None, deliveries)


def contact(session: Session, recipient_kind: str, recipient: str) -> dict[str, Any]:
    """The recipient's contact (nulls when none is on file)."""
    found = session.get(Contact, (recipient_kind, recipient))
    return {
        "recipient_kind": recipient_kind,
        "recipient": recipient,
        "email": found.email if found else None,
        "phone": found.phone if found else None,
        "updated_at": _iso(found.updated_at) if found else None,
        "updated_by": found.updated_by if found else None,
    }
