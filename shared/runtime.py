"""What every service process is made of, built once in its ``bootstrap``: settings, its own
database engine, a Kafka broker, the outbox relay, the reliable consumer, metrics, and the HTTP
app with ``/healthz`` and ``/metrics``."""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import quote
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
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
from shared.migrations import upgrade
from shared.kafka_admin import ensure_topics
from shared.localize import LocalizedAnswers
from shared.limits import BodySizeLimit, NoNulInTheUrl
from shared.kafka_security import broker_security
from shared.messaging import OutboxRelay, ReliableConsumer
from shared.metrics import ServiceMetrics
from shared.revocations import Revocations, watch
from shared.settings import Settings
from shared.unit_of_work import SqlUnitOfWork, UnitOfWorkFactory, sql_unit_of_work_factory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """Background work a service repeats while it runs: first at start-up, then every ``interval_s``.
    A failing run is logged and tried again at the next interval."""

    name: str
    interval_s: float
    run: Callable[[], Awaitable[object]]

    async def loop(self) -> None:
        while True:
            try:
                await self.run()
            except Exception:  # noqa: BLE001 - a background job must outlive one failure
                log.exception("periodic job %s failed; trying again in %s s", self.name, self.interval_s)
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
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False, repr=False)

    async def start(self) -> None:
        if problem := auth_secret_problem(self.settings.auth_secret):
            raise RuntimeError(f"{self.settings.service_name} will not start: {problem}")
        await asyncio.to_thread(upgrade, self.settings.service_name, self.engine)
        if self.create_topics:
            await asyncio.to_thread(ensure_topics, self.settings.kafka_bootstrap_servers, settings=self.settings)
        await self.broker.start()
        self.relay.start()
        self._tasks = [asyncio.create_task(job.loop(), name=job.name) for job in self.jobs]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
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

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    app.state.runtime = runtime
    metrics = runtime.metrics

    errors.install(app)  # one error body, documented in the OpenAPI
    app.add_middleware(LocalizedAnswers)  # Accept-Language: en → coded texts of JSON answers in English (shared/localize.py)
    app.add_middleware(NoNulInTheUrl)  # 422 for %00 in the path or query (PostgreSQL takes no NUL in text)
    app.add_middleware(BodySizeLimit, default=runtime.settings.max_body_bytes)  # 413 past OHS_MAX_BODY_BYTES (8 MiB; a route may have its own: shared/limits.py)

    @app.middleware("http")
    async def _count(request: Request, call_next):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.http_requests.labels(method=request.method, route=path, status=str(response.status_code)).inc()
        metrics.http_seconds.labels(method=request.method, route=path).observe(time.perf_counter() - started)
        return response

    @app.get("/healthz", tags=["operations"], summary="Liveness and readiness: database and Kafka")
    async def healthz() -> JSONResponse:
        db_ok = await asyncio.to_thread(database_answers, runtime.engine)
        kafka_ok = await _broker_answers(runtime.broker)
        status = 200 if db_ok and kafka_ok else 503
        body = {
            "service": runtime.settings.service_name,
            "status": "ok" if status == 200 else "degraded",
            "database": "ok" if db_ok else "unreachable",
            "kafka": "ok" if kafka_ok else "unreachable",
        }
        return JSONResponse(status_code=status, content=body)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics of this service", response_class=PlainTextResponse)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


async def _broker_answers(broker: KafkaBroker) -> bool:
    try:
        return bool(await asyncio.wait_for(broker.ping(timeout=2.0), timeout=3.0))
    except Exception:  # noqa: BLE001 - health check reports, never raises
        return False


def serve(app: FastAPI, settings: Settings) -> None:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {settings.service_name} %(levelname)s %(name)s: %(message)s")
    uvicorn.run(app, host=settings.http_host, port=settings.http_port or 8000, log_level="info", access_log=False)
