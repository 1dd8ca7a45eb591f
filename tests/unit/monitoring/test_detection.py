"""The issue's synthetic devices (tests/unit/monitoring/world.py) through the readings use case: one shift above the
TWA, one spike over the STEL, one over the peak, one silent device → exactly one episode each, opened once and closed
with the shift, with evidence and a trace naming the limit row and version. The same day's readings as one back-fill
batch give exactly the same episodes as streaming them one by one with the timer running."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support import auth
from tests.unit.monitoring.world import (
    DAY, at, ingest, monitoring_app, new_employer, published, register, register_synthetic, sweep, synthetic_day,
)

AFTER_SHIFT = at(16, 16)  # the shift ended at 16:00; the timer closes it once silent_after (15 min) has passed


def episodes(events: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The closed episodes, by (device, measure), without what differs between two runs (event ids, instants sent)."""
    found = {}
    for event in events:
        if event["status"] == "closed":
            key = (event["device_id"].split("-", 1)[1], event["measure"])
            assert key not in found, f"{key} closed twice"
            found[key] = {k: event[k] for k in ("episode_id", "started_at", "ended_at", "observed", "limit", "unit", "evidence", "rule_set",
                                                "shift_day", "factor", "kind")}
    return found


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    app = monitoring_app(tmp_path_factory.mktemp("backfill"))
    register_synthetic(app, new_employer(app), "b")
    result = ingest(app, synthetic_day("b"))
    assert result.accepted == len(synthetic_day("b")) and not result.refused()
    sweep(app, AFTER_SHIFT)
    events = published(app)
    app.state.runtime.engine.dispose()
    return events


def test_each_synthetic_device_gives_exactly_its_one_episode(backfilled: list[dict[str, Any]]) -> None:
    opened = Counter((e["device_id"], e["measure"]) for e in backfilled if e["status"] == "open")
    closed = Counter((e["device_id"], e["measure"]) for e in backfilled if e["status"] == "closed")
    expected = {("b-twa", "twa"), ("b-stel", "stel"), ("b-peak", "peak"), ("b-silent", "silent")}
    assert set(opened) == set(closed) == expected  # nothing else: no STEL for the flat device, no TWA for the spikes …
    assert set(opened.values()) == set(closed.values()) == {1}  # one episode, never one per reading

    by = {(e["device_id"], e["measure"]): e for e in backfilled if e["status"] == "closed"}
    twa = by["b-twa", "twa"]
    assert (twa["limit"], twa["observed"], twa["unit"], twa["kind"]) == (1.0, 1.5, "mg/m³", "dust")
    assert twa["started_at"].startswith("2026-11-02T00:00:00") and twa["ended_at"].startswith("2026-11-02T08:00:00")  # the shift, UTC
    assert len(twa["evidence"]) == 200 and twa["shift_day"] == "2026-11-02"
    assert twa["rule_set"] == {"jurisdiction": "CN", "version": "2019.1", "effective_from": "2020-04-01", "provisional": True}
    [entry] = twa["trace"]
    assert "GBZ 2.1-2019 表2 矽尘" in entry["rule"] and entry["code"] == "monitoring.trace.twa" and "CN 2019.1" in entry["detail"]

    stel = by["b-stel", "stel"]
    assert (stel["limit"], stel["observed"]) == (10.0, 30.0)
    assert stel["started_at"].startswith("2026-11-02T02:00:00") and stel["ended_at"].startswith("2026-11-02T02:15:00")
    assert len(stel["evidence"]) == 15 and {r["value"] for r in stel["evidence"]} == {30.0}

    peak = by["b-peak", "peak"]
    assert (peak["limit"], peak["observed"], [r["value"] for r in peak["evidence"]]) == (2.0, 3.0, [3.0])
    assert peak["started_at"].startswith("2026-11-02T03:00:00")

    silent = by["b-silent", "silent"]
    assert silent["limit"] is None and silent["observed"] == 121.0  # minutes without data: 09:59 → 12:00
    assert silent["started_at"].startswith("2026-11-02T01:59:00") and silent["ended_at"].startswith("2026-11-02T04:00:00")
    assert [r["at"][:19] for r in silent["evidence"]] == ["2026-11-02T01:59:00", "2026-11-02T04:00:00"]


