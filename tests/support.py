"""Helpers the integration and e2e tests share."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from fastapi import FastAPI

from shared import topics
from shared.auth import Role, issue_token
from shared.identifiers import random_credit_code
from tests.examples import EXAMPLE_REPORT

T = TypeVar("T")

# The secret every test service runs with (tests/conftest.py puts it into OHS_AUTH_SECRET, so
# in-process apps and service subprocesses verify the tokens ``token_for`` mints).
TEST_AUTH_SECRET = "test-secret-for-the-test-suite-only-0123456789"
EXAMPLE_EMPLOYER = EXAMPLE_REPORT["enterprise"]["credit_code"]  # 91141029MA0GRT8U3L, in 乡宁县 141029
DEFAULT_SCOPES: dict[str, str] = {
    "province": "140000",  # 山西省
    "city": "141000",  # 临汾市
    "county": "141029",  # 乡宁县
    "auditor": "141000",
    "employer": EXAMPLE_EMPLOYER,
}


def token_for(role: Role, scope: str | None = None, *, name: str | None = None, valid_days: int = 1,
              secret: str = TEST_AUTH_SECRET) -> str:
    """A bearer token for ``role``: ``scope`` is the region code (staff, auditor) or the credit code
    (employer); by default the role's entry in DEFAULT_SCOPES."""
    scope = scope or DEFAULT_SCOPES[role]
    where = {"credit_code": scope} if role == "employer" else {"region_code": scope}
    return issue_token(secret, role, name or f"test {role} {scope}", subject=f"test-{role}-{scope}", valid_days=valid_days, **where)


def auth(role: Role, scope: str | None = None, **options: Any) -> dict[str, str]:
    """The Authorization header for ``token_for(role, scope)``."""
    return {"Authorization": f"Bearer {token_for(role, scope, **options)}"}



def new_credit_code(region: str = "141029") -> str:
    """A fresh, valid 统一社会信用代码 registered in ``region``."""
    return random_credit_code(region)


def new_credit_code_beside(code: str, *topic_names: str, region: str = "141029") -> str:
    """A fresh credit code whose events land on the same partition as ``code``'s in each of ``topic_names``
    (all keyed by the credit code, by the producers' default partitioner): a marker that, once processed,
    shows that everything published for ``code`` before it has been processed too."""
    specs = topics.all_topic_specs()

    def partitions(key: str) -> list[int]:
        return [DefaultPartitioner()(key.encode(), list(range(specs[t])), []) for t in topic_names]

    while partitions(marker := new_credit_code(region)) != partitions(code):
        pass
    return marker


def report_for(credit_code: str, region: str = "141029", **changes: Any) -> dict[str, Any]:
    report = json.loads(json.dumps(EXAMPLE_REPORT))
    report["submission_id"] = str(uuid.uuid4())
    report["enterprise"]["credit_code"] = credit_code
    report["enterprise"]["region_code"] = region
    report.update(changes)
    return report


def jia_report_for(credit_code: str, region: str = "141029") -> dict[str, Any]:
    """A recent report that classifies as 甲 (Ⅱ × A): valid tests, one compliant factor, self-check 93."""
    good = report_for(credit_code, region, assessed_on=days_ago(10), publicity={"start": days_ago(9), "end": days_ago(2)})
    for hazard in good["hazards"]:
        hazard["tested_on"] = days_ago(30)
    good["hazards"][0]["compliant"] = True  # Ⅱ
    good["self_check"] = {"score": 93}  # A: Ⅱ × A → 甲
    return good


class _Attempts:
    """The one polling rule of ``eventually`` and ``eventually_sync``: try until ``ready(result)``;
    once the time is up, fail naming what was awaited (and, with ``describe``, the last result)."""

    def __init__(self, timeout: float, what: str, ready: Callable[[Any], Any], describe: Callable[[Any], str] | None) -> None:
        self.timeout, self.what, self.ready, self.describe = timeout, what, ready, describe
        self.deadline = time.monotonic() + timeout

    def done(self, result: Any) -> bool:
        if self.ready(result):
            return True
        if time.monotonic() > self.deadline:
            last = f": {self.describe(result)}" if self.describe else ""
            raise AssertionError(f"{self.what} not reached within {self.timeout} s{last}")
        return False


