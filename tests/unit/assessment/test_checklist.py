"""附件2 self-check checklist: golden scores, n/a rescaling, half-up rounding, stated-score checks, rejections, veto."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from services.assessment.domain.checklist import checklist_problems, round_half_up, score_checklist
from services.assessment.domain.classifier import Classified, Outcome, Rejected, classify
from services.assessment.adapters.rules import PACKAGED_RULES_DIR, load_rule_book, load_rule_set
from services.assessment.domain.rules import RuleSet
from shared.contracts import LostPoints, Report
from tests.examples import EXAMPLE_REPORT


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rule_book().for_region("141029", date(2023, 6, 1))


def full_marks(rules: RuleSet) -> dict[str, Any]:
    return {item.id: item.points for item in rules.self_check_checklist.items()}


def answers(rules: RuleSet, **changes: Any) -> dict[str, Any]:
    """Full marks, with changes keyed like item_2_2="n/a" (for item 2.2)."""
    result = full_marks(rules)
    for key, value in changes.items():
        result[key.removeprefix("item_").replace("_", ".")] = value
    return result


def report_with(items: dict[str, Any] | None = None, score: float | None = None, hazards: list[dict[str, Any]] | None = None) -> Report:
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["self_check"] = {key: value for key, value in (("items", items), ("score", score)) if value is not None}
    if hazards is not None:
        data["hazards"] = hazards
    return Report.model_validate(data)


def classified(outcome: Outcome) -> Classified:
    assert isinstance(outcome, Classified), outcome
    return outcome


def rejected(outcome: Outcome) -> list[str]:
    assert isinstance(outcome, Rejected), outcome
    return outcome.reasons


def trace_text(outcome: Classified, locale: str = "zh_CN") -> str:
    """The trace as a supervisor reads it: Chinese (the ``detail`` written at classification), or English on request."""
    return "\n".join(f"{entry.rule}: {entry.detail if locale == 'zh_CN' else entry.text(locale)}" for entry in outcome.trace)


NOISE_ONLY = [{"factor": "噪声", "exposed": 5, "compliant": True, "tested_on": "2023-05-10"}]  # Ⅰ


# --------------------------------------------------------------------------- golden scores


def test_all_full_marks_score_100_grade_a(rules: RuleSet) -> None:
    outcome = classified(classify(report_with(full_marks(rules), hazards=NOISE_ONLY), rules))
    assert (outcome.score, outcome.score_source, outcome.management_grade, outcome.category) == (100.0, "computed", "A", "甲")
    assert outcome.lost_points == []
    text = trace_text(outcome)
    assert "所有适用项目均得满分" in text
    assert "适用项目满分合计100，实得100 → 得分100/100 × 100 = 100.0" in text
    assert "applicable total 100, earned 100 → score 100/100 × 100 = 100.0" in trace_text(outcome, "en")


def test_lost_points_give_the_exact_score_and_are_listed(rules: RuleSet) -> None:
    items = answers(rules, item_1_1=2, item_5_1=4, item_7_1=0)  # lost 2 + 3 + 8 = 13
    outcome = classified(classify(report_with(items), rules))
    assert (outcome.score, outcome.management_grade, outcome.category) == (87.0, "B", "丙")
    assert [(lost.item, lost.earned, lost.points) for lost in outcome.lost_points] == [("1.1", 2, 4), ("5.1", 4, 7), ("7.1", 0, 8)]
    assert outcome.lost_points[0] == LostPoints(item="1.1", title=rules.self_check_checklist.item("1.1").title, earned=2, points=4)  # type: ignore[union-attr]
    text = trace_text(outcome)
    assert "7.1 组织上岗前、在岗期间和离岗时职业健康检查：得0分（满分8分），失8分" in text
    assert "适用项目满分合计100，实得87 → 得分87/100 × 100 = 87.0" in text
    assert "7.1 组织上岗前、在岗期间和离岗时职业健康检查: earned 0/8, lost 8" in trace_text(outcome, "en")


def test_not_applicable_items_leave_both_sides(rules: RuleSet) -> None:
    outcome = classified(classify(report_with(answers(rules, item_2_2="n/a", item_8_1="n/a"), hazards=NOISE_ONLY), rules))
    assert (outcome.score, outcome.management_grade, outcome.lost_points) == (100.0, "A", [])
    text = trace_text(outcome)
    assert "2.2 建设项目职业病防护设施“三同时”：不适用，应得分与实得分同时扣除3分" in text
    assert "8.1" in text and "同时扣除6分" in text
    assert "适用项目满分合计91，实得91" in text


def test_not_applicable_rescales_lost_points(rules: RuleSet) -> None:
    outcome = classified(classify(report_with(answers(rules, item_2_2="n/a", item_8_1="n/a", item_1_1=2)), rules))
    assert outcome.score == 97.8  # 89 / 91 × 100 = 97.80…
    assert [lost.item for lost in outcome.lost_points] == ["1.1"]  # n/a is not lost
    assert "适用项目满分合计91，实得89 → 得分89/91 × 100 = 97.8" in trace_text(outcome)


@pytest.mark.parametrize(
    ("changes", "score", "grade"),
    [
        ({"item_1_1": 3.75, "item_5_1": 2.5, "item_7_1": 0}, 87.3, "B"),  # 87.25: half-up (round() would give 87.2)
        ({"item_7_1": 0, "item_5_1": 4.95}, 90.0, "A"),  # 89.95 rounds up into A
        ({"item_7_1": 0, "item_5_1": 4.94}, 89.9, "B"),  # 89.94
        ({"item_7_1": 0, "item_5_1": 0, "item_5_2": 0, "item_1_1": 0, "item_1_3": 0, "item_1_2": 2.95}, 70.0, "B"),  # 69.95 rounds up into B
        ({"item_7_1": 0, "item_5_1": 0, "item_5_2": 0, "item_1_1": 0, "item_1_3": 0, "item_1_2": 2.94}, 69.9, "C"),  # 69.94
    ],
)
def test_half_up_rounding_at_the_boundaries(rules: RuleSet, changes: dict[str, float], score: float, grade: str) -> None:
    outcome = classified(classify(report_with(answers(rules, **changes)), rules))
    assert (outcome.score, outcome.management_grade) == (score, grade)


@pytest.mark.parametrize(
    ("value", "rounded"),
    [("87.25", "87.3"), ("86.65", "86.7"), ("0.05", "0.1"), ("97.849999", "97.8"), ("99.95", "100.0"), ("100", "100.0")],
)
def test_round_half_up(value: str, rounded: str) -> None:
    assert round_half_up(Decimal(value)) == Decimal(rounded)


# n/a: 7.1 (8) 5.1 (7) 5.2 (7) 6.2 (6) 8.1 (6) 4.1 (6) 2.1 (5) 2.2 (3) 1.6 (2) = 50 → applicable 50, score = earned × 2
HALF_NOT_APPLICABLE = {f"item_{item}": "n/a" for item in ("7_1", "5_1", "5_2", "6_2", "8_1", "4_1", "2_1", "2_2", "1_6")}


@pytest.mark.parametrize(
    ("earned_1_1", "exact", "score"),
    [(1.225, "94.45", "94.5"), (1.275, "94.55", "94.6"), (1.22, "94.44", "94.4")],  # 94.45 → 94.5: half-up, not half-even (94.4)
)
def test_rescaled_score_rounds_half_up(rules: RuleSet, earned_1_1: float, exact: str, score: str) -> None:
    result = score_checklist(answers(rules, **HALF_NOT_APPLICABLE, item_1_1=earned_1_1), rules.self_check_checklist)
    assert (result.applicable, result.exact, result.score) == (50, Decimal(exact), Decimal(score))
    assert [item.id for item in result.not_applicable] == ["1.6", "2.1", "2.2", "4.1", "5.1", "5.2", "6.2", "7.1", "8.1"]


# --------------------------------------------------------------------------- the stated score


@pytest.mark.parametrize("stated", [97.8, 97.85, 97.75])
def test_stated_score_within_005_is_accepted_and_the_computed_one_applies(rules: RuleSet, stated: float) -> None:
    outcome = classified(classify(report_with(answers(rules, item_2_2="n/a", item_8_1="n/a", item_1_1=2), score=stated), rules))
    assert (outcome.score, outcome.score_source) == (97.8, "computed")
    assert f"填报得分{stated:g}与计算得分97.8相符" in trace_text(outcome)


@pytest.mark.parametrize("stated", [97.86, 97.74, 82.5])
def test_stated_score_off_by_more_than_005_is_rejected_quoting_both(rules: RuleSet, stated: float) -> None:
    [reason] = rejected(classify(report_with(answers(rules, item_2_2="n/a", item_8_1="n/a", item_1_1=2), score=stated), rules))
    assert reason.startswith("self_check.score：")
    assert f"{stated:g}" in reason and "97.8" in reason and "0.05" in reason


def test_stated_score_alone_is_used_as_stated(rules: RuleSet) -> None:
    outcome = classified(classify(report_with(score=82.5), rules))
    assert (outcome.score, outcome.score_source, outcome.lost_points) == (82.5, "stated", [])
    assert "自查得分82.5，按报告填报（得分来源：填报）" in trace_text(outcome)


# --------------------------------------------------------------------------- rejections


def test_unknown_item_is_rejected(rules: RuleSet) -> None:
    [reason] = rejected(classify(report_with({**full_marks(rules), "9.9": 1}), rules))
    assert reason == "self_check.items.9.9：“9.9”不是自查表（附件2）中的项目"


def test_every_missing_item_is_listed(rules: RuleSet) -> None:
    items = full_marks(rules)
    del items["3.2"], items["7.4"]
    [reason] = rejected(classify(report_with(items), rules))
    assert reason.startswith("self_check.items：自查表第3.2、7.4项未作答")


def test_more_than_the_item_points_is_rejected(rules: RuleSet) -> None:
    [reason] = rejected(classify(report_with(answers(rules, item_2_1=6)), rules))
    assert reason.startswith("self_check.items.2.1：实得6分，超过该项满分5分")


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_numeric_points_are_rejected(rules: RuleSet, value: float) -> None:
    report = report_with(answers(rules))
    assert report.self_check.items is not None
    report.self_check.items["2.1"] = value  # the contract refuses it at the door; the checklist's own check still holds
    [reason] = rejected(classify(report, rules))
    assert reason.startswith("self_check.items.2.1：") and "不是有效的分值" in reason


def test_every_item_not_applicable_is_rejected(rules: RuleSet) -> None:
    items = {item_id: "n/a" for item_id in full_marks(rules)}
    [reason] = rejected(classify(report_with(items), rules))
    assert reason.startswith("self_check.items：所有已作答项目均为不适用")


def test_all_problems_are_reported_together(rules: RuleSet) -> None:
    items = {**answers(rules, item_2_1=6), "0.1": 1}
    del items["8.1"]
    hazards = [{"factor": "某新型溶剂", "exposed": 5, "compliant": True, "tested_on": "2023-05-10"}]
    reasons = rejected(classify(report_with(items, score=99, hazards=hazards), rules))
    fields = ["hazards[0].factor", "self_check.items.2.1", "self_check.items.0.1", "self_check.items"]
    assert [reason.split("：")[0] for reason in reasons] == fields
    outcome = classify(report_with(items, score=99, hazards=hazards), rules)
    assert isinstance(outcome, Rejected) and [message.params["field"] for message in outcome.messages] == fields


def test_score_checklist_refuses_answers_with_problems(rules: RuleSet) -> None:
    items = answers(rules, item_2_1=6)
    assert checklist_problems(items, rules.self_check_checklist)
    with pytest.raises(ValueError, match="self_check.items.2.1"):
        score_checklist(items, rules.self_check_checklist)


# --------------------------------------------------------------------------- veto items (否决项)


@pytest.fixture
def veto_rules(tmp_path: Path) -> RuleSet:
    """The national rule set with 4.1 (periodic testing) as an enabled veto item."""
    data = json.loads((PACKAGED_RULES_DIR / "national-2022.json").read_text(encoding="utf-8"))
    for section in data["self_check_checklist"]["sections"]:
        for item in section["items"]:
            item["veto"] = item["id"] == "4.1"
    path = tmp_path / "veto.json"
    path.write_text(json.dumps({**data, "version": "veto.1"}, ensure_ascii=False), encoding="utf-8")
    return load_rule_set(path)


def test_veto_item_not_fully_earned_caps_the_grade_at_c(veto_rules: RuleSet) -> None:
    outcome = classified(classify(report_with(answers(veto_rules, item_4_1=3), hazards=NOISE_ONLY), veto_rules))
    assert (outcome.score, outcome.management_grade, outcome.category) == (97.0, "C", "乙")
    assert "否决项 4.1 定期检测职业病危害因素（严重危害每年一次，其他每三年一次） 未得满分 → 管理状况等级降为C（原为A）" in trace_text(outcome)


@pytest.mark.parametrize("answer", [6, "n/a"])
def test_veto_item_fully_earned_or_not_applicable_does_not_cap(veto_rules: RuleSet, answer: Any) -> None:
    outcome = classified(classify(report_with(answers(veto_rules, item_4_1=answer, item_1_1=3), hazards=NOISE_ONLY), veto_rules))
    assert outcome.management_grade == "A"
    assert "否决项" not in "\n".join(entry.rule for entry in outcome.trace)


def test_veto_cannot_be_checked_on_a_stated_score(veto_rules: RuleSet) -> None:
    outcome = classified(classify(report_with(score=95), veto_rules))
    assert outcome.management_grade == "A"
    assert "未逐项作答，无法核查否决项（第4.1项）" in trace_text(outcome)
    assert "veto item(s) 4.1 cannot be checked without the items" in trace_text(outcome, "en")
