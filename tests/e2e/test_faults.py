"""Faults under load: N reports through the pipeline while something breaks, then exact counts.

The pipeline: ``ReportSubmitted`` (produced here, straight onto ``ohs.reports.submitted``) → assessment
classifies → ``AssessmentClassified`` → registry archives one version (hash-chained) → ``ClassificationChanged``
→ sampling pools it, and the registry's credit feed sends one CloudEvent on ``ohs.credit.events``. Assessment,
registry and sampling run as processes (penalty is not on this path and is not started), each on a fresh
PostgreSQL database of ``own_postgres``, in consumer groups of a fresh prefix moved to the end of their topics
first, so a scenario's services see only its own reports.

Every scenario streams N reports (``OHS_FAULT_REPORTS``, 5,000 by default) of fresh employers spread over the 17
counties of 临汾市: 40 % first; once some (N / 20) have reached the stage under test the fault strikes and
the other 60 % follow. Then it waits (a timeout proportional to N) until every report is classified, archived,
pooled and fed, stops the services — nothing more can be published — and asserts exactly:

* assessment: N submissions, all classified;
* registry: one archive version per employer (no more), one change-log entry each, every county's chain verifies;
* sampling: N pool members at archive version 1, the pool version raised exactly N times;
* on the wire (read by offsets, from where the topics ended before the scenario): N distinct
  ``AssessmentClassified``, ``ClassificationChanged`` and credit-feed CloudEvent ids, one per employer, none
  rejected; duplicates (the same id again) are counted and printed, never hidden — only where a fault can make
  the outbox relay publish a row twice (a crash or a lost answer between publishing and marking it published,
  two relays on one outbox) are they allowed;
* every dead-letter topic of the pipeline empty (a dead letter fails the wait at once, naming its reason).

Scenarios: on the secured 3-node cluster (cluster.sh: SASL/SCRAM, ACLs for the scenario's group prefix, RF 3,
min ISR 2, acks=all) each pipeline service SIGKILLed and restarted, two registry replicas in one group with one
SIGKILLed (rebalance), one broker node SIGKILLed; on the single broker of ``make run`` (kafka.sh) the broker
stopped for ``OHS_FAULT_BROKER_DOWN_S`` (30 s) and PostgreSQL stopped for ``OHS_FAULT_POSTGRES_DOWN_S`` (10 s:
longer than the consumer's retry budget, 0.5 + 1 + 2 + 4 s). docs/testing.md, "Fault tests".
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import OffsetSpec

from shared import architecture, topics
from shared.contracts import Report, ReportSubmitted, utc_now
from shared.kafka_admin import admin_client
from tests.conftest import REPO, free_port
from tests.e2e.conftest import KafkaUnderTest, PostgresServer, healthy
from tests.support import (
    TEST_AUTH_SECRET,
    days_ago,
    eventually_sync,
    jia_report_for,
    new_credit_code,
    report_for,
)

pytestmark = pytest.mark.e2e

N = int(os.environ.get("OHS_FAULT_REPORTS", "5000"))
BROKER_DOWN_S = float(os.environ.get("OHS_FAULT_BROKER_DOWN_S", "30"))
POSTGRES_DOWN_S = float(os.environ.get("OHS_FAULT_POSTGRES_DOWN_S", "10"))
SECONDS_PER_REPORT = float(os.environ.get("OHS_FAULT_SECONDS_PER_REPORT", "0.1"))  # the waits' allowance per report
FIRST_SHARE = 0.4  # produced before the fault; the rest after it struck
TRIGGER = max(1, N // 20)  # "some": the fault strikes once this many have reached the stage under test

PIPELINE = ("assessment", "registry", "sampling")
COUNTIES = ("141002", "141021", "141022", "141023", "141024", "141025", "141026", "141027", "141028", "141029", "141030",
            "141031", "141032", "141033", "141034", "141081", "141082")  # 临汾市
SUBSCRIPTIONS = [s for s in architecture.subscriptions() if s.service in PIPELINE]
DEAD_LETTER_TOPICS = sorted({topics.dead_letter_topic(s.topic) for s in SUBSCRIPTIONS})
WIRE = (topics.REPORTS_SUBMITTED, topics.ASSESSMENTS_CLASSIFIED, topics.REPORTS_REJECTED, topics.CLASSIFICATION_CHANGED,
        topics.CREDIT_EVENTS)
# how far each stage has come, from the services' own databases
STAGES = {
    "classified": ("assessment", "SELECT count(*) FROM assessment_submission WHERE status <> 'accepted'"),
    "archived": ("registry", "SELECT count(*) FROM registry_classification_version"),
    "pooled": ("sampling", "SELECT count(*) FROM sampling_pool_member"),
    "fed": ("registry", f"SELECT count(*) FROM outbox WHERE topic = '{topics.CREDIT_EVENTS}' AND published_at IS NOT NULL"),
}


def budget(reports: int, extra: float = 0.0) -> float:
    """A wait's timeout: proportional to the reports it waits for (plus a start-up allowance and the fault's length)."""
    return 120.0 + extra + SECONDS_PER_REPORT * reports


# --------------------------------------------------------------------------- the reports


def reports(n: int) -> list[ReportSubmitted]:
    """``n`` ReportSubmitted events of fresh employers spread over the counties, half 丙 (the example report, recent
    dates) and half 甲, built with the contract classes."""
    events, codes = [], set()
    for i in range(n):
        region = COUNTIES[i % len(COUNTIES)]
        while (code := new_credit_code(region)) in codes:
            pass
        codes.add(code)
        if i % 2:
            body = jia_report_for(code, region)
        else:
            body = report_for(code, region, assessed_on=days_ago(10), publicity={"start": days_ago(9), "end": days_ago(2)})
            for hazard in body["hazards"]:
                hazard["tested_on"] = days_ago(30)
        body["enterprise"]["name"] = f"故障测试企业{i:05d}有限公司"
        report = Report.model_validate(body)
        events.append(ReportSubmitted(producer="assessment", credit_code=code, submission_id=report.submission_id,
                                      received_at=utc_now(), report=report))
    return events


# --------------------------------------------------------------------------- the services as processes


@dataclass
class ServiceProcess:
    """One service process: started again with the same command, environment and database after a kill."""

    name: str  # "registry", or "registry-2" for a second replica
    service: str
    env: dict[str, str]
    log: Path
    url: str
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        with open(self.log, "ab") as out:
            out.write(f"\n===== {self.name}: start {self.starts} =====\n".encode())
            out.flush()
            self.process = subprocess.Popen([sys.executable, "-m", f"services.{self.service}"], cwd=REPO, env=self.env,
                                            stdout=out, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last flush of the outbox, uncommitted transactions lost."""
        assert self.process is not None and self.process.poll() is None, f"{self.name} is not running"
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)

    def tail(self, lines: int = 12) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(f"    {line[:300]}" for line in text[-lines:])


