"""Delivering a notification through a channel (e-mail, SMS): bounded attempts with exponential
backoff, then ``failed`` with the reason — never retried for ever. Pure rules, no I/O.

Every notification is in the web inbox; a channel that delivers elsewhere gets one delivery per
(notification, channel), made when the notification is raised if the recipient then has an address for
that channel (a notification raised before a contact exists stays in the inbox). The address is read at
delivery time, so a changed contact receives what is still pending.

An attempt is counted when the delivery job claims it (before sending): a process that dies while
sending still used the attempt, and the claim holds the delivery for :data:`CLAIM_LEASE` so that no other
replica sends it meanwhile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

DeliveryStatus = Literal["pending", "sent", "failed"]
DELIVERY_STATUSES: tuple[DeliveryStatus, ...] = ("pending", "sent", "failed")

BACKOFF_BASE = timedelta(seconds=60)  # after the 1st failed attempt; doubled after each further one
BACKOFF_CAP = timedelta(hours=1)
CLAIM_LEASE = timedelta(minutes=15)  # a claimed delivery is not claimed again before this (a run sends at most 20, 20 s each)
ERROR_LENGTH = 2000
# an event older than this when it is handled is not e-mailed or texted (its notification is in the inbox): a
# replay of the topics into an empty service rebuilds the inboxes without mailing the past again
DELIVER_WITHIN = timedelta(days=7)

# the channel -> the contact field that addresses it
ADDRESSED_BY: dict[str, Literal["email", "phone"]] = {"email": "email", "sms": "phone"}


def worth_delivering(occurred_at: datetime, now: datetime) -> bool:
    """Is an event that happened at ``occurred_at`` still news at ``now`` (to be e-mailed, texted)?"""
    return now - occurred_at <= DELIVER_WITHIN


def backoff(attempts: int) -> timedelta:
    """The pause after ``attempts`` failed attempts: 1 min, 2, 4, 8 … at most an hour."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


@dataclass(frozen=True)
class Outcome:
    status: DeliveryStatus
    next_attempt_at: datetime | None
    last_error: str | None


def after_attempt(attempts: int, max_attempts: int, now: datetime, error: str | None = None, permanent: bool = False) -> Outcome:
    """Where a delivery stands after its ``attempts``-th attempt ended at ``now``: sent (no error); failed
    (a permanent error, or the last attempt allowed); else pending until the backoff has passed."""
    if error is None:
        return Outcome("sent", None, None)
    if permanent:
        return Outcome("failed", None, _cut(error))
    if attempts >= max_attempts:
        return Outcome("failed", None, _cut(f"gave up after {attempts} attempt(s): {error}"))
    return Outcome("pending", now + backoff(attempts), _cut(error))


def interrupted(attempts: int) -> Outcome:
    """A delivery whose last allowed attempt was claimed and never reported (its process stopped while sending)."""
    return Outcome("failed", None, f"gave up after {attempts} attempt(s): the last one was interrupted before it reported")


def _cut(text: str) -> str:
    return text if len(text) <= ERROR_LENGTH else text[: ERROR_LENGTH - 1] + "…"
