"""Kafka plumbing: at-least-once consumption with idempotency, bounded retries and a DLQ, and
an outbox relay for publishing.

The consumption contract every service relies on:

1. Records come in batches (up to ``consumer_batch_max``, whatever the broker has ready). The
   offsets are committed only after the batch's database transaction has committed (FastStream
   ``AckPolicy.MANUAL``; its default, ``ACK_FIRST``, would be at-most-once).
2. A batch is one unit of work: the inbox is asked once for every ``event_id`` of the batch, the
   handler runs for each event not yet applied (in the records' order: one employer's events are on
   one partition, in order), each is recorded in the inbox, and one commit makes it all durable.
   The inbox is scoped per consumer group: a service's own group ``<prefix>.<service>``, and any
   extra group ``<prefix>.<service>.<suffix>`` a second subscriber on an already consumed topic needs.
3. A payload that does not fit its contract goes straight to ``<topic>.dlq`` (retrying cannot
   fix it) and never enters the batch's transaction. If the batch's transaction fails, it is rolled
   back and its events are applied one by one, each in a transaction of its own: a handler that
   keeps failing on one event is retried ``consumer_max_attempts`` times with exponential back-off,
   then dead-lettered, and its batch-mates are applied once. The dead letter carries the original
   bytes and key, and headers naming the topic, partition, offset, consumer group, attempts and error.
4. A database that does not answer is not the events' fault: the consumer pauses (nothing is
   dead-lettered, no offset moves) and resumes when the database answers again.
5. Events the handlers produced sit in the outbox (same transaction) and are published after the
   commit, in batches, then marked; a periodic relay publishes anything a crash left behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
import re
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timezone
from dataclasses import dataclass
from typing import Any

from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordTooLargeError
from opentelemetry import trace
from opentelemetry.trace import StatusCode
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from pydantic import ValidationError
from sqlalchemy import Connection, Engine, text, update
from sqlmodel import Session

from shared.contracts import Event, utc_now
from shared.logs import handled
from shared.tracing import consumer_span, outbox_headers, record_trace_headers
from shared.db import OutboxMessage, advisory_key, count_pending_outbox, count_set_aside_outbox, database_answers, oldest_pending_outbox, pending_outbox
from shared.metrics import ServiceMetrics
from shared.settings import Settings
from shared.topics import content_type, dead_letter_topic
from shared.unit_of_work import AbstractUnitOfWork, SqlUnitOfWork

log = logging.getLogger(__name__)

# A handler applies one event through the unit of work it is given; the consumer commits it
# (with the inbox mark) after the handler returns.
EventHandler = Callable[[AbstractUnitOfWork, Any], None]

DLQ_HEADER_PREFIX = "x-dlq-"
# what the broker (or the producer, before sending) refuses for good: retrying the same record cannot help
REFUSED_FOR_GOOD = (MessageSizeTooLargeError, RecordTooLargeError)  # not an ACL: fixing one lets every row through
DLQ_MAX_KEY_BYTES = 1024  # a key is a credit code or a region code; a longer one is cut in the dead letter


def _cut(data: bytes, what: str) -> dict[str, str]:
    """Headers recording that ``what`` was cut from a dead letter: its original size and SHA-256."""
    return {
        f"{DLQ_HEADER_PREFIX}{what}-truncated": "true",
        f"{DLQ_HEADER_PREFIX}{what}-size": str(len(data)),
        f"{DLQ_HEADER_PREFIX}{what}-sha256": hashlib.sha256(data).hexdigest(),
    }


async def _raw_records(message: Any) -> Any:
    """Decoder that hands the handler the batch's records untouched, so that even bytes that are
    not JSON reach our own validation (and the DLQ) instead of failing inside the framework."""
    return list(message.raw_message)


class BatchFailed(Exception):
    """The batch's transaction failed while the database answers: apply its events one by one."""


_GROUP_SUFFIX = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")


@dataclass(frozen=True)
class Subscription:
    """One subscriber: the topic, its contract and handler, its inbox scope and its consumer group."""

    topic: str
    model: type[Event]
    handler: EventHandler
    inbox: str  # processed_event.consumer: "" for the service's own group, else the group suffix
    group_id: str
    # called once per batch, in its unit of work, with the events about to be applied (e.g. to preload
    # the rows they will look up: shared.db.preload); it only reads
    prepare: Callable[[AbstractUnitOfWork, list[Any]], None] | None = None


