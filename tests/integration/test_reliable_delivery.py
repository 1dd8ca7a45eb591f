"""The delivery guarantees, against the real broker and a real PostgreSQL.

The registry is the consumer under test: it runs in this process on a fresh PostgreSQL
database, with its own consumer group, and is fed through Kafka exactly as in production.
"""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest

from services.registry.bootstrap import bootstrap as registry_app
from shared import topics
from shared.contracts import AssessmentClassified, FactorGrade, RuleSetRef, TraceEntry
from shared.settings import settings_for
from tests.support import registry_groups, start_groups_at_the_end, eventually, new_credit_code, produce, read_topic, serving

pytestmark = pytest.mark.integration


def classified(credit_code: str, category: str = "丙", submission_id: uuid.UUID | None = None) -> AssessmentClassified:
    return AssessmentClassified(
        producer="test",
        credit_code=credit_code,
        submission_id=submission_id or uuid.uuid4(),
        enterprise_name="测试企业",
        region_code="141029",
        employees=30,
        assessed_on=date(2023, 6, 1),
        hazard_grade="Ⅲ",
        management_grade="B",
        score=82.5,
        category=category,  # type: ignore[arg-type]
        factors=[FactorGrade(factor="矽尘", nature="严重", nature_source="catalogue", compliant=False, exposed=24, headcount_band="10–49", grade="Ⅲ")],
        rule_set=RuleSetRef(jurisdiction="CN", version="2022.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[TraceEntry(rule="附件3", detail="Ⅲ × B → 丙")],
    )


async def registry_settings(kafka_bootstrap: str, postgres_url: str):
    """A registry on a fresh database whose groups start at the topics' end: it reads only this test's events."""
    prefix = f"it-{uuid.uuid4().hex[:8]}"
    await start_groups_at_the_end(kafka_bootstrap, registry_groups(prefix))
    return settings_for(
        "registry",
        kafka_bootstrap_servers=kafka_bootstrap,
        database_url=postgres_url,
        consumer_group_prefix=prefix,
        consumer_retry_backoff_s=0.05,
    )


async def archived(client, credit_code: str):
    response = await client.get(f"/enterprises/{credit_code}")
    return response.json() if response.status_code == 200 else None


async def test_a_malformed_message_lands_in_the_dlq_and_the_consumer_goes_on(kafka_bootstrap, postgres_url):
    marker = uuid.uuid4().hex
    not_json = f"{{not json {marker}".encode()
    wrong_shape = json.dumps({"event_id": str(uuid.uuid4()), "producer": "x", "credit_code": "bad", "marker": marker}).encode()
    good = classified(new_credit_code())

    settings = await registry_settings(kafka_bootstrap, postgres_url)
    app = registry_app(settings)
    async with serving(app) as client:
        await produce(kafka_bootstrap, topics.ASSESSMENTS_CLASSIFIED, not_json, key=b"x")
        await produce(kafka_bootstrap, topics.ASSESSMENTS_CLASSIFIED, wrong_shape, key=b"x")
        await produce(kafka_bootstrap, topics.ASSESSMENTS_CLASSIFIED, good.model_dump_json().encode(), key=good.key)

        record = await eventually(lambda: archived(client, good.credit_code), what="the valid event archived")
        assert record["category"] == "丙"

        def ours(records):
            return [r for r in records if marker.encode() in r.value]

        # the registry reads the topic in two consumer groups (the archive, the portrait): each gives up on each poison
        # record on its own, and its letter names it
        groups = sorted(s.group_id for s in app.state.runtime.consumer.subscriptions if s.topic == topics.ASSESSMENTS_CLASSIFIED)
        assert groups == [settings.consumer_group(), f"{settings.consumer_group()}.portrait"]
        dead = ours(await read_topic(kafka_bootstrap, topics.ASSESSMENTS_CLASSIFIED + ".dlq", lambda rs: len(ours(rs)) >= 2 * len(groups)))
        assert sorted(r.value for r in dead) == sorted([not_json, wrong_shape] * len(groups)), "the original bytes, untouched"
        assert sorted((r.value, dict(r.headers)["x-dlq-consumer-group"].decode()) for r in dead) == sorted(
            (value, group) for value in (not_json, wrong_shape) for group in groups), "one letter per record and group"
        for r in dead:
            headers = {k: v.decode() for k, v in r.headers}
            assert headers["x-dlq-original-topic"] == topics.ASSESSMENTS_CLASSIFIED
            assert headers["x-dlq-reason"].startswith("malformed event")
        wrong_shape_reason = next(dict(r.headers)["x-dlq-reason"].decode() for r in dead if r.value == wrong_shape)
        assert "credit_code" in wrong_shape_reason and "submission_id" in wrong_shape_reason

        metrics = (await client.get("/metrics")).text
        group = settings.consumer_group()  # the metric names the group that gave up
        assert f'ohs_events_dead_lettered_total{{group="{group}",topic="ohs.assessments.classified"}} 2.0' in metrics


async def test_poison_at_the_broker_limit_and_of_an_unknown_version_is_dead_lettered_and_the_stream_goes_on(kafka_bootstrap, postgres_url):
    """A malformed record just under the broker's size limit (1 MiB) is accepted by the broker, but its
    dead letter (body + headers) would not be: the letter carries the first OHS_DLQ_MAX_BODY_BYTES of
    it, its size and SHA-256, and the consumer goes on. An event of a schema_version this service does
    not read is dead-lettered naming the version, not misread as version 1."""
    import hashlib

    marker = uuid.uuid4().hex.encode()
    key = b"k" * 2300
    # not JSON, and as large as the producer and the broker take (1 MiB less the key and the record overhead):
    # the same bytes with the dead-letter headers added would be refused
    huge = marker + b"{" + b"x" * (1_048_576 - len(key) - 300 - len(marker) - 1)
    future = json.loads(classified(new_credit_code()).model_dump_json())
    future["schema_version"] = 2
    future["marker"] = marker.decode()
    good = classified(new_credit_code())

    settings = await registry_settings(kafka_bootstrap, postgres_url)
    async with serving(registry_app(settings)) as client:
        await produce(kafka_bootstrap, topics.ASSESSMENTS_CLASSIFIED, huge, key=key)
        await produce(kafka_bootstrap, topics.ASSESSMENTS_CLASSIFIED, json.dumps(future).encode(), key=future["credit_code"].encode())
        await produce(kafka_bootstrap, topics.ASSESSMENTS_CLASSIFIED, good.model_dump_json().encode(), key=good.key)

        record = await eventually(lambda: archived(client, good.credit_code), what="the valid event behind the poison archived")
        assert record["category"] == "丙"
        assert await archived(client, future["credit_code"]) is None

        def ours(records):
            return [r for r in records if marker in r.value]

        dead = ours(await read_topic(kafka_bootstrap, topics.ASSESSMENTS_CLASSIFIED + ".dlq", lambda rs: len(ours(rs)) >= 2, timeout=30))
        cut = next(r for r in dead if r.value.startswith(marker))
        headers = {k: v.decode() for k, v in cut.headers}
        assert len(cut.value) == settings.dlq_max_body_bytes and huge.startswith(cut.value)
        assert headers["x-dlq-body-truncated"] == "true"
        assert headers["x-dlq-body-size"] == str(len(huge))
        assert headers["x-dlq-body-sha256"] == hashlib.sha256(huge).hexdigest()
        assert headers["x-dlq-key-sha256"] == hashlib.sha256(key).hexdigest() and len(cut.key) == 1024
        assert headers["x-dlq-reason"].startswith("malformed event")
        versioned = next(r for r in dead if not r.value.startswith(marker))
        assert "schema_version 2" in dict(versioned.headers)["x-dlq-reason"].decode()


async def test_the_same_event_delivered_twice_yields_one_archive_version(kafka_bootstrap, postgres_url):
    event = classified(new_credit_code())
    republished = event.model_copy(update={"event_id": uuid.uuid4()})  # same report, announced again
    sentinel = classified(new_credit_code())

    async with serving(registry_app(await registry_settings(kafka_bootstrap, postgres_url))) as client:
        for payload in (event, event, republished, sentinel):
            await produce(kafka_bootstrap, topics.ASSESSMENTS_CLASSIFIED, payload.model_dump_json().encode(), key=payload.key)
        await eventually(lambda: archived(client, sentinel.credit_code), what="the sentinel archived")

        record = await archived(client, event.credit_code)
        assert len(record["history"]) == 1
        assert record["archive_version"] == 1

        def changes_for(records):
            # by the key: the topic is shared with other tests, whose records need not even be events (test_ops_cli's poison)
            return [r for r in records if r.key == event.credit_code.encode()]

        changes = changes_for(await read_topic(kafka_bootstrap, topics.CLASSIFICATION_CHANGED, lambda rs: len(changes_for(rs)) >= 1))
        assert len(changes) == 1, "one archive version, announced once"
        assert json.loads(changes[0].value)["previous_category"] is None


def consumed(metrics_text: str, outcome: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics_text.splitlines()
        if line.startswith("ohs_events_consumed_total{") and f'outcome="{outcome}"' in line
    )


async def test_a_restarted_registry_resumes_from_its_committed_offsets(kafka_bootstrap, postgres_url):
    settings = await registry_settings(kafka_bootstrap, postgres_url)
    batch = [classified(new_credit_code()) for _ in range(20)]
    later = classified(new_credit_code())

    async with serving(registry_app(settings)) as client:
        for event in batch:
            await produce(kafka_bootstrap, topics.ASSESSMENTS_CLASSIFIED, event.model_dump_json().encode(), key=event.key)
        for event in batch:
            await eventually(lambda: archived(client, event.credit_code), what="the batch archived")
        processed_before = consumed((await client.get("/metrics")).text, "processed")
    assert processed_before >= len(batch)

    async with serving(registry_app(settings)) as client:  # same consumer group, same database
        await produce(kafka_bootstrap, topics.ASSESSMENTS_CLASSIFIED, later.model_dump_json().encode(), key=later.key)
        await eventually(lambda: archived(client, later.credit_code), what="the later event archived")
        metrics = (await client.get("/metrics")).text
        # At-least-once allows the one message in flight at shutdown to come again (the inbox
        # absorbs it); re-reading committed offsets would show every earlier event again.
        assert consumed(metrics, "duplicate") <= 1
        for event in batch:
            assert len((await archived(client, event.credit_code))["history"]) == 1