async def eventually(probe: Callable[[], Awaitable[T] | T], timeout: float = 20.0, what: str = "condition", *,
                     ready: Callable[[T], Any] = bool, describe: Callable[[T], str] | None = None, interval: float = 0.2) -> T:
    """``probe()`` (a coroutine function or a plain one) again every ``interval`` s until its result
    is ready (by default: truthy); that result, or an AssertionError after ``timeout`` s."""
    attempts = _Attempts(timeout, what, ready, describe)
    while True:
        result = probe()
        if inspect.isawaitable(result):
            result = await result
        if attempts.done(result):
            return result  # type: ignore[return-value]
        await asyncio.sleep(interval)


def eventually_sync(probe: Callable[[], T], timeout: float = 20.0, what: str = "condition", *,
                    ready: Callable[[T], Any] = bool, describe: Callable[[T], str] | None = None, interval: float = 0.2) -> T:
    """``eventually`` for code that runs outside an event loop (the e2e tests, a server thread starting)."""
    attempts = _Attempts(timeout, what, ready, describe)
    while True:
        result = probe()
        if attempts.done(result):
            return result
        time.sleep(interval)


def eventually_get(url: str, ready: Callable[[httpx.Response], Any], timeout: float = 10.0,
                   headers: dict[str, str] | None = None) -> httpx.Response:
    """GET ``url`` (by default with a province token) until ``ready(response)``: a service catching up
    through Kafka. The response, or an AssertionError naming the URL and the last answer."""
    headers = auth("province") if headers is None else headers
    return eventually_sync(lambda: httpx.get(url, timeout=5, headers=headers), timeout, url, ready=ready,
                           describe=lambda r: f"{r.status_code} {r.text[:500]}")


def app_without_broker(bootstrap: Callable[..., FastAPI], service: str, folder: Path) -> FastAPI:
    """A service built by its real ``bootstrap`` on SQLite in ``folder``, migrated, for a TestClient that is
    not entered (no lifespan, no Kafka): what it would publish stays in its outbox."""
    from shared.migrations import upgrade
    from shared.settings import settings_for

    app = bootstrap(settings_for(service, data_dir=folder, auth_secret=TEST_AUTH_SECRET), create_topics=False)
    upgrade(service, app.state.runtime.engine)

    async def no_broker() -> int:  # the outbox rows stay pending: nothing to publish to in a unit test
        return 0

    app.state.runtime.relay.flush = no_broker
    return app


@asynccontextmanager
async def serving(app: FastAPI, token: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """Run a service in this process (lifespan: tables, topics, broker, relay) with an HTTP client
    that sends ``token`` (default: a province token) with every request."""
    headers = {"Authorization": f"Bearer {token or token_for('province')}"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service", headers=headers) as client:
            yield client


async def produce(bootstrap: str, topic: str, value: bytes, key: bytes | None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def read_topic(bootstrap: str, topic: str, until: Callable[[list[Any]], bool], timeout: float = 20.0) -> list[Any]:
    """Records of ``topic`` from the beginning, until ``until(records)`` holds or the time is up."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not until(records):
            batch = await consumer.getmany(timeout_ms=500)
            for partition_records in batch.values():
                records.extend(partition_records)
        return records
    finally:
        await consumer.stop()


def days_ago(n: int) -> str:
    return (date.today() - timedelta(days=n)).isoformat()


async def start_groups_at_the_end(bootstrap: str, groups: dict[str, list[str]]) -> None:
    """Commit each group's offsets at the end of its topics, as if it had read everything so far."""
    for group, names in groups.items():
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            specs = topics.all_topic_specs()
            partitions = [TopicPartition(t, p) for t in names for p in range(specs[t])]
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            await consumer.commit({tp: offset for tp, offset in ends.items()})
        finally:
            await consumer.stop()


def consumer_groups(prefix: str, services: Iterable[str] | None = None) -> dict[str, list[str]]:
    """The consumer groups of ``services`` (default: every service) under ``prefix``, and the topics each reads:
    as the bootstraps subscribe them (``shared.architecture`` reads them), so a new subscription is covered."""
    from shared.architecture import subscriptions

    wanted = set(services) if services is not None else None
    groups: dict[str, list[str]] = {}
    for subscription in subscriptions():
        if wanted is None or subscription.service in wanted:
            suffix = f".{subscription.group_suffix}" if subscription.group_suffix else ""
            groups.setdefault(f"{prefix}.{subscription.service}{suffix}", []).append(subscription.topic)
    return groups


def registry_groups(prefix: str) -> dict[str, list[str]]:
    """The registry's consumer groups and the topics each reads (see services/registry/bootstrap.py)."""
    return consumer_groups(prefix, ["registry"])
