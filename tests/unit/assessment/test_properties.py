"""Properties of the classification under the packaged national rule set: a worse input never gives a better category.

Risk order 甲 < 乙 < 丙. Each property makes one input worse (more exposed workers, 符合 → 不符合,
declared 一般 → 严重, a lower self-check score, fewer checklist points, a lost test result) and
checks the category, the hazard grade and the management grade never improve.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from services.assessment.domain.classifier import Classified, classify
from services.assessment.adapters.rules import load_rule_book
from services.assessment.domain.rules import HAZARD_GRADES, MANAGEMENT_GRADES, RuleSet
from shared.contracts import CATEGORIES, Report
from tests.examples import EXAMPLE_REPORT

RULES: RuleSet = load_rule_book().for_region("141029", date(2023, 6, 1))  # the packaged national rule set
ASSESSED_ON = date(2023, 6, 1)  # the example report's
SERIOUS = sorted(f for f, nature in RULES.factor_catalogue.factors.items() if nature == "严重")
GENERAL = sorted(f for f, nature in RULES.factor_catalogue.factors.items() if nature == "一般")
UNCATALOGUED = "某新型溶剂"  # not in the catalogue: its declared nature applies
assert RULES.factor_catalogue.nature_of(UNCATALOGUED) is None

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)

Data = dict[str, Any]


# band edges (≤9, 10–49, ≥50) and test ages around the 12- and 36-month intervals, plus anything in range
EXPOSED = st.sampled_from([0, 9, 10, 49, 50]) | st.integers(min_value=0, max_value=200)
TEST_AGE_DAYS = st.none() | st.sampled_from([0, 365, 366, 1096, 1097]) | st.integers(min_value=0, max_value=1500)


@st.composite
def hazards(draw: st.DrawFn, factor: str, nature: str | None = None) -> Data:
    tested_days_ago = draw(TEST_AGE_DAYS)  # None: never tested
    hazard: Data = {
        "factor": factor,
        "exposed": draw(EXPOSED),
        "compliant": draw(st.booleans()),
        "tested_on": None if tested_days_ago is None else (ASSESSED_ON - timedelta(days=tested_days_ago)).isoformat(),
    }
    if nature is not None:
        hazard["nature"] = nature
    return hazard


@st.composite
def reports(draw: st.DrawFn, declared: str | None = None, general_only: bool = False) -> Data:
    """A valid report: 0–3 catalogued hazards plus one uncatalogued hazard with a declared nature (1–4 in all).

    ``general_only``: catalogued hazards all 一般, so the uncatalogued one decides whether the employer is 严重."""
    catalogued_factor = st.sampled_from(GENERAL) if general_only else st.sampled_from(GENERAL) | st.sampled_from(SERIOUS)
    catalogued = draw(st.lists(catalogued_factor.flatmap(hazards), min_size=0, max_size=3))
    uncatalogued = draw(hazards(UNCATALOGUED, declared or draw(st.sampled_from(["一般", "严重"]))))
    position = draw(st.integers(min_value=0, max_value=len(catalogued)))
    listed = catalogued[:position] + [uncatalogued] + catalogued[position:]
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["hazards"] = listed
    data["enterprise"]["employees"] = max(h["exposed"] for h in listed) + draw(st.integers(min_value=0, max_value=100))
    data["self_check"] = {"score": draw(st.integers(min_value=0, max_value=1000)) / 10}
    return data


def outcome(data: Data) -> Classified:
    result = classify(Report.model_validate(data), RULES)
    assert isinstance(result, Classified), result
    return result


def assert_not_better(base: Data, worse: Data) -> None:
    before, after = outcome(base), outcome(worse)
    assert CATEGORIES.index(after.category) >= CATEGORIES.index(before.category), (before.category, after.category)
    assert HAZARD_GRADES.index(after.hazard_grade) >= HAZARD_GRADES.index(before.hazard_grade)
    assert MANAGEMENT_GRADES.index(after.management_grade) >= MANAGEMENT_GRADES.index(before.management_grade)


def changed(data: Data) -> Data:
    return copy.deepcopy(data)


@PROPERTY_SETTINGS
@given(base=reports(), pick=st.integers(min_value=0), more=st.integers(min_value=1, max_value=200))
def test_more_exposed_workers_never_improve_the_category(base: Data, pick: int, more: int) -> None:
    worse = changed(base)
    hazard = worse["hazards"][pick % len(worse["hazards"])]
    hazard["exposed"] += more
    worse["enterprise"]["employees"] = max(worse["enterprise"]["employees"], hazard["exposed"])
    assert_not_better(base, worse)


@PROPERTY_SETTINGS
@given(base=reports(), pick=st.integers(min_value=0))
def test_compliant_to_non_compliant_never_improves_the_category(base: Data, pick: int) -> None:
    index = pick % len(base["hazards"])
    base["hazards"][index]["compliant"] = True
    worse = changed(base)
    worse["hazards"][index]["compliant"] = False
    assert_not_better(base, worse)


def turning_serious_example() -> Data:
    """A 一般 employer with a 19-month-old test on 噪声: valid every 3 years, expired once the employer is 严重 (yearly)."""
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["hazards"] = [
        {"factor": "噪声", "exposed": 50, "compliant": True, "tested_on": "2021-11-01"},
        {"factor": UNCATALOGUED, "exposed": 5, "compliant": True, "tested_on": "2023-05-20", "nature": "一般"},
    ]
    data["self_check"] = {"score": 95.0}
    return data


@PROPERTY_SETTINGS
@given(base=reports(declared="一般") | reports(declared="一般", general_only=True))
@example(base=turning_serious_example())
def test_declared_general_to_serious_never_improves_the_category(base: Data) -> None:
    """Also covers the employer turning 严重, which shortens the testing interval for every factor."""
    worse = changed(base)
    [uncatalogued] = [h for h in worse["hazards"] if h["factor"] == UNCATALOGUED]
    uncatalogued["nature"] = "严重"
    assert_not_better(base, worse)


@PROPERTY_SETTINGS
@given(base=reports(), lower=st.integers(min_value=1, max_value=1000))
def test_lower_score_never_improves_the_category(base: Data, lower: int) -> None:
    worse = changed(base)
    worse["self_check"]["score"] = max(0, round(base["self_check"]["score"] * 10) - lower) / 10
    assert_not_better(base, worse)


@PROPERTY_SETTINGS
@given(base=reports(), pick=st.integers(min_value=0))
def test_losing_a_test_result_never_improves_the_category(base: Data, pick: int) -> None:
    worse = changed(base)
    worse["hazards"][pick % len(worse["hazards"])]["tested_on"] = None
    assert_not_better(base, worse)


# --------------------------------------------------------------------------- the checklist

ITEMS = RULES.self_check_checklist.items()


@st.composite
def checklist_answers(draw: st.DrawFn) -> dict[str, Any]:
    """Every item answered: points earned in tenths up to the item's points, or n/a; at least one applicable."""
    answers: dict[str, Any] = {
        item.id: draw(st.just("n/a") | st.integers(min_value=0, max_value=round(item.points * 10)).map(lambda tenths: tenths / 10))
        for item in ITEMS
    }
    if all(answer == "n/a" for answer in answers.values()):
        answers[ITEMS[0].id] = ITEMS[0].points
    return answers


