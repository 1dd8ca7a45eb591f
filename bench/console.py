"""Console figures (issue 15, item 6): the archive list and the dashboard with N employers in the archive.

:func:`figures` starts its own system (``bench/system.py``'s :class:`~system.Platform`: a fresh broker and
PostgreSQL in a temporary folder), then:

1. **seeds** the archive with N employers of the synthetic province (``bench/province.py``: 临汾's 17 counties,
   weighted; the three categories about 37/31/32 %), each with a report dated on a day of the last ~3.4 years
   (received that day), so that the archive has re-assessments overdue and due soon as a real one does.
   Two ways, the same ``ReportSubmitted`` events:

   * ``broker`` (the quick run's default): produced to ``ohs.reports.submitted`` for the running assessment,
     registry and penalty; assessment classifies each report and publishes its ``AssessmentClassified``, the
     registry archives it, penalty screens it, the registry raises rectification items and draws portraits.
     Seeding ends when the registry's ``GET /reports/categories`` of the province counts N employers and every
     consumer group of the three services has caught up (no lag on two polls in a row). On this machine the whole
     pipeline manages ~20–25 reports/s (penalty's screening and the registry's rectification items and portraits
     work one statement at a time): fine for 2,000, hours for 10⁵;
   * ``in-process`` (the full run's default, :func:`seed_in_process`): assessment's and the registry's own
     subscriptions applied in batches to their PostgreSQL databases without the broker (bench/pipeline.py's way):
     classified and archived (~150–200 reports/s here); no screenings, rectification items or portraits. The
     processes are then started on those databases, and the bench waits until they are idle (the registry's
     start-up sweeps over the archive).

   The seeding time is printed and noted, it is not a target;
2. starts the console (``python -m services.console``, its own PostgreSQL database, ``OHS_<SERVICE>_URL``
   pointing at the started assessment, registry and penalty — every service the measured pages call, so no
   panel is "down"), creates a province (140000) and a county (141029 乡宁县) account with
   ``ohs console create-account``, and signs each client in through ``/login`` (the form's ``csrf_token``
   and cookie, then the session cookie);
3. times, for each account, sequentially and then with 4 concurrent clients (each its own session):
   ``GET /enterprises?page=k`` for uniformly random pages k of the whole list, the same filtered
   (``category=丙``, and for the province a random county as well), and ``GET /dashboard``. Every answer must
   be 200 with no panel down or refused (counted in the notes otherwise). The console sends no
   ``Server-Timing`` header, so the time is the wall time of the request on loopback, measured by the bench's
   client on the same two cores: an upper bound of the server time;
4. times the service APIs behind each page directly (same token scope, same parameters), so that the notes
   say how much of a page is the registry's, assessment's or penalty's answer and how much the console's own
   work (session, token, concurrent calls, rendering).

Figures: p50 and p95 sequential, p95 with 4 clients, of each page and account (target p95 ≤ 300 ms, issue 15); the
console's peak RSS (≤ 300 MB, as every service).

    .venv/bin/python bench/console.py [--quick] [--employers N] [--seeding broker|in-process] [--keep]
    .venv/bin/python bench/run.py --console-only [--quick]
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for path in (REPO, REPO / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from province import employer_report  # noqa: E402
from system import RSS_TARGET_MB, Platform, Service, committed, end_offsets, figure, ms, percentile, say  # noqa: E402

from shared.dates import CHINA, china_today  # noqa: E402

SERVICES = ("assessment", "registry", "penalty")  # what the list and the dashboard call (sampling and notification: neither)
TARGET_MS = 300  # p95, issue 15
PROVINCE, COUNTY = "140000", "141029"  # 山西省; 乡宁县 of 临汾市
PASSWORD = "bench-console-" + uuid.uuid4().hex
SEED = 15  # the synthetic province's seed (employer i of this seed is always the same employer)
SPREAD_DAYS = 1250  # reports dated over the last ~3.4 years: re-assessments (3 years) overdue and due soon
PAGE_SIZE = 50  # the console's page


@dataclass(frozen=True)
class Sizes:
    employers: int
    sequential: int  # requests per page kind and account, one client
    per_client: int  # requests per client with 4 clients
    api: int  # direct API calls per API of a page (the breakdown)
    clients: int = 4
    seed_budget: float = 1800.0  # longest wait for the archive and the consumers
    warm: int = 3  # untimed requests of each page kind first

    @classmethod
    def of(cls, quick: bool, employers: int | None = None) -> Sizes:
        if quick:
            return cls(employers=employers or 2_000, sequential=30, per_client=15, api=15, seed_budget=300.0)
        return cls(employers=employers or 100_000, sequential=100, per_client=50, api=40)


def employers_label(n: int) -> str:
    return {10**4: "10⁴", 10**5: "10⁵", 10**6: "10⁶"}.get(n, f"{n:,}")


PAGES = ("list", "list filtered", "dashboard")
ACCOUNTS = ("province", "county")
RSS = "peak RSS console"


def figure_name(page: str, statistic: str, account: str, employers: int, clients: int = 1) -> str:
    """``console list p95 (10⁵ employers, province)``, ``console dashboard p95, 4 clients (2,000 employers, county)``."""
    return f"console {page} {statistic}{f', {clients} clients' if clients > 1 else ''} ({employers_label(employers)} employers, {account})"


def figure_names(employers: int, clients: int = 4) -> list[str]:
    """Every figure :func:`figures` reports for an archive of ``employers``, in its order (``Sizes.of(quick).employers``)."""
    return [name for account in ACCOUNTS for page in PAGES for name in (
        figure_name(page, "p50", account, employers), figure_name(page, "p95", account, employers),
        figure_name(page, "p95", account, employers, clients))] + [RSS]


# --------------------------------------------------------------------------- seeding


def submitted_events(count: int, today: date, seed: int = SEED) -> Iterator[Any]:
    """``count`` ``ReportSubmitted`` events of distinct employers of the synthetic province, each report dated on a day
    of the last :data:`SPREAD_DAYS` (never today) and received that day during office hours (China time)."""
    from shared.contracts import Report, ReportSubmitted

    for index in range(count):
        rng = random.Random(seed * 1_000_003 + index)
        day = today - timedelta(days=rng.randint(1, SPREAD_DAYS))
        report = Report.model_validate(employer_report(index, seed, as_of=day))
        received = datetime.combine(day, clock(9), CHINA) + timedelta(minutes=rng.randint(0, 480))
        yield ReportSubmitted(producer="assessment", credit_code=report.enterprise.credit_code, submission_id=report.submission_id,
                              received_at=received, report=report)


def submitted_records(count: int, today: date, seed: int = SEED) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) of the events of :func:`submitted_events`, serialised as assessment publishes them."""
    for event in submitted_events(count, today, seed):
        yield event.key, event.model_dump_json().encode()


