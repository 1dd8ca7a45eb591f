"""A scripted provincial monitoring gateway for `make run` (非现场执法 demo).

Registers a few devices for each employer through the monitoring service's ``POST /devices`` (矽尘, 噪声, 苯 at
three posts), then streams one reading per device per tick at ``--rate`` readings/s in all — either as
``DeviceReadings`` records on Kafka ``ohs.monitoring.readings`` (``--via kafka``, the gateway's own path) or through
``POST /readings:batch`` with a bearer token (``--via http``). After ``--spike-after`` seconds the first employer's
dust device reads above its peak (3.0 mg/m³ against 2.0) for ``--spike-seconds``: an ``ExceedanceDetected`` appears
on ``ohs.monitoring.exceedances`` and ``GET /exceedances?credit_code=…``. Prints what it sent.

    .venv/bin/python deploy/demo/gateway.py                          # the README's example employer, HTTP, 20 readings/s, 60 s
    .venv/bin/python deploy/demo/gateway.py --via kafka --rate 200 --seconds 300 --employer 91141029MA0GRT8U3L

The employers must be known to the monitoring service (their archive announced by the registry: submit their report
first). The limits judge readings within a shift (08:00–16:00 China time by default); ``--start`` sets the first
reading's instant (default now), later ones advance in real time. The token defaults to the province token
``make run`` wrote to .run/tokens.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

EXAMPLE_EMPLOYER = "91141029MA0GRT8U3L"
DEVICES = (("dust", "矽尘", "mg/m³", "破碎工位", 0.6, 3.0), ("noise", "噪声", "dB(A)", "球磨车间", 82.0, None), ("benzene", "苯", "mg/m³", "调漆间", 2.0, None))


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employer", action="append", help=f"an employer's credit code (repeatable; default {EXAMPLE_EMPLOYER})")
    parser.add_argument("--via", choices=("http", "kafka"), default="http", help="POST /readings:batch with a token, or the Kafka topic")
    parser.add_argument("--url", default=os.environ.get("OHS_MONITORING_URL", "http://127.0.0.1:8005"), help="the monitoring service")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"), help="Kafka (--via kafka)")
    parser.add_argument("--token", default=None, help="bearer token (default: the province token in .run/tokens.json)")
    parser.add_argument("--rate", type=float, default=20.0, help="readings per second, all devices together (default 20)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to stream (default 60)")
    parser.add_argument("--spike-after", type=float, default=10.0, help="seconds before the dust device crosses its peak (default 10)")
    parser.add_argument("--spike-seconds", type=float, default=5.0, help="how long it stays above (default 5)")
    parser.add_argument("--start", default=None, help="the first reading's instant, ISO with offset (default now)")
    parser.add_argument("--backfill-days", type=float, default=0.0,
                        help="first send this many days of readings (one per device every 10 minutes, within the limits) through "
                        "POST /readings:batch, as a gateway catching up does; then stream (--seconds 0: back-fill only)")
    parser.add_argument("--gateway-id", default="gw-demo-1")
    return parser.parse_args(argv)


def default_token() -> str:
    tokens = Path(os.environ.get("OHS_RUN_DIR", REPO / ".run")) / "tokens.json"
    try:
        return json.loads(tokens.read_text())["province"]
    except (OSError, ValueError, KeyError):
        sys.exit(f"gateway: no --token and no province token in {tokens} (start the system with `make run` first)")


def register(url: str, token: str, employers: list[str]) -> list[dict[str, object]]:
    import httpx

    devices = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for employer in employers:
            for name, factor, unit, post, base, spike in DEVICES:
                device_id = f"{employer[-8:]}-{name}"
                answer = client.post("/devices", json={"device_id": device_id, "credit_code": employer, "factor": factor, "post": post, "unit": unit})
                if answer.status_code == 404:
                    sys.exit(f"gateway: the monitoring service does not know employer {employer} yet (submit its report first): {answer.json().get('detail')}")
                if answer.status_code != 201:
                    sys.exit(f"gateway: registering {device_id}: {answer.status_code} {answer.text[:300]}")
                print(f"registered {device_id}: {factor} ({unit}) at {post} of {employer}", flush=True)
                devices.append({"device_id": device_id, "base": base, "spike": spike if employer == employers[0] else None})
    return devices


async def stream(args: argparse.Namespace, token: str, devices: list[dict[str, object]]) -> None:
    import httpx

    producer = None
    if args.via == "kafka":
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, acks="all")
        await producer.start()
    client = httpx.AsyncClient(base_url=args.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    from shared.contracts import DeviceReadings, Reading

    first = datetime.fromisoformat(args.start) if args.start else datetime.now(UTC)
    interval = len(devices) / args.rate  # one reading per device per tick
    started = time.monotonic()
    sent = refused = ticks = 0
    try:
        while (elapsed := time.monotonic() - started) < args.seconds:
            at = first + timedelta(seconds=elapsed)
            spiking = args.spike_after <= elapsed < args.spike_after + args.spike_seconds
            batch = []
            for device in devices:
                value = device["spike"] if spiking and device["spike"] is not None else device["base"]
                batch.append({"device_id": device["device_id"], "at": at.isoformat(), "value": float(value) + (ticks % 5) * 0.01})  # type: ignore[arg-type]
            if producer is not None:
                for item in batch:
                    record = DeviceReadings(producer="gateway", gateway_id=args.gateway_id, device_id=item["device_id"],
                                            readings=[Reading.model_validate(item)])
                    await producer.send_and_wait(record.topic, record.model_dump_json().encode(), key=record.key)
            else:
                answer = await client.post("/readings:batch", json={"readings": batch})
                answer.raise_for_status()
                refused += answer.json()["refused"]
            sent += len(batch)
            marks = [f"{b['device_id']}={b['value']:g}" for b in batch]
            print(f"{at.isoformat(timespec='seconds')} sent {len(batch)} via {args.via}{' SPIKE' if spiking else ''}: {', '.join(marks)}", flush=True)
            ticks += 1
            await asyncio.sleep(max(0.0, started + ticks * interval - time.monotonic()))
    finally:
        await client.aclose()
        if producer is not None:
            await producer.stop()
    print(f"gateway: {sent} readings sent in {time.monotonic() - started:.0f} s" + (f", {refused} refused" if args.via == "http" else ""), flush=True)
    print(f"gateway: episodes: {args.url}/exceedances?credit_code={devices and args.employer[0]} (with a token)", flush=True)


def backfill(url: str, token: str, devices: list[dict[str, object]], days: float, batch: int = 5_000) -> None:
    """``days`` of readings up to now, one per device every 10 minutes at its base value (a little jitter), in time
    order per device, in batches of ``batch``: what a gateway sends when it catches up after an outage."""
    import httpx

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    steps = int(days * 144)
    readings = [{"device_id": d["device_id"], "at": (now - timedelta(minutes=10 * (steps - k))).isoformat(), "value": float(d["base"]) + (k % 7) * 0.01}  # type: ignore[arg-type]
                for d in devices for k in range(steps)]
    accepted = refused = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        for first in range(0, len(readings), batch):
            answer = client.post("/readings:batch", json={"readings": readings[first:first + batch]})
            if answer.status_code != 200:
                sys.exit(f"gateway: back-fill: {answer.status_code} {answer.text[:300]}")
            accepted, refused = accepted + answer.json()["accepted"], refused + answer.json()["refused"]
    print(f"gateway: back-filled {days:g} days: {accepted} readings accepted, {refused} refused", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    args.employer = args.employer or [EXAMPLE_EMPLOYER]
    token = args.token or default_token()
    devices = register(args.url, token, args.employer)
    if args.backfill_days > 0:
        backfill(args.url, token, devices, args.backfill_days)
    if args.seconds > 0:
        asyncio.run(stream(args, token, devices))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