def with_items(items: dict[str, Any]) -> Data:
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["self_check"] = {"items": items}
    return data


@PROPERTY_SETTINGS
@given(items=checklist_answers())
def test_computed_score_is_within_0_and_100_with_one_decimal(items: dict[str, Any]) -> None:
    result = outcome(with_items(items))
    assert 0 <= result.score <= 100 and round(result.score, 1) == result.score
    assert result.score_source == "computed"
    assert all(lost.earned < lost.points for lost in result.lost_points)


@PROPERTY_SETTINGS
@given(items=checklist_answers(), pick=st.integers(min_value=0), less=st.integers(min_value=1, max_value=80))
def test_fewer_checklist_points_never_improve_the_category(items: dict[str, Any], pick: int, less: int) -> None:
    applicable = [item_id for item_id, answer in items.items() if answer != "n/a"]
    item_id = applicable[pick % len(applicable)]
    worse = dict(items)
    worse[item_id] = max(0, round(items[item_id] * 10) - less) / 10
    assert_not_better(with_items(items), with_items(worse))
    assert outcome(with_items(worse)).score <= outcome(with_items(items)).score


# --------------------------------------------------------------------------- the fast classifier is the rule as written

from services.assessment.domain.classifier_reference import classify_reference  # noqa: E402


def _variant(**tables: Any) -> RuleSet:
    return RULES.model_copy(update=tables)


