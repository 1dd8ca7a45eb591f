"""附件5 初次轻微违法行为不予处罚 (RULES §7): every listed item, every condition, per jurisdiction."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from services.penalty.adapters.rules import load_no_penalty_rules
from services.penalty.domain.no_penalty import EarlierCase, NoPenaltyList, NoPenaltyRules, Violation, judge
from shared.i18n import Message

NATIONAL = load_no_penalty_rules().in_force("141029", date(2026, 1, 1))
ITEM_CODES = [item.code for item in NATIONAL.items]

FOUND = date(2024, 3, 1)
DEADLINE = date(2024, 3, 10)


def violation(item_code: str, **changes: object) -> Violation:
    base = Violation(
        case_id="case-now",
        credit_code="91141029MA0GRT8U3L",
        item_code=item_code,
        found_on=FOUND,
        harm="none",
        corrected_on=date(2024, 3, 5),
        rectification_deadline=DEADLINE,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_packaged_list_is_the_provisional_national_list_of_rules_section_7() -> None:
    assert NATIONAL.jurisdiction == "CN" and NATIONAL.provisional
    assert ITEM_CODES == ["70-1", "70-2a", "70-2b", "70-2c", "70-3", "70-4", "71-5"]


@pytest.mark.parametrize("item_code", ITEM_CODES)
@pytest.mark.parametrize("harm", ["none", "minor"])
def test_a_listed_first_time_harmless_violation_corrected_in_time_is_not_penalised(item_code: str, harm: str) -> None:
    judgement = judge(violation(item_code, harm=harm), [], NATIONAL)
    assert judgement.decision == "no_penalty"
    assert judgement.reasons == [Message(code="penalty.reason.no_penalty")] and "第三十三条" in judgement.texts()[0]


FAILING_CONDITIONS = [
    pytest.param({}, [EarlierCase("case-2019", date(2019, 5, 1))], "非初次违法：案件 case-2019已于2019年5月1日查处同一事项", "非初次违法",
                 id="not first time"),
    pytest.param({"harm": "serious"}, [], "危害后果为严重", "危害后果不属轻微", id="serious harm"),
    pytest.param({"corrected_on": None}, [], "未改正", "未按期改正", id="not corrected"),
    pytest.param({"corrected_on": date(2024, 3, 11)}, [], "晚于整改期限2024年3月10日", "未按期改正", id="corrected late"),
    pytest.param(
        {"corrected_on": date(2024, 3, 2), "rectification_deadline": None},
        [],
        "未设定整改期限，且不是当场改正",
        "未按期改正",
        id="no deadline, not on the spot",
    ),
]


@pytest.mark.parametrize("item_code", ITEM_CODES)
@pytest.mark.parametrize(("changes", "earlier", "reason", "condition"), FAILING_CONDITIONS)
def test_a_listed_violation_is_penalised_when_one_condition_fails_naming_that_condition(
    item_code: str, changes: dict[str, object], earlier: list[EarlierCase], reason: str, condition: str
) -> None:
    judgement = judge(violation(item_code, **changes), earlier, NATIONAL)
    assert judgement.decision == "penalty"
    assert len(judgement.reasons) == 1 and reason in judgement.texts()[0]
    assert judgement.failed == [condition] and condition in judgement.trace[-1].detail  # the decision line names the condition


def test_an_item_not_on_the_list_is_penalised_because_it_is_not_listed() -> None:
    judgement = judge(violation("72-1"), [], NATIONAL)
    assert judgement.decision == "penalty"
    assert judgement.texts() == ["事项 72-1 不在首违不罚清单（附件5）内"]
    assert judgement.texts("en") == ["item 72-1 is not on the no-penalty list (Annex 5)"]


def test_every_failed_condition_is_named_not_just_the_first() -> None:
    judgement = judge(violation("72-1", harm="serious", corrected_on=None), [EarlierCase("c-1", date(2020, 1, 1))], NATIONAL)
    assert len(judgement.reasons) == 4


def test_correction_on_the_deadline_day_itself_is_in_time() -> None:
    assert judge(violation("70-4", corrected_on=DEADLINE), [], NATIONAL).decision == "no_penalty"


def test_correction_on_the_spot_needs_no_deadline() -> None:
    on_the_spot = violation("70-4", corrected_on=FOUND, rectification_deadline=None)
    assert judge(on_the_spot, [], NATIONAL).decision == "no_penalty"


def test_the_trace_names_the_earlier_case_and_the_rule_data_used() -> None:
    judgement = judge(violation("70-4"), [EarlierCase("case-2021-17", date(2021, 9, 3)), EarlierCase("case-2022-02", date(2022, 1, 5))], NATIONAL)
    details = [t.detail for t in judgement.trace]
    assert any("case-2021-17" in d and "2021年9月3日" in d for d in details)  # the first earlier case
    assert details[0] == "首违不罚清单 CN v2021.1（2021年7月15日起施行，暂行）" and judgement.trace[0].rule == "规则数据"


# ---------------------------------------------------------------------------- jurisdictions


@pytest.fixture
def with_zhejiang(tmp_path: Path) -> NoPenaltyRules:
    data = NATIONAL.model_dump(mode="json")
    data.update(
        jurisdiction="330000",
        version="2024.1",
        effective_from="2024-01-01",
        provisional=False,
        items=data["items"] + [{"code": "75-9", "violation": "浙江 extension (test)", "penalty_provision": "test"}],
    )
    (tmp_path / "zhejiang-2024.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "not-a-list.json").write_text(json.dumps({"kind": "something_else"}), encoding="utf-8")
    return load_no_penalty_rules(tmp_path)


def codes(rule_list: NoPenaltyList) -> set[str]:
    return {item.code for item in rule_list.items}


def test_a_provincial_list_in_force_extends_the_national_one_for_its_counties(with_zhejiang: NoPenaltyRules) -> None:
    zhejiang = with_zhejiang.in_force("330102", date(2024, 6, 1))
    assert zhejiang.jurisdiction == "330000"
    assert codes(zhejiang) == set(ITEM_CODES) | {"75-9"}
    assert judge(violation("75-9", found_on=date(2024, 6, 1), corrected_on=date(2024, 6, 1), rectification_deadline=None), [], zhejiang).decision == "no_penalty"


def test_a_provincial_list_does_not_apply_outside_its_province(with_zhejiang: NoPenaltyRules) -> None:
    shanxi = with_zhejiang.in_force("141029", date(2024, 6, 1))
    assert shanxi.jurisdiction == "CN" and "75-9" not in codes(shanxi)


def test_before_the_provincial_list_takes_effect_the_national_list_applies(with_zhejiang: NoPenaltyRules) -> None:
    # 2021-10-01: before both the packaged illustrative 浙江 extension (2022-01-01) and this test's list (2024-01-01)
    assert with_zhejiang.in_force("330102", date(2021, 10, 1)).jurisdiction == "CN"


def test_a_list_file_that_is_not_valid_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text(json.dumps({"kind": "no_penalty_list", "jurisdiction": "330000"}), encoding="utf-8")
    with pytest.raises(ValueError, match="broken.json"):
        load_no_penalty_rules(tmp_path)


# ---------------------------------------------------------------------------- major, look-back, the packaged 浙江 extension


@pytest.mark.parametrize("item_code", ITEM_CODES)
def test_a_major_violation_is_never_unpenalised(item_code: str) -> None:
    judgement = judge(violation(item_code, major=True), [], NATIONAL)
    assert judgement.decision == "penalty"
    assert judgement.texts() == ["认定为重大违法：不得不予处罚"] and judgement.failed == ["重大违法"]


def with_lookback(years: int) -> NoPenaltyList:
    return NATIONAL.model_copy(update={"first_time": NATIONAL.first_time.model_copy(update={"lookback_years": years})})  # type: ignore[union-attr]


@pytest.mark.parametrize("item_code", ITEM_CODES)
def test_an_earlier_case_outside_the_look_back_does_not_count(item_code: str) -> None:
    outside = [EarlierCase("case-2021", date(2021, 2, 28), "14102920210000017")]
    judgement = judge(violation(item_code), outside, with_lookback(3))
    assert judgement.decision == "no_penalty" and judgement.first_time
    assert any("2021年3月1日以前的1起先前案件不计" in t.detail for t in judgement.trace)  # the lookback starts on 2021-03-01


@pytest.mark.parametrize("item_code", ITEM_CODES)
def test_an_earlier_case_inside_the_look_back_counts_and_the_trace_names_its_code(item_code: str) -> None:
    inside = [EarlierCase("case-2021b", date(2021, 3, 1), "141029202100000X8")]
    judgement = judge(violation(item_code), inside, with_lookback(3))
    assert judgement.decision == "penalty" and not judgement.first_time
    assert "案件 141029202100000X8" in judgement.texts()[0] and judgement.reasons[0].params["case_id"] == "case-2021b"


def test_eligibility_alone_leaves_the_correction_for_later() -> None:
    judgement = judge(violation("70-4", corrected_on=None, rectification_deadline=None), [], NATIONAL, check_correction=False)
    assert judgement.decision == "no_penalty" and "待整改期限内改正" in judgement.texts()[0]


def test_every_item_has_its_duty_provision_and_an_item_precondition_reaches_the_trace() -> None:
    assert all(item.duty_provision.startswith("职业病防治法") for item in NATIONAL.items)
    [precondition] = [t for t in judge(violation("71-5"), [], NATIONAL).trace if t.rule == "事项前提条件"]
    assert precondition.detail.startswith("71-5：") and "职业健康监护档案复印件" in precondition.detail and "由执法人员确认" in precondition.detail


PACKAGED = load_no_penalty_rules()


def test_the_packaged_zhejiang_extension_adds_its_items_to_the_national_list_in_zhejiang_only() -> None:
    zhejiang = PACKAGED.in_force("330106", date(2024, 6, 1))
    assert codes(zhejiang) == set(ITEM_CODES) | {"71-4", "70-5"}
    assert zhejiang.rules_procedure.notice_and_commitment is True
    assert zhejiang.provisional and "330000" in zhejiang.label() and "CN" in zhejiang.label()
    assert zhejiang.rules_first_time == NATIONAL.rules_first_time  # inherited from the list it extends
    shanxi = PACKAGED.in_force("141029", date(2024, 6, 1))
    assert "71-4" not in codes(shanxi) and shanxi.rules_procedure.notice_and_commitment is False


def test_an_extension_item_is_eligible_in_zhejiang_not_in_shanxi_and_not_before_its_effective_date() -> None:
    found = dict(found_on=date(2024, 6, 3), corrected_on=date(2024, 6, 3), rectification_deadline=None)
    assert judge(violation("71-4", **found), [], PACKAGED.in_force("330106", date(2024, 6, 3))).decision == "no_penalty"
    assert judge(violation("71-4", **found), [], PACKAGED.in_force("141029", date(2024, 6, 3))).decision == "penalty"
    early = dict(found_on=date(2021, 12, 20), corrected_on=date(2021, 12, 20), rectification_deadline=None)
    before = PACKAGED.in_force("330106", date(2021, 12, 20))
    assert before.jurisdiction == "CN"
    assert judge(violation("71-4", **early), [], before).texts() == ["事项 71-4 不在首违不罚清单（附件5）内"]


def test_an_extension_with_an_item_of_the_same_code_replaces_it(tmp_path: Path) -> None:
    extension = {"kind": "no_penalty_list", "jurisdiction": "141000", "extends": "CN", "version": "2025.1", "effective_from": "2025-01-01",
                 "provisional": True, "items": [{"code": "70-4", "violation": "临汾 wording", "penalty_provision": "§70(四)"}]}
    (tmp_path / "linfen.json").write_text(json.dumps(extension, ensure_ascii=False), encoding="utf-8")
    linfen = load_no_penalty_rules(tmp_path).in_force("141029", date(2025, 6, 1))
    assert [i.code for i in linfen.items].count("70-4") == 1 and linfen.item("70-4").violation == "临汾 wording"  # type: ignore[union-attr]
    assert len(linfen.items) == len(ITEM_CODES)


def test_a_list_that_extends_nothing_must_say_how_first_time_and_harm_are_judged(tmp_path: Path) -> None:
    bad = {"kind": "no_penalty_list", "jurisdiction": "141000", "version": "1", "effective_from": "2025-01-01", "provisional": True, "items": []}
    (tmp_path / "incomplete.json").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(ValueError, match="(?s)incomplete.json.*first_time and conditions"):
        load_no_penalty_rules(tmp_path)
