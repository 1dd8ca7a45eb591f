"""Operations figures measured from the real broker (issue 16): a consumer that has stopped shows a lag that
grows with what producers go on publishing, and falls back once it catches up; a running service says it is
ready only when its database, its migrations, the broker and its consumers' partitions are all there, and its
/metrics carries what it is and how its groups stand."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.registry.bootstrap import bootstrap as registry_app
from shared import topics
from shared.lag import LagProbe
from shared.metrics import ServiceMetrics
from shared.settings import settings_for
from tests.support import eventually, produce, registry_groups, serving, start_groups_at_the_end

pytestmark = pytest.mark.integration

TOPIC = topics.REPORTS_REJECTED  # 6 partitions, read here by a group of this test only


def lag_of(probe: LagProbe, group: str) -> int:
    return sum(lag for (g, _, _), lag in probe.measure().items() if g == group)


async def catch_up(bootstrap: str, group: str) -> None:
    await start_groups_at_the_end(bootstrap, {group: [TOPIC]})


async def test_a_stopped_consumer_shows_a_growing_lag_until_it_catches_up(kafka_bootstrap: str) -> None:
    group = f"it-lag-{uuid.uuid4().hex[:8]}"
    await catch_up(kafka_bootstrap, group)  # the group has read everything so far, then stops
    settings = settings_for("assessment", kafka_bootstrap_servers=kafka_bootstrap)
    metrics = ServiceMetrics("assessment")
    probe = LagProbe(settings, metrics, lambda: [(group, TOPIC)])
    try:
        assert lag_of(probe, group) == 0
        for n in range(3):
            await produce(kafka_bootstrap, TOPIC, b"{}", key=f"k{n}".encode())
        assert lag_of(probe, group) == 3, "three records published since the group stopped"
        for n in range(2):
            await produce(kafka_bootstrap, TOPIC, b"{}", key=f"k{n}".encode())
        assert lag_of(probe, group) == 5, "the lag grows while the consumer stays stopped"
        exported = sum(s.value for m in metrics.registry.collect() if m.name == "ohs_consumer_lag_messages"
                       for s in m.samples if s.labels["group"] == group)
        assert exported == 5, "the gauge shows what the broker said"
        assert probe.groups[group] == "Empty", "a group without members: nobody is reading"
        await catch_up(kafka_bootstrap, group)
        assert lag_of(probe, group) == 0
    finally:
        probe.close()


async def test_a_group_that_never_committed_counts_from_the_earliest_offset(kafka_bootstrap: str) -> None:
    group = f"it-lag-new-{uuid.uuid4().hex[:8]}"
    settings = settings_for("assessment", kafka_bootstrap_servers=kafka_bootstrap)
    probe = LagProbe(settings, ServiceMetrics("assessment"), lambda: [(group, TOPIC)])
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(TOPIC, p) for p in range(6)]
        ends, starts = await consumer.end_offsets(parts), await consumer.beginning_offsets(parts)
        assert lag_of(probe, group) >= sum(ends[tp] - starts[tp] for tp in parts)
    finally:
        await consumer.stop()
        probe.close()


async def test_a_running_service_is_ready_and_says_what_it_is(kafka_bootstrap: str, tmp_path) -> None:
    prefix = f"it-{uuid.uuid4().hex[:8]}"
    await start_groups_at_the_end(kafka_bootstrap, registry_groups(prefix))
    settings = settings_for("registry", kafka_bootstrap_servers=kafka_bootstrap, data_dir=tmp_path, consumer_group_prefix=prefix,
                            lag_interval_s=0.5)
    async with serving(registry_app(settings)) as client:
        assert (await client.get("/healthz")).json() == {"service": "registry", "status": "alive"}

        async def ready() -> dict | None:
            answer = await client.get("/readyz")
            return answer.json() if answer.status_code == 200 else None

        body = await eventually(ready, timeout=40, what="the registry ready: its consumers assigned")
        assert body["checks"] == {"database": "ok", "migrations": "ok", "kafka": "ok", "consumers": "ok"}

        async def measured() -> str | None:  # a whole probe done: its last step stamps the time
            text = (await client.get("/metrics")).text
            return None if "ohs_lag_probe_last_success_timestamp_seconds 0.0" in text else text

        text = await eventually(measured, timeout=20, what="the lag probe's first figures")
        assert f'ohs_consumer_lag_messages{{group="{prefix}.registry",partition="0",topic="ohs.assessments.classified"}} 0.0' in text
        assert "ohs_ready 1.0" in text
        assert 'ohs_build_info{commit="' in text and 'service="registry"' in text
        assert 'ohs_dead_letters_unhandled{topic="ohs.assessments.classified.dlq"}' in text
        assert 'ohs_job_last_success_timestamp_seconds{task="lag-probe"}' in text
