"""Two replicas of a service share its PostgreSQL database and so its outbox: their relays take turns, and
each row is published once, not once per replica."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import Session

from shared.db import count_pending_outbox, create_tables, enqueue, make_engine
from shared.messaging import OutboxRelay
from shared.metrics import ServiceMetrics
from tests.unit.shared.test_outbox_relay import Broker, rejected

pytestmark = pytest.mark.integration


class SlowBroker(Broker):
    """Acknowledges each record a moment later, so that the two relays' rounds overlap."""

    async def publish(self, payload: bytes, **options):  # noqa: ANN003, ANN201
        await asyncio.sleep(0.001)
        return await super().publish(payload, **options)


async def test_two_relays_on_one_database_publish_each_row_once(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    create_tables(engine, [])
    with Session(engine) as session:
        for n in range(300):
            enqueue(session, rejected(f"row {n}"))
        session.commit()
    broker = SlowBroker(limit=10_000)  # one broker both replicas publish to
    relays = [OutboxRelay(make_engine(postgres_url), broker, ServiceMetrics(f"replica{n}")) for n in range(2)]  # type: ignore[arg-type]

    published = await asyncio.gather(*(relay.flush() for relay in relays))
    published += await asyncio.gather(*(relay.flush() for relay in relays))  # whatever the loser of the first round left

    assert sum(published) == 300 and len(broker.published) == 300
    assert len(set(broker.published)) == 300
    with Session(engine) as session:
        assert count_pending_outbox(session) == 0
