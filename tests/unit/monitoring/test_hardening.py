"""What an attacker or an unlucky gateway sends, and what runs beside a batch: instants no clock gives (answered, never
a 500, never a device made unusable), scopes that are not staff's, a 10,000-reading batch, and the timer and a batch
of readings for the same device at the same moment on SQLite (neither loses the other's work)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from services.monitoring.adapters.orm import RawReading, ShiftAggregate
from services.monitoring.adapters.repository import SqlMonitoringRepository
from services.monitoring.service_layer import handlers, readings
from shared.contracts import DeviceReadings
from shared.auth import issue_token
from tests.support import TEST_AUTH_SECRET, auth, new_credit_code
from tests.unit.monitoring.world import at, ingest, know_employer, monitoring_app, register, sweep

E1 = new_credit_code("141029")
E2 = new_credit_code("140105")
PROVINCE = auth("province", "140000")
ORGANISATION = {"Authorization": "Bearer " + issue_token(TEST_AUTH_SECRET, "organisation", "山西示例检测有限公司", credit_code=new_credit_code("140000"),
                                                         region_code="140000", valid_days=1)}  # a technical service organisation


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = monitoring_app(tmp_path_factory.mktemp("monitoring-hardening"))
    know_employer(app, E1, "141029")
    know_employer(app, E2, "140105")
    register(app, E1, "hx-1", "矽尘", "mg/m³", now=at(7) - timedelta(days=1))
    register(app, E2, "hx-far", "矽尘", "mg/m³", now=at(7) - timedelta(days=1))
    yield TestClient(app)
    app.state.runtime.engine.dispose()


def post(client: TestClient, *items: dict[str, object], headers: dict[str, str] = PROVINCE):  # noqa: ANN201
    return client.post("/readings:batch", json={"readings": list(items)}, headers=headers)


def test_instants_no_clock_gives_are_answered_and_never_make_the_device_unusable(client: TestClient) -> None:
    # its UTC instant is in the year 10000: was an OverflowError, a 500
    answer = post(client, {"device_id": "hx-1", "at": "9999-12-31T23:00:00-12:00", "value": 0.5})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "readings[0].at"
    assert answer.json()["errors"][0]["code"] == "errors.field.instant_years"
    assert post(client, {"device_id": "hx-1", "at": "0001-01-01T00:00:00+14:00", "value": 0.5}).status_code == 422
    naive = post(client, {"device_id": "hx-1", "at": "2026-11-02T08:00:00", "value": 0.5}).json()["errors"][0]
    assert (naive["code"], naive["message"]) == ("errors.field.timezone_aware", "应带时区（UTC 偏移量，如 +08:00）"), "said in Chinese, not English"
    # a gateway whose clock runs a year ahead: that reading refused, not accepted (else every true reading after it
    # would be "out of order" — the device silenced by one bad clock)
    ahead = (datetime.now(timezone.utc) + timedelta(days=365)).isoformat()
    future = post(client, {"device_id": "hx-1", "at": ahead, "value": 0.5}, {"device_id": "hx-1", "at": "2026-11-02T08:00:00+08:00", "value": 0.5})
    assert [(i["status"], i["code"], i["field"]) for i in future.json()["items"]] == [
        ("refused", "monitoring.reading.instant_out_of_range", "at"), ("accepted", None, None)]
    # the same instants from a gateway's record on Kafka: refused with their code (dead-lettered), not a crash
    record = DeviceReadings(producer="gateway", gateway_id="gw-1", device_id="hx-1", readings=[
        {"device_id": "hx-1", "at": datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-12))), "value": 0.5},
        {"device_id": "hx-1", "at": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))), "value": 0.5}])
    with client.app.state.runtime.uow() as uow, pytest.raises(handlers.RecordRefused, match="instant_out_of_range"):
        handlers.take_gateway_readings(uow, record, limits=client.app.state.limits)


def test_what_a_gateway_record_loses_is_counted_on_its_device_not_only_logged(client: TestClient) -> None:
    register(client.app, E1, "hx-gw", "矽尘", "mg/m³", now=at(7) - timedelta(days=1))
    record = DeviceReadings(producer="gateway", gateway_id="gw-1", device_id="hx-gw", readings=[
        {"device_id": "hx-gw", "at": at(9), "value": 0.5},
        {"device_id": "hx-other", "at": at(9, 1), "value": 0.5}])  # another device's reading in this device's record
    with client.app.state.runtime.uow() as uow:
        handlers.take_gateway_readings(uow, record, limits=client.app.state.limits)  # applied: one of two accepted
        uow.commit()
    seen = client.get("/devices/hx-gw", headers=PROVINCE).json()
    assert (seen["readings"], seen["refused"], seen["last_refusal"]["code"]) == (1, 1, "monitoring.reading.other_device")
    answer = post(client, {"device_id": "hx-gw", "at": "2026-11-02T08:59:00+08:00", "value": 0.5})  # before its last one
    assert answer.json()["refused"] == 1
    seen = client.get("/devices/hx-gw", headers=PROVINCE).json()
    assert (seen["refused"], seen["last_refusal"]["code"]) == (2, "monitoring.reading.out_of_order")


def test_only_staff_of_the_county_send_and_read_and_the_rest_is_not_found(client: TestClient) -> None:
    reading = {"device_id": "hx-far", "at": "2026-11-02T09:00:00+08:00", "value": 0.5}
    for headers in (auth("employer", E2), auth("auditor", "140000"), ORGANISATION):
        assert post(client, reading, headers=headers).status_code == 403
    county = post(client, reading, headers=auth("county", "141029")).json()["items"][0]  # 乡宁's token, 小店's device
    assert (county["status"], county["code"]) == ("refused", "monitoring.reading.unknown_device")  # as if it did not exist
    for headers in (auth("county", "141029"), auth("employer", E1), ORGANISATION):
        assert client.get("/devices/hx-far", headers=headers).status_code == 404
        assert client.get("/exceedances", params={"credit_code": E2}, headers=headers).status_code == 404
        assert client.get("/devices", params={"credit_code": E2}, headers=headers).status_code == 404
    organisation = client.post("/devices", headers=ORGANISATION, json={
        "device_id": "hx-org", "credit_code": E2, "factor": "矽尘", "post": "破碎", "unit": "mg/m³"})
    assert organisation.status_code == 404
    # a device id out of the gateway's alphabet (unicode, spaces) is refused by the schema, in a body or a path
    assert post(client, dict(reading, device_id="设备-1")).json()["errors"][0]["field"] == "readings[0].device_id"
    assert client.get("/devices/设备-1", headers=PROVINCE).status_code == 404


def test_ten_thousand_readings_with_repeats_are_each_answered(client: TestClient) -> None:
    start = at(8, day=at(0).date() + timedelta(days=1))
    batch = [{"device_id": "hx-far", "at": (start + timedelta(seconds=2 * i)).isoformat(), "value": 0.5} for i in range(9_998)]
    batch += [batch[5], dict(batch[-1], device_id="hx-1")]  # the same instant twice for one device; another device
    answer = post(client, *batch)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["accepted"], body["refused"], len(body["items"])) == (9_999, 1, 10_000)
    assert body["items"][9_998] == {"index": 9_998, "status": "refused", "code": "monitoring.reading.out_of_order", "field": "at"}


def test_the_timer_and_a_batch_at_the_same_moment_lose_nothing_on_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The timer reads a device's shift, a batch of that device's readings arrives before the timer writes: the
    batch waits for the timer's transaction (SQLite's write lock taken before reading), then applies its readings to
    the state the timer left. Without the lock the timer wrote back the state it had read over the batch's (the
    readings stored, the detector's state without them: its count, exposure and last reading)."""
    app = monitoring_app(tmp_path)
    employer = new_credit_code("141029")
    know_employer(app, employer)
    register(app, employer, "race-1", "矽尘", "mg/m³", now=at(7) - timedelta(days=1))
    ingest(app, [("race-1", at(8), 0.5)])

    timer_read, batch_done = threading.Event(), threading.Event()
    original = SqlMonitoringRepository.open_shifts

    def open_shifts_then_let_the_batch_in(self: SqlMonitoringRepository, device_ids, fresh: bool = False):  # noqa: ANN001, ANN202
        found = original(self, device_ids, fresh)
        if threading.current_thread().name == "timer":
            timer_read.set()
            batch_done.wait(timeout=2)  # with the lock the batch cannot finish before the timer commits: it waits
        return found

    monkeypatch.setattr(SqlMonitoringRepository, "open_shifts", open_shifts_then_let_the_batch_in)
    results: dict[str, object] = {}

    def timer() -> None:
        results["timer"] = sweep(app, at(8, 31))  # 31 minutes without data: the silent episode opens

    def batch() -> None:
        timer_read.wait(timeout=10)
        try:  # delayed readings of the gap, delivered while the timer works
            results["batch"] = ingest(app, [("race-1", at(8, minute), 0.5) for minute in range(1, 11)]).accepted
        finally:
            batch_done.set()

    threads = [threading.Thread(target=timer, name="timer"), threading.Thread(target=batch, name="batch")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {"timer": 1, "batch": 10}
    with app.state.runtime.uow() as uow:
        stored = uow.session.exec(select(func.count()).select_from(RawReading).where(RawReading.device_id == "race-1")).one()
        [shift] = uow.session.exec(select(ShiftAggregate).where(ShiftAggregate.device_id == "race-1")).all()
        assert stored == shift.count == shift.state["count"] == 11  # every stored reading is in the shift's aggregate and detector
        assert set(shift.state["episodes"]) == {"silent"}  # the timer's episode is there too, ended by the late readings
        assert shift.state["episodes"]["silent"]["ended_at"].startswith("2026-11-02T00:01:00")
    app.state.runtime.engine.dispose()


def test_the_purge_forgets_old_readings_a_window_at_a_time(tmp_path: Path) -> None:
    app = monitoring_app(tmp_path)
    employer = new_credit_code("141029")
    know_employer(app, employer)
    register(app, employer, "old-1", "矽尘", "mg/m³", now=at(7) - timedelta(days=9))
    ingest(app, [("old-1", at(8, day=at(0).date() - timedelta(days=d)) + timedelta(minutes=m), 0.5)
                 for d in (8, 7, 1) for m in range(30)])
    with app.state.runtime.uow() as uow:
        removed = readings.purge(uow, at(12), raw_days=5, window_ms=10 * 60_000)  # 6 windows of 10 minutes
        left = uow.session.exec(select(func.count()).select_from(RawReading)).one()
    assert (removed, left) == (60, 30)
    app.state.runtime.engine.dispose()

