"""Gateway records on the real topic reach the monitoring service (on PostgreSQL) through the same use case as the
HTTP batch: the readings are stored, a reading over the peak publishes one ExceedanceDetected; a record that does not
parse, and one whose readings are all refused, go to ``ohs.monitoring.readings.dlq`` with the reason."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.monitoring.bootstrap import bootstrap as monitoring_app
from services.monitoring.service_layer import coverage, readings
from shared import topics
from shared.contracts import ClassificationChanged, DeviceReadings, Reading
from shared.dates import CHINA, china_today
from shared.settings import settings_for
from tests.support import auth, eventually, new_credit_code, produce, read_topic, serving, start_groups_at_the_end

pytestmark = pytest.mark.integration


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 2, hour, minute, tzinfo=CHINA)  # within the 08:00–16:00 shift of the packaged limits


async def test_gateway_records_are_stored_judged_and_poison_goes_to_the_dlq(kafka_bootstrap: str, postgres_url: str) -> None:
    code = new_credit_code("141029")
    device_id = f"it-{uuid.uuid4().hex[:10]}"
    prefix = f"it-monitoring-{uuid.uuid4().hex[:8]}"
    await start_groups_at_the_end(kafka_bootstrap, {f"{prefix}.monitoring": [topics.CLASSIFICATION_CHANGED, topics.ASSESSMENTS_CLASSIFIED,
                                                                            topics.MONITORING_READINGS]})
    settings = settings_for("monitoring", kafka_bootstrap_servers=kafka_bootstrap, database_url=postgres_url,
                            consumer_group_prefix=prefix, consumer_retry_backoff_s=0.01, consumer_max_attempts=2)
    app = monitoring_app(settings)
    async with serving(app, token=None) as client:
        county = auth("county", "141029")
        archived = ClassificationChanged(producer="registry", credit_code=code, enterprise_name="示例矿业", region_code="141029", archive_version=1,
                                         previous_category=None, category="乙", hazard_grade="Ⅱ", management_grade="B", submission_id=uuid.uuid4(),
                                         reason="archived")
        await produce(kafka_bootstrap, topics.CLASSIFICATION_CHANGED, archived.model_dump_json().encode(), key=code.encode())

        async def registered():
            answer = await client.post("/devices", headers=county, json={"device_id": device_id, "credit_code": code, "factor": "矽尘",
                                                                          "post": "破碎工位", "unit": "mg/m³"})
            return answer.status_code == 201

        await eventually(registered, timeout=30, what="the employer known and the device registered")

        record = DeviceReadings(producer="gateway", gateway_id="gw-it", device_id=device_id,
                                readings=[Reading(device_id=device_id, at=at(9, 0), value=0.5), Reading(device_id=device_id, at=at(9, 1), value=2.6)])
        await produce(kafka_bootstrap, topics.MONITORING_READINGS, record.model_dump_json().encode(), key=device_id.encode())
        await produce(kafka_bootstrap, topics.MONITORING_READINGS, b'{"gateway_id": "gw-it", "readings": "not a list"}', key=b"poison")
        refused = DeviceReadings(producer="gateway", gateway_id="gw-it", device_id=device_id,
                                 readings=[Reading(device_id=device_id, at=at(8, 30), value=0.5)])  # before the last accepted one
        await produce(kafka_bootstrap, topics.MONITORING_READINGS, refused.model_dump_json().encode(), key=device_id.encode())

        async def stored():
            answer = await client.get(f"/devices/{device_id}", headers=county)
            return answer.json()["readings"] == 2

        await eventually(stored, timeout=30, what="the gateway's readings stored")

        def ours(records):
            return [json.loads(r.value) for r in records if json.loads(r.value).get("device_id") == device_id]

        episodes = ours(await read_topic(kafka_bootstrap, topics.MONITORING_EXCEEDANCES, lambda rs: len(ours(rs)) >= 1, timeout=30))
        assert [(e["measure"], e["status"], e["observed"], e["limit"]) for e in episodes] == [("peak", "open", 2.6, 2.0)]
        assert episodes[0]["rule_set"]["version"] == "2019.1" and episodes[0]["credit_code"] == code

        def dead(records):
            return [r for r in records if r.key in (b"poison", device_id.encode())]

        letters = dead(await read_topic(kafka_bootstrap, topics.dead_letter_topic(topics.MONITORING_READINGS), lambda rs: len(dead(rs)) >= 2, timeout=60))
        reasons = {r.key: dict(r.headers)["x-dlq-reason"].decode() for r in letters}
        assert reasons[b"poison"].startswith("malformed event")
        assert "monitoring.reading.out_of_order" in reasons[device_id.encode()]
        items = (await client.get("/exceedances", params={"credit_code": code}, headers=county)).json()["items"]
        assert [(i["measure"], i["status"]) for i in items] == [("peak", "open")]

        # the timer and the coverage round on PostgreSQL: the due devices found by their indexed queries, each chunk
        # in a transaction of its own. The readings of that past shift arrived just now, so the timer closes it the late
        # allowance (15 min) after they stopped arriving, not while a gateway may still be sending it
        later = datetime.now(UTC) + timedelta(minutes=16)

        def timer_and_coverage() -> list[str]:
            with app.state.runtime.uow() as uow:
                assert readings.sweep(uow, app.state.limits, datetime.now(UTC)) == 0, "still arriving: not closed yet"
                readings.sweep(uow, app.state.limits, later)
                coverage.daily(uow, app.state.limits, later)
                return uow.monitoring.coverage_due(china_today(later))

        assert await asyncio.to_thread(timer_and_coverage) == []
        items = (await client.get("/exceedances", params={"credit_code": code}, headers=county)).json()["items"]
        assert sorted((i["measure"], i["status"]) for i in items) == [("peak", "closed"), ("silent", "closed")]  # 09:01 → 16:00 unheard


def test_the_monitoring_migrations_build_what_the_models_declare_on_postgresql(postgres_url: str) -> None:
    from tests.unit.shared.test_migrations import schema_drift

    assert schema_drift(postgres_url, "monitoring") == []
