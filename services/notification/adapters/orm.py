"""The notification service's own tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from shared.contracts import utc_now


class Notification(SQLModel, table=True):
    """One notification for one recipient: the employer (``recipient`` its credit code) or a county's
    mailbox (``recipient`` the region code). Every notification is in the recipient's web inbox."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_mailbox", "recipient_kind", "recipient", "occurred_at"),)

    id: str = Field(primary_key=True, max_length=36)  # uuid5(source event id, recipient): see domain/notifications.py
    kind: str = Field(max_length=40)  # portrait_changed, rectification_raised, … (domain/templates.py)
    recipient_kind: str = Field(max_length=8)  # employer | county
    recipient: str = Field(max_length=18)
    credit_code: str = Field(index=True, max_length=18)  # the employer the matter is about
    region_code: str = Field(index=True, max_length=6)  # its county, as the event names it: scopes city and province readers
    subject: str = Field(max_length=200)
    body: str
    link: str = Field(max_length=200)  # where the console shows the matter, e.g. /rectifications/<id>
    source_event_id: str = Field(index=True, max_length=36)
    source_topic: str = Field(max_length=200)
    rule_set: str = Field(max_length=120)  # the templates it was worded with (jurisdiction, version)
    occurred_at: datetime  # when the event happened (its occurred_at): the inbox's order
    recorded_at: datetime = Field(default_factory=utc_now)


class NotificationRead(SQLModel, table=True):
    """Who read a notification, when: each reader (a token's subject) has their own read marks, so a city
    reading a county's mailbox leaves it unread for the county."""

    __tablename__ = "notification_read"

    notification_id: str = Field(primary_key=True, max_length=36)
    reader: str = Field(primary_key=True, max_length=200)
    read_at: datetime = Field(default_factory=utc_now)


class Delivery(SQLModel, table=True):
    """A notification's delivery through one channel (email, sms): see domain/delivery.py."""

    __tablename__ = "notification_delivery"
    __table_args__ = (Index("ix_notification_delivery_due", "status", "next_attempt_at"),)

    notification_id: str = Field(primary_key=True, max_length=36)
    channel: str = Field(primary_key=True, max_length=16)
    status: str = Field(default="pending", max_length=8)  # pending | sent | failed
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)
    next_attempt_at: datetime | None = None  # pending: not before; sent / failed: null
    address: str | None = Field(default=None, max_length=254)  # where the last attempt went
    created_at: datetime = Field(default_factory=utc_now)
    sent_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utc_now)


class Contact(SQLModel, table=True):
    """Where a recipient receives e-mail and SMS: an employer (``recipient`` its credit code, set by the
    employer) or a county's supervision mailbox (``recipient`` the region code, set by its staff)."""

    __tablename__ = "notification_contact"

    recipient_kind: str = Field(primary_key=True, max_length=8)  # employer | county
    recipient: str = Field(primary_key=True, max_length=18)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    updated_at: datetime = Field(default_factory=utc_now)
    updated_by: str = Field(max_length=200)


class KnownEmployer(SQLModel, table=True):
    """An employer's name (for the wording of its notifications), from ohs.registry.classification-changed
    (the highest archive version wins) or, until the archive's announcement arrives, from another event."""

    __tablename__ = "notification_employer"

    credit_code: str = Field(primary_key=True, max_length=18)
    enterprise_name: str = Field(max_length=200)
    archive_version: int = 0  # 0: learnt from an event other than the archive's


MODELS: list[type[SQLModel]] = [Notification, NotificationRead, Delivery, Contact, KnownEmployer]
