"""Pure rules of a case: 行政行为码, 裁量基准 and 案卷评查 flags (RULES §8)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from services.penalty.domain.case_codes import case_code_message, case_code_problem, make_code, mod11_2, parts
from services.penalty.adapters.rules import load_discretion_baselines
from services.penalty.domain.discretion import article_of, circumstance_for, departs, fine_problems, propose
from services.penalty.domain.review import CaseFile, TimelineStep, review
from shared import i18n
from shared.identifiers import region_problem

# ---------------------------------------------------------------------------- 行政行为码


@pytest.mark.parametrize(("digits", "check"), [
    ("11010519491231002", "X"),  # GB 11643 example: 11010519491231002X
    ("000000021825009", "7"),  # ORCID 0000-0002-1825-0097
    ("000000015109370", "0"),  # ORCID 0000-0001-5109-3700
    ("000000021694233", "X"),  # ORCID 0000-0002-1694-233X
])
def test_the_check_character_is_iso_7064_mod_11_2(digits: str, check: str) -> None:
    assert mod11_2(digits) == check


def test_a_case_code_is_region_year_sequence_and_check() -> None:
    code = make_code("141029", 2026, 17)
    assert len(code) == 17 and code[:16] == "1410292026000017" and code[16] == mod11_2("1410292026000017")
    assert parts(code) == ("141029", 2026, 17)
    assert case_code_problem(code) is None


@pytest.mark.parametrize(("code", "problem", "message"), [
    (None, "没有行政行为码", "penalty.case_code.missing"),
    ("", "没有行政行为码", "penalty.case_code.missing"),
    ("141029202600001", "行政行为码为15位", "penalty.case_code.length"),
    ("14102920260000A7X", "应为16位数字加1位校验码", "penalty.case_code.characters"),
    ("1410292026000000" + mod11_2("1410292026000000"), "顺序号不能为000000", "penalty.case_code.sequence_zero"),
])
def test_a_case_code_problem_is_named(code: str | None, problem: str, message: str) -> None:
    assert problem in (case_code_problem(code) or "")
    found = case_code_message(code)
    assert found is not None and found[0] == message


def test_a_case_code_of_no_region_says_what_the_region_check_says() -> None:
    code = "9910292026000001" + mod11_2("9910292026000001")
    region = region_problem("991029")
    assert region and case_code_problem(code) == i18n.text(*case_code_message(code))  # type: ignore[misc]
    assert case_code_message(code) == (getattr(region, "code", "penalty.case_code.region"),
                                       getattr(region, "params", None) or {"region": "991029", "problem": str(region)})


def test_a_wrong_check_character_is_named_with_the_right_one() -> None:
    good = make_code("141029", 2026, 1)
    wrong = good[:16] + ("0" if good[16] != "0" else "1")
    assert case_code_problem(wrong) == f"校验码为“{wrong[16]}”，按ISO 7064 MOD 11-2应为“{good[16]}”"
    assert case_code_message(wrong) == ("penalty.case_code.check", {"found": wrong[16], "expected": good[16]})


@pytest.mark.parametrize(("region", "year", "sequence"), [("14102", 2026, 1), ("141029", 26, 1), ("141029", 2026, 0), ("141029", 2026, 1_000_000)])
def test_no_code_is_made_from_bad_parts(region: str, year: int, sequence: int) -> None:
    with pytest.raises(ValueError):
        make_code(region, year, sequence)


# ---------------------------------------------------------------------------- 裁量基准

BASELINE = load_discretion_baselines().in_force("141029", date(2024, 6, 1))


def test_the_packaged_baseline_is_provisional_and_covers_articles_70_to_72() -> None:
    assert BASELINE is not None and BASELINE.provisional and BASELINE.jurisdiction == "CN"
    assert [p.article for p in BASELINE.provisions] == ["70", "71", "72"]
    assert [p.statutory_max_yuan for p in BASELINE.provisions] == [100000, 100000, 200000]


@pytest.mark.parametrize(("first_time", "harm", "circumstance"), [
    (True, "none", "first_overdue"), (False, "none", "repeated"), (True, "minor", "harm_caused"), (False, "serious", "harm_caused"),
])
def test_the_circumstance_follows_first_time_and_harm(first_time: bool, harm: str, circumstance: str) -> None:
    assert circumstance_for(first_time, harm) == circumstance


@pytest.mark.parametrize(("item", "circumstance", "expected"), [
    ("70-2a", "first_overdue", (10000, 30000)), ("70-4", "repeated", (30000, 60000)), ("70-1", "harm_caused", (60000, 100000)),
    ("71-5", "first_overdue", (50000, 60000)), ("72-1", "repeated", (100000, 150000)), ("72-3", "harm_caused", (150000, 200000)),
])
def test_the_range_is_proposed_by_the_items_article_and_the_circumstance(item: str, circumstance: str, expected: tuple[int, int]) -> None:
    proposal = propose(BASELINE, item, circumstance)
    assert proposal is not None and (proposal.min_yuan, proposal.max_yuan) == expected
    assert proposal.provision.endswith({"70": "第七十条", "71": "第七十一条", "72": "第七十二条"}[article_of(item)])


def test_an_item_of_an_article_without_a_baseline_gets_no_range() -> None:
    assert propose(BASELINE, "75-1", "first_overdue") is None
    assert fine_problems(999_999, None, None) == []


def test_a_fine_outside_the_range_needs_a_reason_and_never_exceeds_the_statute() -> None:
    proposal = propose(BASELINE, "70-4", "first_overdue")
    assert fine_problems(20000, proposal, None) == [] and not departs(20000, proposal)
    assert fine_problems(10000, proposal, None) == [] and fine_problems(30000, proposal, None) == []  # both ends inside
    assert fine_problems(35000, proposal, None)[0].field == "departure_reason"
    assert fine_problems(35000, proposal, "   ")[0].field == "departure_reason"
    assert fine_problems(35000, proposal, "拒不配合调查") == [] and departs(35000, proposal)
    [over] = fine_problems(100001, proposal, "any")
    assert (over.field, over.code) == ("fine_yuan", "penalty.error.fine_over_statutory") and over.message == "罚款100001元超过职业病防治法 第七十条规定的最高罚款100000元"


def test_a_baseline_range_outside_the_statute_is_refused_naming_the_file(tmp_path: Path) -> None:
    data = json.loads((Path("services/penalty/rules/discretion-baseline-2021.json")).read_text(encoding="utf-8"))
    data.update(jurisdiction="330000", version="2024.1")
    data["provisions"][0]["ranges"]["harm_caused"] = [60000, 120000]
    (tmp_path / "zj-baseline.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match="(?s)zj-baseline.json.*outside the statutory"):
        load_discretion_baselines(tmp_path)


def test_a_provincial_baseline_takes_precedence_in_its_province(tmp_path: Path) -> None:
    data = json.loads((Path("services/penalty/rules/discretion-baseline-2021.json")).read_text(encoding="utf-8"))
    data.update(jurisdiction="330000", version="2024.1", effective_from="2024-01-01")
    data["provisions"][0]["ranges"]["first_overdue"] = [5000, 20000]
    (tmp_path / "zj-baseline.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    loaded = load_discretion_baselines(tmp_path)
    assert propose(loaded.in_force("330106", date(2024, 6, 1)), "70-4", "first_overdue").min_yuan == 5000  # type: ignore[union-attr]
    assert propose(loaded.in_force("141029", date(2024, 6, 1)), "70-4", "first_overdue").min_yuan == 10000  # type: ignore[union-attr]


# ---------------------------------------------------------------------------- 案卷评查

TODAY = date(2026, 11, 20)
CODE = make_code("141029", 2026, 1)


def file(**changes: object) -> CaseFile:
    base = dict(case_code=CODE, status="closed", decision="no_penalty", decided_on=date(2026, 3, 20), deadline=date(2026, 3, 15),
                proposed_min_yuan=None, proposed_max_yuan=None, fine_yuan=None, departure_reason=None)
    return CaseFile(**{**base, **changes})  # type: ignore[arg-type]


COMPLETE_NO_PENALTY = [TimelineStep("opened", date(2026, 3, 1)), TimelineStep("educated", date(2026, 3, 1)),
                       TimelineStep("rectification_ordered", date(2026, 3, 1), date(2026, 3, 15)),
                       TimelineStep("correction_verified", date(2026, 3, 10)), TimelineStep("decided", date(2026, 3, 20)),
                       TimelineStep("closed", date(2026, 3, 20))]
PENALTY = dict(status="closed", decision="penalty", proposed_min_yuan=10000, proposed_max_yuan=30000, fine_yuan=20000)


def without(step: str) -> list[TimelineStep]:
    return [s for s in COMPLETE_NO_PENALTY if s.step != step]


@pytest.mark.parametrize(("case", "steps", "flags"), [
    pytest.param(file(), COMPLETE_NO_PENALTY, [], id="complete no-penalty file"),
    pytest.param(file(**PENALTY), COMPLETE_NO_PENALTY, [], id="complete penalty file, fine in range"),
    pytest.param(file(case_code=None), COMPLETE_NO_PENALTY, ["missing_case_code"], id="no code"),
    pytest.param(file(case_code=CODE[:16] + ("0" if CODE[16] != "0" else "1")), COMPLETE_NO_PENALTY, ["missing_case_code"], id="bad code"),
    pytest.param(file(deadline=None), without("rectification_ordered"), ["missing_deadline"], id="no-penalty without a deadline"),
    pytest.param(file(), [*without("rectification_ordered"), TimelineStep("rectification_ordered", date(2026, 3, 1))],
                 ["missing_deadline"], id="order without deadline"),
    pytest.param(file(), without("correction_verified"), ["missing_verification"], id="no verification"),
    pytest.param(file(), without("educated"), ["missing_education"], id="no education"),
    pytest.param(file(**{**PENALTY, "fine_yuan": 50000}), COMPLETE_NO_PENALTY, ["fine_outside_baseline_without_reason"], id="departure without reason"),
    pytest.param(file(**{**PENALTY, "fine_yuan": 50000, "departure_reason": "拒不改正且阻挠检查"}), COMPLETE_NO_PENALTY, [], id="departure with reason"),
    pytest.param(file(status="penalty_pending", decision="penalty", fine_yuan=None, decided_on=date(2026, 8, 1)), COMPLETE_NO_PENALTY,
                 ["penalty_without_fine"], id="no fine after 90 days"),
    pytest.param(file(status="penalty_pending", decision="penalty", fine_yuan=None, decided_on=date(2026, 8, 22)), COMPLETE_NO_PENALTY,
                 [], id="no fine yet, 90 days not passed"),
])
def test_review_flags_each_gap_of_a_case_file(case: CaseFile, steps: list[TimelineStep], flags: list[str]) -> None:
    assert review(case, steps, TODAY) == flags


def test_an_on_the_spot_correction_needs_no_deadline() -> None:
    steps = [TimelineStep("opened", date(2026, 3, 1)), TimelineStep("educated", date(2026, 3, 1)),
             TimelineStep("correction_verified", date(2026, 3, 1)), TimelineStep("decided", date(2026, 3, 1))]
    assert review(file(deadline=None), steps, TODAY) == []
