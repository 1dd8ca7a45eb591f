"""The reliable consumer on FastStream's in-memory Kafka broker: DLQ, bounded retries, idempotency."""

from __future__ import annotations

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
