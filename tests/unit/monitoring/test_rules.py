"""The limits as rule data: the packaged file loads with every factor the issue names, an agency's file in
``$OHS_RULES_DIR/monitoring/`` overrides it for its jurisdiction, a bad file stops start-up naming the file, and the
detector averages noise as energy (L_EX,8h) and the rest arithmetically."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.monitoring.adapters.rules import PACKAGED_RULES, load_limits
from services.monitoring.domain.exceedance import Detector, DeviceInfo, ShiftState, shift_of
from shared.dates import CHINA
from shared.rules_in_force import RuleDataError

PACKAGED = json.loads((PACKAGED_RULES / "limits-national-2019.json").read_text(encoding="utf-8"))


def test_the_packaged_limits_name_each_factor_with_its_unit_and_limits() -> None:
    limits = load_limits().in_force("141029", date(2026, 12, 6))
    assert (limits.jurisdiction, limits.version, limits.provisional, limits.silent_after_minutes) == ("CN", "2019.1", True, 15)
    got = {f.factor: (f.kind, f.unit, f.twa, f.stel, f.peak) for f in limits.factors}
    assert got["矽尘"] == ("dust", "mg/m³", 1.0, None, 2.0) and got["煤尘"][:3] == ("dust", "mg/m³", 4.0)
    assert got["苯"] == ("chemical", "mg/m³", 6.0, 10.0, None)
    assert got["噪声"] == ("noise", "dB(A)", 85.0, None, 115.0) and limits.factor("噪声").averaging == "energy"  # type: ignore[union-attr]
    assert got["高温"][:3] == ("heat", "°C", 28.0)
    assert limits.origin is not None and limits.origin.endswith("limits-national-2019.json")


def test_an_agency_file_overrides_the_limits_for_its_jurisdiction(tmp_path: Path) -> None:
    folder = tmp_path / "monitoring"
    folder.mkdir()
    shanxi = dict(PACKAGED, jurisdiction="140000", version="2026.1", effective_from="2026-01-01", silent_after_minutes=30)
    shanxi["factors"] = [dict(f, twa=0.7) if f["factor"] == "矽尘" else f for f in PACKAGED["factors"]]
    (folder / "limits-shanxi.json").write_text(json.dumps(shanxi, ensure_ascii=False), encoding="utf-8")
    book = load_limits(tmp_path)
    assert book.in_force("141029", date(2026, 12, 6)).factor("矽尘").twa == 0.7  # type: ignore[union-attr]
    assert book.in_force("141029", date(2025, 12, 31)).version == "2019.1"  # before it took effect
    assert book.in_force("320102", date(2026, 12, 6)).version == "2019.1"  # another province

    (folder / "limits-shanxi-again.json").write_text(json.dumps(shanxi, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(RuleDataError, match=r"limits-shanxi.json: jurisdiction 140000 version 2026.1 is already defined by .*limits-shanxi-again.json"):
        load_limits(tmp_path)


def test_a_bad_limits_file_stops_start_up_naming_the_file_and_the_problem(tmp_path: Path) -> None:
    folder = tmp_path / "monitoring"
    folder.mkdir()
    bad = dict(PACKAGED, version="2026.9", factors=[{"factor": "苯", "kind": "chemical", "unit": "mg/m³", "range": {"min": 5, "max": 1}, "row": "x"}])
    (folder / "limits-bad.json").write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(RuleDataError) as raised:
        load_limits(tmp_path)
    assert "limits-bad.json is invalid" in str(raised.value) and "factors.0.range: min below max" in str(raised.value)
    no_limit = dict(bad, factors=[{"factor": "苯", "kind": "chemical", "unit": "mg/m³", "range": {"min": 0, "max": 1}, "row": "x"}])
    (folder / "limits-bad.json").write_text(json.dumps(no_limit, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(RuleDataError, match="give at least one of twa, stel, peak"):
        load_limits(tmp_path)


def shift_of_noise(levels: list[float]) -> ShiftState:
    """A noise device read once a minute through the 08:00–16:00 shift, then judged."""
    limits = load_limits().in_force("141029", date(2026, 11, 2))
    noise = limits.factor("噪声")
    assert noise is not None
    start = datetime(2026, 11, 2, 8, tzinfo=CHINA)
    shift = shift_of(start, limits)
    assert shift is not None and shift.seconds == 8 * 3600
    device = DeviceInfo("n-1", "91141029MA0GRT8U3L", "141029", "噪声", "球磨", "dB(A)", datetime(2026, 1, 1, tzinfo=timezone.utc))
    detector, state = Detector(device, limits, noise), ShiftState("n-1", shift)
    for minute, level in enumerate(levels):
        detector.add(state, start + timedelta(minutes=minute), level)
    detector.close(state)
    return state


def test_noise_is_averaged_as_energy_over_the_shift() -> None:
    half_and_half = shift_of_noise([90.0] * 240 + [80.0] * 240)  # arithmetic 85, energy 10·log10((10^9 + 10^8) / 2) = 87.4
    assert half_and_half.twa == pytest.approx(87.4036, abs=1e-3) and set(half_and_half.episodes) == {"twa"}
    assert half_and_half.episodes["twa"].observed == half_and_half.twa
    quiet = shift_of_noise([84.0] * 480)
    assert quiet.twa == pytest.approx(84.0) and quiet.episodes == {}


def test_between_shifts_an_instant_belongs_to_no_shift() -> None:
    limits = load_limits().in_force("141029", date(2026, 11, 2))
    assert shift_of(datetime(2026, 11, 2, 7, 59, tzinfo=CHINA), limits) is None
    assert shift_of(datetime(2026, 11, 2, 16, 0, tzinfo=CHINA), limits) is None
    assert shift_of(datetime(2026, 11, 2, 15, 59, tzinfo=CHINA), limits).day == date(2026, 11, 2)  # type: ignore[union-attr]


def test_the_check_command_lists_the_limits_in_force() -> None:
    from typer.testing import CliRunner

    from services.monitoring.entrypoints.cli import app

    done = CliRunner().invoke(app, ["check", "--region-code", "141029"])
    assert done.exit_code == 0, done.output
    assert "CN 2019.1" in done.output and "苯" in done.output and "10" in done.output
    assert CliRunner().invoke(app, ["check", "--region-code", "999999"]).exit_code == 2  # no county code
