"""The classification: 附表1-1 cells, 附件2 bands, 附件3 matrix, nature sources, rejections, trace."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from services.assessment.domain.classifier import Classified, Rejected, classify
from services.assessment.domain.rules import RuleBook, RuleSet
from shared.contracts import Report
from tests.examples import EXAMPLE_REPORT



@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleBook().for_region("141029", date(2023, 6, 1))


def make_report(hazards: list[dict[str, Any]], score: float = 82.5) -> Report:
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["enterprise"]["employees"] = 500
    data["hazards"] = hazards
    data["self_check"] = {"score": score}
    return Report.model_validate(data)


def hazard(factor: str, exposed: int, compliant: bool, **extra: Any) -> dict[str, Any]:
    return {"factor": factor, "exposed": exposed, "compliant": compliant, **extra}


def classified(outcome: object) -> Classified:
    assert isinstance(outcome, Classified), outcome
    return outcome


def trace_text(outcome: Classified) -> str:
    return "\n".join(f"{entry.rule}: {entry.detail}" for entry in outcome.trace)


# --------------------------------------------------------------------------- 附件1 附表1-1, all 12 cells

SERIOUS, GENERAL = "苯", "噪声"  # catalogue 严重 / 一般


@pytest.mark.parametrize(
    ("factor", "nature", "compliant", "exposed", "band", "grade"),
    [
        (GENERAL, "一般", True, 5, "≤9", "Ⅰ"),
        (GENERAL, "一般", True, 30, "10–49", "Ⅰ"),
        (GENERAL, "一般", True, 80, "≥50", "Ⅰ"),
        (GENERAL, "一般", False, 5, "≤9", "Ⅱ"),
        (GENERAL, "一般", False, 30, "10–49", "Ⅱ"),
        (GENERAL, "一般", False, 80, "≥50", "Ⅲ"),
        (SERIOUS, "严重", True, 5, "≤9", "Ⅱ"),
        (SERIOUS, "严重", True, 30, "10–49", "Ⅱ"),
        (SERIOUS, "严重", True, 80, "≥50", "Ⅲ"),
        (SERIOUS, "严重", False, 5, "≤9", "Ⅲ"),
        (SERIOUS, "严重", False, 30, "10–49", "Ⅲ"),
        (SERIOUS, "严重", False, 80, "≥50", "Ⅲ"),
    ],
)
def test_hazard_grading_table(rules: RuleSet, factor: str, nature: str, compliant: bool, exposed: int, band: str, grade: str) -> None:
    outcome = classified(classify(make_report([hazard(factor, exposed, compliant)]), rules))
    [factor_grade] = outcome.factors
    assert (factor_grade.nature, factor_grade.headcount_band, factor_grade.grade) == (nature, band, grade)
    assert outcome.hazard_grade == grade
    exposure = "符合" if compliant else "不符合"
    assert f"{nature} × {exposure} × {band} → {grade}" in trace_text(outcome)


@pytest.mark.parametrize(("exposed", "band"), [(0, "≤9"), (9, "≤9"), (10, "10–49"), (49, "10–49"), (50, "≥50")])
def test_headcount_band_boundaries(rules: RuleSet, exposed: int, band: str) -> None:
    outcome = classified(classify(make_report([hazard(GENERAL, exposed, True)]), rules))
    assert outcome.factors[0].headcount_band == band


# --------------------------------------------------------------------------- 附件2 bands


@pytest.mark.parametrize(
    ("score", "grade", "band_text"),
    [(0, "C", "C band 0–69.9"), (69.9, "C", "C band 0–69.9"), (70, "B", "B band 70–89.9"), (89.9, "B", "B band 70–89.9"), (90, "A", "A band 90–100"), (100, "A", "A band 90–100")],
)
def test_management_bands(rules: RuleSet, score: float, grade: str, band_text: str) -> None:
    outcome = classified(classify(make_report([hazard(GENERAL, 5, True)], score=score), rules))
    assert outcome.management_grade == grade
    assert outcome.score == score
    assert band_text in trace_text(outcome)


# --------------------------------------------------------------------------- 附件3 matrix, all 9 cells

# A single hazard reaching each grade: (factor, exposed, compliant).
HAZARD_FOR_GRADE = {"Ⅰ": (GENERAL, 5, True), "Ⅱ": (GENERAL, 5, False), "Ⅲ": (SERIOUS, 5, False)}
SCORE_FOR_GRADE = {"A": 95.0, "B": 80.0, "C": 50.0}


@pytest.mark.parametrize(
    ("hazard_grade", "management_grade", "category"),
    [
        ("Ⅰ", "A", "甲"), ("Ⅰ", "B", "甲"), ("Ⅰ", "C", "乙"),
        ("Ⅱ", "A", "甲"), ("Ⅱ", "B", "乙"), ("Ⅱ", "C", "丙"),
        ("Ⅲ", "A", "乙"), ("Ⅲ", "B", "丙"), ("Ⅲ", "C", "丙"),
    ],
)
def test_category_matrix(rules: RuleSet, hazard_grade: str, management_grade: str, category: str) -> None:
    report = make_report([hazard(*HAZARD_FOR_GRADE[hazard_grade])], score=SCORE_FOR_GRADE[management_grade])
    outcome = classified(classify(report, rules))
    assert (outcome.hazard_grade, outcome.management_grade, outcome.category) == (hazard_grade, management_grade, category)
    assert f"{hazard_grade} × {management_grade} → {category}" in trace_text(outcome)


# --------------------------------------------------------------------------- nature sources


def test_catalogue_overrules_declared_nature(rules: RuleSet) -> None:
    outcome = classified(classify(make_report([hazard("噪声", 30, False, nature="严重")]), rules))
    [noise] = outcome.factors
    assert (noise.nature, noise.nature_source, noise.grade) == ("一般", "catalogue", "Ⅱ")
    assert "噪声: declared 严重, catalogue says 一般; catalogue applies" in trace_text(outcome)


def test_free_silica_at_threshold_makes_any_dust_serious(rules: RuleSet) -> None:
    outcome = classified(classify(make_report([hazard("其他粉尘", 30, True, free_silica_percent=12)]), rules))
    [dust] = outcome.factors
    assert (dust.nature, dust.nature_source, dust.grade) == ("严重", "free_silica", "Ⅱ")
    assert "12% ≥ 10%" in trace_text(outcome)


def test_free_silica_below_threshold_keeps_catalogue_nature(rules: RuleSet) -> None:
    outcome = classified(classify(make_report([hazard("其他粉尘", 30, True, free_silica_percent=9.9)]), rules))
    assert (outcome.factors[0].nature, outcome.factors[0].nature_source) == ("一般", "catalogue")


def test_free_silica_settles_an_uncatalogued_dust_without_declared_nature(rules: RuleSet) -> None:
    outcome = classified(classify(make_report([hazard("石英砂粉尘", 5, True, free_silica_percent=10)]), rules))
    assert (outcome.factors[0].nature, outcome.factors[0].nature_source) == ("严重", "free_silica")


def test_unknown_factor_without_nature_is_rejected_naming_the_field(rules: RuleSet) -> None:
    report = make_report([hazard("噪声", 5, True), hazard("某新型溶剂", 5, True)])
    outcome = classify(report, rules)
    assert isinstance(outcome, Rejected)
    [reason] = outcome.reasons
    assert "hazards[1].factor" in reason and "某新型溶剂" in reason
    assert "hazards[1].nature must be declared" in reason


def test_every_undeclared_unknown_factor_is_reported(rules: RuleSet) -> None:
    outcome = classify(make_report([hazard("未知甲", 5, True), hazard("未知乙", 5, True)]), rules)
    assert isinstance(outcome, Rejected)
    assert [r.split(":")[0] for r in outcome.reasons] == ["hazards[0].factor", "hazards[1].factor"]


def test_unknown_factor_with_declared_nature_uses_it(rules: RuleSet) -> None:
    outcome = classified(classify(make_report([hazard("某新型溶剂", 30, True, nature="严重")]), rules))
    [factor] = outcome.factors
    assert (factor.nature, factor.nature_source, factor.grade) == ("严重", "declared", "Ⅱ")
    assert "declared 严重 applies" in trace_text(outcome)


# --------------------------------------------------------------------------- aggregation


def test_employer_takes_highest_grade_and_first_listed_decides_a_tie(rules: RuleSet) -> None:
    report = make_report([hazard("噪声", 5, True), hazard("苯", 5, False), hazard("甲醛", 80, True), hazard("高温", 5, False)])
    outcome = classified(classify(report, rules))
    assert [f.grade for f in outcome.factors] == ["Ⅰ", "Ⅲ", "Ⅲ", "Ⅱ"]
    assert outcome.hazard_grade == "Ⅲ"
    assert "deciding factor 苯 (hazards[1])" in trace_text(outcome)


# --------------------------------------------------------------------------- the example report


def test_example_report_is_category_bing(rules: RuleSet) -> None:
    outcome = classified(classify(Report.model_validate(EXAMPLE_REPORT), rules))
    assert (outcome.hazard_grade, outcome.management_grade, outcome.score, outcome.category) == ("Ⅲ", "B", 82.5, "丙")
    silica = outcome.factors[0]
    assert (silica.factor, silica.nature, silica.exposed, silica.compliant, silica.headcount_band, silica.grade) == ("矽尘", "严重", 24, False, "10–49", "Ⅲ")
    assert outcome.rule_set == rules.ref()
    text = trace_text(outcome)
    for expected in ("矽尘", "Ⅲ", "B", "丙", "CN", "2022.1", "2022-11-01", "附表1-1", "严重 × 不符合 × 10–49 → Ⅲ", "deciding factor 矽尘", "82.5 in B band 70–89.9", "Ⅲ × B → 丙"):
        assert expected in text, expected


def test_trace_notes_every_provisional_table_used(rules: RuleSet) -> None:
    outcome = classified(classify(Report.model_validate(EXAMPLE_REPORT), rules))
    notes = [entry.detail for entry in outcome.trace if entry.rule == "provisional"]
    assert sorted(note.split(" ")[0] for note in notes) == sorted(rules.provisional_tables())
    assert outcome.rule_set.provisional is True