@dataclass
class DeadLetter:
    topic: str
    reason: str
    error_type: str
    attempts: int


class OutboxRelay:
    """Publishes committed outbox rows in order, then marks them published."""

    def __init__(self, engine: Engine, broker: KafkaBroker, metrics: ServiceMetrics, interval_s: float = 1.0):
        self._engine = engine
        self._broker = broker
        self._metrics = metrics
        self._interval_s = interval_s
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock_key = advisory_key(f"ohs-outbox-relay-{engine.url.database}")

    def notify(self) -> None:
        """Something was committed to the outbox: publish it soon. Callable from any thread (a unit
        of work commits in a worker thread); never waits for the broker. Before the relay runs it
        does nothing: the relay publishes everything pending when it starts."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._wake.set)
        except RuntimeError:  # the loop closed in between
            pass

    async def flush(self) -> int:
        """Publish everything pending, in order; returns how many were published. Safe to call concurrently.

        Rows go out in batches: every row of a batch is handed to the producer without waiting
        (it groups them into requests per partition, in order), then the acknowledgements are
        awaited and the published rows marked in one statement. A row the broker refuses for good
        (too large for it) is set aside with the error — ``ohs_outbox_set_aside_events`` counts
        them for an operator — and the rows behind it go on: one poison row never blocks the
        service. Any other failure (the broker unreachable) stops this round after marking what was
        acknowledged; the rest is tried again on the next."""
        async with self._lock:
            claim = await asyncio.to_thread(self._claim)
            if claim is False:  # another replica's relay is publishing this database's outbox: it publishes ours too
                return 0
            try:
                published = 0
                while True:
                    batch = await asyncio.to_thread(self._pending)
                    if not batch:
                        break
                    done, failure = await self._publish_batch(batch)
                    published += done
                    if failure is not None:
                        await asyncio.to_thread(self._update_gauges)
                        raise failure
                await asyncio.to_thread(self._update_gauges)
                return published
            finally:
                if claim is not None:
                    await asyncio.to_thread(self._let_go, claim)

    def _claim(self) -> Connection | None | bool:
        """Replicas of a service share its PostgreSQL database, and so its outbox: one relay at a time publishes it
        (a session-level advisory lock on a connection held for the round), else both would publish every row.
        None on SQLite (one process), False when another replica holds it."""
        if self._engine.dialect.name != "postgresql":
            return None
        connection = self._engine.connect()
        try:
            held = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._lock_key}).scalar()
            connection.commit()  # the lock outlives the transaction; the connection does not idle in one
        except Exception:
            connection.close()
            raise
        if not held:
            connection.close()
            return False
        return connection

    def _let_go(self, connection: Connection) -> None:
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._lock_key})
            connection.commit()
        except Exception:  # noqa: BLE001 - the database went away: the lock went with its session
            connection.invalidate()
        finally:
            connection.close()

    async def _publish_batch(self, batch: list[tuple[int, str, str, str, str | None]]) -> tuple[int, Exception | None]:
        sent: list[tuple[int, str, str, Any]] = []
        failure: Exception | None = None
        for row_id, topic, key, payload, stored_headers in batch:
            try:  # the row's trace context (traceparent, tracestate) goes with it: shared.tracing
                pending = await self._broker.publish(
                    payload.encode(), topic=topic, key=key.encode(), headers={"content-type": content_type(topic), **outbox_headers(stored_headers)},
                    no_confirm=True,
                )
            except REFUSED_FOR_GOOD as error:
                await self._refused(row_id, topic, error)
                continue
            except Exception as error:  # noqa: BLE001 - the broker unreachable: stop here, this round
                failure = error
                break
            sent.append((row_id, topic, payload, pending))
        acknowledged: list[int] = []
        for row_id, topic, payload, pending in sent:
            try:
                if inspect.isawaitable(pending):
                    await pending
            except REFUSED_FOR_GOOD as error:
                await self._refused(row_id, topic, error)
                continue
            except Exception as error:  # noqa: BLE001 - not acknowledged: stays pending for the next round
                failure = failure or error
                continue
            acknowledged.append(row_id)
            self._metrics.events_published.labels(topic=topic).inc()
            self._metrics.domain.published(topic, payload)  # what the service decided, counted once the broker has it
        if acknowledged:
            await asyncio.to_thread(self._mark_published, acknowledged)
        return len(acknowledged), failure

    async def _refused(self, row_id: int, topic: str, error: Exception) -> None:
        await asyncio.to_thread(self._set_aside, row_id, error)
        self._metrics.outbox_set_aside_total.labels(topic=topic).inc()
        log.error("outbox row %s for %s set aside: the broker refused it for good: %r", row_id, topic, error)

    def _pending(self) -> list[tuple[int, str, str, str, str | None]]:
        with Session(self._engine) as session:
            return [(m.id, m.topic, m.key, m.payload, m.headers) for m in pending_outbox(session)]  # type: ignore[misc]

    def _mark_published(self, row_ids: list[int]) -> None:
        with Session(self._engine) as session:
            statement = update(OutboxMessage).where(OutboxMessage.id.in_(row_ids), OutboxMessage.published_at.is_(None))  # type: ignore[union-attr]
            session.exec(statement.values(published_at=utc_now()))  # type: ignore[call-overload]
            session.commit()

    def _set_aside(self, row_id: int, error: Exception) -> None:
        self._update_row(row_id, failed_at=utc_now(), error=f"{type(error).__name__}: {error}"[:2000])

    def _update_row(self, row_id: int, **values: object) -> None:
        with Session(self._engine) as session:
            row = session.get(OutboxMessage, row_id)
            if row is not None and row.published_at is None:
                for name, value in values.items():
                    setattr(row, name, value)
                session.add(row)
                session.commit()

    def _update_gauges(self) -> None:
        with Session(self._engine) as session:
            self._metrics.outbox_pending.set(count_pending_outbox(session))
            self._metrics.outbox_set_aside.set(count_set_aside_outbox(session))
            oldest = oldest_pending_outbox(session)
        age = (utc_now() - (oldest if oldest.tzinfo else oldest.replace(tzinfo=timezone.utc))).total_seconds() if oldest else 0.0
        self._metrics.outbox_oldest_pending_age.set(max(age, 0.0))

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # noqa: BLE001 - the relay must outlive a broker hiccup
                log.exception("outbox relay: publishing failed; will retry")
            try:  # until the next commit that published (notify) or the interval, whichever is first
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval_s)
            except TimeoutError:
                pass

    def start(self) -> None:
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the relay after one last try (bounded by ``timeout_s``) to publish what is pending: a
        service stopped right after a request leaves nothing waiting for its next start."""
        if self._task is not None:
            try:
                await asyncio.wait_for(self.flush(), timeout=timeout_s)
            except Exception:  # noqa: BLE001 - the broker may be gone; the next start publishes it
                log.warning("outbox relay: could not publish everything before stopping; the next start will")
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
            self._loop = None


