"""System figures: the four services as processes on a fresh broker and a fresh PostgreSQL, in one run.

:func:`figures` starts everything itself (deploy/kafka/kafka.sh and deploy/postgres/pg.sh in a
temporary folder, one database per service, ``python -m services.<name>`` with a fresh consumer group
prefix and auth secret), measures, and stops everything — on failure and Ctrl-C too. In order:

1. raw Kafka baseline: the ≈1 KB ``ReportSubmitted`` payloads produced (aiokafka, acks=all) and consumed
   through the same broker, a fresh 6-partition topic, no processing: messages/s;
2. end-to-end: M ``ReportSubmitted`` events (distinct employers of the synthetic province) produced to
   ``ohs.reports.submitted``; reports/s until all are archived in the registry AND pooled in sampling
   (row counts of their databases), and that as a share of the raw baseline;
3. HTTP intake: ``POST /reports`` with 8 concurrent clients (reports/s, p50/p99), and
   ``POST /reports:batch`` in chunks of 500 (reports/s), each followed by waiting for the pipeline to drain;
4. latency at a fixed offered load: ``POST /reports`` on a schedule (open loop) at 200 reports/s for
   20 s: the HTTP p50/p99 (from the scheduled send time) and POST→archived p50/p95/p99 (the registry's
   ``recorded_at`` of each submission against its scheduled send time);
5. peak RSS (VmHWM) of each service after all that load;
6. replay: the four services stop; a fresh registry (new database, new consumer group prefix) rebuilds
   from everything its consumer groups read; events/s from the moment it answers /readyz until its
   committed offsets reach the end offsets taken at its start.

Each figure: ``{"name", "value", "unit", "target", "higher_is_better", "met", "notes"}``.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for path in (REPO, REPO / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from province import synthetic_reports

from shared.ports import free_port, free_port_run  # noqa: E402

SERVICES = ("assessment", "registry", "sampling", "penalty")
KAFKA_SH = REPO / "deploy" / "kafka" / "kafka.sh"
PG_SH = REPO / "deploy" / "postgres" / "pg.sh"

# the figures this module measures, in the order it prints them (tests check every one is there)
RAW = "raw Kafka produce+consume"
E2E = "end-to-end submitted→archived+pooled"
E2E_SHARE = "end-to-end / raw Kafka"
HTTP_RATE = "POST /reports, 8 clients"
HTTP_P50 = "POST /reports p50, 8 clients"
HTTP_P99 = "POST /reports p99, 8 clients"
BATCH = "POST /reports:batch, 500 per chunk"
FIXED_HTTP_P50 = "POST /reports p50 at 200/s"
FIXED_HTTP_P99 = "POST /reports p99 at 200/s"
ARCHIVED_P50 = "POST→archived p50 at 200/s"
ARCHIVED_P95 = "POST→archived p95 at 200/s"
ARCHIVED_P99 = "POST→archived p99 at 200/s"
REPLAY = "registry replay"
RSS = "peak RSS "  # + service name
FIGURE_NAMES: tuple[str, ...] = (
    RAW, E2E, E2E_SHARE, HTTP_RATE, HTTP_P50, HTTP_P99, BATCH, FIXED_HTTP_P50, FIXED_HTTP_P99,
    ARCHIVED_P50, ARCHIVED_P95, ARCHIVED_P99, *(RSS + name for name in SERVICES), REPLAY,
)

E2E_TARGET = 3_000  # reports/s
E2E_SHARE_TARGET = 30  # % of the raw baseline
BATCH_TARGET = 2_000  # reports/s
LATENCY_TARGET_MS = 500  # p99, HTTP and POST→archived, at 200 reports/s
REPLAY_TARGET = 5_000  # events/s
RSS_TARGET_MB = 300


@dataclass(frozen=True)
class Sizes:
    """How much each phase sends, and how long it may wait: the budgets keep a whole run bounded (~15 min
    full) however slow the system is; a phase that runs out of budget reports what it measured, and says so."""

    events: int  # M: ReportSubmitted events of the end-to-end run (distinct employers)
    http: int  # reports through POST /reports with 8 clients (at most ``http_budget`` seconds of sending)
    batch: int  # reports through POST /reports:batch
    rate: int = 200  # offered load, reports/s
    seconds: float = 20.0  # for how long
    clients: int = 8
    chunk: int = 500
    http_budget: float = 30.0  # longest sending of the one-report-a-request phase
    drain_budget: float = 90.0  # longest wait, after an intake phase, for the pipeline to archive and pool its reports
    e2e_budget: float = 240.0  # longest end-to-end run
    latency_budget: float = 150.0  # longest wait for the fixed load's reports to be archived
    replay_budget: float = 150.0

    @classmethod
    def of(cls, quick: bool, events: int | None = None) -> Sizes:
        if quick:
            return cls(events=events or 2_000, http=300, batch=1_000, seconds=5.0, http_budget=15.0, drain_budget=45.0,
                       e2e_budget=120.0, latency_budget=60.0, replay_budget=60.0)
        return cls(events=events or 20_000, http=3_000, batch=10_000)


def figure(name: str, value: float | None, unit: str, target: float | None, higher_is_better: bool = True, notes: str = "") -> dict[str, Any]:
    met = None if value is None or target is None else (value >= target if higher_is_better else value <= target)
    return {"name": name, "value": value, "unit": unit, "target": target, "higher_is_better": higher_is_better, "met": met, "notes": notes}


_started = time.monotonic()


def say(message: str) -> None:
    print(f"[bench {time.monotonic() - _started:6.1f}s] {message}", flush=True)


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


# --------------------------------------------------------------------------- the platform


@dataclass
class Service:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    database: str
    log: Path
    group_prefix: str

    def peak_rss_mb(self) -> float | None:
        """VmHWM: the most resident memory the process ever had."""
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return None

    def healthy(self) -> bool:
        import httpx

        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@dataclass
class Platform:
    """A broker, a PostgreSQL server and services, all in one temporary folder; :meth:`close` stops them all."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ohs-bench-")))
    keep: bool = False
    bootstrap: str = ""
    postgres: str = ""
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    services: dict[str, Service] = field(default_factory=dict)
    _cleanups: list[Callable[[], None]] = field(default_factory=list)

    def start_kafka(self) -> str:
        port = free_port_run(2)
        env = dict(os.environ, KAFKA_DATA_DIR=str(self.root / "kafka"), KAFKA_PORT=str(port))
        say(f"starting a KRaft broker on 127.0.0.1:{port}")
        self._cleanups.append(lambda: subprocess.run([str(KAFKA_SH), "stop"], env=env, check=False, timeout=60))
        subprocess.run([str(KAFKA_SH), "start"], env=env, check=True, start_new_session=True)
        self.bootstrap = f"127.0.0.1:{port}"
        from shared.kafka_admin import ensure_topics

        ensure_topics(self.bootstrap)
        return self.bootstrap

    def kafka_pid(self) -> int | None:
        try:
            return int((self.root / "kafka" / "broker.pid").read_text())
        except (OSError, ValueError):
            return None

    def start_postgres(self) -> str:
        port = free_port()
        data = self.root / "pg"
        data.mkdir()
        self.root.chmod(0o755)
        data.chmod(0o755)
        env = dict(os.environ, PG_DATA_DIR=str(data / "cluster"), PG_PORT=str(port))
        say(f"starting PostgreSQL on 127.0.0.1:{port}")
        self._cleanups.append(lambda: subprocess.run([str(PG_SH), "stop"], env=env, check=False, timeout=60))
        subprocess.run([str(PG_SH), "start"], env=env, check=True, start_new_session=True)
        self.postgres = f"postgresql://ohs@127.0.0.1:{port}/postgres"
        return self.postgres

    def database(self, label: str) -> str:
        import psycopg

        name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.postgres, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.postgres.rsplit("/", 1)[0] + f"/{name}"

    def start_service(self, name: str, group_prefix: str, label: str | None = None, env: dict[str, str] | None = None,
                      database: str | None = None) -> Service:
        """``python -m services.<name>`` on a free port and a fresh database (or ``database``, already filled); ``env``: more
        variables (the console's service URLs)."""
        label = label or name
        port = free_port()
        database = database or self.database(label)
        data = self.root / "data" / label
        data.mkdir(parents=True, exist_ok=True)
        env = dict(
            os.environ,
            KAFKA_BOOTSTRAP_SERVERS=self.bootstrap,
            DATABASE_URL=database,
            OHS_HTTP_PORT=str(port),
            OHS_CONSUMER_GROUP_PREFIX=group_prefix,
            OHS_AUTH_SECRET=self.secret,
            OHS_DATA_DIR=str(data),
            PYTHONUNBUFFERED="1",
            **(env or {}),
        )
        log = self.root / f"{label}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", f"services.{name}"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        service = Service(name, process, f"http://127.0.0.1:{port}", database, log, group_prefix)
        self.services[label] = service
        return service

    def wait_healthy(self, services: Iterable[Service], timeout: float = 90.0) -> None:
        waiting = list(services)
        deadline = time.monotonic() + timeout
        while waiting:
            for service in list(waiting):
                if service.process.poll() is not None:
                    raise RuntimeError(f"{service.name} exited ({service.process.returncode}) during start-up:\n{service.tail()}")
                if service.healthy():
                    waiting.remove(service)
            if waiting and time.monotonic() > deadline:
                raise RuntimeError("not healthy in time: " + "; ".join(f"{s.name}:\n{s.tail()}" for s in waiting))
            if waiting:
                time.sleep(0.3)

    def stop_service(self, service: Service, timeout: float = 20.0) -> None:
        if service.process.poll() is None:
            service.process.terminate()
            try:
                service.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait(timeout=10)

    def token(self, role: str = "province", region: str = "140000") -> str:
        from shared.auth import issue_token

        return issue_token(self.secret, role, "bench 山西省", subject="bench-province", region_code=region, valid_days=1)  # type: ignore[arg-type]

    def close(self) -> None:
        for service in self.services.values():
            try:
                self.stop_service(service)
            except Exception as error:  # noqa: BLE001 - stop everything else all the same
                print(f"bench: stopping {service.name}: {error}", file=sys.stderr)
        for cleanup in reversed(self._cleanups):
            try:
                cleanup()
            except Exception as error:  # noqa: BLE001
                print(f"bench: cleanup: {error}", file=sys.stderr)
        if self.keep:
            say(f"logs kept in {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


class Counts:
    """Row counts of the services' databases (a bench may read them; services never read each other's)."""

    def __init__(self, registry: str, sampling: str):
        import psycopg

        self._registry = psycopg.connect(registry, autocommit=True)
        self._sampling = psycopg.connect(sampling, autocommit=True)

    def archived(self) -> int:
        return self._registry.execute("SELECT count(*) FROM registry_enterprise").fetchone()[0]  # type: ignore[index]

    def pooled(self) -> int:
        return self._sampling.execute("SELECT count(*) FROM sampling_pool_member").fetchone()[0]  # type: ignore[index]

    def recorded_at(self, submission_ids: list[str]) -> dict[str, datetime]:
        rows = self._registry.execute(
            "SELECT submission_id, recorded_at FROM registry_classification_version WHERE submission_id = ANY(%s)", (submission_ids,)
        ).fetchall()
        return {row[0]: row[1] if row[1].tzinfo else row[1].replace(tzinfo=UTC) for row in rows}

    def close(self) -> None:
        self._registry.close()
        self._sampling.close()


def wait_for(counts: Counts, archived: int, pooled: int, timeout: float, what: str) -> tuple[float, int, int]:
    """Poll until the registry has ``archived`` rows and sampling ``pooled``; (monotonic time seen, archived, pooled)."""
    deadline = time.monotonic() + timeout
    shown = time.monotonic()
    while True:
        now = time.monotonic()
        a, p = counts.archived(), counts.pooled()
        if a >= archived and p >= pooled:
            return now, a, p
        if now > deadline:
            say(f"{what}: timed out after {timeout:.0f} s at {a}/{archived} archived, {p}/{pooled} pooled")
            return now, a, p
        if now - shown >= 5:
            say(f"{what}: {a}/{archived} archived, {p}/{pooled} pooled")
            shown = now
        time.sleep(0.2)


# --------------------------------------------------------------------------- the events


def submitted_events(reports: Iterable[dict[str, Any]]) -> list[tuple[bytes, bytes]]:
    """(key, value) of each report as assessment publishes it: a serialised ReportSubmitted keyed by credit code."""
    from shared.contracts import Report, ReportSubmitted

    now = datetime.now(UTC)
    records = []
    for data in reports:
        report = Report.model_validate(data)
        event = ReportSubmitted(
            producer="assessment", credit_code=report.enterprise.credit_code, submission_id=report.submission_id, received_at=now, report=report
        )
        records.append((event.key, event.model_dump_json().encode()))
    return records


def _producer(bootstrap: str) -> Any:
    from aiokafka import AIOKafkaProducer

    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=256 * 1024)


