"""Sampling defaults are rule data: the packaged national file, an agency's own in $OHS_RULES_DIR/sampling/."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.sampling.adapters.rules import load_sampling_rules
from services.sampling.bootstrap import bootstrap
from services.sampling.domain.rules import industry_matches
from shared.migrations import upgrade
from shared.rule_data import RuleDataError
from shared.settings import settings_for
from tests.support import TEST_AUTH_SECRET, auth

LINFEN = {"kind": "sampling_defaults", "jurisdiction": "141000", "version": "2026.1", "effective_from": "2026-01-01",
          "provisional": False, "ratios": {"甲": "0.05", "乙": "0.15", "丙": "0.5"}, "minimums": {"丙": 2},
          "full_coverage_industries": [{"code_prefix": "B06", "name": "煤炭开采和洗选业"}], "jia_non_site": False,
          "inspectors_per_task": 3}


def test_the_packaged_national_defaults_are_provisional_and_name_the_full_coverage_industries() -> None:
    national = load_sampling_rules().in_force("141029", date(2026, 1, 1))
    assert (national.jurisdiction, national.provisional) == ("CN", True)
    assert national.ratios == {"甲": "0.03", "乙": "0.1", "丙": "0.3"}
    assert [i.code_prefix for i in national.full_coverage_industries] == ["C30", "C26"]


def test_an_agencys_own_file_wins_inside_its_jurisdiction_from_its_date(tmp_path: Path) -> None:
    (tmp_path / "sampling").mkdir()
    (tmp_path / "sampling" / "linfen.json").write_text(json.dumps(LINFEN, ensure_ascii=False), encoding="utf-8")
    rules = load_sampling_rules(tmp_path)
    assert rules.in_force("141029", date(2026, 4, 1)).jurisdiction == "141000"
    assert rules.in_force("141029", date(2025, 12, 31)).jurisdiction == "CN", "not before its effective date"
    assert rules.in_force("140105", date(2026, 4, 1)).jurisdiction == "CN", "not outside its jurisdiction"

    app = bootstrap(settings_for("sampling", data_dir=tmp_path, auth_secret=TEST_AUTH_SECRET, rules_dir=tmp_path), create_topics=False)
    upgrade("sampling", app.state.runtime.engine)

    async def no_broker() -> int:
        return 0

    app.state.runtime.relay.flush = no_broker
    plan = TestClient(app).post("/plans", json={"region_code": "141029", "period": "2026Q2"}, headers=auth("county")).json()
    assert plan["defaults_from"] == {"jurisdiction": "141000", "version": "2026.1", "effective_from": "2026-01-01", "provisional": False}
    assert (plan["ratios"]["丙"], plan["minimums"]["丙"], plan["inspectors_per_task"], plan["jia_non_site"]) == ("0.5", 2, 3, False)
    assert plan["full_coverage_industries"] == ["B06"]
    app.state.runtime.engine.dispose()


@pytest.mark.parametrize(("change", "problem"), [({"ratios": {"甲": "0.1"}}, "ratios"), ({"ratios": {"甲": 2, "乙": 0, "丙": 0}}, "ratios"),
                                                  ({"inspectors_per_task": 1}, "inspectors_per_task")])
def test_a_bad_rule_file_is_refused_naming_file_and_field(tmp_path: Path, change: dict, problem: str) -> None:
    (tmp_path / "sampling").mkdir()
    bad = tmp_path / "sampling" / "bad.json"
    bad.write_text(json.dumps({**LINFEN, **change}, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(RuleDataError, match=problem) as error:
        load_sampling_rules(tmp_path)
    assert "bad.json" in str(error.value)


@pytest.mark.parametrize(("codes", "matches"), [(["C3011"], True), (["3011"], True), (["C2614", "A0111"], True), (["C3399"], False),
                                                 ([], False), (["c30"], True), (["C1311"], False)])
def test_full_coverage_industries_match_by_code_prefix(codes: list[str], matches: bool) -> None:
    assert industry_matches(codes, ["C30", "C26"]) is matches
