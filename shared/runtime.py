"""What every service process is made of, built once in its ``bootstrap``: settings, its own
database engine, a Kafka broker, the outbox relay, the reliable consumer, metrics, and the HTTP
app with ``/healthz`` and ``/metrics``."""

from __future__ import annotations

import asyncio
import logging
import platform
import subprocess
import time
from functools import cache
from urllib.parse import quote
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine

from shared import errors
from shared.auth import auth_secret_problem
from shared.errors import invalid, problem_field  # noqa: F401  (re-exported: routes import them from here)
from shared.db import database_answers, make_engine
from shared.migrations import current_revisions, head_revisions, upgrade
from shared.kafka_admin import ensure_topics
from shared.localize import LocalizedAnswers
from shared.limits import BodySizeLimit, NoNulInTheUrl
from shared.kafka_security import broker_security
from shared.lag import LagProbe
from shared.messaging import OutboxRelay, ReliableConsumer
from shared.metrics import ServiceMetrics
from shared.revocations import Revocations, watch
from shared.settings import REPO_ROOT, Settings
from shared.logs import configure_logging
from shared.tracing import TraceparentResponse, fastapi_telemetry, setup_tracing, shutdown_tracing, tracer
from shared.unit_of_work import SqlUnitOfWork, UnitOfWorkFactory, sql_unit_of_work_factory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """Background work a service repeats while it runs: first at start-up, then every ``interval_s``.
    A failing run is logged and tried again at the next interval."""

    name: str
    interval_s: float
    run: Callable[[], Awaitable[object]]
    traced: bool = True  # each run a span of its own ("job <name>"): the events a sweep publishes start their trace there

    async def loop(self, metrics: ServiceMetrics | None = None) -> None:
        while True:
            try:
                with tracer().start_as_current_span(f"job {self.name}") if self.traced else nullcontext():
                    await self.run()
            except Exception:  # noqa: BLE001 - a background job must outlive one failure
                log.exception("periodic job %s failed; trying again in %s s", self.name, self.interval_s)
                if metrics is not None:
                    metrics.job_runs.labels(task=self.name, outcome="failed").inc()
            else:
                if metrics is not None:
                    metrics.job_runs.labels(task=self.name, outcome="ok").inc()
                    metrics.job_last_success.labels(task=self.name).set(time.time())
            await asyncio.sleep(self.interval_s)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    broker: KafkaBroker
    metrics: ServiceMetrics
    relay: OutboxRelay
    consumer: ReliableConsumer
    uow: UnitOfWorkFactory  # the service's units of work (its bootstrap may install its own subclass)
    create_topics: bool = True
    revocations: Revocations = field(default_factory=Revocations)  # subjects whose tokens are refused (shared/revocations.py)
    jobs: list[PeriodicJob] = field(default_factory=list)  # started after the broker and the relay
    lag: LagProbe | None = None  # consumer lag and dead letters measured from the broker (shared/lag.py)
    started: bool = False  # start() has finished: migrations done, broker connected, subscribers started
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False, repr=False)

    async def start(self) -> None:
        if problem := auth_secret_problem(self.settings.auth_secret):
            raise RuntimeError(f"{self.settings.service_name} will not start: {problem}")
        await asyncio.to_thread(upgrade, self.settings.service_name, self.engine)
        if self.create_topics:
            await asyncio.to_thread(ensure_topics, self.settings.kafka_bootstrap_servers, settings=self.settings)
        await self.broker.start()
        self.relay.start()
        jobs = list(self.jobs)
        if self.lag is not None and self.consumer.subscriptions:
            lag = self.lag
            jobs.append(PeriodicJob("lag-probe", self.settings.lag_interval_s, lambda: asyncio.to_thread(lag.measure), traced=False))
        self._tasks = [asyncio.create_task(job.loop(self.metrics), name=job.name) for job in jobs]
        self.started = True

    async def stop(self) -> None:
        self.started = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.lag is not None:
            await asyncio.to_thread(self.lag.close)
        await self.relay.stop()
        await self.broker.stop()
        self.engine.dispose()


def build_runtime(settings: Settings, create_topics: bool = True) -> Runtime:
    engine = make_engine(settings.resolved_database_url())
    # a list: FastStream hands a string to aiokafka as one host, so "a:9092,b:9092" would not resolve.
    # A secured cluster (shared/kafka_security.py): connect as the service's principal; the admin creates the
    # topics (the principal may not), and with min.insync.replicas above 1 a publish waits for those replicas.
    servers = [s.strip() for s in settings.kafka_bootstrap_servers.split(",") if s.strip()]
    # Producers are idempotent and wait for every in-sync replica (acks=all): a retried send is not written
    # twice and an acknowledged event survives the loss of a broker. Records are grouped per partition for
    # up to linger_ms (the outbox relay hands a whole batch to the producer before awaiting it).
    broker = KafkaBroker(servers, client_id=f"ohs-{settings.service_name}", logger=log, security=broker_security(settings),
                         acks="all", enable_idempotence=True, linger_ms=5, max_batch_size=256 * 1024)
    create_topics = create_topics and settings.kafka_security_protocol == "PLAINTEXT"
    metrics = ServiceMetrics(settings.service_name)
    relay = OutboxRelay(engine, broker, metrics)
    consumer = ReliableConsumer(broker, engine, relay, settings, metrics)
    runtime = Runtime(settings, engine, broker, metrics, relay, consumer, sql_unit_of_work_factory(engine, relay.notify), create_topics)
    consumer.make_uow = lambda: runtime.uow()
    runtime.lag = LagProbe(settings, metrics, lambda: [(s.group_id, s.topic) for s in consumer.subscriptions])
    metrics.build_info.labels(service=settings.service_name, version=settings.build_version,
                              commit=settings.build_commit or build_commit(), python=platform.python_version()).set(1)
    watch(broker, runtime.revocations)  # every service refuses the tokens of a disabled console account
    return runtime


