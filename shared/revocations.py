"""Subjects whose tokens every service refuses: a console account disabled ends its access everywhere.

The console publishes :class:`~shared.contracts.access.AccessRevoked` on ``ohs.console.access-revoked``
when an administrator disables an account (or a person's sessions are ended). Every service reads that
topic whole, from its beginning and without a consumer group (each replica keeps its own copy, in memory),
and :func:`shared.auth.authenticate` answers 401 ``errors.auth.token_revoked`` for a token of a revoked
subject issued before the revocation's ``not_before``. The console mints tokens of a few minutes only,
so the topic's retention (days) always outlives the tokens it revokes.

A revocation reaches a running service within the broker's fetch wait (well under a second on a healthy
broker): far inside the minute an administrator is promised."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from faststream.kafka import KafkaBroker
from pydantic import ValidationError

from shared.contracts.access import AccessRevoked
from shared.topics import ACCESS_REVOKED

log = logging.getLogger(__name__)


class Revocations:
    """subject → the instant before which its tokens are refused (the latest revocation wins)."""

    def __init__(self) -> None:
        self._not_before: dict[str, float] = {}
        self._lock = threading.Lock()

    def record(self, subject: str, not_before: datetime) -> None:
        instant = not_before.timestamp()
        with self._lock:
            if instant > self._not_before.get(subject, float("-inf")):
                self._not_before[subject] = instant

    def refuses(self, subject: str, issued_at: float | None) -> bool:
        """Is a token of ``subject`` issued at ``issued_at`` (None: a token without ``iat``) revoked?"""
        not_before = self._not_before.get(subject)
        return not_before is not None and (issued_at is None or issued_at < not_before)

    def __len__(self) -> int:
        return len(self._not_before)


def watch(broker: KafkaBroker, revocations: Revocations) -> None:
    """Subscribe ``broker`` (before it starts) to the revocations, read from the topic's beginning with
    no consumer group. An unreadable record is logged and passed over: it revokes nothing, and stopping
    here would stop every later revocation."""

    @broker.subscriber(ACCESS_REVOKED, group_id=None, auto_offset_reset="earliest", decoder=_raw)
    async def _revoked(body: bytes) -> None:
        try:
            event = AccessRevoked.model_validate_json(body)
        except (ValidationError, ValueError) as error:
            log.warning("an unreadable record on %s is passed over: %s", ACCESS_REVOKED, error)
            return
        revocations.record(event.subject, event.not_before)
        log.info("access of %s revoked from %s (%s)", event.subject, event.not_before.isoformat(), event.reason or "no reason given")


async def _raw(message) -> bytes:  # noqa: ANN001 - FastStream's decoder: the record's bytes, untouched
    return message.body
