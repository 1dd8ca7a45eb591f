"""The gateway's records go through the same use case as the HTTP batch (a record whose readings are all refused
raises, so the consumer dead-letters it with the reason); the coverage of each monitored employer is published when
it changes and once a day; raw readings older than the retention are purged while the shift aggregates stay."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlmodel import select

from services.monitoring.adapters.orm import RawReading, ShiftAggregate
from services.monitoring.service_layer import coverage, devices, handlers, readings
from shared.contracts import AssessmentClassified, DeviceReadings, FactorGrade, Reading, RuleSetRef, TraceEntry
from tests.unit.monitoring.world import at, ingest, monitoring_app, new_employer, published, register


def record(device_id: str, *values: tuple[datetime, float], gateway: str = "gw-sx-1") -> DeviceReadings:
    return DeviceReadings(producer="gateway", gateway_id=gateway, device_id=device_id,
                          readings=[Reading(device_id=device_id, at=t, value=v) for t, v in values])


def classified(credit_code: str, factors: list[str], assessed_on: date) -> AssessmentClassified:
    return AssessmentClassified(
        producer="assessment", credit_code=credit_code, submission_id=uuid.uuid4(), enterprise_name="示例矿业", region_code="141029",
        employees=40, assessed_on=assessed_on, hazard_grade="Ⅱ", management_grade="B", score=80.0, category="乙",
        factors=[FactorGrade(factor=f, nature="一般", nature_source="catalogue", compliant=True, exposed=5, headcount_band="1-9", grade="Ⅱ")
                 for f in factors],
        rule_set=RuleSetRef(jurisdiction="CN", version="2022.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[TraceEntry(rule="附件3", detail="Ⅱ × B → 乙")])


def test_a_gateway_record_is_taken_like_a_batch_and_an_all_refused_one_raises_with_the_reasons(tmp_path: Path) -> None:
    app = monitoring_app(tmp_path)
    employer = new_employer(app)
    register(app, employer, "g-dust", "矽尘", "mg/m³")
    take = handlers.take_gateway_readings
    with app.state.runtime.uow() as uow:  # two records in one consumer batch: one transaction, committed by the consumer
        take(uow, record("g-dust", (at(9), 0.5), (at(9, 1), 2.5), (at(9, 1), 0.4)), limits=app.state.limits)  # the duplicate is refused
        take(uow, record("g-dust", (at(9, 2), 0.6)), limits=app.state.limits)
        uow.commit()
    with app.state.runtime.uow() as uow:
        assert uow.monitoring.device("g-dust").readings == 3  # type: ignore[union-attr]
    assert [(e["device_id"], e["measure"]) for e in published(app)] == [("g-dust", "peak")]
    with app.state.runtime.uow() as uow, pytest.raises(handlers.RecordRefused) as raised:
        take(uow, record("g-dust", (at(8, 30), 0.5), (at(9, 2), 0.5)), limits=app.state.limits)
    assert "monitoring.reading.duplicate_instant" in str(raised.value) and "monitoring.reading.out_of_order" in str(raised.value)
    with app.state.runtime.uow() as uow, pytest.raises(handlers.RecordRefused, match="monitoring.reading.unknown_device"):
        take(uow, record("nobody", (at(9), 0.5)), limits=app.state.limits)
    app.state.runtime.engine.dispose()


def test_coverage_is_published_when_it_changes_and_daily(tmp_path: Path) -> None:
    app = monitoring_app(tmp_path)
    employer = new_employer(app)
    with app.state.runtime.uow() as uow:
        devices.remember_hazards(uow, classified(employer, ["矽尘", "噪声", "苯"], date(2026, 10, 1)))
        uow.commit()
    now = datetime(2026, 11, 2, 10, tzinfo=timezone.utc)
    register(app, employer, "c-dust-1", "矽尘", "mg/m³", now=now - timedelta(days=1))
    register(app, employer, "c-dust-2", "矽尘", "mg/m³", now=now - timedelta(days=1))
    register(app, employer, "c-noise", "噪声", "dB(A)", now=now - timedelta(days=1))
    ingest(app, [("c-dust-1", at(9), 0.5), ("c-dust-1", at(9, 1), 2.5), ("c-noise", at(9), 80.0)])  # one peak over the dust limit
    limits = app.state.limits

    def run(when: datetime) -> int:
        with app.state.runtime.uow() as uow:
            return coverage.daily(uow, limits, when)

    assert run(now) == 1
    latest = published(app, "ohs.monitoring.coverage")[-1]
    # the last 30 days, but not before monitoring began: the devices were registered on 2026-11-01 (China time)
    assert latest["hazards"] == ["噪声", "矽尘", "苯"] and (latest["period_start"], latest["period_end"]) == ("2026-11-01", "2026-11-02")
    assert latest["factors"] == [{"factor": "噪声", "devices": 1, "reporting": 1, "exceedances": 0},
                                 {"factor": "矽尘", "devices": 2, "reporting": 1, "exceedances": 1}]
    assert run(now + timedelta(minutes=1)) == 0  # unchanged, already published today
    with app.state.runtime.uow() as uow:
        assert uow.monitoring.coverage_due(date(2026, 11, 2)) == []  # the round of each minute reads no employer at all
    # the gateway back-fills the other dust device's readings of 2026-10-20: a shift of its own, the coverage is stale
    ingest(app, [("c-dust-2", at(9, day=date(2026, 10, 20)), 0.5)])
    with app.state.runtime.uow() as uow:
        assert uow.monitoring.coverage_due(date(2026, 11, 2)) == [employer]
    assert run(now + timedelta(minutes=1, seconds=30)) == 1
    latest = published(app, "ohs.monitoring.coverage")[-1]
    assert latest["period_start"] == "2026-10-20"  # monitored since its first data
    assert latest["factors"][1] == {"factor": "矽尘", "devices": 2, "reporting": 2, "exceedances": 1}
    before = len(published(app, "ohs.monitoring.coverage"))
    register(app, employer, "c-benzene", "苯", "mg/m³", now=now + timedelta(minutes=2))  # a change: published with the registration
    assert published(app, "ohs.monitoring.coverage")[-1]["factors"][-1] == {"factor": "苯", "devices": 1, "reporting": 0, "exceedances": 0}
    assert run(now + timedelta(days=1)) == 1  # the next day: again, changed or not
    assert len(published(app, "ohs.monitoring.coverage")) == before + 2
    app.state.runtime.engine.dispose()


def test_raw_readings_are_purged_after_the_retention_and_the_shift_aggregates_stay(tmp_path: Path) -> None:
    app = monitoring_app(tmp_path)
    employer = new_employer(app)
    register(app, employer, "p-dust", "矽尘", "mg/m³")
    ingest(app, [("p-dust", at(9), 0.5), ("p-dust", at(9, 1), 0.7), ("p-dust", at(9, day=date(2026, 12, 1)), 0.6)])
    with app.state.runtime.uow() as uow:
        assert readings.purge(uow, datetime(2027, 2, 5, tzinfo=timezone.utc), raw_days=90) == 2  # before 2026-11-07
    with app.state.runtime.uow() as uow:
        assert [r.value for r in uow.session.exec(select(RawReading))] == [0.6]
        shifts = {row.shift_day: (row.count, row.closed, row.twa) for row in uow.session.exec(select(ShiftAggregate))}
    assert shifts[date(2026, 11, 2)][:2] == (2, True) and shifts[date(2026, 11, 2)][2] is not None  # closed by the later reading
    app.state.runtime.engine.dispose()
