"""The timer at a province's scale on SQLite: 50,000 devices over ten counties, each with its open shift, all
reporting but three — one silent for 40 minutes, one that never reported this shift, one whose yesterday's shift is
still to close (and silent since). One pass finds exactly those three (indexed queries per county, not a read of every device) and does
their work; a second pass finds nothing. The time of each pass is printed (``-s``), not asserted."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from services.monitoring.adapters.orm import Device, ShiftAggregate
from services.monitoring.domain.exceedance import ShiftState, shift_of
from services.monitoring.service_layer import readings
from tests.support import new_credit_code
from tests.unit.monitoring.world import at, monitoring_app, published

DEVICES = 50_000
COUNTIES = ("141029", "140105", "140106", "140107", "140108", "140109", "140110", "140121", "140122", "140123")
NOW = at(10)


def test_one_timer_pass_over_fifty_thousand_devices_reads_only_the_devices_due(tmp_path: Path) -> None:
    app = monitoring_app(tmp_path)
    limits = app.state.limits.in_force("141029", NOW.date())
    today, yesterday = shift_of(at(9), limits), shift_of(at(9) - timedelta(days=1), limits)
    assert today is not None and yesterday is not None
    silent, never, unclosed = "d-00007", "d-00011", "d-00013"
    devices, shifts = [], []
    employers = [new_credit_code(county) for county in COUNTIES]
    for n in range(DEVICES):
        device_id = f"d-{n:05d}"
        last = {never: None, silent: at(9, 20), unclosed: at(15) - timedelta(days=1)}.get(device_id, at(9, 55))
        devices.append({"device_id": device_id, "credit_code": employers[n % 10], "region_code": COUNTIES[n % 10], "factor": "矽尘",
                        "kind": "dust", "post": "破碎工位", "unit": "mg/m³", "registered_at": at(7) - timedelta(days=2), "registered_by": "test",
                        "last_at": last, "last_value": 0.5 if last else None, "closed_through": None, "readings": 0})
        shift = yesterday if device_id == unclosed else today
        if device_id != never:
            state = ShiftState(device_id, shift, count=1, value_sum=0.5, min_value=0.5, max_value=0.5, last_at=last,
                               last_value=0.5)
            shifts.append({"device_id": device_id, "shift_start": shift.start, "shift_end": shift.end, "shift_day": shift.day,
                           "shift_index": 0, "closed": False, "count": 1, "mean": 0.5, "min_value": 0.5, "max_value": 0.5, "twa": None,
                           "limits_version": limits.label(), "state": state.to_json(), "updated_at": NOW})
    with app.state.runtime.uow() as uow:
        uow.session.execute(insert(Device.__table__), devices)  # type: ignore[attr-defined]
        uow.session.execute(insert(ShiftAggregate.__table__), shifts)  # type: ignore[attr-defined]
        uow.commit()

    with app.state.runtime.uow() as uow:
        started = time.perf_counter()
        due = readings.due_devices(uow, app.state.limits, NOW)
        looked = time.perf_counter() - started
        published_first = readings.sweep(uow, app.state.limits, NOW)
        first = time.perf_counter() - started
    with app.state.runtime.uow() as uow:
        started = time.perf_counter()
        published_second = readings.sweep(uow, app.state.limits, NOW + timedelta(seconds=30))
        second = time.perf_counter() - started
    print(f"\n[timer at {DEVICES:,} devices, SQLite] finding the due devices: {looked * 1000:.0f} ms; first pass (3 due): "
          f"{first * 1000:.0f} ms; second pass (none due): {second * 1000:.0f} ms")

    assert due == {silent, never, unclosed}
    events = sorted((e["device_id"], e["measure"], e["status"]) for e in published(app))
    assert events == [(silent, "silent", "open"), (never, "silent", "open"),  # yesterday's trailing gap, closed with it; today's
                      (unclosed, "silent", "closed"), (unclosed, "silent", "open"), (unclosed, "silent", "open")]
    assert (published_first, published_second) == (5, 0)
    app.state.runtime.engine.dispose()