async def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> float:
    """Produce every record (acks=all); the seconds it took."""
    producer = _producer(bootstrap)
    await producer.start()
    try:
        started = time.perf_counter()
        headers = [("content-type", b"application/json")]
        futures = [await producer.send(topic, value, key=key, headers=headers) for key, value in records]
        await asyncio.gather(*futures)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def raw_baseline(bootstrap: str, records: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """Produce and consume ``records`` through a fresh 6-partition topic, concurrently, no processing."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"bench-raw-{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest",
        enable_auto_commit=False, max_poll_records=500,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 30
        while not consumer.assignment() and time.monotonic() < deadline:
            await consumer.getmany(timeout_ms=200)
        total = len(records)
        started = time.perf_counter()
        producing = asyncio.create_task(produce(bootstrap, topic, records))
        seen = 0
        while seen < total:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            seen += sum(len(batch) for batch in batches.values())
            if batches:
                await consumer.commit()
            if time.perf_counter() - started > 300:
                raise RuntimeError(f"raw baseline: only {seen} of {total} consumed in 300 s")
        elapsed = time.perf_counter() - started
        produced = await producing
    finally:
        await consumer.stop()
    return {"rate": total / elapsed, "produce_rate": total / produced, "seconds": elapsed}


# --------------------------------------------------------------------------- HTTP


async def post_reports(url: str, token: str, reports: list[dict[str, Any]], clients: int, budget: float = 600.0) -> dict[str, Any]:
    """``reports`` through POST /reports by ``clients`` concurrent clients, each sending its next report on a reply;
    no new report after ``budget`` seconds."""
    import httpx

    pending = iter(reports)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            for report in pending:
                sent = time.perf_counter()
                if sent - started > budget:
                    return
                response = await http.post("/reports", json=report)
                latencies.append(time.perf_counter() - sent)
                statuses[response.status_code] += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "accepted": statuses[202], "sent": len(latencies), "statuses": dict(statuses), "latencies": latencies}


def _accepted_items(body: Any, sent: int) -> tuple[int, str]:
    """How many items of a batch answer were accepted: the per-item results read as generously as their shape allows."""
    items = body.get("results") if isinstance(body, dict) else body
    if isinstance(body, dict) and isinstance(body.get("accepted"), int):
        return body["accepted"], ""
    if isinstance(items, list):
        ok = 0
        for item in items:
            status = item.get("status") if isinstance(item, dict) else None
            if status in (200, 201, 202, "accepted", "duplicate", "created") or (isinstance(item, dict) and item.get("accepted") is True):
                ok += 1
        return ok, ""
    return sent, "per-item results not recognised: counted every item of a 2xx answer"


async def post_batches(url: str, token: str, reports: list[dict[str, Any]], chunk: int, clients: int = 2) -> dict[str, Any] | None:
    """``reports`` through POST /reports:batch in chunks; None when the endpoint is not there (404/405)."""
    import httpx

    chunks = [reports[i:i + chunk] for i in range(0, len(reports), chunk)]
    pending = iter(chunks)
    accepted, statuses, notes, latencies = 0, Counter[int](), set[str](), []
    missing = False

    async def client() -> None:
        nonlocal accepted, missing
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=300) as http:
            for part in pending:
                sent = time.perf_counter()
                response = await http.post("/reports:batch", json={"reports": part})
                latencies.append(time.perf_counter() - sent)
                statuses[response.status_code] += 1
                if response.status_code in (404, 405):
                    missing = True
                    return
                if response.is_success:
                    count, note = _accepted_items(response.json(), len(part))
                    accepted += count
                    if note:
                        notes.add(note)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    if missing:
        return None
    return {"seconds": elapsed, "accepted": accepted, "statuses": dict(statuses), "notes": "; ".join(sorted(notes)), "latencies": latencies}


async def offered_load(url: str, token: str, reports: list[dict[str, Any]], rate: float, grace: float = 30.0) -> dict[str, Any]:
    """Open loop: report i is sent at start + i / rate whatever the earlier replies; latencies from the schedule."""
    import httpx

    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    http_latencies: list[float] = []
    statuses: Counter[int] = Counter()
    sent_wall: dict[str, float] = {}
    late: list[float] = []
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60, limits=limits) as http:
        start = time.perf_counter() + 0.5
        wall = time.time() + (start - time.perf_counter())

        # at most as many requests in flight as connections: httpcore's pool assigns queued requests to connections in
        # quadratic time, so thousands queued in it would make the bench's own client the bottleneck
        in_flight = asyncio.Semaphore(200)

        async def one(i: int, report: dict[str, Any]) -> None:
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            late.append(time.perf_counter() - scheduled)
            try:
                async with in_flight:
                    response = await http.post("/reports", json=report)
                statuses[response.status_code] += 1
            except httpx.HTTPError:
                statuses[0] += 1
                return
            http_latencies.append(time.perf_counter() - scheduled)
            if response.status_code == 202:
                sent_wall[report["submission_id"]] = wall + i / rate

        # the phase ends ``grace`` seconds after the last scheduled send: an overloaded service is not waited for
        # minutes; a request still unanswered then counts with the time waited so far (a lower bound)
        tasks = [asyncio.create_task(one(i, report)) for i, report in enumerate(reports)]
        _, unanswered = await asyncio.wait(tasks, timeout=len(reports) / rate + 0.5 + grace)
        ended = time.perf_counter()
        for task in unanswered:
            task.cancel()
        await asyncio.gather(*unanswered, return_exceptions=True)
        http_latencies += [ended - start - i / rate for i, task in enumerate(tasks) if task in unanswered]
        if unanswered:
            statuses[0] += len(unanswered)
    return {"http_latencies": http_latencies, "statuses": dict(statuses), "sent_wall": sent_wall, "late_p99": percentile(late, 99) if late else 0.0,
            "unanswered": len(unanswered)}


# --------------------------------------------------------------------------- replay


async def end_offsets(bootstrap: str, topic_names: Iterable[str]) -> dict[Any, int]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topic_names for p in sorted(consumer.partitions_for_topic(t) or await _partitions(consumer, t))]
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def _partitions(consumer: Any, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or set()


async def committed(bootstrap: str, groups: Iterable[str]) -> dict[tuple[str, Any], int]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        found: dict[tuple[str, Any], int] = {}
        for group in groups:
            for tp, meta in (await admin.list_consumer_group_offsets(group)).items():
                found[(group, tp)] = meta.offset
        return found
    finally:
        await admin.close()


def registry_inputs(prefix: str) -> list[tuple[str, str]]:
    """(consumer group, topic) of every registry subscription, as the service's bootstrap makes them."""
    from shared.architecture import subscriptions

    return [
        (f"{prefix}.registry" + (f".{s.group_suffix}" if s.group_suffix else ""), s.topic)
        for s in subscriptions() if s.service == "registry"
    ]


def replay(platform: Platform, timeout: float) -> dict[str, Any]:
    """A fresh registry rebuilt from its input topics; events/s from healthy to caught up."""
    prefix = f"bench-replay-{uuid.uuid4().hex[:8]}"
    inputs = registry_inputs(prefix)
    ends = asyncio.run(end_offsets(platform.bootstrap, {topic for _, topic in inputs}))
    targets = {(group, tp): offset for group, topic in inputs for tp, offset in ends.items() if tp.topic == topic}
    total = sum(targets.values())
    per_topic = Counter[str]()
    for (_, tp), offset in targets.items():
        per_topic[tp.topic] += offset
    groups = sorted({group for group, _ in inputs})

    def done_so_far() -> int:
        seen = asyncio.run(committed(platform.bootstrap, groups))
        return sum(min(seen.get(key, 0), offset) for key, offset in targets.items())

    say(f"replay: a fresh registry reads {total} events ({', '.join(f'{t} {n}' for t, n in sorted(per_topic.items()))})")
    launched = time.monotonic()
    service = platform.start_service("registry", prefix, label="registry-replay")
    platform.wait_healthy([service])
    healthy_at = time.monotonic()
    before = done_so_far()
    deadline = healthy_at + timeout
    shown = healthy_at
    processed = before
    while processed < total:
        if service.process.poll() is not None:
            raise RuntimeError(f"the replaying registry exited:\n{service.tail()}")
        now = time.monotonic()
        if now > deadline:
            say(f"replay: timed out at {processed}/{total}")
            break
        if now - shown >= 5:
            say(f"replay: {processed}/{total} events")
            shown = now
        time.sleep(0.25)
        processed = done_so_far()
    finished = time.monotonic()
    rss = service.peak_rss_mb()
    platform.stop_service(service)
    return {
        "total": total, "processed": processed, "before": before, "startup": healthy_at - launched,
        "seconds": finished - healthy_at, "overall": finished - launched, "rss": rss, "per_topic": dict(per_topic),
    }


# --------------------------------------------------------------------------- the run


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def figures(quick: bool = False, employers: int = 100_000, events: int | None = None, keep: bool = False) -> list[dict[str, Any]]:
    """Start the system, measure every system figure, stop it all; the figures in FIGURE_NAMES order.

    Order: raw baseline; latency at the fixed load (on an idle pipeline); HTTP intake, one a request then
    in batches; end to end; peak RSS; replay. Each intake phase is followed by a wait (bounded) for the
    pipeline to archive and pool what it accepted, so that the next phase starts on an idle system — when
    it does not, the next figure's notes say how many reports were still in the pipeline."""
    sizes = Sizes.of(quick, events)
    m = min(sizes.events, employers)
    found: dict[str, dict[str, Any]] = {}
    platform = Platform(keep=keep)
    counts: Counts | None = None
    try:
        platform.start_kafka()
        platform.start_postgres()
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        say("starting the four services")
        for name in SERVICES:
            platform.start_service(name, prefix)
        platform.wait_healthy(platform.services.values())
        say("all four healthy")
        services = dict(platform.services)
        counts = Counts(services["registry"].database, services["sampling"].database)
        token = platform.token()
        assessment = services["assessment"].url

        # the province's employers, in disjoint ranges per phase (the end-to-end run takes the first M)
        say(f"synthetic province: {m} reports for the end-to-end run, over {employers} employers")
        records = submitted_events(synthetic_reports(m))
        next_employer = m
        expected = 0  # reports accepted so far: the registry and sampling should hold as many

        def reports(count: int) -> list[dict[str, Any]]:
            nonlocal next_employer
            batch = list(synthetic_reports(count, start=next_employer))
            next_employer += count
            return batch

        def drain(budget: float, what: str = "draining") -> str:
            """Wait (at most ``budget`` s) for everything accepted so far; a note when something is left."""
            assert counts is not None
            _, a, p = wait_for(counts, expected, expected, budget, what)
            left = expected - min(a, p)
            return "" if left <= 0 else f"; {left} reports still in the pipeline after a {budget:.0f} s wait"

        # warm-up: one report all the way through, so that every consumer group has settled (a service answers
        # /healthz before its consumers have joined their groups) before anything is timed
        say("warm-up: one report through POST /reports until archived and pooled")
        warm = asyncio.run(post_reports(assessment, token, reports(1), 1))
        if warm["accepted"] != 1:
            raise RuntimeError(f"warm-up report refused: {warm['statuses']}")
        expected += 1
        if drain(180, "warm-up"):
            raise RuntimeError("warm-up: the report was not archived and pooled within 180 s")
        size = statistics.median(len(value) for _, value in records)

        # 1. raw baseline
        say(f"raw Kafka baseline: {len(records)} messages of ~{size:.0f} B through a fresh 6-partition topic")
        raw = asyncio.run(raw_baseline(platform.bootstrap, records))
        found[RAW] = figure(RAW, round(raw["rate"]), "msgs/s", None, notes=(
            f"produce (aiokafka, acks=all) and consume (one consumer, commit per poll) concurrently, {len(records)} messages, "
            f"median {size:.0f} B; produce alone {raw['produce_rate']:,.0f} msgs/s; reference for the end-to-end share"))
        say(f"raw Kafka: {raw['rate']:,.0f} msgs/s")

        # 2. latency at a fixed offered load, on an idle pipeline
        n = int(sizes.rate * sizes.seconds)
        say(f"fixed load: {n} reports at {sizes.rate}/s for {sizes.seconds:.0f} s (open loop)")
        load = asyncio.run(offered_load(assessment, token, reports(n), sizes.rate))
        accepted = len(load["sent_wall"])
        expected += accepted
        left = drain(sizes.latency_budget, "fixed load")
        gave_up = time.time()
        recorded = counts.recorded_at(list(load["sent_wall"]))
        # a report not archived within the budget counts with the time waited so far: a lower bound
        archive_latencies = [(recorded[sid].timestamp() if sid in recorded else gave_up) - sent for sid, sent in load["sent_wall"].items()]
        missing = accepted - sum(1 for sid in load["sent_wall"] if sid in recorded)
        note = (f"{n} reports scheduled at {sizes.rate}/s; statuses {load['statuses']} (0: no answer); client send lag p99 "
                f"{ms(load['late_p99'])} ms" + (f"; {load['unanswered']} unanswered 30 s after the last send, counted with the time "
                                                 "waited (a lower bound)" if load["unanswered"] else ""))
        found[FIXED_HTTP_P50] = figure(FIXED_HTTP_P50, ms(percentile(load["http_latencies"], 50)), "ms", None, False, note)
        found[FIXED_HTTP_P99] = figure(FIXED_HTTP_P99, ms(percentile(load["http_latencies"], 99)), "ms", LATENCY_TARGET_MS, False, note)
        arch_note = f"registry recorded_at − scheduled send time of {accepted} accepted reports" + (
            f"; {missing} not archived within {sizes.latency_budget:.0f} s, counted as the time waited (a lower bound)" if missing else "")
        for name, p, target in ((ARCHIVED_P50, 50, None), (ARCHIVED_P95, 95, None), (ARCHIVED_P99, 99, LATENCY_TARGET_MS)):
            value = ms(percentile(archive_latencies, p)) if archive_latencies else None
            found[name] = figure(name, value, "ms", target, False, arch_note)
        say(f"fixed load: HTTP p99 {found[FIXED_HTTP_P99]['value']} ms; archived p50/p95/p99 "
            f"{found[ARCHIVED_P50]['value']}/{found[ARCHIVED_P95]['value']}/{found[ARCHIVED_P99]['value']} ms")

        # 3. HTTP intake, one report a request
        say(f"HTTP intake: up to {sizes.http} reports (at most {sizes.http_budget:.0f} s) through POST /reports, {sizes.clients} clients")
        single = asyncio.run(post_reports(assessment, token, reports(sizes.http), sizes.clients, sizes.http_budget))
        lat = single["latencies"]
        found[HTTP_RATE] = figure(HTTP_RATE, round(single["accepted"] / single["seconds"]), "reports/s", None, notes=(
            f"{single['sent']} reports in {single['seconds']:.1f} s, {sizes.clients} concurrent httpx clients each sending on the reply; "
            f"statuses {single['statuses']}" + left))
        found[HTTP_P50] = figure(HTTP_P50, ms(percentile(lat, 50)), "ms", None, False)
        found[HTTP_P99] = figure(HTTP_P99, ms(percentile(lat, 99)), "ms", None, False)
        say(f"HTTP intake: {found[HTTP_RATE]['value']:,} reports/s, p50 {found[HTTP_P50]['value']} ms, p99 {found[HTTP_P99]['value']} ms")
        expected += single["accepted"]
        left = drain(sizes.drain_budget)

        # ... and in batches
        say(f"HTTP batch intake: {sizes.batch} reports through POST /reports:batch, {sizes.chunk} per chunk")
        batch = asyncio.run(post_batches(assessment, token, reports(sizes.batch), sizes.chunk))
        if batch is None:
            found[BATCH] = figure(BATCH, None, "reports/s", BATCH_TARGET, notes="not available: POST /reports:batch answered 404/405")
            say("HTTP batch intake: not available (404/405)")
        else:
            found[BATCH] = figure(BATCH, round(batch["accepted"] / batch["seconds"]), "reports/s", BATCH_TARGET, notes=(
                f"{sizes.batch} reports in chunks of {sizes.chunk}, 2 concurrent clients; {batch['accepted']} accepted; "
                f"statuses {batch['statuses']}; p50 per chunk {ms(percentile(batch['latencies'], 50))} ms"
                + (f"; {batch['notes']}" if batch["notes"] else "") + left))
            say(f"HTTP batch intake: {found[BATCH]['value']:,} reports/s")
            expected += batch["accepted"]
            left = drain(sizes.drain_budget)

        # 4. end to end
        archived0, pooled0 = counts.archived(), counts.pooled()
        backlog = expected - min(archived0, pooled0)
        say(f"end-to-end: producing {m} ReportSubmitted events to ohs.reports.submitted")
        started = time.monotonic()
        produced = asyncio.run(produce(platform.bootstrap, "ohs.reports.submitted", records))
        expected += m
        say(f"end-to-end: produced in {produced:.1f} s; waiting for the registry and sampling")
        seen_at, archived, pooled = wait_for(counts, expected, expected, sizes.e2e_budget, "end-to-end")
        done = min(archived - archived0, pooled - pooled0)  # reports through both during the window (a backlog's too)
        e2e_rate = done / (seen_at - started)
        found[E2E] = figure(E2E, round(e2e_rate), "reports/s", E2E_TARGET, notes=(
            f"{m} events over {m} distinct employers produced to ohs.reports.submitted ({produced:.1f} s); timed until all archived "
            f"(registry) and pooled (sampling)"
            + (f"; {backlog} earlier reports were still in the pipeline at the start" if backlog > 0 else "")
            + ("" if archived >= expected and pooled >= expected else
               f"; BUDGET OF {sizes.e2e_budget:.0f} s RAN OUT: the rate is the {done} reports through both in that time")))
        found[E2E_SHARE] = figure(E2E_SHARE, round(100 * e2e_rate / raw["rate"], 1), "%", E2E_SHARE_TARGET,
                                  notes=f"{e2e_rate:,.0f} / {raw['rate']:,.0f}")
        say(f"end-to-end: {e2e_rate:,.0f} reports/s ({100 * e2e_rate / raw['rate']:.0f} % of raw)")

        # 5. peak memory of each service, after all the load
        for name, service in services.items():
            rss = service.peak_rss_mb()
            found[RSS + name] = figure(RSS + name, round(rss, 1) if rss is not None else None, "MB", RSS_TARGET_MB, False,
                                       "VmHWM of the service process after every load phase")
        say("peak RSS: " + ", ".join(f"{name} {found[RSS + name]['value']} MB" for name in services))
        counts.close()
        counts = None
        for service in services.values():
            platform.stop_service(service)

        # 6. replay
        result = replay(platform, timeout=sizes.replay_budget)
        rate = (result["processed"] - result["before"]) / result["seconds"] if result["seconds"] > 0 else None
        found[REPLAY] = figure(REPLAY, round(rate) if rate else None, "events/s", REPLAY_TARGET, notes=(
            f"{result['total']} events ({', '.join(f'{t} {k}' for t, k in sorted(result['per_topic'].items()) if k)}) for a fresh registry "
            f"(new database, new consumer groups), the other services stopped; {result['before']} already done when it answered "
            f"/readyz {result['startup']:.1f} s after launch; {result['processed'] - result['before']} more in {result['seconds']:.1f} s "
            f"({result['processed'] / result['overall']:,.0f} events/s counting start-up); its peak RSS {result['rss'] or 0:.0f} MB"
            + ("" if result["processed"] >= result["total"] else
               f"; BUDGET OF {sizes.replay_budget:.0f} s RAN OUT at {result['processed']}/{result['total']}")))
        say(f"replay: {found[REPLAY]['value']} events/s")
    except BaseException:
        for service in platform.services.values():
            if service.process.poll() is not None and service.process.returncode not in (0, -15):
                print(f"--- {service.name} log tail ---\n{service.tail()}", file=sys.stderr)
        raise
    finally:
        if counts is not None:
            counts.close()
        say("stopping the services, the broker and PostgreSQL")
        platform.close()
    return [found[name] for name in FIGURE_NAMES if name in found]


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="system figures only (bench/run.py prints them with the rest)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (service logs)")
    args = parser.parse_args()
    print(json.dumps(figures(quick=args.quick, events=args.events, keep=args.keep), ensure_ascii=False, indent=1))
