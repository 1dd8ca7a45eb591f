"""The reliable consumer on FastStream's in-memory Kafka broker: DLQ, bounded retries, idempotency."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.message import FakeConsumer
from sqlmodel import Session, select

from shared.contracts import ReportRejected
from shared.db import OutboxMessage, ProcessedEvent, create_tables
from shared.messaging import Subscription
from shared.unit_of_work import AbstractUnitOfWork
from shared.runtime import Runtime, build_runtime
from shared.settings import settings_for

TOPIC = "unit.test-events"
DLQ = f"{TOPIC}.dlq"
CREDIT_CODE = "91141029MA0GRT8U3L"


def rejected(event_id: UUID | None = None, reason: str = "ok") -> ReportRejected:
    return ReportRejected(
        event_id=event_id or uuid4(), producer="unit", credit_code=CREDIT_CODE, submission_id=uuid4(), reasons=[reason]
    )


@dataclass
class DeadLetter:
    body: bytes
    headers: dict[str, str]
    key: bytes | None


@dataclass
class Harness:
    runtime: Runtime
    calls: list[str] = field(default_factory=list)  # event ids the handler ran for (attempts included)
    published: list[ReportRejected] = field(default_factory=list)  # what the handler's outbox produced
    dead: list[DeadLetter] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, uow: AbstractUnitOfWork, event: ReportRejected) -> None:
        with self.lock:  # the wrapper runs handlers in a worker thread
            self.calls.append(str(event.event_id))
        if event.reasons == ["poison"]:
            raise RuntimeError("this handler always fails on poison")
        if event.reasons == ["produce"]:
            uow.publish(rejected(reason="produced"))

    def processed(self, event_id: UUID) -> int:
        with Session(self.runtime.engine) as session:
            return len(session.exec(select(ProcessedEvent).where(ProcessedEvent.event_id == str(event_id))).all())


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    settings = settings_for("registry", data_dir=tmp_path, consumer_max_attempts=3, consumer_retry_backoff_s=0)
    runtime = build_runtime(settings, create_topics=False)
    create_tables(runtime.engine, [])
    harness = Harness(runtime)
    runtime.consumer.subscribe(TOPIC, ReportRejected, harness.handle)

    async def _raw(message: KafkaMessage) -> bytes:
        return message.body

    @runtime.broker.subscriber(DLQ, decoder=_raw)
    async def collect(body: bytes, msg: KafkaMessage) -> None:
        harness.dead.append(DeadLetter(body, dict(msg.headers), msg.raw_message.key))

    @runtime.broker.subscriber(ReportRejected.topic)
    async def produced(event: ReportRejected) -> None:
        harness.published.append(event)

    return harness


async def test_bytes_that_are_not_json_are_dead_lettered_untouched_with_the_reason(harness: Harness) -> None:
    async with TestKafkaBroker(harness.runtime.broker) as broker:
        await broker.publish(b"{not json", topic=TOPIC, key=CREDIT_CODE.encode())

    assert harness.calls == []
    [letter] = harness.dead
    assert letter.body == b"{not json"
    assert letter.key == CREDIT_CODE.encode()
    assert letter.headers["x-dlq-reason"].startswith("malformed event")
    assert letter.headers["x-dlq-original-topic"] == TOPIC
    assert letter.headers["x-dlq-attempts"] == "1"
    assert letter.headers["x-dlq-consumer-group"] == "ohs.registry"


async def test_a_payload_that_does_not_fit_its_contract_is_dead_lettered_naming_the_field(harness: Harness) -> None:
    payload = rejected().model_dump_json().replace(CREDIT_CODE, "91141029MA0GRT8U3M").encode()
    async with TestKafkaBroker(harness.runtime.broker) as broker:
        await broker.publish(payload, topic=TOPIC)

    assert harness.calls == []
    [letter] = harness.dead
    assert letter.body == payload
    assert letter.headers["x-dlq-reason"].startswith("malformed event: credit_code:")
    assert letter.headers["x-dlq-error-type"] == "ValidationError"


async def test_a_handler_that_keeps_failing_is_tried_max_attempts_times_then_dead_lettered(harness: Harness) -> None:
    poison = rejected(reason="poison")
    payload = poison.model_dump_json().encode()
    async with TestKafkaBroker(harness.runtime.broker) as broker:
        await broker.publish(payload, topic=TOPIC, key=poison.key)

    assert harness.calls == [str(poison.event_id)] * 3
    [letter] = harness.dead
    assert letter.body == payload
    assert letter.headers["x-dlq-attempts"] == "3"
    assert letter.headers["x-dlq-error-type"] == "RuntimeError"
    assert "always fails on poison" in letter.headers["x-dlq-reason"]
    assert harness.processed(poison.event_id) == 0  # the failed transaction left no inbox row


async def test_an_event_delivered_twice_is_applied_once(harness: Harness) -> None:
    event = rejected()
    async with TestKafkaBroker(harness.runtime.broker) as broker:
        await broker.publish(event.model_dump_json().encode(), topic=TOPIC, key=event.key)
        await broker.publish(event.model_dump_json().encode(), topic=TOPIC, key=event.key)

    assert harness.calls == [str(event.event_id)]
    assert harness.processed(event.event_id) == 1
    assert harness.dead == []


async def test_a_poison_event_does_not_block_the_ones_after_it(harness: Harness) -> None:
    poison, after = rejected(reason="poison"), rejected()
    async with TestKafkaBroker(harness.runtime.broker) as broker:
        await broker.publish(poison.model_dump_json().encode(), topic=TOPIC, key=poison.key)
        await broker.publish(b"{not json", topic=TOPIC)
        await broker.publish(after.model_dump_json().encode(), topic=TOPIC, key=after.key)

    assert harness.calls[-1] == str(after.event_id)
    assert harness.processed(after.event_id) == 1
    assert len(harness.dead) == 2


async def test_the_offset_is_committed_once_per_message_and_only_after_its_outcome_is_stored(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, poison = rejected(), rejected(reason="poison")
    at_commit: list[tuple[int, int]] = []  # (inbox rows for good, dead letters) when each offset is committed

    async def commit(_: FakeConsumer) -> None:
        at_commit.append((harness.processed(good.event_id), len(harness.dead)))

    monkeypatch.setattr(FakeConsumer, "commit", commit)
    async with TestKafkaBroker(harness.runtime.broker) as broker:
        await broker.publish(good.model_dump_json().encode(), topic=TOPIC)
        await broker.publish(poison.model_dump_json().encode(), topic=TOPIC)

    assert at_commit == [(1, 0), (1, 1)]


async def test_an_event_the_handler_produced_is_published_after_the_commit_and_marked(harness: Harness) -> None:
    async with TestKafkaBroker(harness.runtime.broker) as broker:
        await broker.publish(rejected(reason="produce").model_dump_json().encode(), topic=TOPIC)

    assert [e.reasons for e in harness.published] == [["produced"]]
    with Session(harness.runtime.engine) as session:
        [row] = session.exec(select(OutboxMessage)).all()
    assert row.event_id == str(harness.published[0].event_id) and row.published_at is not None


async def test_two_subscribers_of_one_service_on_one_topic_each_apply_an_event_once(harness: Harness) -> None:
    """A second subscriber on a topic needs a consumer group of its own (in one group the two would
    split the partitions) and has its own inbox scope: the first one's inbox row does not make the
    second skip the event."""
    second: list[str] = []

    def other_handler(uow: AbstractUnitOfWork, event: ReportRejected) -> None:
        with harness.lock:
            second.append(str(event.event_id))

    harness.runtime.consumer.subscribe(TOPIC, ReportRejected, other_handler, group_suffix="other")
    groups = sorted(s.group_id for s in harness.runtime.broker.subscribers if TOPIC in s.topic_names)
    assert groups == ["ohs.registry", "ohs.registry.other"]

    event = rejected()
    async with TestKafkaBroker(harness.runtime.broker) as broker:
        await broker.publish(event.model_dump_json().encode(), topic=TOPIC, key=event.key)
        await broker.publish(event.model_dump_json().encode(), topic=TOPIC, key=event.key)  # redelivered

    assert harness.calls == [str(event.event_id)]
    assert second == [str(event.event_id)]
    with Session(harness.runtime.engine) as session:
        rows = session.exec(select(ProcessedEvent).where(ProcessedEvent.event_id == str(event.event_id))).all()
    assert sorted(r.consumer for r in rows) == ["", "other"]


def test_a_second_subscriber_in_the_same_group_is_refused(harness: Harness) -> None:
    with pytest.raises(ValueError, match="group_suffix"):
        harness.runtime.consumer.subscribe(TOPIC, ReportRejected, harness.handle)
    harness.runtime.consumer.subscribe(TOPIC, ReportRejected, harness.handle, group_suffix="audit")
    with pytest.raises(ValueError, match="lowercase"):
        harness.runtime.consumer.subscribe(TOPIC, ReportRejected, harness.handle, group_suffix="Bad.Suffix")


async def test_a_dead_letter_names_the_group_of_the_subscriber_that_failed(harness: Harness) -> None:
    harness.runtime.consumer.subscribe(TOPIC, ReportRejected, harness.handle, group_suffix="other")
    async with TestKafkaBroker(harness.runtime.broker) as broker:
        await broker.publish(b"{not json", topic=TOPIC)

    assert sorted(letter.headers["x-dlq-consumer-group"] for letter in harness.dead) == ["ohs.registry", "ohs.registry.other"]


# --- batches ---------------------------------------------------------------------------------------


@dataclass
class Record:
    """A consumer record as aiokafka hands it over."""

    value: bytes
    offset: int
    key: bytes | None = None
    topic: str = TOPIC
    partition: int = 0
    headers: tuple = ()


class Delivery:
    """The batch's message: ``ack`` commits the offsets; ``acked_with`` what was stored by then."""

    def __init__(self, harness: Harness, watch: list[UUID]) -> None:
        self.harness, self.watch, self.acked_with = harness, watch, None
        self.consumer = None

    async def ack(self) -> None:
        self.acked_with = ([self.harness.processed(e) for e in self.watch], len(self.harness.dead))