# --------------------------------------------------------------------------- one scenario's system


@dataclass
class Outcome:
    """What a scenario found on the wire, for the summary line."""

    duplicates: dict[str, int] = field(default_factory=dict)  # topic → records beyond the first of each id


class Pipeline:
    """Assessment, registry (one or more replicas) and sampling on ``kafka``, each with a fresh database of
    ``postgres``, in consumer groups of a fresh prefix that start at the end of their topics."""

    def __init__(self, kafka: KafkaUnderTest, postgres: PostgresServer, folder: Path, registry_replicas: int = 1):
        self.kafka, self.postgres, self.folder = kafka, postgres, folder
        self.prefix = f"fault-{uuid.uuid4().hex[:8]}"
        began = time.monotonic()
        self.databases = {service: postgres.database() for service in PIPELINE}
        self.setup_s = {"databases": time.monotonic() - began}
        self.processes: dict[str, ServiceProcess] = {}
        for service in PIPELINE:
            for replica in range(registry_replicas if service == "registry" else 1):
                name = service if replica == 0 else f"{service}-{replica + 1}"
                port = free_port()
                env = dict(os.environ, **kafka.env_for(f"ohs-{service}"), DATABASE_URL=self.databases[service],
                           OHS_HTTP_PORT=str(port), OHS_CONSUMER_GROUP_PREFIX=self.prefix, OHS_AUTH_SECRET=TEST_AUTH_SECRET,
                           OHS_DATA_DIR=str(folder / "data"), PYTHONUNBUFFERED="1")
                self.processes[name] = ServiceProcess(name, service, env, folder / f"{name}.log", f"http://127.0.0.1:{port}")
        self.start_offsets: dict[str, dict[int, int]] = {}
        self.codes: set[str] = set()
        self.dead_letters_seen = 0
        self._admin: Any = None

    # ---- set-up and tear-down

    def groups(self) -> dict[str, list[str]]:
        """The pipeline's consumer groups and the topics each reads (from the bootstraps' subscriptions)."""
        groups: dict[str, list[str]] = {}
        for s in SUBSCRIPTIONS:
            group = f"{self.prefix}.{s.service}" + (f".{s.group_suffix}" if s.group_suffix else "")
            groups.setdefault(group, []).append(s.topic)
        return groups

    def start(self) -> None:
        began = time.monotonic()
        if self.kafka.secured:  # the ACLs of every service principal, for this scenario's consumer-group prefix
            from shared.kafka_security import apply_acls

            apply_acls(self.kafka.admin_settings(consumer_group_prefix=self.prefix))
        self.setup_s["acls"] = time.monotonic() - began
        admin = self.admin()
        specs = topics.all_topic_specs()
        for group, names in self.groups().items():  # start where the topics end: earlier scenarios' events are not ours
            latest = {TopicPartition(t, p): OffsetSpec.LATEST for t in names for p in range(specs[t])}
            result = retried(lambda g=group, specs=latest: admin.reset_group_offsets(g, specs), f"{group} moved to the end of {names}")
            failed = {tp: r["error"] for tp, r in result.items() if r["error"].errno}
            assert not failed, f"could not move {group} to the end: {failed}"
        watched = [*WIRE, *DEAD_LETTER_TOPICS]
        ends = admin.list_partition_offsets({TopicPartition(t, p): OffsetSpec.LATEST for t in watched for p in range(specs[t])})
        for tp, info in ends.items():
            self.start_offsets.setdefault(tp.topic, {})[tp.partition] = info.offset
        self.setup_s["offsets"] = time.monotonic() - began - self.setup_s["acls"]
        # a second replica starts once the first has migrated the shared database: two services migrating one fresh
        # database at once collide (CREATE TABLE races: pg_type_typname_nsp_index), so a deployment migrates first
        for wave in ([p for p in self.processes.values() if p.name in PIPELINE], [p for p in self.processes.values() if p.name not in PIPELINE]):
            for process in wave:
                process.start()
            eventually_sync(lambda w=wave: [p.name for p in w if not healthy(p.url)], 180, "every service healthy",
                            ready=lambda waiting: not waiting, describe=lambda waiting: self.logs(waiting), interval=0.5)
        self.setup_s["services"] = time.monotonic() - began - self.setup_s["acls"] - self.setup_s["offsets"]

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()
        self.close_admin()

    def close_admin(self) -> None:
        if self._admin is not None:
            try:
                self._admin.close()
            except Exception:  # noqa: BLE001, S110 - closing a client of a broker that may be gone
                pass
            self._admin = None

    def admin(self) -> Any:
        if self._admin is None:
            self._admin = admin_client(self.kafka.bootstrap, self.kafka.admin_settings(), timeout_s=120)
        return self._admin

    # ---- the stream

    def produce(self, events: list[ReportSubmitted]) -> None:
        """Onto ohs.reports.submitted, keyed by the credit code like the outbox relay does; every send acknowledged
        by all in-sync replicas before this returns."""
        self.codes |= {e.credit_code for e in events}
        producer = KafkaProducer(**self.kafka.client_options(), acks="all", linger_ms=20, request_timeout_ms=30_000)
        try:
            sends = [producer.send(topics.REPORTS_SUBMITTED, value=e.model_dump_json().encode(), key=e.key,
                                   headers=[("content-type", b"application/json")]) for e in events]
            producer.flush(timeout=budget(len(events)))
            for send in sends:
                send.get(timeout=60)
        finally:
            producer.close(timeout=30)

    # ---- progress

    def _count(self, service: str, sql: str) -> int | None:
        try:
            with psycopg.connect(self.databases[service], connect_timeout=3) as connection:
                return connection.execute(sql).fetchone()[0]
        except psycopg.Error:  # the tables not migrated yet, or PostgreSQL restarting
            return None

    def progress(self, stages: tuple[str, ...] = tuple(STAGES)) -> dict[str, int | None]:
        state = {stage: self._count(*STAGES[stage]) for stage in stages}
        state["dead_lettered"] = self._dead_letter_count()
        return state

    def _dead_letter_count(self) -> int | None:
        try:
            specs = topics.all_topic_specs()
            ends = self.admin().list_partition_offsets(
                {TopicPartition(t, p): OffsetSpec.LATEST for t in DEAD_LETTER_TOPICS for p in range(specs[t])})
        except Exception:  # noqa: BLE001 - the broker may be restarting: a new client next time
            self.close_admin()
            return None
        self.dead_letters_seen = sum(info.offset - self.start_offsets[tp.topic][tp.partition] for tp, info in ends.items())
        return self.dead_letters_seen

    def wait_until(self, stage: str, count: int, timeout: float) -> dict[str, int | None]:
        """Poll ``stage`` until it reached ``count`` (failing at once on a dead letter); the progress then."""
        return eventually_sync(lambda: self.progress((stage,)), timeout, f"{count} reports {stage}",
                               ready=lambda p: self._stop_waiting(p, {stage: count}), describe=self.describe, interval=0.05)

    def wait_for_all(self, timeout: float) -> dict[str, int | None]:
        goal = {stage: len(self.codes) for stage in STAGES}
        return eventually_sync(self.progress, timeout, f"all {len(self.codes)} reports classified, archived, pooled and fed",
                               ready=lambda p: self._stop_waiting(p, goal), describe=self.describe, interval=1.0)

    def _stop_waiting(self, progress: dict[str, int | None], goal: dict[str, int]) -> bool:
        if progress["dead_lettered"]:
            raise AssertionError(f"dead letters while waiting ({progress}):\n{self.describe_dead_letters()}")
        return all((progress[stage] or 0) >= count for stage, count in goal.items())

    def describe(self, progress: dict[str, int | None]) -> str:
        return f"progress {progress} of {len(self.codes)}\n" + self.logs(list(self.processes))

    def logs(self, names: list[str]) -> str:
        return "\n".join(f"  {name} (pid {self.processes[name].process.pid if self.processes[name].process else '-'}), "
                         f"last lines:\n{self.processes[name].tail()}" for name in names)

    # ---- the wire

    def read(self, topic: str) -> list[Any]:
        """The records of ``topic`` from where it ended before the scenario to where it ends now."""
        consumer = KafkaConsumer(**self.kafka.client_options(), group_id=None, enable_auto_commit=False)
        try:
            partitions = [TopicPartition(topic, p) for p in range(topics.all_topic_specs()[topic])]
            consumer.assign(partitions)
            ends = consumer.end_offsets(partitions)
            for tp in partitions:
                consumer.seek(tp, self.start_offsets[topic][tp.partition])
            records: list[Any] = []
            deadline = time.monotonic() + budget(N)
            while any(consumer.position(tp) < ends[tp] for tp in partitions):
                assert time.monotonic() < deadline, f"could not read {topic} to its end {ends}"
                for batch in consumer.poll(timeout_ms=500).values():
                    records.extend(batch)
            return [r for r in records if r.offset < ends[TopicPartition(topic, r.partition)]]
        finally:
            consumer.close()

    def describe_dead_letters(self) -> str:
        lines = []
        for topic in DEAD_LETTER_TOPICS:
            for record in self.read(topic):
                headers = {k: v.decode(errors="replace") for k, v in record.headers or []}
                lines.append(f"  {topic} (group {headers.get('x-dlq-consumer-group')}, {headers.get('x-dlq-error-type')}, "
                             f"attempts {headers.get('x-dlq-attempts')}, key {record.key!r}): "
                             f"{headers.get('x-dlq-reason', '').splitlines()[0] if headers.get('x-dlq-reason') else '?'}")
        counts = Counter(line.split(" (")[0].strip() for line in lines)
        return f"{len(lines)} dead letters {dict(counts)}; the first ones:\n" + "\n".join(lines[:10])

    # ---- the exact counts

    def verify(self, duplicates_allowed: str | None) -> Outcome:
        """Every count exact (module docstring). ``duplicates_allowed``: why this fault may make the outbox publish a
        row twice (None: it may not, and a duplicate on the credit feed fails)."""
        codes, n = self.codes, len(self.codes)
        outcome = Outcome()

        with psycopg.connect(self.databases["assessment"]) as db:
            submissions = db.execute("SELECT credit_code, status FROM assessment_submission").fetchall()
        assert Counter(status for _, status in submissions) == {"classified": n}
        assert {code for code, _ in submissions} == codes

        with psycopg.connect(self.databases["registry"]) as db:
            versions = dict(db.execute("SELECT credit_code, count(*) FROM registry_classification_version GROUP BY credit_code").fetchall())
            log_entries = dict(db.execute("SELECT credit_code, count(*) FROM registry_change_log GROUP BY credit_code").fetchall())
            enterprises = dict(db.execute("SELECT credit_code, latest_version FROM registry_enterprise").fetchall())
            pending = db.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]
        extra = {code: count for code, count in versions.items() if count != 1 or code not in codes}
        assert not extra, f"{len(extra)} employers archived other than once: {dict(list(extra.items())[:10])}"
        assert set(versions) == codes, f"{len(codes - set(versions))} reports never archived"
        assert log_entries == dict.fromkeys(codes, 1), "one change-log entry per employer"
        assert enterprises == dict.fromkeys(codes, 1), "every employer at archive version 1"
        assert pending == 0, f"{pending} registry outbox rows not published"
        self._verify_chains()

        with psycopg.connect(self.databases["sampling"]) as db:
            members = dict(db.execute("SELECT credit_code, archive_version FROM sampling_pool_member").fetchall())
            pool_version = db.execute("SELECT coalesce(sum(version), 0) FROM sampling_pool_counter").fetchone()[0]
        assert members == dict.fromkeys(codes, 1), f"pool: {len(set(members) - codes)} foreign, {len(codes - set(members))} missing"
        assert pool_version == n, f"the pool version was raised {pool_version} times for {n} placements"

        # the wire: distinct ids, one per employer; duplicates counted
        submitted = self.read(topics.REPORTS_SUBMITTED)
        assert len(submitted) == n, f"{len(submitted)} records on {topics.REPORTS_SUBMITTED} for {n} reports produced"
        rejected = self.read(topics.REPORTS_REJECTED)
        assert not rejected, f"{len(rejected)} reports rejected: {rejected[0].value[:500]!r}"
        for topic, id_field, code_field in ((topics.ASSESSMENTS_CLASSIFIED, "event_id", "credit_code"),
                                            (topics.CLASSIFICATION_CHANGED, "event_id", "credit_code"),
                                            (topics.CREDIT_EVENTS, "id", "subject")):
            bodies = [json.loads(r.value) for r in self.read(topic)]
            ids_per_code: dict[str, set[str]] = {}
            for body in bodies:
                ids_per_code.setdefault(body[code_field], set()).add(body[id_field])
            foreign = set(ids_per_code) - codes
            assert not foreign, f"{topic}: {len(foreign)} employers not of this scenario"
            missing = codes - set(ids_per_code)
            assert not missing, f"{topic}: {len(missing)} of {n} employers' events lost, e.g. {sorted(missing)[:3]}"
            twice = {code: ids for code, ids in ids_per_code.items() if len(ids) != 1}
            assert not twice, f"{topic}: {len(twice)} employers with more than one distinct event, e.g. {list(twice.items())[:2]}"
            distinct = sum(len(ids) for ids in ids_per_code.values())
            assert distinct == n
            outcome.duplicates[topic] = len(bodies) - distinct
        if duplicates_allowed is None:
            assert outcome.duplicates[topics.CREDIT_EVENTS] == 0, (
                f"{outcome.duplicates[topics.CREDIT_EVENTS]} duplicate CloudEvents on the credit feed, and nothing in this "
                "scenario should make the registry publish a row twice")

        letters = self._dead_letter_count()
        assert letters == 0, self.describe_dead_letters()
        return outcome

    def _verify_chains(self) -> None:
        from sqlmodel import Session

        from services.registry.service_layer.chain_log import (
            chained_regions,
            verify_region,
        )
        from shared.db import make_engine

        engine = make_engine(self.databases["registry"])
        try:
            with Session(engine) as session:
                regions = chained_regions(session)
                assert set(regions) == {code[2:8] for code in self.codes}
                for region in regions:
                    result = verify_region(session, region)
                    assert result.ok, f"the change log of {region} does not verify: {result}"
        finally:
            engine.dispose()


