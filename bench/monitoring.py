"""Monitoring figures (非现场执法): the monitoring service as a process on a fresh broker, on PostgreSQL and on SQLite.

:func:`figures` starts a broker and PostgreSQL (bench/system.py's :class:`Platform`), announces a few employers on
``ohs.registry.classification-changed`` (the service learns their county from it), registers devices through
``POST /devices`` and measures:

1. readings ingested per second through ``POST /readings:batch`` in batches of 5,000 (50 devices × 100 readings, one
   client: a device's batches arrive in order), on PostgreSQL and on SQLite (target ≥ 20,000/s each);
2. detection latency at 800 readings/s of background load: a reading over a device's peak sent through
   ``POST /readings:batch`` → its ``ExceedanceDetected`` (``status: open``) read from ``ohs.monitoring.exceedances``;
   p50 and p99 (target p99 ≤ 5 s for the whole path to the verification task: this is the monitoring part only,
   the sampling service's task creation comes after it).

The limits are the packaged ones with three 8-hour shifts (an agency override in ``$OHS_RULES_DIR/monitoring``), so
whatever the hour, readings fall in a shift. Each figure: ``{"name", "value", "unit", "target", "higher_is_better",
"met", "notes"}``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from system import REPO, Platform, figure, percentile, say  # bench/ is on sys.path (bench/run.py)

INGEST_PG = "POST /readings:batch, 5,000 per batch, PostgreSQL"
INGEST_SQLITE = "POST /readings:batch, 5,000 per batch, SQLite"
DETECT_P50 = "reading over a limit → ExceedanceDetected p50 at 800/s"
DETECT_P99 = "reading over a limit → ExceedanceDetected p99 at 800/s"
FIGURE_NAMES = (INGEST_PG, INGEST_SQLITE, DETECT_P50, DETECT_P99)
INGEST_TARGET = 20_000  # readings/s
DETECT_P99_TARGET = 5_000  # ms
REGION = "141029"
DEVICES = 50
PER_DEVICE = 100  # × DEVICES = 5,000 a batch


def bench_rules(folder: Path) -> Path:
    """The packaged limits for 山西 with three 8-hour shifts, so that every instant lies in one."""
    packaged = json.loads((REPO / "services/monitoring/rules/limits-national-2019.json").read_text(encoding="utf-8"))
    rules = dict(packaged, jurisdiction="140000", version="bench.1", effective_from="2000-01-01",
                 shifts=[{"start": "00:00", "hours": 8}, {"start": "08:00", "hours": 8}, {"start": "16:00", "hours": 8}])
    (folder / "monitoring").mkdir(parents=True, exist_ok=True)
    (folder / "monitoring" / "limits-bench.json").write_text(json.dumps(rules, ensure_ascii=False), encoding="utf-8")
    return folder


def credit_code() -> str:
    import random

    from shared.identifiers import CREDIT_CODE_ALPHABET, credit_code_check_character

    body = "91" + REGION + "".join(random.choice(CREDIT_CODE_ALPHABET) for _ in range(9))
    return body + credit_code_check_character(body)


async def announce(bootstrap: str, codes: list[str]) -> None:
    """The registry's announcement of each employer (what the monitoring service learns its county from)."""
    from aiokafka import AIOKafkaProducer

    from shared.contracts import ClassificationChanged

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for code in codes:
            event = ClassificationChanged(producer="bench", credit_code=code, enterprise_name="监测基准单位", region_code=REGION, archive_version=1,
                                          previous_category=None, category="乙", hazard_grade="Ⅱ", management_grade="B", submission_id=uuid.uuid4(),
                                          reason="bench")
            await producer.send_and_wait(event.topic, event.model_dump_json().encode(), key=code.encode())
    finally:
        await producer.stop()


