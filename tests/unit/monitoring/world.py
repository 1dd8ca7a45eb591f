"""A monitoring service on SQLite for the tests (no Kafka: what it publishes stays in its outbox), the employers it
has heard of, and the synthetic devices of the issue with a day of their readings."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlmodel import select

from services.monitoring.bootstrap import bootstrap
from services.monitoring.service_layer import devices, readings
from shared.contracts import ClassificationChanged
from shared.db import OutboxMessage
from shared.dates import CHINA
from tests.support import app_without_broker, new_credit_code

DAY = date(2026, 11, 2)  # a Monday; the shift is 08:00–16:00 China time (rule data)


def at(hour: int, minute: int = 0, second: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=CHINA)


def monitoring_app(folder: Path) -> FastAPI:
    return app_without_broker(bootstrap, "monitoring", folder)


def archived(credit_code: str, region_code: str = "141029", name: str = "示例矿业有限公司", version: int = 1) -> ClassificationChanged:
    return ClassificationChanged(producer="registry", credit_code=credit_code, enterprise_name=name, region_code=region_code,
                                 archive_version=version, previous_category=None, category="乙", hazard_grade="Ⅱ",
                                 management_grade="B", submission_id=uuid.uuid4(), reason="first report archived")


def know_employer(app: FastAPI, credit_code: str, region_code: str = "141029") -> None:
    with app.state.runtime.uow() as uow:  # what the consumer makes of the archive's announcement
        devices.remember_employer(uow, archived(credit_code, region_code))
        uow.commit()


def register(app: FastAPI, credit_code: str, device_id: str, factor: str, unit: str, post: str = "破碎工位",
             now: datetime | None = None) -> None:
    with app.state.runtime.uow() as uow:
        devices.register_device(uow, device_id=device_id, credit_code=credit_code, factor=factor, post=post, unit=unit,
                                may_register=lambda _: True, by="test", book=app.state.limits, now=now or datetime.now(timezone.utc))


def ingest(app: FastAPI, batch: Iterable[tuple[str, datetime, float]], now: datetime | None = None) -> readings.BatchResult:
    """The readings as they arrive at ``now``: by default a second after the latest of them (delivered as taken)."""
    batch = list(batch)
    arrived = now or (max(t for _, t, _ in batch) + timedelta(seconds=1) if batch else None)
    with app.state.runtime.uow() as uow:
        return readings.ingest(uow, [readings.ReadingIn(d, t, v) for d, t, v in batch], app.state.limits, now=arrived)


def sweep(app: FastAPI, now: datetime) -> int:
    with app.state.runtime.uow() as uow:
        return readings.sweep(uow, app.state.limits, now)


def published(app: FastAPI, topic: str = "ohs.monitoring.exceedances") -> list[dict[str, Any]]:
    with app.state.runtime.uow() as uow:
        rows = uow.session.exec(select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(OutboxMessage.id))
        return [json.loads(row.payload) for row in rows]


def synthetic_day(prefix: str) -> list[tuple[str, datetime, float]]:
    """The issue's synthetic devices over one shift, in the order a gateway sends them (by time):

    * ``<prefix>-twa``: 矽尘 at 1.5 mg/m³ all shift (PC-TWA 1) → a TWA episode, nothing else;
    * ``<prefix>-stel``: 苯 at 2 mg/m³ but 30 from 10:00 to 10:14 (PC-STEL 10, PC-TWA 6) → a STEL episode only;
    * ``<prefix>-peak``: 矽尘 at 0.5 with one reading of 3.0 at 11:00 (peak 2) → a peak episode only;
    * ``<prefix>-silent``: 煤尘 at 1 but nothing from 10:00 to 11:59 (silent after 15 minutes) → a silent episode only.
    One reading a minute, 08:00 to 15:59."""
    day: list[tuple[str, datetime, float]] = []
    for minute in range(8 * 60):
        t = at(8) + timedelta(minutes=minute)
        day.append((f"{prefix}-twa", t, 1.5))
        day.append((f"{prefix}-stel", t, 30.0 if at(10) <= t < at(10, 15) else 2.0))
        day.append((f"{prefix}-peak", t, 3.0 if t == at(11) else 0.5))
        if not at(10) <= t < at(12):
            day.append((f"{prefix}-silent", t, 1.0))
    return day


def register_synthetic(app: FastAPI, credit_code: str, prefix: str) -> None:
    register(app, credit_code, f"{prefix}-twa", "矽尘", "mg/m³")
    register(app, credit_code, f"{prefix}-stel", "苯", "mg/m³", post="调漆间")
    register(app, credit_code, f"{prefix}-peak", "矽尘", "mg/m³", post="投料口")
    register(app, credit_code, f"{prefix}-silent", "煤尘", "mg/m³", post="输煤廊")


def new_employer(app: FastAPI, region_code: str = "141029") -> str:
    code = new_credit_code(region_code)
    know_employer(app, code, region_code)
    return code
