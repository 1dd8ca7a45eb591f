"""Notification event handlers: what the registry announces becomes notifications in the recipients'
inboxes, with a pending delivery per channel (e-mail, SMS) for a recipient who has an address for it.
Each works on the unit of work it is given; the Kafka consumer commits it (with the inbox mark) after
the handler returns. An event more than a week old when handled (a replay) is not e-mailed or texted. Idempotent: a notification's id is derived from the event and the recipient, so a
redelivered or replayed event adds nothing."""

from __future__ import annotations

from collections.abc import Collection

from services.notification.adapters.orm import Delivery, KnownEmployer, Notification
from services.notification.domain import notifications as rules
from services.notification.domain.delivery import ADDRESSED_BY, worth_delivering
from services.notification.domain.templates import TemplateBook
from services.notification.service_layer.unit_of_work import AbstractNotificationUnitOfWork
from shared.contracts import NAME_LENGTH, ClassificationChanged, PortraitChanged, RectificationProgressed, ReminderDue, utc_now
from shared.dates import china_today


def preload_employers(uow: AbstractNotificationUnitOfWork, events: list[ClassificationChanged | RectificationProgressed]) -> None:
    """Before a batch: the names held for its employers, in one query."""
    uow.employers.preload([event.credit_code for event in events])


def remember_employer(uow: AbstractNotificationUnitOfWork, event: ClassificationChanged) -> None:
    """The archive's name of the employer (the highest archive version wins; a late older one changes nothing)."""
    known = uow.employers.get(event.credit_code)
    if known is not None and known.archive_version >= event.archive_version:
        return
    known = known or KnownEmployer(credit_code=event.credit_code, enterprise_name="")
    known.enterprise_name, known.archive_version = event.enterprise_name[:NAME_LENGTH], event.archive_version
    uow.employers.add(known)


def _learn_name(uow: AbstractNotificationUnitOfWork, credit_code: str, name: str) -> None:
    """A name from an event other than the archive's, kept until the archive's announcement arrives."""
    known = uow.employers.get(credit_code)
    if known is None:
        uow.employers.add(KnownEmployer(credit_code=credit_code, enterprise_name=name[:NAME_LENGTH], archive_version=0))
    elif known.archive_version == 0 and known.enterprise_name != name[:NAME_LENGTH]:
        known.enterprise_name = name[:NAME_LENGTH]
        uow.employers.add(known)


def notify_portrait_changed(uow: AbstractNotificationUnitOfWork, event: PortraitChanged, *, templates: TemplateBook,
                            channels: Collection[str] = ()) -> list[str]:
    """A new risk portrait (风险画像): the employer and its county are told."""
    _learn_name(uow, event.credit_code, event.enterprise_name)
    return _raise(uow, rules.portrait_message(event), rules.source_of(event), templates, channels)


def notify_rectification_progressed(uow: AbstractNotificationUnitOfWork, event: RectificationProgressed, *, templates: TemplateBook,
                                    channels: Collection[str] = ()) -> list[str]:
    """A step of a rectification item (整改): raised, reminded, submitted, returned, cleared, overdue (continued: nothing)."""
    known = uow.employers.get(event.credit_code)
    message = rules.rectification_message(event, known.enterprise_name if known else None)
    if message is None:
        return []
    return _raise(uow, message, rules.source_of(event), templates, channels)


def notify_reminder_due(uow: AbstractNotificationUnitOfWork, event: ReminderDue, *, templates: TemplateBook,
                        channels: Collection[str] = ()) -> list[str]:
    """A re-assessment due soon or overdue, or a first assessment overdue (RULES §1)."""
    _learn_name(uow, event.credit_code, event.enterprise_name)
    return _raise(uow, rules.reminder_message(event), rules.source_of(event), templates, channels)


def _raise(uow: AbstractNotificationUnitOfWork, message: rules.Message, source: rules.Source, templates: TemplateBook,
           channels: Collection[str]) -> list[str]:
    """Add the notifications ``message`` makes (those not added before) and their deliveries; their ids."""
    in_force = templates.in_force(source.region_code, china_today(source.occurred_at))
    now = utc_now()
    deliver = worth_delivering(source.occurred_at, now)  # a replayed old event: the inbox only
    added = []
    for draft in rules.drafts(message, source, in_force):
        if uow.notifications.get(draft.id) is not None:
            continue  # this event was handled before (a replay, another consumer group): nothing twice
        uow.notifications.add(Notification(
            id=draft.id, kind=draft.kind, recipient_kind=draft.recipient_kind, recipient=draft.recipient, credit_code=draft.credit_code,
            region_code=draft.region_code, subject=draft.subject, body=draft.body, link=draft.link, source_event_id=draft.source_event_id,
            source_topic=draft.source_topic, rule_set=draft.rule_set, occurred_at=draft.occurred_at,
        ))
        contact = uow.contacts.get(draft.recipient_kind, draft.recipient) if deliver else None
        for channel in channels:
            if contact is not None and getattr(contact, ADDRESSED_BY[channel], None):
                uow.deliveries.add(Delivery(notification_id=draft.id, channel=channel, next_attempt_at=now))
        added.append(draft.id)
    return added