def batch_of(*payloads: bytes) -> list[Record]:
    return [Record(payload, offset) for offset, payload in enumerate(payloads)]


async def test_a_batch_is_applied_in_one_unit_of_work_and_its_poison_does_not_fail_its_batch_mates(harness: Harness) -> None:
    """A story: the broker hands over six records at once — two good events, one of them twice, bytes
    that are not JSON, an event its handler always fails on, and one that produces an event. The batch's
    transaction fails on the poison, so its events are applied one by one: the poison is tried three
    times and dead-lettered with its reason, the malformed bytes are dead-lettered at once, every
    other event is applied exactly once, and the offsets move only after all of that is stored."""
    first, second, poison, producing = rejected(), rejected(), rejected(reason="poison"), rejected(reason="produce")
    records = batch_of(first.model_dump_json().encode(), b"{not json", poison.model_dump_json().encode(),
                       first.model_dump_json().encode(), second.model_dump_json().encode(), producing.model_dump_json().encode())
    subscription = Subscription(TOPIC, ReportRejected, harness.handle, "", "ohs.registry")
    delivery = Delivery(harness, [first.event_id, second.event_id, producing.event_id, poison.event_id])

    async with TestKafkaBroker(harness.runtime.broker):
        await harness.runtime.consumer.consume(subscription, records, delivery)

    assert [harness.processed(e) for e in (first.event_id, second.event_id, producing.event_id, poison.event_id)] == [1, 1, 1, 0]
    assert sorted(letter.headers["x-dlq-offset"] for letter in harness.dead) == ["1", "2"]
    by_offset = {letter.headers["x-dlq-offset"]: letter for letter in harness.dead}
    assert by_offset["1"].headers["x-dlq-reason"].startswith("malformed event")
    assert by_offset["2"].headers["x-dlq-attempts"] == "3" and "always fails on poison" in by_offset["2"].headers["x-dlq-reason"]
    assert harness.calls.count(str(poison.event_id)) == 1 + 3  # the failed batch, then its own three attempts
    assert [e.reasons for e in harness.published] == [["produced"]]  # the produced event once, though its batch was redone
    assert delivery.acked_with == ([1, 1, 1, 0], 2)


