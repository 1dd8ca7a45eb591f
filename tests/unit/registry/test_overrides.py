"""Overrides (RULES §5) as pure rules: upgrade bounds, ordering, the industry default (longest
prefix, highest wins), what a new report clears, the dispute steps."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.registry.adapters.rules import PACKAGED_INDUSTRY_DIR, load_industry_catalogues
from services.registry.domain import overrides as rules
from services.registry.domain.overrides import (
    ENFORCEMENT_UPGRADE,
    INDUSTRY_DEFAULT,
    DisputeStateError,
    NoIndustryMatch,
    Override,
    after_dispute,
    after_verification,
    effective_category,
    explain,
    industry_default,
    match_industry,
    raise_category,
    to_clear,
)
from shared.rule_data import RuleDataError

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def catalogue() -> rules.IndustryCatalogue:
    return load_industry_catalogues().in_force("141029", date(2026, 3, 1))


# --------------------------------------------------------------------------- upgrades


@pytest.mark.parametrize(
    ("category", "steps", "after"),
    [("甲", 1, "乙"), ("甲", 2, "丙"), ("乙", 1, "丙"), ("乙", 2, "丙"), ("丙", 1, "丙"), ("丙", 2, "丙")],
)
def test_an_upgrade_raises_by_its_steps_and_never_beyond_bing(category: str, steps: int, after: str) -> None:
    assert raise_category(category, steps) == after


@pytest.mark.parametrize("steps", [0, -1, 3])
def test_an_upgrade_is_one_or_two_steps(steps: int) -> None:
    with pytest.raises(ValueError, match="1 to 2 steps"):
        raise_category("甲", steps)


def test_only_a_category_is_raised() -> None:
    with pytest.raises(ValueError, match="not a category"):
        raise_category("丁", 1)


# --------------------------------------------------------------------------- ordering and the effective category


def upgrade(version: int, minutes: int, steps: int = 1, active: bool = True) -> Override:
    return Override(ENFORCEMENT_UPGRADE, version, T0 + timedelta(minutes=minutes), steps=steps, active=active)


def test_overrides_apply_in_the_order_recorded_whatever_order_they_are_given() -> None:
    industry = Override(INDUSTRY_DEFAULT, 1, T0, category="乙")
    later = upgrade(2, 10)
    assert effective_category(None, [later, industry]) == "丙"  # 乙 (industry), then one step
    assert [o.version for o in rules.ordered([later, industry])] == [1, 2]
    # a later industry default replaces what came before it (in practice it also clears the earlier entries)
    assert effective_category(None, [upgrade(1, 0), Override(INDUSTRY_DEFAULT, 0, T0 - timedelta(minutes=1), category="甲")]) == "乙"
    assert effective_category("甲", [Override(INDUSTRY_DEFAULT, 2, T0 + timedelta(minutes=5), category="乙"), upgrade(1, 0)]) == "乙"


def test_the_same_instant_is_ordered_by_archive_version() -> None:
    first, second = Override(INDUSTRY_DEFAULT, 3, T0, category="乙"), upgrade(4, 0)
    assert [o.version for o in rules.ordered([second, first])] == [3, 4]
    assert effective_category(None, [second, first]) == "丙"


def test_the_report_result_then_the_upgrades() -> None:
    assert effective_category("甲", []) == "甲"
    assert effective_category("甲", [upgrade(2, 0), upgrade(3, 5)]) == "丙"
    assert effective_category("甲", [upgrade(2, 0, steps=2), upgrade(3, 5)]) == "丙"  # bounded at 丙
    with pytest.raises(ValueError, match="needs a category"):
        effective_category(None, [upgrade(2, 0)])


def test_a_new_report_clears_the_earlier_upgrades() -> None:
    history = [upgrade(2, 0), upgrade(3, 5)]
    assert effective_category("甲", history) == "丙"
    cleared = to_clear(history)
    assert [o.version for o in cleared] == [2, 3], "every active override goes"
    after_new_report = [Override(o.kind, o.version, o.at, steps=o.steps, active=o not in cleared) for o in history]
    assert effective_category("乙", after_new_report) == "乙", "the new report starts from its own result"
    assert to_clear(after_new_report) == [], "nothing left to clear"
    # an upgrade recorded after the new report applies to it
    assert effective_category("乙", [*after_new_report, upgrade(5, 60)]) == "丙"


def test_the_explanation_reads_step_by_step() -> None:
    lines = explain("甲", "S-1", [upgrade(2, 0), upgrade(3, 5, active=False)])
    assert lines[0] == "评估报告 S-1 → 甲"
    assert lines[1].startswith("执法升级（档案版本 2）甲 → 乙")
    assert lines[-1] == "有效综合风险类别 乙" and len(lines) == 3, "a cleared upgrade is not applied"
    assert explain(None, None, [Override(INDUSTRY_DEFAULT, 1, T0, category="丙", label="no report")])[0] == "档案中没有评估报告"
    english = explain("甲", "S-1", [upgrade(2, 0), upgrade(3, 5, active=False)], "en")
    assert english[0] == "report S-1 → 甲 (category A, lowest risk)"
    assert english[1].startswith("enforcement upgrade (archive version 2) 甲 (category A, lowest risk) → 乙 (category B)")
    assert english[-1] == "effective category 乙 (category B)"


# --------------------------------------------------------------------------- the industry default


def test_the_packaged_catalogue_is_national_and_marks_only_c302_confirmed(catalogue: rules.IndustryCatalogue) -> None:
    assert (catalogue.jurisdiction, catalogue.kind) == ("CN", "industry_catalogue")
    confirmed = [e.code for e in catalogue.entries if not e.provisional]
    assert confirmed == ["C302"]
    natures = {e.code: e.nature for e in catalogue.entries}
    assert all(natures[c] == "严重" for c in ("B06", "B07", "B08", "B09", "B10", "C25", "C26", "C30", "C31", "C32", "C302"))
    assert all(natures[c] == "一般" for c in ("C13", "C14", "C18"))
    assert catalogue.category_for_nature == {"严重": "丙", "一般": "乙"}


def test_the_longest_prefix_matches(catalogue: rules.IndustryCatalogue) -> None:
    assert match_industry(catalogue.entries, "C3021").code == "C302"  # type: ignore[union-attr]
    assert match_industry(catalogue.entries, "C3011").code == "C30"  # type: ignore[union-attr]
    assert match_industry(catalogue.entries, "C30").code == "C30"  # type: ignore[union-attr]
    assert match_industry(catalogue.entries, "C3") is None, "an employer code shorter than every entry matches none"
    assert match_industry(catalogue.entries, "C3911") is None


def test_a_confirmed_entry_is_not_provisional(catalogue: rules.IndustryCatalogue) -> None:
    result = industry_default(catalogue, ["C3021"])
    assert (result.category, result.nature, result.provisional) == ("丙", "严重", False)
    assert [m.entry.code for m in result.matches] == ["C302"]
    assert "C3021 → C302 石膏、水泥制品及类似制品制造：严重" in [entry.detail for entry in result.trace]
    assert "C3021 → C302 石膏、水泥制品及类似制品制造: 严重 (serious)" in [entry.text("en") for entry in result.trace]


def test_a_yiban_industry_gives_yi(catalogue: rules.IndustryCatalogue) -> None:
    result = industry_default(catalogue, ["C1391"])
    assert (result.category, result.nature, result.provisional) == ("乙", "一般", True)
    assert any(entry.rule == rules.RULE_PROVISIONAL for entry in result.trace)


def test_several_industries_take_the_higher(catalogue: rules.IndustryCatalogue) -> None:
    result = industry_default(catalogue, ["C1391", "C2614", "C1810"])
    assert (result.category, result.nature) == ("丙", "严重")
    details = [entry.detail for entry in result.trace]
    assert "共 3 个行业：以最高的 严重（C26）为准" in details
    assert details[-2].startswith("严重行业 → 丙")
    assert [entry.text("en") for entry in result.trace][-2].startswith("严重 (serious) industry → 丙 (category C, highest risk)")
    assert industry_default(catalogue, ["C1391", "C1810"]).category == "乙"


def test_unknown_industries_are_named_and_none_known_is_refused(catalogue: rules.IndustryCatalogue) -> None:
    result = industry_default(catalogue, ["C3911", "B0610"])
    assert result.unmatched == ("C3911",) and result.category == "丙"
    assert result.trace[0].detail == "C3911：不在行业目录 CN 2021.1 中" and result.trace[0].code == "registry.industry.trace.unmatched"
    with pytest.raises(NoIndustryMatch, match="C3911, F5111") as none_known:
        industry_default(catalogue, ["C3911", "F5111"])
    assert none_known.value.text().startswith("行业代码 C3911、F5111 均不在行业目录 CN 2021.1 中")
    with pytest.raises(NoIndustryMatch, match="no industry codes"):
        industry_default(catalogue, [])


def test_an_agency_file_is_validated_and_may_replace_the_packaged_one(tmp_path: Path) -> None:
    folder = tmp_path / "industries"
    folder.mkdir()
    packaged = json.loads((PACKAGED_INDUSTRY_DIR / "industries-2021.json").read_text(encoding="utf-8"))
    local = {**packaged, "jurisdiction": "140000", "version": "2026.1", "effective_from": "2026-01-01",
             "entries": [{"code": "C30", "name": "非金属矿物制品业", "nature": "一般", "provisional": False}]}
    (folder / "shanxi.json").write_text(json.dumps(local, ensure_ascii=False), encoding="utf-8")
    catalogues = load_industry_catalogues(tmp_path)
    assert catalogues.in_force("141029", date(2026, 3, 1)).version == "2026.1"  # the province is more specific
    assert catalogues.in_force("141029", date(2025, 3, 1)).version == "2021.1"  # not yet in force
    assert catalogues.in_force("110101", date(2026, 3, 1)).version == "2021.1"  # another province
    local["entries"] = [*local["entries"], local["entries"][0]]
    (folder / "shanxi.json").write_text(json.dumps(local, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(RuleDataError, match="C30 listed more than once"):
        load_industry_catalogues(tmp_path)


# --------------------------------------------------------------------------- disputes


def test_the_dispute_steps() -> None:
    assert after_dispute(None, has_report=True) == "disputed"
    assert after_verification("disputed", resubmission_requested=False) == "verified"
    assert after_dispute("verified", has_report=True) == "disputed", "a verified report may be disputed again"
    assert after_verification("disputed", resubmission_requested=True) == "resubmission_requested"
    assert rules.DISPUTE_LABELS["resubmission_requested"] == "已要求重新提交"
    assert rules.dispute_label("resubmission_requested", "en") == "resubmission requested" and rules.dispute_label(None) == "无异议"


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (lambda: after_dispute(None, has_report=False), "no report to dispute"),
        (lambda: after_dispute("disputed", has_report=True), "already disputed"),
        (lambda: after_dispute("resubmission_requested", has_report=True), "resubmission is already requested"),
        (lambda: after_verification(None, resubmission_requested=True), "only a disputed report"),
        (lambda: after_verification("verified", resubmission_requested=False), "only a disputed report"),
    ],
)
def test_a_step_out_of_turn_is_refused(step, message: str) -> None:  # noqa: ANN001
    with pytest.raises(DisputeStateError, match=message):
        step()