async def produce_all(bootstrap: str, topic: str, records: Iterator[tuple[bytes, bytes]], chunk: int = 5_000) -> int:
    """Produce every record (acks=all), a chunk at a time (the events are built as they go); how many."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    sent = 0
    try:
        headers = [("content-type", b"application/json")]
        while True:
            part = [record for _, record in zip(range(chunk), records)]
            if not part:
                return sent
            futures = [await producer.send(topic, value, key=key, headers=headers) for key, value in part]
            await asyncio.gather(*futures)
            sent += len(part)
    finally:
        await producer.stop()


def consumer_groups(prefix: str, services: tuple[str, ...]) -> list[tuple[str, str]]:
    """(consumer group, topic) of every subscription of ``services``, as their bootstraps name them."""
    from shared.architecture import subscriptions

    return [(f"{prefix}.{s.service}" + (f".{s.group_suffix}" if s.group_suffix else ""), s.topic)
            for s in subscriptions() if s.service in services]


def lag(bootstrap: str, inputs: list[tuple[str, str]]) -> int:
    """Records not yet committed by the groups of ``inputs``, over their topics' partitions."""
    ends = asyncio.run(end_offsets(bootstrap, {topic for _, topic in inputs}))
    seen = asyncio.run(committed(bootstrap, sorted({group for group, _ in inputs})))
    return sum(max(0, offset - seen.get((group, tp), 0)) for group, topic in inputs for tp, offset in ends.items() if tp.topic == topic)


def archived(registry: str, token: str) -> dict[str, Any]:
    """The registry's employers per county and category of the province (GET /reports/categories)."""
    import httpx

    response = httpx.get(f"{registry}/reports/categories", params={"region_code": PROVINCE}, headers={"Authorization": f"Bearer {token}"},
                         timeout=60)
    response.raise_for_status()
    return response.json()