def register(url: str, token: str, employer: str, device_ids: list[str], budget: float = 60.0) -> None:
    """Register the devices (silica dust), waiting until the service has consumed the employer's announcement."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + budget
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for device_id in device_ids:
            while True:
                answer = client.post("/devices", json={"device_id": device_id, "credit_code": employer, "factor": "矽尘", "post": "破碎", "unit": "mg/m³"})
                if answer.status_code == 201:
                    break
                if answer.status_code != 404 or time.monotonic() > deadline:
                    raise RuntimeError(f"registering {device_id}: {answer.status_code} {answer.text[:300]}")
                time.sleep(0.3)


async def ingest_rate(url: str, token: str, prefix: str, batches: int) -> dict[str, Any]:
    """``batches`` batches of 5,000 readings (each device's instants one second apart, in the past), one after the other
    (one client: the batches of a device must arrive in order)."""
    import httpx

    start = datetime.now(UTC) - timedelta(hours=4)
    bodies = []
    for b in range(batches):
        readings = [{"device_id": f"{prefix}-{d}", "at": (start + timedelta(seconds=b * PER_DEVICE + i)).isoformat(), "value": 0.4 + (i % 7) / 20}
                    for i in range(PER_DEVICE) for d in range(DEVICES)]
        bodies.append(json.dumps({"readings": readings}).encode())
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    accepted = 0
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal accepted
        while not queue.empty():
            body = queue.get_nowait()
            answer = await client.post("/readings:batch", content=body, headers=headers)
            if answer.status_code != 200:
                raise RuntimeError(f"batch refused: {answer.status_code} {answer.text[:300]}")
            accepted += answer.json()["accepted"]

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        await client_loop(client)
    elapsed = time.perf_counter() - started
    return {"rate": accepted / elapsed, "accepted": accepted, "sent": batches * DEVICES * PER_DEVICE, "seconds": elapsed}


async def detection_latency(url: str, bootstrap: str, token: str, background: list[str], spikes: list[str], seconds: float,
                            rate: float = 800.0) -> dict[str, Any]:
    """Background readings at ``rate``/s (4 batches a second) and, every ``seconds / len(spikes)`` s, one reading over the
    peak of a fresh device; the time from its POST to its ExceedanceDetected on the topic."""
    import httpx
    from aiokafka import AIOKafkaConsumer

    from shared import topics

    consumer = AIOKafkaConsumer(topics.MONITORING_EXCEEDANCES, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="latest")
    await consumer.start()
    seen: dict[str, float] = {}
    sent: dict[str, float] = {}
    stop = asyncio.Event()

    async def listen() -> None:
        while not stop.is_set():
            found = await consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for records in found.values():
                for record in records:
                    event = json.loads(record.value)
                    if event["measure"] == "peak" and event["status"] == "open":
                        seen.setdefault(event["device_id"], now)

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    per_tick = int(rate / 4)
    try:
        await asyncio.sleep(1.0)  # the consumer is assigned its partitions before anything is sent
        listener = asyncio.create_task(listen())
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            started = time.perf_counter()
            spike_every = seconds / len(spikes)
            tick = 0
            pending = list(spikes)
            next_spike = started + spike_every / 2
            while time.perf_counter() - started < seconds:
                at = datetime.now(UTC)
                readings = [{"device_id": background[i % len(background)], "at": (at + timedelta(milliseconds=i // len(background))).isoformat(),
                             "value": 0.5} for i in range(per_tick)]
                await client.post("/readings:batch", content=json.dumps({"readings": readings}).encode(), headers=headers)
                if pending and time.perf_counter() >= next_spike:
                    device = pending.pop(0)
                    sent[device] = time.perf_counter()
                    body = {"readings": [{"device_id": device, "at": datetime.now(UTC).isoformat(), "value": 3.0}]}
                    await client.post("/readings:batch", content=json.dumps(body).encode(), headers=headers)
                    next_spike += spike_every
                tick += 1
                delay = started + tick * 0.25 - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
        deadline = time.perf_counter() + 30
        while len(seen.keys() & sent.keys()) < len(sent) and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        stop.set()
        await listener
    finally:
        await consumer.stop()
    latencies = [(seen[d] - sent[d]) * 1000 for d in sent if d in seen]
    return {"latencies": latencies, "sent": len(sent), "seen": len(latencies)}


def figures(quick: bool = False, keep: bool = False) -> list[dict[str, Any]]:
    """Start a broker, PostgreSQL and the monitoring service (on PostgreSQL, then on SQLite), measure, stop it all."""
    batches = 4 if quick else 20
    seconds = 10.0 if quick else 30.0
    found: dict[str, dict[str, Any]] = {}
    platform = Platform(keep=keep)
    try:
        platform.start_kafka()
        platform.start_postgres()
        rules = bench_rules(platform.root / "rules")
        env = {"OHS_RULES_DIR": str(rules)}
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        token = platform.token()
        employer = credit_code()
        asyncio.run(announce(platform.bootstrap, [employer]))
        for label, database in (("pg", None), ("sqlite", f"sqlite:///{platform.root / 'monitoring.db'}")):
            say(f"monitoring on {label}")
            service = platform.start_service("monitoring", f"{prefix}-{label}", label=f"monitoring-{label}", env=env, database=database)
            platform.wait_healthy([service])
            devices = [f"tp-{label}-{d}" for d in range(DEVICES)]
            register(service.url, token, employer, devices)
            result = asyncio.run(ingest_rate(service.url, token, f"tp-{label}", batches))
            name = INGEST_PG if label == "pg" else INGEST_SQLITE
            found[name] = figure(name, round(result["rate"]), "readings/s", INGEST_TARGET, notes=(
                f"{batches} batches of {DEVICES * PER_DEVICE:,} readings ({DEVICES} devices × {PER_DEVICE}), one client, "
                f"{result['accepted']:,} of {result['sent']:,} accepted in {result['seconds']:.1f} s; stored raw, shift aggregates "
                "advanced, limits judged"))
            say(f"{name}: {result['rate']:,.0f} readings/s")
            if label == "pg":
                background = [f"bg-{d}" for d in range(40)]
                spikes = [f"spike-{d}" for d in range(int(seconds * 2))]
                register(service.url, token, employer, background + spikes)
                latency = asyncio.run(detection_latency(service.url, platform.bootstrap, token, background, spikes, seconds))
                values = latency["latencies"]
                notes = (f"{latency['seen']} of {latency['sent']} spikes seen on ohs.monitoring.exceedances within the run + 30 s; "
                         f"{seconds:.0f} s at 800 readings/s background (4 HTTP batches a second); PostgreSQL; the monitoring part of "
                         "the path only (the verification task is the sampling service's)")
                found[DETECT_P50] = figure(DETECT_P50, round(percentile(values, 50)) if values else None, "ms", None, False, notes)
                found[DETECT_P99] = figure(DETECT_P99, round(percentile(values, 99)) if values else None, "ms", DETECT_P99_TARGET, False, notes)
                say(f"detection p50 {found[DETECT_P50]['value']} ms, p99 {found[DETECT_P99]['value']} ms")
            platform.stop_service(service)
    except Exception as error:  # noqa: BLE001 - a failed part is reported as figures "not available", the run goes on
        say(f"monitoring figures failed: {error!r}")
        for name in FIGURE_NAMES:
            ingest = name.startswith("POST")
            found.setdefault(name, figure(name, None, "readings/s" if ingest else "ms", None, ingest, notes=f"failed: {error!r}"[:500]))
    finally:
        platform.close()
    return [found[name] for name in FIGURE_NAMES]


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="monitoring figures only")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    for item in figures(quick=args.quick, keep=args.keep_logs):
        print(f"{item['name']}: {item['value']} {item['unit']} (target {item['target']}, met {item['met']}) — {item['notes']}")
