"""Where the time of one report goes: the whole pipeline in one process, without a broker.

Each service is built as in production (its bootstrap, its unit of work, its subscriptions), on its
own SQLite file (or the PostgreSQL database ``--postgres URL`` names, a fresh database per service);
reports from the synthetic province are accepted through assessment's intake use case, and each
service's subscriptions are then applied, in batches of ``OHS_CONSUMER_BATCH_MAX``, to what the other
services' outboxes hold, round after round until nothing is left. Each stage is timed on its own, so
the figures say what each consumer costs per report with the broker taken out.

    .venv/bin/python bench/pipeline.py [--reports N] [--postgres URL] [--profile]
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import importlib
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlmodel import Session, select, update  # noqa: E402

from bench.province import synthetic_reports  # noqa: E402
from shared.auth import issue_token, verify_token  # noqa: E402
from shared.contracts import Report, utc_now  # noqa: E402
from shared.dates import china_today  # noqa: E402
from shared.db import OutboxMessage  # noqa: E402
from shared.migrations import upgrade  # noqa: E402
from shared.settings import settings_for  # noqa: E402

SERVICES = ("assessment", "registry", "sampling", "penalty")
SECRET = "bench-pipeline-" + "x" * 40


def fresh_database(server_url: str) -> str:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def build(postgres: str | None) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="ohs-pipeline-"))
    runtimes = {}
    for name in SERVICES:
        settings = settings_for(name, data_dir=data, database_url=fresh_database(postgres) if postgres else None, auth_secret=SECRET)
        app = importlib.import_module(f"services.{name}.bootstrap").bootstrap(settings, create_topics=False)
        upgrade(name, app.state.runtime.engine)
        runtimes[name] = app.state.runtime
    return runtimes


def drain(runtime: Any) -> dict[str, list[str]]:
    """What the service's outbox holds unpublished, by topic (then marked published)."""
    with Session(runtime.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.published_at.is_(None)).order_by(OutboxMessage.id)).all()
        published: dict[str, list[str]] = collections.defaultdict(list)
        for row in rows:
            published[row.topic].append(row.payload)
        session.exec(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows])).values(published_at=utc_now()))
        session.commit()
    return published


def run(count: int, postgres: str | None, profile: cProfile.Profile | None) -> list[tuple[str, int, float]]:
    runtimes = build(postgres)
    batch = runtimes["assessment"].settings.consumer_batch_max
    principal = verify_token(SECRET, issue_token(SECRET, "province", "bench", subject="bench", region_code="140000"))
    from services.assessment.service_layer import handlers as intake

    reports = [Report.model_validate(r) for r in synthetic_reports(count)]
    stages: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0])
    started = time.perf_counter()
    for start in range(0, count, batch):
        with runtimes["assessment"].uow() as uow:
            intake.submit_reports(uow, reports[start:start + batch], principal, china_today())
    stages["assessment: intake (POST /reports:batch use case)"] = [count, time.perf_counter() - started]
    while True:
        published: dict[str, list[str]] = collections.defaultdict(list)
        for runtime in runtimes.values():
            for topic, payloads in drain(runtime).items():
                published[topic].extend(payloads)
        if not published:
            break
        for name, runtime in runtimes.items():
            for subscription in runtime.consumer.subscriptions:
                payloads = published.get(subscription.topic, [])
                if not payloads:
                    continue
                events = [subscription.model.model_validate_json(p) for p in payloads]
                label = f"{name}: {subscription.topic}" + (f" ({subscription.inbox})" if subscription.inbox else "")
                started = time.perf_counter()
                if profile:
                    profile.enable()
                for start in range(0, len(events), batch):
                    runtime.consumer._apply_batch(subscription, events[start:start + batch])
                if profile:
                    profile.disable()
                stages[label][0] += len(events)
                stages[label][1] += time.perf_counter() - started
    return [(label, int(n), seconds) for label, (n, seconds) in stages.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (postgresql://user@host:port/postgres): a fresh database per service")
    parser.add_argument("--profile", action="store_true", help="cProfile the consumers; print the 40 costliest functions")
    args = parser.parse_args()
    profile = cProfile.Profile() if args.profile else None
    stages = run(args.reports, args.postgres, profile)
    total = sum(seconds for _, _, seconds in stages)
    print(f"{'stage':70s} {'events':>7s} {'events/s':>9s} {'ms/report':>9s}")
    for label, n, seconds in stages:
        print(f"{label:70s} {n:7d} {n / seconds:9.0f} {1000 * seconds / args.reports:9.2f}")
    print(f"{'all stages, one after another on one core':70s} {'':7s} {args.reports / total:9.0f} {1000 * total / args.reports:9.2f}")
    if profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(40)


if __name__ == "__main__":
    main()
