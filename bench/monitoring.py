"""Monitoring figures (非现场执法): the monitoring service as a process on a fresh broker, on PostgreSQL and on SQLite.

:func:`figures` starts a broker and PostgreSQL (bench/system.py's :class:`Platform`), announces a few employers on
``ohs.registry.classification-changed`` (the service learns their county from it), registers devices through
``POST /devices`` and measures:

1. readings ingested per second through ``POST /readings:batch`` in batches of 5,000 (50 devices × 100 readings, one
   client: a device's batches arrive in order), on PostgreSQL and on SQLite (target ≥ 20,000/s each);
2. latency at 800 readings/s of background load, with the sampling service running too (a process on its own
   PostgreSQL database, the county's inspector roster put through ``PUT /inspectors/{region}``): a reading over a
   device's peak sent through ``POST /readings:batch`` → its ``ExceedanceDetected`` (``status: open``) read from
   ``ohs.monitoring.exceedances`` (the monitoring part), and → the verification task, the sampling service's
   ``TaskAssigned`` (``kind: verification``, the episode's id) read from ``ohs.sampling.task-assigned`` (the whole
   path, issue 17's target: p99 ≤ 5 s); p50 and p99 of each;
3. back-fill on PostgreSQL: 10⁶ readings of one past day (China's yesterday) sent at once through
   ``POST /readings:batch``, 5,000 a batch, from 4 concurrent clients (each its own 50 devices, so a device's batches
   arrive in order) → readings/s until the last batch is answered (a batch is stored when answered); the refusals by
   code in the notes (target ≥ 20,000/s).

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

from shared.dates import CHINA
from shared.identifiers import random_credit_code

INGEST_PG = "POST /readings:batch, 5,000 per batch, PostgreSQL"
INGEST_SQLITE = "POST /readings:batch, 5,000 per batch, SQLite"
DETECT_P50 = "reading over a limit → ExceedanceDetected p50 at 800/s"
DETECT_P99 = "reading over a limit → ExceedanceDetected p99 at 800/s"
TASK_P50 = "reading over a limit → verification task (TaskAssigned) p50 at 800/s"
TASK_P99 = "reading over a limit → verification task (TaskAssigned) p99 at 800/s"
BACKFILL = "back-fill: 10⁶ readings of one day, 5,000 per batch, 4 clients, PostgreSQL"
FIGURE_NAMES = (INGEST_PG, INGEST_SQLITE, DETECT_P50, DETECT_P99, TASK_P50, TASK_P99, BACKFILL)
INGEST_TARGET = 20_000  # readings/s
DETECT_P99_TARGET = 5_000  # ms
TASK_P99_TARGET = 5_000  # ms: issue 17, the reading that crosses a limit → the verification task, p99 at 800 readings/s
BACKFILL_TARGET = 20_000  # readings/s
BACKFILL_CLIENTS = 4
BACKFILL_PER_DEVICE = 5_000  # × DEVICES × BACKFILL_CLIENTS = 10⁶ (one reading every 17.28 s of the day per device)
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


def put_roster(url: str, token: str, region: str = REGION) -> int:
    """The county's demonstration inspector roster (deploy/demo/inspectors.json, as ``deploy/run.py`` seeds it) through the
    sampling service's ``PUT /inspectors/{region}``: how many inspectors it holds."""
    import httpx

    inspectors = json.loads((REPO / "deploy/demo/inspectors.json").read_text(encoding="utf-8"))["agencies"][region]
    answer = httpx.put(f"{url}/inspectors/{region}", json={"inspectors": inspectors}, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    if answer.status_code != 200:
        raise RuntimeError(f"roster of {region}: {answer.status_code} {answer.text[:300]}")
    return len(answer.json()["inspectors"])


async def detection_latency(url: str, bootstrap: str, token: str, background: list[str], spikes: list[str], seconds: float,
                            rate: float = 800.0, wait_tasks: bool = False) -> dict[str, Any]:
    """Background readings at ``rate``/s (4 batches a second) and, every ``seconds / len(spikes)`` s, one reading over the
    peak of a fresh device; the time from its POST to its ExceedanceDetected on the topic and (``wait_tasks``: the sampling
    service runs) to its verification task, the TaskAssigned of the episode (kind ``verification``)."""
    import httpx
    from aiokafka import AIOKafkaConsumer

    from shared import topics

    consumer = AIOKafkaConsumer(topics.MONITORING_EXCEEDANCES, topics.TASK_ASSIGNED, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="latest")
    await consumer.start()
    seen: dict[str, float] = {}  # device → its open peak episode seen
    episode_of: dict[str, str] = {}  # device → its episode
    tasks: dict[str, tuple[float, int]] = {}  # episode → (its task seen, how many inspectors)
    sent: dict[str, float] = {}
    stop = asyncio.Event()

    async def listen() -> None:
        while not stop.is_set():
            found = await consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for partition, records in found.items():
                for record in records:
                    event = json.loads(record.value)
                    if partition.topic == topics.TASK_ASSIGNED:
                        if event.get("kind") == "verification" and event.get("episode_id"):
                            tasks.setdefault(event["episode_id"], (now, len(event.get("inspectors") or [])))
                    elif event["measure"] == "peak" and event["status"] == "open":
                        seen.setdefault(event["device_id"], now)
                        episode_of.setdefault(event["device_id"], str(event["episode_id"]))

    def done() -> bool:
        if len(seen.keys() & sent.keys()) < len(sent):
            return False
        return not wait_tasks or all(episode_of.get(d) in tasks for d in sent)

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    per_tick = int(rate / 4)
    posts: list[float] = []  # each background batch's HTTP time, ms
    try:
        while not consumer.assignment():  # the consumer is assigned its partitions before anything is sent
            await consumer.getmany(timeout_ms=200)
        await consumer.seek_to_end()
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
                posted = time.perf_counter()
                answer = await client.post("/readings:batch", content=json.dumps({"readings": readings}).encode(), headers=headers)
                posts.append((time.perf_counter() - posted) * 1000)
                if answer.status_code != 200:
                    raise RuntimeError(f"background batch refused: {answer.status_code} {answer.text[:300]}")
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
            offered = tick * per_tick / (time.perf_counter() - started)
        deadline = time.perf_counter() + 30
        while not done() and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        stop.set()
        await listener
    finally:
        await consumer.stop()
    spike_episodes = {episode_of[d] for d in sent if d in episode_of}
    other_tasks = sum(1 for episode in tasks if episode not in spike_episodes)  # of other episodes (silent devices …)
    latencies = [(seen[d] - sent[d]) * 1000 for d in sent if d in seen]
    to_task = [(tasks[episode_of[d]][0] - sent[d]) * 1000 for d in sent if episode_of.get(d) in tasks]
    staffed = [tasks[episode_of[d]][1] for d in sent if episode_of.get(d) in tasks]
    return {"latencies": latencies, "sent": len(sent), "seen": len(latencies), "to_task": to_task, "tasks": len(to_task),
            "inspectors": sorted(set(staffed)), "other_tasks": other_tasks, "offered": offered,
            "post_p99": percentile(posts, 99) if posts else None}


async def backfill(url: str, token: str, devices: list[list[str]], day_start: datetime, per_device: int) -> dict[str, Any]:
    """One day of readings of every device (``per_device`` each, evenly spread from ``day_start``), sent at once: each client
    its own devices, batches of 5,000 (``DEVICES`` devices × ``PER_DEVICE`` readings) in the devices' order of time."""
    import httpx

    step = 86_400 / per_device
    bodies: list[list[bytes]] = []
    for own in devices:
        mine = []
        for b in range(per_device // PER_DEVICE):
            readings = [{"device_id": device, "at": (day_start + timedelta(seconds=(b * PER_DEVICE + i) * step)).isoformat(),
                         "value": 0.4 + (i % 7) / 20} for i in range(PER_DEVICE) for device in own]
            mine.append(json.dumps({"readings": readings}).encode())
        bodies.append(mine)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    accepted = 0
    refused: dict[str, int] = {}
    refusing: list[float] = []  # when (s from the start) a batch with refusals was answered

    async def client_loop(client: httpx.AsyncClient, mine: list[bytes]) -> None:
        nonlocal accepted
        for body in mine:
            answer = await client.post("/readings:batch", content=body, headers=headers)
            if answer.status_code != 200:
                raise RuntimeError(f"back-fill batch refused: {answer.status_code} {answer.text[:300]}")
            result = answer.json()
            accepted += result["accepted"]
            if result["refused"]:
                refusing.append(time.perf_counter() - started)
            for item in result["items"]:
                if item["status"] != "accepted":
                    refused[item["code"]] = refused.get(item["code"], 0) + 1

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=httpx.Limits(max_connections=len(devices))) as client:
        await asyncio.gather(*(client_loop(client, mine) for mine in bodies))
    elapsed = time.perf_counter() - started
    sent = sum(len(own) for own in devices) * per_device
    return {"rate": accepted / elapsed, "accepted": accepted, "sent": sent, "seconds": elapsed, "refused": refused,
            "handled_rate": sent / elapsed, "first_refusal": min(refusing) if refusing else None}


def figures(quick: bool = False, keep: bool = False) -> list[dict[str, Any]]:
    """Start a broker, PostgreSQL, the monitoring service (on PostgreSQL, then on SQLite) and the sampling service, measure,
    stop it all."""
    batches = 4 if quick else 20
    seconds = 10.0 if quick else 30.0
    backfill_per_device = 500 if quick else BACKFILL_PER_DEVICE  # 10⁵ readings quick, 10⁶ full
    found: dict[str, dict[str, Any]] = {}
    platform = Platform(keep=keep)
    try:
        platform.start_kafka()
        platform.start_postgres()
        rules = bench_rules(platform.root / "rules")
        env = {"OHS_RULES_DIR": str(rules)}
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        token = platform.token()
        employer = random_credit_code(REGION)
        asyncio.run(announce(platform.bootstrap, [employer]))
        for label, database in (("pg", None), ("sqlite", f"sqlite:///{platform.root / 'monitoring.db'}")):
            say(f"monitoring on {label}")
            service = platform.start_service("monitoring", f"{prefix}-{label}", label=f"monitoring-{label}", env=env, database=database)
            sampling = platform.start_service("sampling", f"{prefix}-sampling", label="sampling") if label == "pg" else None
            platform.wait_healthy([service] + ([sampling] if sampling else []))
            roster = put_roster(sampling.url, token) if sampling else 0
            devices = [f"tp-{label}-{d}" for d in range(DEVICES)]
            register(service.url, token, employer, devices)
            result = asyncio.run(ingest_rate(service.url, token, f"tp-{label}", batches))
            name = INGEST_PG if label == "pg" else INGEST_SQLITE
            found[name] = figure(name, round(result["rate"]), "readings/s", INGEST_TARGET, notes=(
                f"{batches} batches of {DEVICES * PER_DEVICE:,} readings ({DEVICES} devices × {PER_DEVICE}), one client, "
                f"{result['accepted']:,} of {result['sent']:,} accepted in {result['seconds']:.1f} s; stored raw, shift aggregates "
                "advanced, limits judged"))
            say(f"{name}: {result['rate']:,.0f} readings/s")
            if label == "pg" and sampling is not None:
                background = [f"bg-{d}" for d in range(40)]
                spikes = [f"spike-{d}" for d in range(int(seconds * 2))]
                register(service.url, token, employer, background + spikes)
                # the sweep's first pass (≤ 30 s) judges the earlier phase's devices (their readings are hours old: silent
                # episodes, verification tasks) before the run, so that the run measures the spikes on a quiet sampling
                say("waiting 35 s for the monitoring sweep to pass over the earlier phase's devices")
                time.sleep(35)
                latency = asyncio.run(detection_latency(service.url, platform.bootstrap, token, background, spikes, seconds, wait_tasks=True))
                values = latency["latencies"]
                load = (f"{seconds:.0f} s at 800 readings/s background (4 HTTP batches a second, {latency['offered']:.0f}/s offered, "
                        f"background POST p99 {latency['post_p99']:.0f} ms); PostgreSQL; the sampling service running on its own database")
                notes = (f"{latency['seen']} of {latency['sent']} spikes seen on ohs.monitoring.exceedances within the run + 30 s; {load}; "
                         "the monitoring part of the path")
                found[DETECT_P50] = figure(DETECT_P50, round(percentile(values, 50)) if values else None, "ms", None, False, notes)
                found[DETECT_P99] = figure(DETECT_P99, round(percentile(values, 99)) if values else None, "ms", DETECT_P99_TARGET, False, notes)
                say(f"detection p50 {found[DETECT_P50]['value']} ms, p99 {found[DETECT_P99]['value']} ms")
                to_task = latency["to_task"]
                notes = (f"{latency['tasks']} of {latency['sent']} spikes' verification tasks seen on ohs.sampling.task-assigned within the "
                         f"run + 30 s, with {'/'.join(map(str, latency['inspectors'])) or '?'} inspectors (roster of {REGION}: {roster}); "
                         f"{latency['other_tasks']} other verification tasks announced meanwhile; {load}; the whole path, issue 17's target")
                found[TASK_P50] = figure(TASK_P50, round(percentile(to_task, 50)) if to_task else None, "ms", None, False, notes)
                found[TASK_P99] = figure(TASK_P99, round(percentile(to_task, 99)) if to_task else None, "ms", TASK_P99_TARGET, False, notes)
                say(f"verification task p50 {found[TASK_P50]['value']} ms, p99 {found[TASK_P99]['value']} ms "
                    f"({latency['tasks']} of {latency['sent']}, inspectors {latency['inspectors']})")
                platform.stop_service(sampling)  # the back-fill's closed episodes are none of its business
                owned = [[f"bf-{c}-{d}" for d in range(DEVICES)] for c in range(BACKFILL_CLIENTS)]
                register(service.url, token, employer, [device for own in owned for device in own])
                yesterday = datetime.now(CHINA).date() - timedelta(days=1)
                day_start = datetime(yesterday.year, yesterday.month, yesterday.day, tzinfo=CHINA)
                say(f"back-fill: {BACKFILL_CLIENTS * DEVICES * backfill_per_device:,} readings of {yesterday}")
                filled = asyncio.run(backfill(service.url, token, owned, day_start, backfill_per_device))
                refused = ", ".join(f"{code} {count:,}" for code, count in sorted(filled["refused"].items())) or "none"
                if filled["accepted"] < filled["sent"]:
                    refused += (f"; NOT ALL INGESTED: the first batch with refusals answered {filled['first_refusal']:.1f} s into the "
                                f"back-fill; {filled['handled_rate']:,.0f} readings/s answered, refusals included")
                found[BACKFILL] = figure(BACKFILL, round(filled["rate"]), "readings/s", BACKFILL_TARGET, notes=(
                    f"{filled['accepted']:,} of {filled['sent']:,} readings of {yesterday} (China) accepted in {filled['seconds']:.1f} s "
                    f"(refused: {refused}); {BACKFILL_CLIENTS} concurrent clients, each {DEVICES} devices × {backfill_per_device:,} readings "
                    f"in batches of {DEVICES * PER_DEVICE:,}; a batch is stored, aggregated and judged when answered"))
                say(f"{BACKFILL}: {filled['rate']:,.0f} readings/s, {filled['accepted']:,} of {filled['sent']:,} accepted (refused: {refused})")
            platform.stop_service(service)
    except Exception as error:  # noqa: BLE001 - a failed part is reported as figures "not available", the run goes on
        say(f"monitoring figures failed: {error!r}")
        for name in FIGURE_NAMES:
            rate = name in (INGEST_PG, INGEST_SQLITE, BACKFILL)
            found.setdefault(name, figure(name, None, "readings/s" if rate else "ms", None, rate, notes=f"failed: {error!r}"[:500]))
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