def retried(call: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """``call()`` until it does not raise a retriable Kafka error (a fresh broker has no group coordinator yet)."""
    from kafka.errors import KafkaError

    def attempt() -> tuple[bool, Any]:
        try:
            return True, call()
        except KafkaError as error:
            if not getattr(error, "retriable", False):
                raise
            return False, error

    return eventually_sync(attempt, timeout, what, ready=lambda outcome: outcome[0], describe=lambda outcome: repr(outcome[1]),
                           interval=0.5)[1]


@contextmanager
def pipeline(kafka: KafkaUnderTest, postgres: PostgresServer, folder: Path, registry_replicas: int = 1) -> Iterator[Pipeline]:
    system = Pipeline(kafka, postgres, folder, registry_replicas)
    try:
        system.start()
        yield system
    finally:
        system.stop()


def streamed(system: Pipeline, stage: str, fault: Callable[[], None], after_fault: Callable[[], None] = lambda: None,
             produce_rest_during_fault: bool = True, extra_s: float = 0.0) -> tuple[dict[str, int | None], float]:
    """Stream N reports with ``fault()`` striking once some (but not all) reached ``stage``; the rest produced
    while the fault lasts (or, with ``produce_rest_during_fault`` False, after ``after_fault()`` ended it).
    Returns the progress when the fault struck and the seconds from the first report to the last one fed."""
    events = reports(N)
    first, rest = events[: int(N * FIRST_SHARE)], events[int(N * FIRST_SHARE):]
    started = time.monotonic()
    system.produce(first)
    at_fault = system.wait_until(stage, TRIGGER, budget(len(first)))
    fault()
    if produce_rest_during_fault:
        system.produce(rest)
        after_fault()
    else:
        after_fault()
        system.produce(rest)
    assert 0 < (at_fault[stage] or 0) < N, f"the fault did not strike mid-stream: {at_fault}"
    system.wait_for_all(budget(N, extra_s))
    elapsed = time.monotonic() - started
    system.stop()  # nothing more can be published: what is on the wire now is final
    return at_fault, elapsed


def summary(scenario: str, at_fault: dict[str, int | None], elapsed: float, outcome: Outcome, system: Pipeline) -> None:
    duplicates = ", ".join(f"{topic} {count}" for topic, count in outcome.duplicates.items())
    setup = ", ".join(f"{step} {seconds:.1f}" for step, seconds in system.setup_s.items())
    print(f"\n[faults] {scenario}: N={N}, fault at {at_fault}, all arrived {elapsed:.1f} s after the first report "
          f"(set-up {sum(system.setup_s.values()):.1f} s: {setup}); duplicates on the wire: {duplicates}", flush=True)


# --------------------------------------------------------------------------- on the secured 3-node cluster


class TestOnTheSecuredCluster:
    """cluster.sh: three KRaft nodes, SASL/SCRAM, the services as their principals with the ACLs of
    shared/kafka_security.py, topics RF 3 / min ISR 2, producers acks=all."""

    def test_the_cluster_is_replicated_and_the_acls_cover_the_prefix(self, secured_cluster: KafkaUnderTest) -> None:
        from shared.kafka_security import service_grants

        admin = admin_client(secured_cluster.bootstrap, secured_cluster.admin_settings())
        try:
            assert len(admin.describe_cluster()["brokers"]) == 3
            for described in admin.describe_topics([*WIRE, *DEAD_LETTER_TOPICS]):
                assert {len(p["replica_nodes"]) for p in described["partitions"]} == {3}, described["name"]
            from kafka.admin import ConfigResource, ConfigResourceType

            configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in WIRE])
            assert {configs["topic"][t]["min.insync.replicas"]["value"] for t in WIRE} == {"2"}
        finally:
            admin.close()
        for service in PIPELINE:  # the groups a pipeline of prefix "fault-x" joins are granted
            granted = service_grants(service, "fault-x")
            groups = {g.name: g.pattern for g in granted if g.resource_type == "GROUP" and g.operation == "READ"}
            assert groups == {f"fault-x.{service}": "LITERAL", f"fault-x.{service}.": "PREFIXED"}
        assert secured_cluster.env_for("ohs-registry")["KAFKA_MIN_INSYNC_REPLICAS"] == "2"  # so the services use acks=all

    @pytest.mark.parametrize("victim", PIPELINE)
    def test_a_service_sigkilled_mid_stream_and_restarted(self, victim: str, secured_cluster: KafkaUnderTest,
                                                          own_postgres: PostgresServer, tmp_path: Path) -> None:
        stage = {"assessment": "classified", "registry": "archived", "sampling": "pooled"}[victim]
        with pipeline(secured_cluster, own_postgres, tmp_path) as system:
            process = system.processes[victim]
            at_fault, elapsed = streamed(system, stage, fault=process.kill, after_fault=process.start)
            outcome = system.verify(duplicates_allowed="the registry's relay may have published rows it had not marked yet"
                                    if victim == "registry" else None)
        summary(f"{victim} SIGKILLed and restarted", at_fault, elapsed, outcome, system)

    def test_two_registry_replicas_in_one_group_one_sigkilled_mid_stream(self, secured_cluster: KafkaUnderTest,
                                                                         own_postgres: PostgresServer, tmp_path: Path) -> None:
        with pipeline(secured_cluster, own_postgres, tmp_path, registry_replicas=2) as system:
            group = f"{system.prefix}.registry"
            eventually_sync(lambda: consuming_members(system, group, topics.ASSESSMENTS_CLASSIFIED), 120,
                            f"both replicas sharing {topics.ASSESSMENTS_CLASSIFIED} in {group}", ready=lambda members: members == 2,
                            describe=lambda members: f"{members} members with partitions\n" + system.logs(list(system.processes)))
            survivor, victim = system.processes["registry"], system.processes["registry-2"]
            # not started again: the survivor takes over the victim's partitions once the group has rebalanced
            at_fault, elapsed = streamed(system, "archived", fault=victim.kill,
                                         after_fault=lambda: eventually_sync(lambda: consuming_members(system, group, topics.ASSESSMENTS_CLASSIFIED), 120,
                                                                             "the group rebalanced to the survivor", ready=lambda members: members == 1))
            assert victim.process is not None and victim.process.returncode == -signal.SIGKILL and survivor.starts == 1
            # two relays on one outbox table may each publish a pending row before either marks it
            outcome = system.verify(duplicates_allowed="two replicas' relays share one outbox; the killed one's rows")
        summary("registry replica SIGKILLed (rebalance to the other)", at_fault, elapsed, outcome, system)

    def test_a_broker_node_sigkilled_mid_stream(self, secured_cluster: KafkaUnderTest, own_postgres: PostgresServer,
                                                tmp_path: Path) -> None:
        admin = admin_client(secured_cluster.bootstrap, secured_cluster.admin_settings())
        try:  # the node leading partition 0 of the classifications: leadership has to move
            [described] = admin.describe_topics([topics.ASSESSMENTS_CLASSIFIED])
            node = next(p["leader_id"] for p in described["partitions"] if p["partition_index"] == 0)
        finally:
            admin.close()
        pid = secured_cluster.node_pid(node)
        try:
            with pipeline(secured_cluster, own_postgres, tmp_path) as system:
    
                def kill_node() -> None:
                    os.kill(pid, signal.SIGKILL)
                    eventually_sync(lambda: process_gone(pid), 30, f"node {node} (pid {pid}) gone")

                at_fault, elapsed = streamed(system, "archived", fault=kill_node)
                # a produce whose answer was lost when the node died is retried by the relay: same row, same id
                outcome = system.verify(duplicates_allowed="a send whose answer was lost with the node is sent again")
            summary(f"broker node {node} of 3 SIGKILLed (not restarted until the end)", at_fault, elapsed, outcome, system)
        finally:  # the next tests (and the fixture's stop) want three nodes again
            if process_gone(pid):
                secured_cluster.start_node(node)
                wait_for_full_isr(secured_cluster)