def use_unit_of_work(runtime: Runtime, cls: type[SqlUnitOfWork], **kwargs: object) -> None:
    """Install the service's own unit of work (with its repositories) on the runtime."""
    runtime.uow = sql_unit_of_work_factory(runtime.engine, runtime.relay.notify, cls, **kwargs)


def content_disposition(disposition: str, ascii_name: str, name: str) -> str:
    """``inline`` or ``attachment`` with an ASCII filename for old clients and the real (e.g. Chinese)
    one as RFC 5987 ``filename*`` for the rest: HTTP headers are Latin-1."""
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def create_app(runtime: Runtime, title: str, description: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    # telemetry: a SERVER span per request, once serve() has set up tracing (shared/tracing.py)
    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan, telemetry=fastapi_telemetry())
    app.state.runtime = runtime
    metrics = runtime.metrics

    errors.install(app)  # one error body, documented in the OpenAPI
    app.add_middleware(LocalizedAnswers)  # Accept-Language: en → coded texts of JSON answers in English (shared/localize.py)
    app.add_middleware(NoNulInTheUrl)  # 422 for %00 in the path or query (PostgreSQL takes no NUL in text)
    app.add_middleware(BodySizeLimit, default=runtime.settings.max_body_bytes)  # 413 past OHS_MAX_BODY_BYTES (8 MiB; a route may have its own: shared/limits.py)
    app.add_middleware(TraceparentResponse)  # the answer names its trace: `traceparent` (shared/tracing.py)

    @app.middleware("http")
    async def _count(request: Request, call_next):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.http_requests.labels(method=request.method, route=path, status=str(response.status_code)).inc()
        metrics.http_seconds.labels(method=request.method, route=path).observe(time.perf_counter() - started)
        return response

    @app.get("/healthz", tags=["operations"], summary="Liveness: the process answers (restart it when it does not)")
    async def healthz() -> JSONResponse:
        return JSONResponse({"service": runtime.settings.service_name, "status": "alive"})

    @app.get("/readyz", tags=["operations"],
             summary="Readiness: database and Kafka reachable, consumers assigned, migrations at head (503 otherwise)",
             responses={200: {"description": "ready: every check is \"ok\""},
                        503: {"description": "not ready: `checks` names what is not ok and why"}})
    async def readyz() -> JSONResponse:
        checks = await readiness(runtime)
        ready = all(value == "ok" for value in checks.values())
        metrics.ready.set(1 if ready else 0)
        body = {"service": runtime.settings.service_name, "status": "ready" if ready else "not_ready", "checks": checks}
        return JSONResponse(status_code=200 if ready else 503, content=body)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics of this service", response_class=PlainTextResponse)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


@cache
def build_commit() -> str:
    """The checkout's commit, for a process run from a git checkout (an image sets OHS_BUILD_COMMIT)."""
    try:
        done = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "unknown"


async def readiness(runtime: Runtime) -> dict[str, str]:
    """What /readyz checks, each "ok" or why not: the database answers and is at the newest migration, the broker
    answers, and every consumer of the service has partitions assigned (or its group is stable with other members
    holding them all: more replicas than partitions)."""
    db_ok = await asyncio.to_thread(database_answers, runtime.engine)
    checks = {"database": "ok" if db_ok else "unreachable"}
    if db_ok:
        try:
            at = await asyncio.to_thread(current_revisions, runtime.engine)
            wanted = head_revisions(runtime.settings.service_name)
            checks["migrations"] = "ok" if at == wanted else f"at {','.join(sorted(at)) or 'none'}, head {','.join(sorted(wanted))}"
        except Exception as error:  # noqa: BLE001 - readiness reports, never raises
            checks["migrations"] = f"unknown: {type(error).__name__}"
    else:
        checks["migrations"] = "unknown: database unreachable"
    checks["kafka"] = "ok" if await _broker_answers(runtime.broker) else "unreachable"
    checks["consumers"] = _consumers_assigned(runtime)
    return checks


def _consumers_assigned(runtime: Runtime) -> str:
    if not runtime.started:
        return "starting"
    groups = {s.group_id for s in runtime.consumer.subscriptions}
    waiting = []
    for subscriber in getattr(runtime.broker, "subscribers", []):
        group = getattr(subscriber, "group_id", None)
        if group not in groups:
            continue  # the revocation watcher and other group-less readers: assigned by hand
        consumer = getattr(subscriber, "consumer", None)
        if consumer is not None and consumer.assignment():
            continue
        known = runtime.lag.groups.get(group) if runtime.lag is not None else None
        if consumer is not None and known == "Stable":
            continue  # joined; the other members hold the partitions
        waiting.append(str(group))
    return "ok" if not waiting else "waiting for partitions: " + ", ".join(sorted(set(waiting)))


async def _broker_answers(broker: KafkaBroker) -> bool:
    try:
        return bool(await asyncio.wait_for(broker.ping(timeout=2.0), timeout=3.0))
    except Exception:  # noqa: BLE001 - health check reports, never raises
        return False


def serve(app: FastAPI, settings: Settings) -> None:
    import uvicorn

    configure_logging(settings)  # OHS_LOG_FORMAT json (default) or text; uvicorn's loggers too (log_config=None)
    setup_tracing(settings)  # spans always; exported to OHS_OTLP_ENDPOINT when set
    try:
        uvicorn.run(app, host=settings.http_host, port=settings.http_port or 8000, log_level="info", access_log=False, log_config=None)
    finally:
        shutdown_tracing()  # export the last spans