def _confirmed() -> RuleSet:
    """Every table confirmed (no provisional notes), sources dropped."""
    confirmed = {name: table.model_copy(update={"provisional": False, "source": None}) for name, table in RULES.tables().items()}
    return RULES.model_copy(update={**confirmed, "provisional": False})


def _with_veto() -> RuleSet:
    checklist = RULES.self_check_checklist
    sections = [section.model_copy(update={"items": [item.model_copy(update={"veto": index % 5 == 0}) for index, item in enumerate(section.items)]})
                for section in checklist.sections]
    return _variant(self_check_checklist=checklist.model_copy(update={"sections": sections}))


RULE_VARIANTS = [
    RULES,
    _variant(test_validity=RULES.test_validity.model_copy(update={"enabled": False})),
    _variant(test_validity=RULES.test_validity.model_copy(update={"serious_interval_months": 6, "general_interval_months": 30})),
    _confirmed(),
    _with_veto(),
]


@st.composite
def any_hazard(draw: st.DrawFn) -> Data:
    factor = draw(st.sampled_from(SERIOUS) | st.sampled_from(GENERAL) | st.just(UNCATALOGUED) | st.just("  噪声 ") | st.just("某粉尘"))
    hazard = draw(hazards(factor))
    nature = draw(st.none() | st.sampled_from(["一般", "严重"]))
    if nature is not None or factor == UNCATALOGUED and draw(st.booleans()):
        hazard["nature"] = nature or "一般"
    if draw(st.integers(0, 4)) == 0:
        hazard["free_silica_percent"] = draw(st.sampled_from([0.0, 9.9, 10.0, 10.1, 55.5]) | st.floats(0, 100))
    return hazard


@st.composite
def any_self_check(draw: st.DrawFn) -> Data:
    kind = draw(st.sampled_from(["score", "items", "items and score", "items and a wrong score", "a wrong item"]))
    if kind == "score":
        return {"score": draw(st.integers(0, 1000)) / 10}
    items = draw(checklist_answers())
    answer: Data = {"items": items}
    if kind not in ("items", "a wrong item"):
        computed = outcome(with_items(items)).score
        answer["score"] = computed if kind == "items and score" else (computed + 1 if computed < 99 else computed - 1)
    if kind == "a wrong item":
        answer["items"] = {**items, "99.9": 1}
    return answer


@settings(max_examples=300, deadline=None)
@given(
    listed=st.lists(any_hazard(), min_size=1, max_size=8),
    self_check=any_self_check(),
    assessed_on=st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 12, 31)),
    rules=st.sampled_from(RULE_VARIANTS),
)
def test_the_fast_classifier_gives_the_outcome_and_trace_of_the_rule_as_written(
    listed: list[Data], self_check: Data, assessed_on: date, rules: RuleSet
) -> None:
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["assessed_on"] = assessed_on.isoformat()
    data["hazards"] = listed
    data["enterprise"]["employees"] = max(h["exposed"] for h in listed)
    data["self_check"] = self_check
    report = Report.model_validate(data)
    fast, reference = classify(report, rules), classify_reference(report, rules)
    assert fast == reference
    if isinstance(fast, Classified):  # the same text, line for line, and the same models
        assert [(e.rule, e.detail) for e in fast.trace] == [(e.rule, e.detail) for e in reference.trace]
        assert [f.model_dump() for f in fast.factors] == [f.model_dump() for f in reference.factors]
        assert fast.rule_set.model_dump_json() == reference.rule_set.model_dump_json()
