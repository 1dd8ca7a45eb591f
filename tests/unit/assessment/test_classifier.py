"""The classification: 附表1-1 cells, test validity, 附件2 bands, 附件3 matrix, nature sources, rejections, trace."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.assessment.domain.classifier import Classified, Rejected, classify, exposure_test_status, months_before
from services.assessment.adapters.rules import PACKAGED_RULES_DIR, load_rule_book, load_rule_set
from services.assessment.domain.rules import RuleSet
from shared.contracts import Report
from tests.examples import EXAMPLE_REPORT



@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rule_book().for_region("141029", date(2023, 6, 1))


ASSESSED_ON = date(2023, 6, 1)  # the example report's assessed_on
RECENT_TEST = "2023-05-10"  # valid under any interval


def make_report(hazards: list[dict[str, Any]], score: float = 82.5, assessed_on: date = ASSESSED_ON) -> Report:
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["enterprise"]["employees"] = 500
    data["assessed_on"] = assessed_on.isoformat()
    data["hazards"] = hazards
    data["self_check"] = {"score": score}
    return Report.model_validate(data)


def hazard(factor: str, exposed: int, compliant: bool, **extra: Any) -> dict[str, Any]:
    """A hazard tested recently (valid) unless ``tested_on`` is given (None: never tested)."""
    return {"factor": factor, "exposed": exposed, "compliant": compliant, "tested_on": RECENT_TEST, **extra}


def classified(outcome: object) -> Classified:
    assert isinstance(outcome, Classified), outcome
    return outcome


def trace_text(outcome: Classified, locale: str = "zh_CN") -> str:
    """The trace as a supervisor reads it: Chinese (the ``detail`` written at classification), or English on request."""
    return "\n".join(f"{entry.rule}: {entry.detail if locale == 'zh_CN' else entry.text(locale)}" for entry in outcome.trace)


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
    [(0, "C", "C档（0–69.9分）"), (69.9, "C", "C档（0–69.9分）"), (70, "B", "B档（70–89.9分）"), (89.9, "B", "B档（70–89.9分）"),
     (90, "A", "A档（90–100分）"), (100, "A", "A档（90–100分）")],
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
    assert "噪声：申报性质为严重，危害因素目录为一般；以目录为准" in trace_text(outcome)
    assert "噪声 (noise): declared 严重 (serious), the catalogue says 一般 (ordinary); the catalogue applies" in trace_text(outcome, "en")


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
    assert reason.startswith("hazards[1].factor：") and "某新型溶剂" in reason
    assert "须在 hazards[1].nature 申报其性质" in reason
    [message] = outcome.messages
    assert (message.code, message.params["field"], message.params["nature_field"]) == (
        "assessment.reject.factor_not_catalogued", "hazards[1].factor", "hazards[1].nature")
    assert "hazards[1].nature must be declared" in message.text("en")


def test_every_undeclared_unknown_factor_is_reported(rules: RuleSet) -> None:
    outcome = classify(make_report([hazard("未知甲", 5, True), hazard("未知乙", 5, True)]), rules)
    assert isinstance(outcome, Rejected)
    assert [r.split("：")[0] for r in outcome.reasons] == ["hazards[0].factor", "hazards[1].factor"]


def test_unknown_factor_with_declared_nature_uses_it(rules: RuleSet) -> None:
    outcome = classified(classify(make_report([hazard("某新型溶剂", 30, True, nature="严重")]), rules))
    [factor] = outcome.factors
    assert (factor.nature, factor.nature_source, factor.grade) == ("严重", "declared", "Ⅱ")
    assert "未列入危害因素目录，按申报性质严重认定" in trace_text(outcome)


# --------------------------------------------------------------------------- aggregation


def test_employer_takes_highest_grade_and_first_listed_decides_a_tie(rules: RuleSet) -> None:
    report = make_report([hazard("噪声", 5, True), hazard("苯", 5, False), hazard("甲醛", 80, True), hazard("高温", 5, False)])
    outcome = classified(classify(report, rules))
    assert [f.grade for f in outcome.factors] == ["Ⅰ", "Ⅲ", "Ⅲ", "Ⅱ"]
    assert outcome.hazard_grade == "Ⅲ"
    assert "由危害因素苯（hazards[1]）决定" in trace_text(outcome)


# --------------------------------------------------------------------------- the example report


def test_example_report_is_category_bing(rules: RuleSet) -> None:
    outcome = classified(classify(Report.model_validate(EXAMPLE_REPORT), rules))
    assert (outcome.hazard_grade, outcome.management_grade, outcome.score, outcome.category) == ("Ⅲ", "B", 82.5, "丙")
    silica = outcome.factors[0]
    assert (silica.factor, silica.nature, silica.exposed, silica.compliant, silica.headcount_band, silica.grade) == ("矽尘", "严重", 24, False, "10–49", "Ⅲ")
    assert outcome.rule_set == rules.ref()
    text = trace_text(outcome)
    for expected in ("矽尘", "Ⅲ", "B", "丙", "CN", "2022.1", "2022年11月1日", "附表1-1", "严重 × 不符合 × 10–49 → Ⅲ", "由危害因素矽尘", "82.5，在B档（70–89.9分）",
                     "Ⅲ × B → 丙"):
        assert expected in text, expected
    english = trace_text(outcome, "en")
    for expected in ("2022-11-01", "deciding factor 矽尘 (silica dust)", "82.5 in B band 70–89.9", "Ⅲ × B → 丙 (category C, highest risk)"):
        assert expected in english, expected


def test_example_report_tests_are_valid(rules: RuleSet) -> None:
    outcome = classified(classify(Report.model_validate(EXAMPLE_REPORT), rules))
    assert [(f.test_status, f.declared_compliant, f.compliant) for f in outcome.factors] == [("valid", False, False), ("valid", True, True)]
    assert (outcome.score_source, outcome.lost_points) == ("stated", [])
    assert "用人单位有严重危害因素：评估日2023年6月1日前12个月内（即2022年6月1日及以后）的检测结果有效" in trace_text(outcome)
    assert ("严重 (serious) employer (has a 严重 (serious) factor): a test counts when taken within 12 months before 2023-06-01, "
            "on or after 2022-06-01") in trace_text(outcome, "en")


def provisional_notes(outcome: Classified) -> list[str]:
    return sorted(entry.params["table"] for entry in outcome.trace if entry.rule == "暂行规定")


def test_trace_notes_every_provisional_table_used(rules: RuleSet) -> None:
    outcome = classified(classify(Report.model_validate(EXAMPLE_REPORT), rules))
    assert provisional_notes(outcome) == sorted(set(rules.provisional_tables()) - {"self_check_checklist"})  # score stated
    assert outcome.rule_set.provisional is True


def test_trace_notes_the_checklist_when_it_computes_the_score(rules: RuleSet) -> None:
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["self_check"] = {"items": {item.id: item.points for item in rules.self_check_checklist.items()}}
    outcome = classified(classify(Report.model_validate(data), rules))
    assert provisional_notes(outcome) == sorted(rules.provisional_tables())


# --------------------------------------------------------------------------- 附件1 test validity


def factor_of(outcome: object) -> Any:
    [factor] = classified(outcome).factors
    return factor


def test_never_tested_factor_is_graded_non_compliant(rules: RuleSet) -> None:
    outcome = classified(classify(make_report([hazard("噪声", 5, True, tested_on=None)]), rules))
    [noise] = outcome.factors
    assert (noise.test_status, noise.declared_compliant, noise.compliant, noise.grade) == ("missing", True, False, "Ⅱ")
    assert "噪声：无检测结果（未填写检测日期）→ 按不符合分级（申报为符合）" in trace_text(outcome)


def test_expired_test_is_graded_non_compliant_with_the_reason(rules: RuleSet) -> None:
    outcome = classified(classify(make_report([hazard("矽尘", 24, True, tested_on="2021-05-10")]), rules))
    [silica] = outcome.factors
    assert (silica.test_status, silica.declared_compliant, silica.compliant, silica.grade) == ("expired", True, False, "Ⅲ")
    assert "矽尘：检测日期2021年5月10日早于评估日2023年6月1日前12个月（严重用人单位）→ 按不符合分级" in trace_text(outcome)


@pytest.mark.parametrize(("tested_on", "status"), [("2022-06-01", "valid"), ("2022-05-31", "expired")])
def test_a_test_exactly_twelve_months_old_is_valid(rules: RuleSet, tested_on: str, status: str) -> None:
    assert factor_of(classify(make_report([hazard("苯", 5, True, tested_on=tested_on)]), rules)).test_status == status


def test_one_serious_factor_puts_every_factor_on_the_yearly_interval(rules: RuleSet) -> None:
    outcome = classified(classify(make_report([hazard("苯", 5, True), hazard("噪声", 5, True, tested_on="2021-12-01")]), rules))
    assert [f.test_status for f in outcome.factors] == ["valid", "expired"]
    assert "噪声：检测日期2021年12月1日早于评估日2023年6月1日前12个月（严重用人单位）" in trace_text(outcome)


def test_general_only_employer_keeps_a_thirty_month_old_test(rules: RuleSet) -> None:
    outcome = classified(classify(make_report([hazard("噪声", 5, True, tested_on="2020-12-01"), hazard("高温", 5, True)]), rules))
    assert [(f.test_status, f.compliant, f.grade) for f in outcome.factors] == [("valid", True, "Ⅰ"), ("valid", True, "Ⅰ")]
    assert "噪声：检测日期2020年12月1日在评估日2023年6月1日前36个月内（一般用人单位）→ 接触水平按申报认定（符合）" in trace_text(outcome)


def test_general_only_employer_test_older_than_three_years_expires(rules: RuleSet) -> None:
    assert factor_of(classify(make_report([hazard("噪声", 5, True, tested_on="2020-05-31")]), rules)).test_status == "expired"
    assert factor_of(classify(make_report([hazard("噪声", 5, True, tested_on="2020-06-01")]), rules)).test_status == "valid"


def test_declared_serious_uncatalogued_factor_makes_a_serious_employer(rules: RuleSet) -> None:
    report = make_report([hazard("某新型溶剂", 5, True, nature="严重"), hazard("噪声", 5, True, tested_on="2021-12-01")])
    assert [f.test_status for f in classified(classify(report, rules)).factors] == ["valid", "expired"]


def test_disabled_test_validity_takes_exposure_as_declared(tmp_path: Path) -> None:
    data = json.loads((PACKAGED_RULES_DIR / "national-2022.json").read_text(encoding="utf-8"))
    data["test_validity"]["enabled"] = False
    path = tmp_path / "no-validity.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    outcome = classified(classify(make_report([hazard("矽尘", 24, True, tested_on=None)]), load_rule_set(path)))
    [silica] = outcome.factors
    assert (silica.test_status, silica.declared_compliant, silica.compliant, silica.grade) == ("not_checked", True, True, "Ⅱ")
    assert "规则集未启用检测周期核查" in trace_text(outcome)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [(date(2023, 6, 1), 12, date(2022, 6, 1)), (date(2024, 2, 29), 12, date(2023, 2, 28)), (date(2023, 3, 31), 1, date(2023, 2, 28)), (date(2023, 1, 15), 36, date(2020, 1, 15)), (date(2023, 1, 15), 1, date(2022, 12, 15))],
)
def test_months_before_counts_calendar_months(day: date, months: int, expected: date) -> None:
    assert months_before(day, months) == expected


def test_exposure_test_status() -> None:
    earliest = date(2022, 6, 1)
    assert exposure_test_status(None, None) == "not_checked"
    assert exposure_test_status(date(2000, 1, 1), None) == "not_checked"
    assert exposure_test_status(None, earliest) == "missing"
    assert exposure_test_status(date(2022, 5, 31), earliest) == "expired"
    assert exposure_test_status(earliest, earliest) == "valid"


# --------------------------------------------------------------------------- the models the classifier builds without validating


def test_model_maker_builds_what_the_validating_constructor_builds() -> None:
    from pydantic import BaseModel, PrivateAttr

    from services.assessment.domain.classifier import model_maker
    from shared.contracts import FactorGrade, RuleSetRef, TraceEntry

    values = [
        (TraceEntry, {"rule": "附件3 综合风险类别", "detail": "职业病危害风险等级 × 职业卫生管理状况等级：Ⅲ × B → 丙", "code": "assessment.trace.matrix",
                      "params": {"hazard": "Ⅲ", "management": "B", "category": "丙"}}),
        (FactorGrade, {"factor": "矽尘", "nature": "严重", "nature_source": "catalogue", "compliant": False, "declared_compliant": True,
                       "test_status": "expired", "exposed": 24, "headcount_band": "10–49", "grade": "Ⅲ"}),
        (RuleSetRef, {"jurisdiction": "CN", "version": "2022.1", "effective_from": date(2022, 11, 1), "provisional": True}),
    ]
    for model, fields in values:
        made, validated = model_maker(model)(dict(fields)), model(**fields)
        assert type(made) is model and made == validated and validated == made
        assert repr(made) == repr(validated) and made.model_dump() == validated.model_dump()
        assert made.model_dump_json() == validated.model_dump_json() and made.model_fields_set == validated.model_fields_set
        assert made.model_copy() == validated and made.__pydantic_extra__ is None and made.__pydantic_private__ is None

    class WithPrivate(BaseModel):
        name: str
        _cache: dict = PrivateAttr(default_factory=dict)

    with pytest.raises(TypeError, match="plain models"):
        model_maker(WithPrivate)