def seed(platform: Platform, prefix: str, sizes: Sizes, token: str) -> dict[str, Any]:
    """N reports through the pipeline until the registry archives them all and every consumer has caught up."""
    registry = platform.services["registry"]
    n = sizes.employers
    say(f"console: seeding {n:,} employers — ReportSubmitted → assessment → AssessmentClassified → registry (and penalty)")
    started = time.monotonic()
    produced = asyncio.run(produce_all(platform.bootstrap, "ohs.reports.submitted", submitted_records(n, china_today())))
    produced_in = time.monotonic() - started
    say(f"console: {produced:,} events produced in {produced_in:.0f} s; waiting for the archive")
    deadline = started + sizes.seed_budget
    shown = time.monotonic()
    total = 0
    while True:
        for service in platform.services.values():
            if service.process.poll() is not None:
                raise RuntimeError(f"{service.name} exited while seeding:\n{service.tail()}")
        total = archived(registry.url, token)["totals"]["total"]
        now = time.monotonic()
        if total >= n or now > deadline:
            break
        if now - shown >= 10:
            say(f"console: {total:,}/{n:,} archived ({total / (now - started):,.0f}/s)")
            shown = now
        time.sleep(1)
    archived_in = time.monotonic() - started
    say(f"console: {total:,} archived in {archived_in:.0f} s; waiting for every consumer group to catch up")
    inputs = consumer_groups(prefix, SERVICES)
    left, quiet = None, 0
    while time.monotonic() < deadline and quiet < 2:
        left = lag(platform.bootstrap, inputs)
        quiet = quiet + 1 if left == 0 else 0
        if quiet < 2:
            time.sleep(2)
    settled_in = time.monotonic() - started
    say(f"console: seeded in {settled_in:.0f} s (archive {archived_in:.0f} s, consumers caught up {settled_in - archived_in:.0f} s later)"
        + ("" if quiet >= 2 else f"; BUDGET RAN OUT with {left} records still to consume"))
    return {"archived": total, "produced_in": produced_in, "archived_in": archived_in, "settled_in": settled_in,
            "settled": quiet >= 2, "lag": left}


# the subscriptions the in-process seeding applies: assessment classifies, the registry archives, assessment learns where
# the archive has each employer. Not applied (their events are marked published and dropped): penalty's screening and the
# registry's rectification items and risk portraits drawn from it, and the registry's credit feed — they work one
# statement at a time (≈ 20–70 ms a report on this machine, hours for 10⁵), and no measured page reads what they build
# except the dashboard's "rectification items overdue" panel (the broker seeding of the quick run builds it).
IN_PROCESS = {("assessment", "ohs.reports.submitted", ""), ("registry", "ohs.assessments.classified", ""),
              ("assessment", "ohs.registry.classification-changed", "")}