def test_the_twa_is_decided_as_soon_as_it_is_certain_not_at_the_end(backfilled: list[dict[str, Any]]) -> None:
    [opened] = [e for e in backfilled if e["status"] == "open" and e["measure"] == "twa"]
    # 1.5 mg/m³ exceeds 1 × 8 h of exposure after 320 minutes (13:20): the episode opens there, with the TWA certain so far
    assert 1.0 < opened["observed"] < 1.5 and opened["ended_at"] is None
    position = backfilled.index(opened)
    assert position < len(backfilled) - 4  # before the closing of the four episodes by the timer


def test_streaming_one_by_one_with_the_timer_gives_the_same_episodes_as_the_backfill(
        backfilled: list[dict[str, Any]], tmp_path: Path) -> None:
    app = monitoring_app(tmp_path)
    register_synthetic(app, new_employer(app), "s")
    day = synthetic_day("s")
    for index, reading in enumerate(day):
        result = ingest(app, [reading])
        assert result.accepted == 1, result.items
        if index % 40 == 0:  # the timer runs meanwhile, "now" being the gateway's latest instant
            sweep(app, reading[1] + timedelta(seconds=30))
    sweep(app, AFTER_SHIFT)
    streamed = published(app)
    app.state.runtime.engine.dispose()

    def comparable(events: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        return {key: {k: v for k, v in value.items() if k != "episode_id"} for key, value in episodes(events).items()}

    assert comparable(streamed) == comparable(backfilled)

    def openings(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:  # as each episode stood when it opened
        return {e["measure"]: {k: e[k] for k in ("started_at", "ended_at", "observed", "evidence")}
                for e in events if e["status"] == "open" and e["measure"] != "silent"}

    assert openings(streamed) == openings(backfilled) and len(openings(streamed)) == 3
    # the silent device was found by the timer while it was silent, before its next reading came
    silent_open = next(e for e in streamed if e["status"] == "open" and e["measure"] == "silent")
    assert silent_open["ended_at"] is None and silent_open["started_at"].startswith("2026-11-02T01:59:00")


def test_a_device_that_never_reports_is_found_silent_by_the_timer_and_its_judged_shift_takes_no_more_readings(tmp_path: Path) -> None:
    app = monitoring_app(tmp_path)
    employer = new_employer(app)
    register(app, employer, "quiet-1", "噪声", "dB(A)", now=at(8) - timedelta(days=1))  # registered before the shift
    assert sweep(app, at(8, 10)) == 0  # 10 minutes without data: not yet
    assert sweep(app, at(8, 25)) == 0  # 25: silent_after (15) + the late allowance (15) not yet over: data may still come
    assert sweep(app, at(8, 31)) == 1
    assert sweep(app, at(9)) == 0  # still silent: the same episode, nothing new
    sweep(app, AFTER_SHIFT)
    events = [(e["measure"], e["status"], e["started_at"][:19], (e["ended_at"] or "")[:19]) for e in published(app)]
    assert events == [("silent", "open", "2026-11-02T00:00:00", ""), ("silent", "closed", "2026-11-02T00:00:00", "2026-11-02T08:00:00")]
    late = ingest(app, [("quiet-1", at(15), 80.0)])
    assert late.refused() == [(0, "monitoring.reading.shift_closed")]
    app.state.runtime.engine.dispose()


def test_readings_a_gateway_delivers_late_give_the_episodes_of_their_backfill(tmp_path: Path) -> None:
    """A gateway delivers each reading 12 minutes after it was taken (within the 15-minute late allowance of the rule
    data), for a device reporting every 5 minutes and one silent from 10:00 to 12:00. The timer runs every minute with
    the true "now": it judges a gap only once silent_after + the late allowance (30 minutes) has passed, so the delay
    opens no silent episode that the back-fill of the same readings would not have (it did: 12 + 4 > 15), and it
    still finds the silent device while it is silent."""
    day = [(device, at(8) + timedelta(minutes=m), 0.5) for m in range(0, 8 * 60, 5) for device in ("x-five", "x-gap")
           if device == "x-five" or not at(10) <= at(8) + timedelta(minutes=m) < at(12)]

    def world(folder: Path):  # noqa: ANN202
        app = monitoring_app(folder)
        employer = new_employer(app)
        register(app, employer, "x-five", "矽尘", "mg/m³", now=at(7))
        register(app, employer, "x-gap", "矽尘", "mg/m³", post="投料口", now=at(7))
        return app

    backfill = world(tmp_path / "backfill")
    ingest(backfill, day)
    sweep(backfill, AFTER_SHIFT)
    expected = episodes(published(backfill))
    backfill.state.runtime.engine.dispose()

    streamed = world(tmp_path / "streamed")
    delay = timedelta(minutes=12)
    for minute in range(8 * 60 + 30):
        now = at(8) + timedelta(minutes=minute)
        if due := [r for r in day if now - timedelta(minutes=1) < r[1] + delay <= now]:
            assert ingest(streamed, due, now=now).accepted == len(due)
        sweep(streamed, now)
    events = published(streamed)
    streamed.state.runtime.engine.dispose()

    assert set(expected) == {("gap", "silent")}
    assert {k: {f: v for f, v in e.items() if f != "episode_id"} for k, e in episodes(events).items()} == \
           {k: {f: v for f, v in e.items() if f != "episode_id"} for k, e in expected.items()}
    [opened] = [e for e in events if e["status"] == "open"]
    assert opened["device_id"] == "x-gap" and opened["started_at"].startswith("2026-11-02T01:55:00")  # 09:55, its last reading


def test_a_gateway_back_filling_a_past_day_in_batches_is_not_cut_off_by_the_timer_between_them(tmp_path: Path) -> None:
    """Days after an outage, a gateway sends the shift in four batches a minute apart while the timer runs every
    minute: the shift ended long ago, but the timer does not close it while the device's readings are still arriving
    (it would refuse the rest as shift_closed and find false gaps); once they stop, it closes it."""
    app = monitoring_app(tmp_path)
    register(app, new_employer(app), "late-dust", "矽尘", "mg/m³", now=at(7))
    day = [("late-dust", at(8) + timedelta(minutes=k), 0.6) for k in range(8 * 60)]
    back = at(20, day=DAY + timedelta(days=3))  # three days later, in the evening (no shift of that day is under way)
    for n, first in enumerate(range(0, len(day), 120)):
        now = back + timedelta(minutes=n)
        result = ingest(app, day[first:first + 120], now=now)
        assert (result.accepted, result.refused()) == (120, []), f"batch {n}"
        sweep(app, now + timedelta(seconds=30))
    assert [(e["measure"], e["status"], e["started_at"], e.get("ended_at")) for e in published(app)] == [], "still arriving: neither closed nor found silent"
    sweep(app, back + timedelta(minutes=3 + 16))  # the allowance (15 min) after the last batch arrived
    with app.state.runtime.uow() as uow:
        [device] = uow.monitoring.devices(["late-dust"]).values()
        assert device.closed_through is not None and device.closed_through >= at(16)
    assert published(app) == [], "a clean shift, every minute reported: no episode"


def test_an_open_episode_read_as_it_grows_shows_every_reading_over_the_limit_so_far(tmp_path: Path) -> None:
    """A gateway sends one reading per record: the episode is announced once, at its first reading over the peak, and
    GET /exceedances shows it with the later ones too (the evidence, the last one over the limit) while it is open."""
    app = monitoring_app(tmp_path)
    employer = new_employer(app)
    register(app, employer, "grow-dust", "矽尘", "mg/m³", now=at(9))  # mid-shift: no gap before its first reading
    for minute, value in enumerate((0.6, 3.0, 3.4, 3.2, 0.6)):
        ingest(app, [("grow-dust", at(9, minute), value)])
    assert [(e["measure"], e["status"]) for e in published(app)] == [("peak", "open")]
    [episode] = TestClient(app).get(f"/exceedances?credit_code={employer}", headers=auth("province")).json()["items"]
    assert (episode["status"], episode["observed"], len(episode["evidence"])) == ("open", 3.4, 3)
    assert episode["ended_at"].startswith("2026-11-02T01:03"), "the last reading over the peak (09:03 China)"
