"""The outbox relay never blocks behind a poison row: a row the broker refuses for good is set
aside with its error (counted for an operator), and every row behind it is published in order."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from sqlmodel import Session, select

from shared.contracts import ReportRejected
from shared.db import OutboxMessage, count_pending_outbox, create_tables, enqueue, make_engine
from shared.messaging import OutboxRelay
from shared.metrics import ServiceMetrics

CREDIT_CODE = "91141029MA0GRT8U3L"


class Broker:
    """Publishes like a producer in front of a broker with a size limit: with ``no_confirm`` it answers
    with a future the broker's acknowledgement (or refusal) settles; ``down`` makes it unreachable."""

    def __init__(self, limit: int) -> None:
        self.limit, self.down, self.published = limit, False, []

    async def publish(self, payload: bytes, *, topic: str, key: bytes, headers: dict[str, str], no_confirm: bool = False):
        if self.down:
            raise KafkaConnectionError("the broker is not reachable")
        acknowledgement = asyncio.get_running_loop().create_future()
        if len(payload) > self.limit:
            acknowledgement.set_exception(MessageSizeTooLargeError(f"{len(payload)} bytes"))
        else:
            self.published.append(payload)
            acknowledgement.set_result(None)
        return acknowledgement if no_confirm else await acknowledgement


def rejected(reason: str) -> ReportRejected:
    return ReportRejected(producer="test", credit_code=CREDIT_CODE, submission_id="7b0c6a0e-4a8e-4d3c-9a53-0d2f6c1b5e11", reasons=[reason])


def metric(metrics: ServiceMetrics, name: str) -> float:
    return metrics.registry.get_sample_value(name) or 0.0


async def test_a_row_too_large_is_set_aside_and_the_rows_behind_it_still_go(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    create_tables(engine, [])
    events = [rejected("first"), rejected("x" * 5000), rejected("third")]
    with Session(engine) as session:
        for event in events:
            enqueue(session, event)
        session.commit()
    broker, metrics = Broker(limit=2000), ServiceMetrics("test")
    relay = OutboxRelay(engine, broker, metrics)  # type: ignore[arg-type]

    assert await relay.flush() == 2

    assert [ReportRejected.model_validate_json(p).reasons for p in broker.published] == [["first"], ["third"]]
    with Session(engine) as session:
        poison = session.exec(select(OutboxMessage).where(OutboxMessage.event_id == str(events[1].event_id))).one()
        assert poison.published_at is None and poison.failed_at is not None
        assert poison.error.startswith("MessageSizeTooLargeError")
        assert count_pending_outbox(session) == 0
    assert metric(metrics, "ohs_outbox_set_aside_events") == 1
    assert metric(metrics, "ohs_outbox_pending_events") == 0
    assert await relay.flush() == 0  # nothing is tried again for ever


async def test_a_broker_that_is_down_sets_nothing_aside(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    create_tables(engine, [])
    with Session(engine) as session:
        enqueue(session, rejected("waits"))
        session.commit()
    broker, metrics = Broker(limit=2000), ServiceMetrics("test")
    relay = OutboxRelay(engine, broker, metrics)  # type: ignore[arg-type]
    broker.down = True

    try:
        await relay.flush()
    except KafkaConnectionError:
        pass
    with Session(engine) as session:
        assert count_pending_outbox(session) == 1

    broker.down = False
    assert await relay.flush() == 1
    assert metric(metrics, "ohs_outbox_set_aside_events") == 0
