"""Delivering pending notifications through their channels: the delivery job (every few seconds in the
service, ``ohs notification deliver`` for an operator).

Three steps, so that no transaction is open while a mail server answers (a consumer or a request never
waits on SMTP): (1) claim the due deliveries — count the attempt, hold them for the claim lease — and read
each one's message and its recipient's *current* address; commit. (2) Send, outside any transaction.
(3) Record each outcome — sent; pending again after the backoff; or failed with the reason once the
attempts allowed are spent or the error is permanent; commit. Every step is given ``now``, so a test
(or an operator) runs it at any moment without waiting."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from services.notification.adapters.channels import Channel, DeliveryFailed, OutgoingNotification
from services.notification.domain import delivery as rules
from services.notification.service_layer.unit_of_work import AbstractNotificationUnitOfWork

log = logging.getLogger(__name__)
BATCH = 20  # deliveries per run at most (within the claim lease even if each send times out); the next run takes the rest


@dataclass
class _Attempt:
    notification_id: str
    channel: str
    attempts: int
    message: OutgoingNotification | None
    address: str | None
    error: str | None = None
    permanent: bool = False


@dataclass
class DeliveryReport:
    sent: list[str] = field(default_factory=list)  # "<notification id> <channel> <address>"
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (channel, sent | retrying | failed) -> how many

    def lines(self) -> list[str]:
        return [f"sent {s}" for s in self.sent] + [f"retrying {s}" for s in self.retrying] + [f"failed {s}" for s in self.failed]


def deliver_due(make_uow: Callable[[], AbstractNotificationUnitOfWork], channels: Mapping[str, Channel], now: datetime,
                max_attempts: int, limit: int = BATCH) -> DeliveryReport:
    """Deliver every delivery due at ``now`` (at most ``limit``); what happened to each."""
    report = DeliveryReport()
    attempts = _claim(make_uow, now, max_attempts, limit, report)
    for attempt in attempts:
        _send(attempt, channels)
    _record(make_uow, attempts, now, max_attempts, report)
    return report


def _claim(make_uow: Callable[[], AbstractNotificationUnitOfWork], now: datetime, max_attempts: int, limit: int,
           report: DeliveryReport) -> list[_Attempt]:
    claimed: list[_Attempt] = []
    with make_uow() as uow:
        for row in uow.deliveries.due(now, limit):
            if row.attempts >= max_attempts:  # its last attempt was claimed and never reported: the process stopped
                outcome = rules.interrupted(row.attempts)
                row.status, row.next_attempt_at, row.last_error, row.updated_at = outcome.status, None, outcome.last_error, now
                uow.deliveries.add(row)
                report.failed.append(f"{row.notification_id} {row.channel}: {outcome.last_error}")
                report.outcomes[(row.channel, "failed")] += 1
                continue
            row.attempts += 1
            row.next_attempt_at = now + rules.CLAIM_LEASE
            row.updated_at = now
            notification = uow.notifications.get(row.notification_id)
            contact = uow.contacts.get(notification.recipient_kind, notification.recipient) if notification else None
            address = getattr(contact, rules.ADDRESSED_BY.get(row.channel, ""), None) if contact else None
            message = OutgoingNotification(notification.id, notification.subject, notification.body, notification.link) if notification else None
            row.address = address
            uow.deliveries.add(row)
            claimed.append(_Attempt(row.notification_id, row.channel, row.attempts, message, address))
        uow.commit()
    return claimed


def _send(attempt: _Attempt, channels: Mapping[str, Channel]) -> None:
    channel = channels.get(attempt.channel)
    if attempt.message is None:
        attempt.error, attempt.permanent = "the notification no longer exists", True
    elif channel is None:
        attempt.error, attempt.permanent = f"the {attempt.channel} channel is not configured any more", True
    elif not attempt.address:
        field_name = rules.ADDRESSED_BY.get(attempt.channel, attempt.channel)
        attempt.error, attempt.permanent = f"the recipient has no {field_name} on file any more", True
    else:
        try:
            channel.send(attempt.message, attempt.address)
        except DeliveryFailed as error:
            attempt.error, attempt.permanent = str(error), error.permanent
        except Exception as error:  # noqa: BLE001 - a channel's unexpected failure is this attempt's, retried
            attempt.error = f"{type(error).__name__}: {error}"


def _record(make_uow: Callable[[], AbstractNotificationUnitOfWork], attempts: list[_Attempt], now: datetime, max_attempts: int,
            report: DeliveryReport) -> None:
    if not attempts:
        return
    with make_uow() as uow:
        for attempt in attempts:
            row = uow.deliveries.get(attempt.notification_id, attempt.channel)
            if row is None:
                continue
            outcome = rules.after_attempt(attempt.attempts, max_attempts, now, attempt.error, attempt.permanent)
            row.status, row.next_attempt_at, row.last_error, row.updated_at = outcome.status, outcome.next_attempt_at, outcome.last_error, now
            if outcome.status == "sent":
                row.sent_at = now
            uow.deliveries.add(row)
            what = f"{attempt.notification_id} {attempt.channel} {attempt.address or '-'}"
            report.outcomes[(attempt.channel, "retrying" if outcome.status == "pending" else outcome.status)] += 1
            if outcome.status == "sent":
                report.sent.append(what)
            elif outcome.status == "pending":
                report.retrying.append(f"{what} (attempt {attempt.attempts}/{max_attempts}, next at {outcome.next_attempt_at:%H:%M:%S}): {attempt.error}")
                log.warning("delivery %s failed, attempt %d/%d: %s", what, attempt.attempts, max_attempts, attempt.error)
            else:
                report.failed.append(f"{what}: {outcome.last_error}")
                log.error("delivery %s failed for good: %s", what, outcome.last_error)
        uow.commit()