async def test_a_batch_without_poison_is_one_transaction_with_one_inbox_query(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    events = [rejected() for _ in range(40)]
    records = batch_of(*(e.model_dump_json().encode() for e in events + events[:5]))  # five delivered twice in the batch
    commits, inbox_queries = [], []
    make = harness.runtime.consumer.make_uow

    def counting_uow():
        uow = make()
        original_commit, original_seen_many = uow.commit, uow.seen_many
        uow.commit = lambda: (commits.append(1), original_commit())[1]
        uow.seen_many = lambda ids, consumer="": (inbox_queries.append(len(ids)), original_seen_many(ids, consumer))[1]
        return uow

    monkeypatch.setattr(harness.runtime.consumer, "make_uow", counting_uow)
    subscription = Subscription(TOPIC, ReportRejected, harness.handle, "", "ohs.registry")
    delivery = Delivery(harness, [e.event_id for e in events])

    async with TestKafkaBroker(harness.runtime.broker):
        await harness.runtime.consumer.consume(subscription, records, delivery)
        await harness.runtime.consumer.consume(subscription, records, Delivery(harness, []))  # the whole batch redelivered

    assert commits == [1, 1] and inbox_queries == [45, 45]
    assert harness.calls == [str(e.event_id) for e in events]  # each applied once, in order
    assert delivery.acked_with == ([1] * 40, 0)
    consumed = harness.runtime.metrics.registry.get_sample_value
    assert consumed("ohs_events_consumed_total", {"topic": TOPIC, "group": "ohs.registry", "outcome": "processed"}) == 40
    assert consumed("ohs_events_consumed_total", {"topic": TOPIC, "group": "ohs.registry", "outcome": "duplicate"}) == 5 + 45


async def test_a_database_that_does_not_answer_pauses_the_consumer_and_dead_letters_nothing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the database is away every transaction fails; that is not the events' fault: the consumer
    waits for the database (no attempt counted, nothing dead-lettered) and applies the batch once it is back."""
    from sqlalchemy.exc import OperationalError

    import shared.messaging as messaging

    events = [rejected() for _ in range(3)]
    outage = {"failures_left": 6}  # six failed transactions, the database answering "no" meanwhile

    def database_answers(_engine) -> bool:
        return outage["failures_left"] == 0

    make = harness.runtime.consumer.make_uow

    def flaky_uow():
        uow = make()
        original_commit = uow.commit

        def commit() -> None:
            if outage["failures_left"]:
                outage["failures_left"] -= 1
                raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))
            original_commit()

        uow.commit = commit
        return uow

    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:  # the pause's back-off, recorded; the outage ends as time passes
        waits.append(seconds)
        outage["failures_left"] = max(outage["failures_left"] - 1, 0)
        await real_sleep(0)

    monkeypatch.setattr(messaging, "database_answers", database_answers)
    monkeypatch.setattr(messaging.asyncio, "sleep", sleep)
    monkeypatch.setattr(harness.runtime.consumer, "make_uow", flaky_uow)
    subscription = Subscription(TOPIC, ReportRejected, harness.handle, "", "ohs.registry")
    delivery = Delivery(harness, [e.event_id for e in events])

    async with TestKafkaBroker(harness.runtime.broker):
        await harness.runtime.consumer.consume(subscription, batch_of(*(e.model_dump_json().encode() for e in events)), delivery)

    assert delivery.acked_with == ([1, 1, 1], 0)
    assert waits and harness.dead == []