def consuming_members(system: Pipeline, group: str, topic: str) -> int:
    """How many members of ``group`` have partitions of ``topic`` assigned (0 while it rebalances)."""
    try:
        described = system.admin().describe_groups([group])[group]
    except Exception:  # noqa: BLE001 - the group not there yet
        return 0
    if described.get("group_state") != "Stable":
        return 0
    count = 0
    for member in described.get("members", []):
        assignment = member.get("member_assignment") or {}
        assigned = assignment.get("assigned_partitions") or assignment.get("partitions") or []
        if any((a.get("topic") if isinstance(a, dict) else a[0]) == topic for a in assigned):
            count += 1
    return count


def process_gone(pid: int) -> bool:
    """Not running any more (a zombie counts as gone: nobody here may reap the JVM cluster.sh started)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in {"Z", "X"}


def wait_for_full_isr(cluster: KafkaUnderTest) -> None:
    def lagging() -> list[str]:
        admin = admin_client(cluster.bootstrap, cluster.admin_settings())
        try:
            return [f"{t['name']}-{p['partition_index']}" for t in admin.describe_topics() for p in t["partitions"] if len(p["isr_nodes"]) < 3]
        finally:
            admin.close()

    eventually_sync(lagging, 180, "every partition back to 3 in-sync replicas", ready=lambda lag: not lag,
                    describe=lambda lag: f"{len(lag)} partitions short, e.g. {lag[:5]}", interval=1.0)


# --------------------------------------------------------------------------- on the single broker of `make run`


class TestOnTheSingleBroker:
    """kafka.sh: the open single broker `make run` starts (acks=1 by default; RF 1)."""

    def test_the_broker_stopped_mid_stream_and_started_again(self, own_broker_of_the_class: KafkaUnderTest,
                                                             own_postgres: PostgresServer, tmp_path: Path) -> None:
        kafka = own_broker_of_the_class
        with pipeline(kafka, own_postgres, tmp_path) as system:

            def down() -> None:
                kafka.stop_broker()
                time.sleep(BROKER_DOWN_S)  # the fault's duration, not a wait for a condition

            try:
                at_fault, elapsed = streamed(system, "archived", fault=down, after_fault=kafka.start_broker,
                                             produce_rest_during_fault=False, extra_s=BROKER_DOWN_S)
            finally:
                kafka.start_broker()  # whatever happened, the broker is up again for what follows (a no-op when it is)
            outcome = system.verify(duplicates_allowed="a send whose answer was lost when the broker stopped is sent again")
        summary(f"the single broker stopped for {BROKER_DOWN_S:g} s", at_fault, elapsed, outcome, system)

    def test_postgresql_restarted_mid_stream(self, own_broker_of_the_class: KafkaUnderTest, own_postgres: PostgresServer,
                                             tmp_path: Path) -> None:
        with pipeline(own_broker_of_the_class, own_postgres, tmp_path) as system:

            def restart() -> None:
                time.sleep(POSTGRES_DOWN_S)  # the fault's duration, not a wait for a condition
                own_postgres.start()

            try:
                at_fault, elapsed = streamed(system, "archived", fault=own_postgres.stop, after_fault=restart,
                                             extra_s=POSTGRES_DOWN_S)
            finally:
                own_postgres.start()  # whatever happened, the server is up again for what follows (a no-op when it is)
            # a row published but not yet marked when the database went away is published again
            outcome = system.verify(duplicates_allowed="a row published but not marked before the database went away")
        summary(f"PostgreSQL stopped for {POSTGRES_DOWN_S:g} s", at_fault, elapsed, outcome, system)