class ReliableConsumer:
    """Registers at-least-once, idempotent subscribers on a broker (see the module docstring)."""

    def __init__(
        self,
        broker: KafkaBroker,
        engine: Engine,
        relay: OutboxRelay,
        settings: Settings,
        metrics: ServiceMetrics,
    ):
        self._broker = broker
        self._engine = engine
        self._relay = relay
        self._settings = settings
        self._metrics = metrics
        self._subscriptions: set[tuple[str, str]] = set()  # (topic, inbox scope)
        self.subscriptions: list[Subscription] = []  # in the order subscribed
        # the service's unit of work (Runtime points this at runtime.uow, which a bootstrap may replace)
        self.make_uow: Callable[[], AbstractUnitOfWork] = lambda: SqlUnitOfWork(engine, relay.notify)

    def subscribe(self, topic: str, model: type[Event], handler: EventHandler, group_suffix: str | None = None,
                  prepare: Callable[[Any, list[Any]], None] | None = None) -> None:
        """Consume ``topic`` in the service's consumer group ``<prefix>.<service>``, or, with
        ``group_suffix``, in a group of its own ``<prefix>.<service>.<suffix>``.

        A second subscriber on a topic the service already consumes needs a suffix: in one group
        the two would split the topic's partitions between them, each seeing only part of it. Each
        group has its own inbox scope (``processed_event.consumer``: ``""`` or the suffix), so an
        event both receive is applied once by each."""
        if group_suffix is not None and not _GROUP_SUFFIX.fullmatch(group_suffix):
            raise ValueError(f"group_suffix {group_suffix!r}: lowercase letters, digits and '-' only")
        inbox = group_suffix or ""
        if (topic, inbox) in self._subscriptions:
            raise ValueError(
                f"{topic} is already consumed in group {self.group_id(group_suffix)}: a second subscriber there would "
                "split the partitions with the first; give it a group_suffix of its own"
            )
        self._subscriptions.add((topic, inbox))
        consumer = self
        subscription = Subscription(topic, model, handler, inbox, self.group_id(group_suffix), prepare)
        self.subscriptions.append(subscription)

        @self._broker.subscriber(
            topic,
            group_id=subscription.group_id,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            batch=True,
            max_records=self._settings.consumer_batch_max,
            batch_timeout_ms=self._settings.consumer_batch_wait_ms,
            decoder=_raw_records,
            title=f"{self._settings.service_name}:{topic}" + (f":{group_suffix}" if group_suffix else ""),
        )
        async def _consume(records: Any, msg: KafkaMessage) -> None:
            await consumer.consume(subscription, records, msg)

    def group_id(self, group_suffix: str | None = None) -> str:
        group = self._settings.consumer_group()
        return f"{group}.{group_suffix}" if group_suffix else group

    async def consume(self, subscription: Subscription, records: Sequence[Any], msg: Any) -> None:
        """Apply one batch of records (see the module docstring), then commit the offsets."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        outcomes = await self._process_batch(subscription, records)
        group = subscription.group_id
        for outcome, count in outcomes.items():
            self._metrics.events_consumed.labels(topic=subscription.topic, group=group, outcome=outcome).inc(count)
        self._metrics.consume_seconds.labels(topic=subscription.topic, group=group).observe(loop.time() - started)
        if outcomes["processed"]:
            try:
                await self._relay.flush()
            except Exception:  # noqa: BLE001 - the periodic relay will publish it
                log.exception("publishing after %s failed; the outbox relay will retry", subscription.topic)
        await msg.ack()
        self._observe_delay(records, group)

    async def _process_batch(self, subscription: Subscription, records: Sequence[Any]) -> Counter[str]:
        outcomes: Counter[str] = Counter()
        parsed: list[tuple[Any, Event]] = []
        for record in records:
            body = record.value or b""
            try:
                parsed.append((record, subscription.model.model_validate_json(body)))
            except (ValidationError, ValueError) as error:
                letter = DeadLetter(subscription.topic, _describe_validation(error), type(error).__name__, 1)
                await self._dead_letter(record, body, letter, subscription.group_id)
                outcomes["dead_lettered"] += 1
        if len(parsed) > 1:
            try:
                applied, duplicates = await self._apply_batch_when_the_database_answers(subscription, parsed)
                outcomes["processed"] += applied
                outcomes["duplicate"] += duplicates
                return outcomes
            except BatchFailed as failure:
                log.warning("a batch of %d from %s failed (%r); applying its events one by one", len(parsed), subscription.topic, failure.__cause__)
        for record, event in parsed:
            outcomes[await self._process_one(subscription, record, event)] += 1
        return outcomes

    async def _apply_batch_when_the_database_answers(self, subscription: Subscription, parsed: list[tuple[Any, Event]]) -> tuple[int, int]:
        records, events = [record for record, _ in parsed], [event for _, event in parsed]
        while True:
            try:
                return await asyncio.to_thread(self._apply_batch, subscription, events, records)
            except Exception as error:  # noqa: BLE001 - the database's fault (wait) or an event's (one by one)
                if not await self._waited_for_the_database(subscription):
                    raise BatchFailed() from error

    def _apply_batch(self, subscription: Subscription, events: list[Event], records: Sequence[Any] | None = None) -> tuple[int, int]:
        """Apply the batch in one unit of work: one inbox query, the handler for each new event, one commit.

        Each event is handled in a CONSUMER span, child of the context its record carries (``records``, in
        the events' order), so what the handler publishes continues the producer's trace; after the commit
        each gets its log line (``shared.logs.handled``) and its span ends."""
        topic, group = subscription.topic, subscription.group_id
        spans: list[tuple[Any, Any, Event, str]] = []  # (span, record, event, outcome)
        try:
            with self.make_uow() as uow:
                seen = uow.seen_many([str(event.event_id) for event in events], subscription.inbox)
                if subscription.prepare is not None:
                    subscription.prepare(uow, [event for event in events if str(event.event_id) not in seen])
                applied = 0
                for index, event in enumerate(events):
                    event_id = str(event.event_id)
                    record = records[index] if records is not None else None
                    span = consumer_span(record, topic=topic, group=group, event_id=event_id, event_type=type(event).__name__)
                    if event_id in seen:  # applied before, or earlier in this batch (delivered twice)
                        spans.append((span, record, event, "duplicate"))
                        continue
                    spans.append((span, record, event, "processed"))
                    with trace.use_span(span):
                        subscription.handler(uow, event)
                    uow.mark_seen(event_id, subscription.topic, subscription.inbox)
                    seen.add(event_id)
                    applied += 1
                uow.commit()
        except BaseException:
            for span, *_ in spans:  # its events are applied again, one by one, each in a span of its own
                span.set_status(StatusCode.ERROR, "the batch's transaction failed")
                span.end()
            raise
        for span, record, event, outcome in spans:
            with trace.use_span(span, end_on_exit=True):
                handled(record, topic=topic, group=group, outcome=outcome, event_id=str(event.event_id), event_type=type(event).__name__)
        return applied, len(events) - applied

    async def _process_one(self, subscription: Subscription, record: Any, event: Event) -> str:
        topic, group = subscription.topic, subscription.group_id
        attempts = self._settings.consumer_max_attempts
        attempt = 1
        while True:
            try:
                applied = await asyncio.to_thread(self._apply, topic, event, subscription.handler, subscription.inbox, record)
                return "processed" if applied else "duplicate"
            except Exception as error:  # noqa: BLE001 - every failure is retried, then dead-lettered
                if await self._waited_for_the_database(subscription):
                    continue  # the database was away: not this event's attempt
                if attempt == attempts:
                    reason = f"handler failed {attempts} times; last error: {error!r}\n{traceback.format_exc(limit=5)}"
                    await self._dead_letter(record, record.value or b"", DeadLetter(topic, reason, type(error).__name__, attempt), group, event)
                    return "dead_lettered"
                self._metrics.events_consumed.labels(topic=topic, group=group, outcome="retried").inc()
                log.warning("%s event %s failed (attempt %d/%d): %r", topic, event.event_id, attempt, attempts, error)
                await asyncio.sleep(self._settings.consumer_retry_backoff_s * 2 ** (attempt - 1))
                attempt += 1

    async def _waited_for_the_database(self, subscription: Subscription) -> bool:
        """After a failure: if the database does not answer, wait until it does (the consumer pauses:
        no offset moves, nothing is dead-lettered) and say so; if it answers, the failure was the event's."""
        if await asyncio.to_thread(database_answers, self._engine):
            return False
        log.error("%s: the database does not answer; consumption paused until it does", subscription.group_id)
        delay = max(self._settings.consumer_retry_backoff_s, 0.1)
        while not await asyncio.to_thread(database_answers, self._engine):
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        log.warning("%s: the database answers again; consumption resumes", subscription.group_id)
        return True

    def _apply(self, topic: str, event: Event, handler: EventHandler, inbox: str = "", record: Any = None) -> bool:
        """Apply one event in a unit of work of its own, in a CONSUMER span continuing the record's trace."""
        group, event_id, event_type = self.group_id(inbox or None), str(event.event_id), type(event).__name__
        span = consumer_span(record, topic=topic, group=group, event_id=event_id, event_type=event_type)
        with trace.use_span(span, end_on_exit=True):  # a failure is recorded on the span (and retried)
            with self.make_uow() as uow:
                if uow.seen(event_id, inbox):
                    outcome = "duplicate"
                else:
                    handler(uow, event)
                    uow.mark_seen(event_id, topic, inbox)
                    uow.commit()
                    outcome = "processed"
            handled(record, topic=topic, group=group, outcome=outcome, event_id=event_id, event_type=event_type)
            return outcome == "processed"

    async def _dead_letter(self, record: Any, body: bytes, letter: DeadLetter, group_id: str | None = None, event: Event | None = None) -> None:
        """Publish the record to ``<topic>.dlq`` with the reason, then (the caller) acknowledge it.

        A dead letter always fits the broker: a body over ``dlq_max_body_bytes`` (or a key over
        ``DLQ_MAX_KEY_BYTES``) is cut, and the headers say so, with the original's size and SHA-256
        (the original stays at its topic, partition and offset until retention). A letter the broker
        still refuses as too large goes again as a reference only (no body). Only a broker that cannot
        be reached is waited for — the offset must not move before the letter is safe."""
        raw = record
        headers = {
            f"{DLQ_HEADER_PREFIX}original-topic": letter.topic,
            f"{DLQ_HEADER_PREFIX}partition": str(getattr(raw, "partition", "")),
            f"{DLQ_HEADER_PREFIX}offset": str(getattr(raw, "offset", "")),
            f"{DLQ_HEADER_PREFIX}consumer-group": group_id or self._settings.consumer_group(),
            f"{DLQ_HEADER_PREFIX}attempts": str(letter.attempts),
            f"{DLQ_HEADER_PREFIX}error-type": letter.error_type[:200],
            f"{DLQ_HEADER_PREFIX}reason": letter.reason[:4000],
            f"{DLQ_HEADER_PREFIX}failed-at": utc_now().isoformat(),
            **record_trace_headers(getattr(raw, "headers", None)),  # the dead letter stays in the record's trace
        }
        key = getattr(raw, "key", None)
        if isinstance(key, bytes) and len(key) > DLQ_MAX_KEY_BYTES:
            headers[f"{DLQ_HEADER_PREFIX}key-sha256"] = hashlib.sha256(key).hexdigest()
            key = key[:DLQ_MAX_KEY_BYTES]
        original, limit = body, self._settings.dlq_max_body_bytes
        if len(body) > limit:
            headers.update(_cut(original, "body"))
            body = body[:limit]
        delay = self._settings.consumer_retry_backoff_s or 0.1
        while True:
            try:
                await self._broker.publish(body, topic=dead_letter_topic(letter.topic), key=key, headers=headers)
                break
            except KafkaError as error:
                if isinstance(error, MessageSizeTooLargeError) and body:
                    log.error("dead letter from %s refused as too large; sending a reference without the body", letter.topic)
                    headers.update(_cut(original, "body"))
                    body = b""
                    continue
                log.exception("could not publish to %s; retrying", dead_letter_topic(letter.topic))
            except Exception:  # noqa: BLE001 - the broker unreachable: wait for it, the offset must not move
                log.exception("could not publish to %s; retrying", dead_letter_topic(letter.topic))
            await asyncio.sleep(min(delay, 30))
            delay *= 2
        self._metrics.dead_lettered.labels(topic=letter.topic, group=headers[f"{DLQ_HEADER_PREFIX}consumer-group"]).inc()
        log.error("dead-lettered a message from %s: %s", letter.topic, letter.reason.splitlines()[0])
        group = headers[f"{DLQ_HEADER_PREFIX}consumer-group"]
        event_id, event_type = (str(event.event_id), type(event).__name__) if event is not None else (None, None)
        span = consumer_span(record, topic=letter.topic, group=group, event_id=event_id, event_type=event_type)
        span.set_status(StatusCode.ERROR, f"dead-lettered: {letter.error_type}")
        with trace.use_span(span, end_on_exit=True):
            handled(record, topic=letter.topic, group=group, outcome="dead_lettered", event_id=event_id, event_type=event_type)

    def _observe_delay(self, records: Sequence[Any], group: str) -> None:
        """Each record's delay, from its broker timestamp (ms) to now, once its batch is committed."""
        now_ms = time.time() * 1000
        histogram = self._metrics.event_delay
        for record in records:
            stamp = getattr(record, "timestamp", None)
            if isinstance(stamp, int) and stamp > 0:
                histogram.labels(topic=record.topic, group=group).observe(max(now_ms - stamp, 0.0) / 1000)


def _describe_validation(error: Exception) -> str:
    if isinstance(error, ValidationError):
        parts = []
        for item in error.errors():
            where = ".".join(str(p) for p in item["loc"]) or "(payload)"
            parts.append(f"{where}: {item['msg']}")
        return "malformed event: " + "; ".join(parts)
    return f"malformed event: {error}"