def seed_in_process(platform: Platform, sizes: Sizes, chunk: int = 500) -> dict[str, Any]:
    """The archive without the broker (bench/pipeline.py's way): each service built by its own bootstrap on its
    PostgreSQL database; the submitted events applied to assessment's subscription a batch at a time, then what the
    outboxes hold to the subscriptions of :data:`IN_PROCESS`, round after round until nothing is left (every outbox row
    marked published, as the relay would). The service processes are then started on these databases."""
    import importlib

    from sqlmodel import Session, select, update

    from shared.contracts import ReportSubmitted, utc_now
    from shared.db import OutboxMessage
    from shared.migrations import upgrade
    from shared.settings import settings_for

    n = sizes.employers
    say(f"console: seeding {n:,} employers in process — assessment classifies, the registry archives (batches of {chunk})")
    runtimes: dict[str, Any] = {}
    databases: dict[str, str] = {}
    for name in SERVICES:
        databases[name] = platform.database(name)
        data = platform.root / "data" / name
        data.mkdir(parents=True, exist_ok=True)
        settings = settings_for(name, database_url=databases[name], auth_secret=platform.secret, data_dir=data,
                                kafka_bootstrap_servers=platform.bootstrap)
        app = importlib.import_module(f"services.{name}.bootstrap").bootstrap(settings, create_topics=False)
        upgrade(name, app.state.runtime.engine)
        runtimes[name] = app.state.runtime
    applied = [(runtime, subscription) for name, runtime in runtimes.items() for subscription in runtime.consumer.subscriptions
               if (name, subscription.topic, subscription.inbox) in IN_PROCESS]
    [submitted] = [s for r, s in applied if s.topic == ReportSubmitted.topic]

    def drained(runtime: Any) -> dict[str, list[str]]:
        with Session(runtime.engine) as session:
            rows = session.exec(select(OutboxMessage).where(OutboxMessage.published_at.is_(None)).order_by(OutboxMessage.id)).all()
            found: dict[str, list[str]] = {}
            for row in rows:
                found.setdefault(row.topic, []).append(row.payload)
            if rows:
                session.exec(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows])).values(published_at=utc_now()))
                session.commit()
        return found

    started = time.monotonic()
    shown = started
    events = submitted_events(n, china_today())
    done = 0
    while True:
        part = [event for _, event in zip(range(chunk), events)]
        if not part:
            break
        runtimes["assessment"].consumer._apply_batch(submitted, part)
        while True:  # deliver what the outboxes hold until nothing is left
            published: dict[str, list[str]] = {}
            for runtime in runtimes.values():
                for topic, payloads in drained(runtime).items():
                    published.setdefault(topic, []).extend(payloads)
            if not any(subscription.topic in published for _, subscription in applied):
                break
            for runtime, subscription in applied:
                delivered = [subscription.model.model_validate_json(p) for p in published.get(subscription.topic, [])]
                for start in range(0, len(delivered), chunk):
                    runtime.consumer._apply_batch(subscription, delivered[start:start + chunk])
        done += len(part)
        if time.monotonic() - shown >= 15:
            shown = time.monotonic()
            say(f"console: {done:,}/{n:,} archived ({done / (shown - started):,.0f}/s)")
        if time.monotonic() - started > sizes.seed_budget:
            say(f"console: seeding budget of {sizes.seed_budget:.0f} s ran out at {done:,}/{n:,}")
            break
    for runtime in runtimes.values():
        runtime.engine.dispose()
    seconds = time.monotonic() - started
    say(f"console: {done:,} reports classified and archived in {seconds:.0f} s ({done / seconds:,.0f}/s)")
    return {"databases": databases, "seconds": seconds, "done": done}


