"""Helpers the integration and e2e tests share."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Any, TypeVar

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI

from shared.identifiers import CREDIT_CODE_ALPHABET, credit_code_check_character
from tests.examples import EXAMPLE_REPORT

T = TypeVar("T")



def new_credit_code(region: str = "141029") -> str:
    """A fresh, valid 统一社会信用代码 registered in ``region``."""
    body = "91" + region + "".join(random.choice(CREDIT_CODE_ALPHABET) for _ in range(9))
    return body + credit_code_check_character(body)


def report_for(credit_code: str, region: str = "141029", **changes: Any) -> dict[str, Any]:
    report = json.loads(json.dumps(EXAMPLE_REPORT))
    report["submission_id"] = str(uuid.uuid4())
    report["enterprise"]["credit_code"] = credit_code
    report["enterprise"]["region_code"] = region
    report.update(changes)
    return report


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 20.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        await asyncio.sleep(0.2)


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run a service in this process (lifespan: tables, topics, broker, relay) with an HTTP client."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
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
