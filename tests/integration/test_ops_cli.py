"""The operator's command line ``ohs ops`` against the real broker (issue 16, item 8), run as an operator runs it:
``python -m services.cli ops …`` in a subprocess, with the settings in its environment.

A sampling service (SQLite, in this process, consumer groups started at the topics' end) dead-letters two
poison records of ohs.registry.classification-changed. One is listed, inspected, replayed with a fixed payload
(it arrives once on the original topic, with the original key, and the service applies it), a second replay is
refused; the other is discarded. ``status`` shows a group's lag. The same sampling service rebuilt with
``rebuild --switch`` into a fresh database holds the same pool, and goes on from there without losing or
repeating an event. ``outbox requeue`` puts a set-aside row back in the queue and the relay publishes it.

The employers sit in 高平市 140581, which no other test uses.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import text

from services.sampling.bootstrap import bootstrap as sampling_app
from shared import dead_letters, topics
from shared.contracts import ClassificationChanged
from shared.settings import settings_for
from tests.support import consumer_groups, eventually, new_credit_code, produce, read_topic, serving, start_groups_at_the_end

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
REGION = "140581"
TOPIC = topics.CLASSIFICATION_CHANGED
DLQ = topics.dead_letter_topic(TOPIC)


def ohs(bootstrap: str, *args: str, prefix: str = "ohs", env: dict[str, str] | None = None, whole: bool = False) -> subprocess.CompletedProcess[str]:
    """``ohs ops …`` as an operator types it (English messages): ``whole``, through the whole command line
    (services/cli.py, which imports every service's); else the same typer app on its own
    (``python -m shared.ops_cli``: seconds faster to start)."""
    environ = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap, OHS_CONSUMER_GROUP_PREFIX=prefix, LANG="en_US.UTF-8",
                   LANGUAGE="", LC_ALL="", LC_MESSAGES="", **(env or {}))
    command = ["services.cli", "ops"] if whole else ["shared.ops_cli"]
    return subprocess.run([sys.executable, "-m", *command, *args], cwd=REPO, env=environ, capture_output=True, text=True, timeout=300)


async def run_ohs(bootstrap: str, *args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(ohs, bootstrap, *args, **options)


def changed(code: str, category: str = "乙", version: int = 1) -> ClassificationChanged:
    return ClassificationChanged(producer="registry", credit_code=code, enterprise_name=f"高平测试企业{code[-4:]}", region_code=REGION,
                                 archive_version=version, previous_category=None, category=category,  # type: ignore[arg-type]
                                 hazard_grade=None, management_grade=None, submission_id=None, reason="test", industry_codes=["C1311"])


def sampling_settings(bootstrap: str, database: Path, prefix: str):
    return settings_for("sampling", kafka_bootstrap_servers=bootstrap, database_url=f"sqlite:///{database}", consumer_group_prefix=prefix,
                        consumer_retry_backoff_s=0.05)


async def pool(client) -> dict[str, str]:
    body = (await client.get(f"/pools/{REGION}")).json()
    return {m["credit_code"]: category for category, members in body["members"].items() for m in members}


async def test_dead_letters_listed_inspected_replayed_once_and_discarded(kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = f"it-ops-{uuid.uuid4().hex[:8]}"
    await start_groups_at_the_end(kafka_bootstrap, consumer_groups(prefix, ["sampling"]))
    settings = sampling_settings(kafka_bootstrap, tmp_path / "sampling.db", prefix)
    before = dead_letters.unhandled_dead_letters(settings, [DLQ])[DLQ]
    code, other = new_credit_code(REGION), new_credit_code(REGION)
    marker = uuid.uuid4().hex
    poison = json.loads(changed(code).model_dump_json())
    poison["category"], poison["marker"] = "丁", marker  # no such category: a contract violation, dead-lettered at once
    second = {"not": "an event", "marker": marker}

    async with serving(sampling_app(settings)) as client:
        await produce(kafka_bootstrap, TOPIC, json.dumps(poison).encode(), key=code.encode())
        await produce(kafka_bootstrap, TOPIC, json.dumps(second).encode(), key=other.encode())

        async def both_dead() -> list[dict] | None:
            listed = json.loads((await run_ohs(kafka_bootstrap, "dlq", "list", "--topic", TOPIC, "--json")).stdout)
            ours = [letter for letter in listed if letter["group"] == settings.consumer_group()]
            return ours if len(ours) == 2 else None

        letters = await eventually(both_dead, timeout=30, what="both poison records listed as dead letters")
        assert dead_letters.unhandled_dead_letters(settings, [DLQ])[DLQ] == before + 2
        by_key = {letter["key"]: letter for letter in letters}
        letter = by_key[code]
        assert letter["original_topic"] == TOPIC and letter["reason"].startswith("malformed event") and letter["action"] is None
        ref = [DLQ, str(letter["partition"]), str(letter["offset"])]

        shown = await run_ohs(kafka_bootstrap, "dlq", "inspect", *ref)
        assert shown.returncode == 0, shown.stderr
        assert f"x-dlq-consumer-group: {settings.consumer_group()}" in shown.stdout and f'"marker": "{marker}"' in shown.stdout

        fixed = tmp_path / "fixed.json"
        fixed.write_text(changed(code, "甲").model_dump_json())
        replayed = await run_ohs(kafka_bootstrap, "dlq", "replay", *ref, "--by", "operator Wang", "--payload", str(fixed))
        assert replayed.returncode == 0, replayed.stderr
        assert "marked replayed by operator Wang" in replayed.stdout

        # it arrives once on the original topic, with the original key and where it came from; the service applies it
        def copies(records: list[Any]) -> list[Any]:
            return [r for r in records if dict(r.headers).get("x-replayed-from") == ":".join(ref).encode()]

        arrived = copies(await read_topic(kafka_bootstrap, TOPIC, lambda rs: len(copies(rs)) >= 1))
        assert len(arrived) == 1 and arrived[0].key == code.encode() and arrived[0].value == fixed.read_bytes()
        assert not any(name.startswith("x-dlq-") for name, _ in arrived[0].headers)
        assert await eventually(lambda: _pooled(client, code), what="the replayed event applied") == "甲"
        assert dead_letters.unhandled_dead_letters(settings, [DLQ])[DLQ] == before + 1

        again = await run_ohs(kafka_bootstrap, "dlq", "replay", *ref, "--by", "operator Li")
        assert again.returncode == 1 and "already replayed by operator Wang" in again.stderr
        listed = json.loads((await run_ohs(kafka_bootstrap, "dlq", "list", "--topic", DLQ, "--all", "--json")).stdout)
        assert next(x for x in listed if x["key"] == code)["action"]["action"] == "replayed"
        assert code not in {x["key"] for x in json.loads((await run_ohs(kafka_bootstrap, "dlq", "list", "--json")).stdout)}

        # the other one: discarded, with a reason; a second discard and a letter that is not there are refused
        other_ref = [DLQ, str(by_key[other]["partition"]), str(by_key[other]["offset"])]
        discarded = await run_ohs(kafka_bootstrap, "dlq", "discard", *other_ref, "--by", "operator Wang", "--reason", "test junk")
        assert discarded.returncode == 0, discarded.stderr
        assert dead_letters.unhandled_dead_letters(settings, [DLQ])[DLQ] == before
        refused = await run_ohs(kafka_bootstrap, "dlq", "discard", *other_ref, "--by", "x", "--reason", "again")
        assert refused.returncode == 1 and "already discarded" in refused.stderr
        missing = await run_ohs(kafka_bootstrap, "dlq", "inspect", DLQ, "0", "999999")
        assert missing.returncode == 1 and "not found" in missing.stderr
        assert await asyncio.to_thread(_pooled_sync_count, tmp_path / "sampling.db", code) == 1


async def _pooled(client, code: str) -> str | None:
    return (await pool(client)).get(code)


def _pooled_sync_count(database: Path, code: str) -> int:
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT COUNT(*) FROM processed_event WHERE topic = :t"), {"t": TOPIC}).scalar_one()
    finally:
        engine.dispose()


async def test_status_shows_a_groups_lag(kafka_bootstrap: str) -> None:
    prefix = f"it-ops-status-{uuid.uuid4().hex[:8]}"
    group = f"{prefix}.sampling"
    code = new_credit_code(REGION)
    await produce(kafka_bootstrap, topics.ORGS_DISQUALIFIED + ".dlq", b"{}", key=code.encode())  # a dead letter nobody handled

    def commit_behind() -> int:
        """The group committed 0 on every partition of the topic: its lag is everything retained."""
        consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
        try:
            tps = [TopicPartition(TOPIC, p) for p in sorted(consumer.partitions_for_topic(TOPIC))]
            consumer.assign(tps)
            begin, end = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
            from kafka.structs import OffsetAndMetadata

            consumer.commit({tp: OffsetAndMetadata(begin[tp], "", -1) for tp in tps})
            return sum(end[tp] - begin[tp] for tp in tps)
        finally:
            consumer.close()

    await produce(kafka_bootstrap, TOPIC, changed(code).model_dump_json().encode(), key=code.encode())
    expected = await asyncio.to_thread(commit_behind)
    assert expected >= 1
    result = await run_ohs(kafka_bootstrap, "status", "--json", prefix=prefix, whole=True)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    [mine] = [g for g in found["groups"] if g["group"] == group]
    assert mine["lag"] == {TOPIC: expected} and mine["members"] == 0
    row = next(t for t in found["topics"] if t["topic"] == topics.ORGS_DISQUALIFIED)
    assert row["dlq_depth"] >= 1 and row["dlq_unhandled"] >= 1
    text_out = (await run_ohs(kafka_bootstrap, "status", prefix=prefix)).stdout
    assert f"{group}: Empty, 0 members" in text_out and f"{TOPIC}: lag {expected}" in text_out

    # a stopped service's groups moved to a time (after restoring a backup): past every record, then before all
    async def lag_after_rewind(to: str) -> int:
        rewound = await run_ohs(kafka_bootstrap, "groups", "rewind", "sampling", "--to", to, prefix=prefix)
        assert rewound.returncode == 0, rewound.stderr
        status = json.loads((await run_ohs(kafka_bootstrap, "status", "--json", prefix=prefix)).stdout)
        return next(g for g in status["groups"] if g["group"] == group)["lag"][TOPIC]

    assert await lag_after_rewind("2999-01-01") == 0
    assert await lag_after_rewind("2000-01-01T00:00+08:00") == expected


async def test_a_rebuilt_sampling_service_holds_the_same_pool_and_goes_on_from_there(kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = f"it-ops-rebuild-{uuid.uuid4().hex[:8]}"
    await start_groups_at_the_end(kafka_bootstrap, consumer_groups(prefix, ["sampling"]))
    first_db, second_db = tmp_path / "first.db", tmp_path / "rebuilt.db"
    feed = []
    final: dict[str, str] = {}
    for n, category in enumerate(["甲", "乙", "丙", "丙", "乙", "甲", "丙", "乙"]):
        code = new_credit_code(REGION)
        feed.append(changed(code, "丙", 1))
        if n % 3 == 0:
            feed.append(changed(code, category, 2))
        final[code] = category if n % 3 == 0 else "丙"

    async with serving(sampling_app(sampling_settings(kafka_bootstrap, first_db, prefix))) as client:
        for event in feed:
            await produce(kafka_bootstrap, event.topic, event.model_dump_json().encode(), key=event.key)

        async def all_pooled() -> dict[str, str] | None:
            now = {c: k for c, k in (await pool(client)).items() if c in final}
            return now if now == final else None

        original = await eventually(all_pooled, timeout=60, what="the first service's pool")
        original_pool = await pool(client)

    # the service is stopped: rebuild it into a fresh database and switch its groups there
    result = await run_ohs(kafka_bootstrap, "rebuild", "sampling", "--into", f"sqlite:///{second_db}", "--switch", "--timeout", "120",
                           prefix=prefix, whole=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Not in the topics, so not rebuilt" in result.stderr or "not in the topics, so not rebuilt" in result.stderr
    assert f"now stand where the rebuilt database stands: restart sampling with DATABASE_URL=sqlite:///{second_db}" in result.stdout
    assert f"{TOPIC} (-):" in result.stdout

    # the rebuilt database, under the service's own groups, holds the same pool, and a new event is applied once
    late = new_credit_code(REGION)
    async with serving(sampling_app(sampling_settings(kafka_bootstrap, second_db, prefix))) as client:
        rebuilt_pool = await pool(client)
        assert {c: k for c, k in rebuilt_pool.items() if c in final} == original
        assert rebuilt_pool == original_pool or set(original_pool) <= set(rebuilt_pool)  # the rebuild read the topic from 0
        await produce(kafka_bootstrap, TOPIC, changed(late, "甲").model_dump_json().encode(), key=late.encode())
        assert await eventually(lambda: _pooled(client, late), what="an event after the switch applied") == "甲"
        counts = await asyncio.to_thread(_applied_counts, second_db, [e.event_id for e in feed])
    assert counts == {str(e.event_id): 1 for e in feed}


def _applied_counts(database: Path, event_ids: list[uuid.UUID]) -> dict[str, int]:
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT event_id, COUNT(*) FROM processed_event GROUP BY event_id")).all()
            pending = connection.execute(text("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")).scalar_one()
            assert pending == 0, "a rebuild publishes nothing: what its handlers wrote to the outbox is settled"
        wanted = {str(e) for e in event_ids}
        return {event_id: count for event_id, count in rows if event_id in wanted}
    finally:
        engine.dispose()


async def test_outbox_requeue_puts_a_set_aside_row_back_and_the_relay_publishes_it(kafka_bootstrap: str, tmp_path: Path) -> None:
    from faststream.kafka import KafkaBroker

    from shared.db import make_engine
    from shared.messaging import OutboxRelay
    from shared.metrics import ServiceMetrics
    from shared.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'penalty.db'}"
    engine = make_engine(url)
    upgrade("penalty", engine)
    code = new_credit_code(REGION)
    marker = uuid.uuid4().hex
    with engine.begin() as connection:
        for n in (1, 2):
            connection.execute(text("INSERT INTO outbox (event_id, topic, key, payload, created_at, failed_at, error) "
                                    "VALUES (:e, :t, :k, :p, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'MessageSizeTooLargeError()')"),
                               {"e": str(uuid.uuid4()), "t": topics.ORGS_DISQUALIFIED + ".dlq", "k": code, "p": json.dumps({"marker": marker, "n": n})})

    listed = await run_ohs(kafka_bootstrap, "outbox", "list", "--service", "penalty", "--database-url", url, "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["error"] for r in rows] == ["MessageSizeTooLargeError()"] * 2
    assert (await run_ohs(kafka_bootstrap, "outbox", "requeue", "--service", "penalty", "--database-url", url)).returncode == 2  # --id or --all
    done = await run_ohs(kafka_bootstrap, "outbox", "requeue", "--service", "penalty", "--database-url", url, "--id", str(rows[0]["id"]))
    assert done.returncode == 0 and "1 rows of penalty back in the queue" in done.stdout, done.stdout + done.stderr
    assert (await run_ohs(kafka_bootstrap, "outbox", "requeue", "--service", "penalty", "--database-url", url, "--id",
                          str(rows[0]["id"]))).returncode == 1  # no longer set aside

    broker = KafkaBroker(kafka_bootstrap)
    await broker.start()
    try:
        assert await OutboxRelay(engine, broker, ServiceMetrics("penalty")).flush() == 1
    finally:
        await broker.stop()
        engine.dispose()

    def ours(records: list[Any]) -> list[Any]:
        return [r for r in records if marker.encode() in r.value]

    published = ours(await read_topic(kafka_bootstrap, topics.ORGS_DISQUALIFIED + ".dlq", lambda rs: len(ours(rs)) >= 1))
    assert [json.loads(r.value)["n"] for r in published] == [1]
    left = json.loads((await run_ohs(kafka_bootstrap, "outbox", "list", "--service", "penalty", "--database-url", url, "--json")).stdout)
    assert [r["id"] for r in left] == [rows[1]["id"]]