def cpu_seconds(service: Service) -> float:
    try:
        fields = Path(f"/proc/{service.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def wait_idle(services: list[Service], budget: float, window: float = 3.0, busy: float = 0.05) -> float:
    """Wait until every service uses less than ``busy`` of a core over ``window`` seconds (start-up work done: the
    registry's sweeps over the archive, consumers joining their groups); the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < budget:
        before = {s.name: cpu_seconds(s) for s in services}
        time.sleep(window)
        used = {s.name: cpu_seconds(s) - before[s.name] for s in services}
        if all(value < busy * window for value in used.values()):
            break
    return time.monotonic() - started


# --------------------------------------------------------------------------- the console and its visitors


def start_console(platform: Platform, prefix: str) -> Service:
    urls = {f"OHS_{name.upper()}_URL": platform.services[name].url for name in SERVICES}
    nowhere = "http://127.0.0.1:9"  # sampling and notification are not started: no measured page calls them
    console = platform.start_service("console", prefix, env={**urls, "OHS_SAMPLING_URL": nowhere, "OHS_NOTIFICATION_URL": nowhere})
    platform.wait_healthy([console])
    return console


def create_account(platform: Platform, console: Service, username: str, role: str, scope: str) -> None:
    env = dict(os.environ, DATABASE_URL=console.database, OHS_NEW_PASSWORD=PASSWORD, OHS_AUTH_SECRET=platform.secret,
               OHS_DATA_DIR=str(platform.root / "data" / "console"))
    ohs = Path(sys.executable).with_name("ohs")
    command = [str(ohs)] if ohs.exists() else [sys.executable, "-m", "shared.cli"]
    subprocess.run([*command, "console", "create-account", "--username", username, "--name", f"bench {role}", "--role", role, "--scope", scope],
                   cwd=REPO, env=env, check=True, capture_output=True, timeout=120)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def signed_in(url: str, username: str) -> Any:
    """An httpx client with a session of ``username``, signed in through the sign-in form as a browser does."""
    import httpx

    client = httpx.AsyncClient(base_url=url, timeout=60, follow_redirects=False)
    form = await client.get("/login")
    match = CSRF.search(form.text)
    if form.status_code != 200 or match is None:
        raise RuntimeError(f"console /login: {form.status_code} without a csrf_token")
    answer = await client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": match.group(1), "next": "/"})
    if answer.status_code != 303:
        raise RuntimeError(f"console sign-in of {username}: {answer.status_code} {answer.text[:300]}")
    return client


DOWN = re.compile(r'class="alert (?:down|problem)"')


@dataclass
class Timed:
    latencies: list[float]
    problems: Counter[str]
    seconds: float


async def timed(clients: list[Any], paths: Callable[[], str], per_client: int) -> Timed:
    """Each client GETs ``per_client`` paths one after another (all clients at once); the wall time of each answer."""
    latencies: list[float] = []
    problems: Counter[str] = Counter()

    async def one(client: Any) -> None:
        for _ in range(per_client):
            path = paths()
            sent = time.perf_counter()
            response = await client.get(path)
            latencies.append(time.perf_counter() - sent)
            if response.status_code != 200:
                problems[f"status {response.status_code}"] += 1
            elif DOWN.search(response.text):
                problems["a panel down or refused"] += 1

    started = time.perf_counter()
    await asyncio.gather(*(one(client) for client in clients))
    return Timed(latencies, problems, time.perf_counter() - started)


# --------------------------------------------------------------------------- what each account asks


@dataclass
class Kind:
    """A page kind of an account: the console path of a random request and the API calls behind it."""

    label: str  # list, list filtered, dashboard
    describe: str
    path: Callable[[], str]
    apis: Callable[[], list[tuple[str, str, dict[str, Any]]]]


def kinds(scope: str, rows: dict[str, dict[str, Any]]) -> list[Kind]:
    """The three page kinds of an account of ``scope`` (the province or a county), with random pages drawn over
    the totals the registry reports per county and category (``rows``)."""
    wide = scope == PROVINCE
    counties = [code for code, row in rows.items() if row["total"] > 0]
    total = sum(row["total"] for row in rows.values()) if wide else rows[scope]["total"]

    def pages(count: int) -> int:
        return max(1, min(math.ceil(count / PAGE_SIZE), 20_000))

    def listing(page: int, **filters: str) -> tuple[str, str, dict[str, Any]]:
        params = {k: v for k, v in filters.items() if v}
        return ("registry", "/enterprises", {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE})

    names = [("registry", "/reports/categories", {"region_code": scope})] if wide else []

    def plain_path() -> str:
        return f"/enterprises?page={random.randint(1, pages(total))}"

    def filtered_path() -> str:
        county = random.choice(counties) if wide else scope
        page = random.randint(1, pages(rows[county]["counts"].get("丙", 0)))
        return f"/enterprises?category=丙&page={page}" + (f"&county={county}" if wide else "")

    def plain_apis() -> list[tuple[str, str, dict[str, Any]]]:
        return [listing(random.randint(1, pages(total))), *names]

    def filtered_apis() -> list[tuple[str, str, dict[str, Any]]]:
        county = random.choice(counties) if wide else scope
        page = random.randint(1, pages(rows[county]["counts"].get("丙", 0)))
        return [listing(page, category="丙", region_code=county if wide else ""), *names]

    dashboard_apis = [  # what pages_archive.dashboard asks, concurrently
        ("registry", "/reports/categories", {"region_code": scope}),
        ("assessment", "/reports", {"status": "accepted", "limit": 5}),
        ("assessment", "/reports", {"status": "rejected", "limit": 5}),
        ("registry", "/reminders", {"limit": 8}),
        ("penalty", "/reviews/cases", {}),
        ("registry", "/rectifications", {"status": "overdue", "limit": 5}),
    ]
    filters = "category=丙" + (", a random county" if wide else "")
    return [
        Kind("list", f"GET /enterprises?page=k, k uniform over the {pages(total):,} pages of {total:,} employers", plain_path, plain_apis),
        Kind("list filtered", f"GET /enterprises?{filters}&page=k, k uniform over the filter's pages", filtered_path, filtered_apis),
        Kind("dashboard", "GET /dashboard", lambda: "/dashboard", lambda: list(dashboard_apis)),
    ]


async def api_breakdown(platform: Platform, token: str, kind: Kind, calls: int) -> dict[str, list[float]]:
    """Each API behind a page, called directly ``calls`` times one after another: its wall times by API."""
    import httpx

    found: dict[str, list[float]] = {}
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        for _ in range(calls):
            for service, path, params in kind.apis():
                label = f"{service} {path}" + (f"?status={params['status']}" if "status" in params else "")
                if path == "/enterprises":
                    label += " (filtered)" if "category" in params else ""
                sent = time.perf_counter()
                response = await http.get(platform.services[service].url + path, params=params)
                found.setdefault(label, []).append(time.perf_counter() - sent)
                if response.status_code != 200:
                    raise RuntimeError(f"{service} {path} {params}: {response.status_code} {response.text[:300]}")
    return found


def dashboard_contents(platform: Platform, token: str, scope: str) -> str:
    """What the dashboard of ``scope`` shows (how much data its panels stand on), in words for the notes."""
    import httpx

    def get(service: str, path: str, **params: Any) -> dict[str, Any]:
        response = httpx.get(platform.services[service].url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        response.raise_for_status()
        return response.json()

    reminders = get("registry", "/reminders", limit=8)
    counts = reminders.get("counts", {})
    rectifications = get("registry", "/rectifications", limit=1)
    overdue = get("registry", "/rectifications", status="overdue", limit=1)
    submissions = get("assessment", "/reports", limit=1)
    cases = get("penalty", "/reviews/cases")
    def number(value: Any) -> str:
        return f"{value:,}" if isinstance(value, int) else "?"

    return (f"the dashboard stands on {number(submissions.get('total'))} submissions, reminders "
            + ", ".join(f"{kind} {number(count)}" for kind, count in counts.items())
            + f", {number(rectifications.get('total'))} rectification items ({number(overdue.get('total'))} overdue), "
            f"{number(len(cases.get('items', [])))} cases")


def shown(latencies: list[float]) -> str:
    return f"p50 {ms(percentile(latencies, 50))} / p95 {ms(percentile(latencies, 95))} ms"


# --------------------------------------------------------------------------- the run


SEEDINGS = ("broker", "in-process")


def figures(quick: bool = False, employers: int | None = None, keep: bool = False, seeding: str | None = None) -> list[dict[str, Any]]:
    """Start the system, seed the archive, measure the console's list and dashboard pages; stop it all. ``seeding``:
    ``broker`` (the events through Kafka to the running services; the quick run's default) or ``in-process`` (the
    services' own subscriptions on their databases, then the processes; the full run's default: faster)."""
    sizes = Sizes.of(quick, employers)
    seeding = seeding or ("broker" if quick else "in-process")
    found: list[dict[str, Any]] = []
    platform = Platform(keep=keep)
    try:
        platform.start_kafka()
        platform.start_postgres()
        prefix = f"bench-console-{uuid.uuid4().hex[:8]}"
        province_token = platform.token()
        if seeding == "broker":
            say(f"console: starting {', '.join(SERVICES)}")
            for name in SERVICES:
                platform.start_service(name, prefix)
            platform.wait_healthy(platform.services.values())
            seeded = seed(platform, prefix, sizes, province_token)
            how = (f"seeded through the broker (ReportSubmitted to the running services) in {seeded['settled_in']:.0f} s"
                   + ("" if seeded["settled"] else f" (consumers still {seeded['lag']} records behind)"))
        else:
            direct = seed_in_process(platform, sizes)
            say(f"console: starting {', '.join(SERVICES)} on the seeded databases")
            for name in SERVICES:
                platform.start_service(name, prefix, database=direct["databases"][name])
            platform.wait_healthy(platform.services.values())
            idle = wait_idle(list(platform.services.values()), budget=sizes.seed_budget / 3)
            say(f"console: the services idle {idle:.0f} s after answering /readyz (start-up sweeps over the archive)")
            seeded = {"archived": archived(platform.services["registry"].url, province_token)["totals"]["total"]}
            how = (f"seeded in process in {direct['seconds']:.0f} s (assessment's and the registry's own subscriptions on their databases: "
                   f"classified and archived; no penalty screening, rectification items or portraits), the processes then started on those "
                   f"databases (idle {idle:.0f} s after /readyz)")
        report = archived(platform.services["registry"].url, province_token)
        rows = {row["region_code"]: row for row in report["rows"]}
        mix = report["totals"]["counts"]
        archive_note = (f"{seeded['archived']:,} employers over {sum(1 for r in rows.values() if r['total'])} counties "
                        f"(甲 {mix.get('甲', 0):,} / 乙 {mix.get('乙', 0):,} / 丙 {mix.get('丙', 0):,}), {how}"
                        + ("" if seeded["archived"] >= sizes.employers
                           else f"; SEEDING BUDGET RAN OUT at {seeded['archived']:,}/{sizes.employers:,}"))

        say("console: starting the console; accounts province 140000 and county 141029")
        console = start_console(platform, prefix)
        accounts = {"province": ("bench-province", "province", PROVINCE), "county": ("bench-county", "county", COUNTY)}  # ACCOUNTS
        for username, role, scope in accounts.values():
            create_account(platform, console, username, role, scope)

        for account, (username, role, scope) in accounts.items():
            token = platform.token(role, scope)

            async def sessions(count: int, who: str = username) -> list[Any]:
                return [await signed_in(console.url, who) for _ in range(count)]

            async def floor(who: str = username) -> Timed:
                [client] = await sessions(1, who)
                try:
                    await timed([client], lambda: "/account", sizes.warm)
                    return await timed([client], lambda: "/account", sizes.sequential)
                finally:
                    await client.aclose()

            alone = asyncio.run(floor())
            floor_note = f"the console alone (GET /account: session, token, base template, no API call) {shown(alone.latencies)}"
            say(f"console {account}: {floor_note}")

            for kind in kinds(scope, rows):
                async def measure(page: Kind = kind) -> tuple[Timed, Timed]:
                    clients = await sessions(sizes.clients)
                    try:
                        await timed(clients[:1], page.path, sizes.warm)  # untimed: first templates, connections
                        sequential = await timed(clients[:1], page.path, sizes.sequential)
                        concurrent = await timed(clients, page.path, sizes.per_client)
                        return sequential, concurrent
                    finally:
                        for client in clients:
                            await client.aclose()

                sequential, concurrent = asyncio.run(measure())
                apis = asyncio.run(api_breakdown(platform, token, kind, sizes.api))
                api_note = "; ".join(f"{name} {shown(values)}" for name, values in apis.items())
                if kind.label == "dashboard":
                    api_note += "; " + dashboard_contents(platform, token, scope)
                trouble = sequential.problems + concurrent.problems
                base = (f"{kind.describe}; {account} account ({scope}); wall time on loopback (no Server-Timing header), the bench's "
                        f"client on the same 2 cores; " + (f"ANSWERS NOT 200 OR WITH A PANEL DOWN: {dict(trouble)}; " if trouble else "")
                        + f"the APIs behind it called directly, one after another: {api_note}; {floor_note}; archive: {archive_note}")
                seq, con = sequential.latencies, concurrent.latencies
                found.append(figure(figure_name(kind.label, "p50", account, sizes.employers), ms(percentile(seq, 50)), "ms", None, False,
                                    f"{len(seq)} requests, one client, one after another; " + base))
                found.append(figure(figure_name(kind.label, "p95", account, sizes.employers), ms(percentile(seq, 95)), "ms", TARGET_MS, False,
                                    f"{len(seq)} requests, one client, one after another; " + base))
                found.append(figure(figure_name(kind.label, "p95", account, sizes.employers, sizes.clients), ms(percentile(con, 95)), "ms",
                                    TARGET_MS, False, f"{len(con)} requests by {sizes.clients} concurrent clients (each its own session, sending "
                                    f"on the reply), p50 {ms(percentile(con, 50))} ms, {len(con) / concurrent.seconds:.1f} pages/s; " + base))
                say(f"console {kind.label}, {account}: one client {shown(seq)}; {sizes.clients} clients {shown(con)}"
                    + (f"; problems {dict(trouble)}" if trouble else ""))
                for api, values in apis.items():
                    say(f"    {api}: {shown(values)}")
        rss = console.peak_rss_mb()
        found.append(figure(RSS, round(rss, 1) if rss is not None else None, "MB", RSS_TARGET_MB, False,
                            "VmHWM of the console process after every page above"))
        say(f"console: peak RSS {rss or 0:.0f} MB")
    except BaseException:
        for service in platform.services.values():
            if service.process.poll() is not None and service.process.returncode not in (0, -15):
                print(f"--- {service.name} log tail ---\n{service.tail()}", file=sys.stderr)
        raise
    finally:
        say("console: stopping the services, the broker and PostgreSQL")
        platform.close()
    return found


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="console figures only (bench/run.py prints them with the rest)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--employers", type=int, default=None, help="employers in the archive (default 10⁵; 2,000 quick)")
    parser.add_argument("--seeding", choices=SEEDINGS, help="through the broker (quick default) or in process (full default)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (service logs)")
    args = parser.parse_args()
    print(json.dumps(figures(quick=args.quick, employers=args.employers, keep=args.keep, seeding=args.seeding), ensure_ascii=False, indent=1))
