"""§1 deadlines: 公示 length, submission, re-assessment, a new employer's first assessment, unpublished calendars."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from shared.working_calendar import WorkingCalendar
from services.assessment.adapters.rules import PACKAGED_DEADLINES_DIR, load_deadline_rules, load_deadline_set
from services.assessment.domain.deadlines import RULE, DeadlineCheck, DeadlineSet, add_months, check_deadlines
from services.assessment.domain.rules import NoApplicableRules, RuleDataError
from shared.contracts import Report
from tests.examples import EXAMPLE_REPORT

NATIONAL_FILE = PACKAGED_DEADLINES_DIR / "national-2022.json"


def national() -> dict[str, Any]:
    return json.loads(NATIONAL_FILE.read_text(encoding="utf-8"))


def write(folder: Path, name: str, **changes: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps({**national(), **changes}, ensure_ascii=False), encoding="utf-8")
    return path


def report(
    publicity: tuple[str, str] | None = None,
    assessed_on: str | None = None,
    production_started_on: str | None = None,
) -> Report:
    data = copy.deepcopy(EXAMPLE_REPORT)
    if publicity:
        data["publicity"] = {"start": publicity[0], "end": publicity[1]}
    if assessed_on:
        data["assessed_on"] = assessed_on
    if production_started_on:
        data["enterprise"]["production_started_on"] = production_started_on
    return Report.model_validate(data)


@pytest.fixture(scope="module")
def rules() -> DeadlineSet:
    return load_deadline_rules().for_region("141029", date(2023, 6, 1))


def check(r: Report, received_on: date, rules: DeadlineSet, first: bool = False, calendar: WorkingCalendar | None = None) -> DeadlineCheck:
    return check_deadlines(r, received_on, first, rules, calendar or WorkingCalendar())


def codes(result: DeadlineCheck) -> list[str]:
    return [flag.code for flag in result.flags]


def flag(result: DeadlineCheck, code: str, locale: str = "zh_CN") -> str:
    """The flag as written at acceptance (Chinese), or rendered from its code in ``locale``."""
    found = next(f for f in result.flags if f.code == code)
    return found.message if locale == "zh_CN" else found.text(locale)


# --------------------------------------------------------------------------- the rule data


def test_the_packaged_national_deadlines_restate_section_1() -> None:
    rules = load_deadline_set(NATIONAL_FILE)
    assert (rules.jurisdiction, rules.version, rules.effective_from, rules.provisional) == ("CN", "2022.1", date(2022, 11, 1), False)
    assert (rules.publicity_min_working_days, rules.submission_within_working_days) == (5, 10)
    assert (rules.reassessment_interval_years, rules.first_assessment_within_months) == (3, 2)
    assert "国疾控综监督二函〔2022〕50号" in rules.source
    assert rules.origin == str(NATIONAL_FILE)
    assert rules.ref().version == "2022.1"


def test_the_most_specific_jurisdiction_then_latest_date_then_highest_version_applies(tmp_path: Path) -> None:
    write(tmp_path, "shanxi.json", jurisdiction="140000", version="2023.1", effective_from="2023-01-01", publicity_min_working_days=6)
    write(tmp_path, "linfen-9.json", jurisdiction="141000", version="2023.9", effective_from="2023-03-01", publicity_min_working_days=7)
    write(tmp_path, "linfen-10.json", jurisdiction="141000", version="2023.10", effective_from="2023-03-01", publicity_min_working_days=8)
    write(tmp_path, "linfen-later.json", jurisdiction="141000", version="2024.1", effective_from="2024-01-01", publicity_min_working_days=9)
    book = load_deadline_rules(tmp_path)
    assert book.for_region("141029", date(2023, 6, 1)).version == "2023.10"  # city beats province; 2023.10 > 2023.9
    assert book.for_region("141029", date(2024, 6, 1)).version == "2024.1"  # later effective date
    assert book.for_region("142601", date(2023, 6, 1)).jurisdiction == "140000"  # another city in the province
    assert book.for_region("330102", date(2023, 6, 1)).jurisdiction == "CN"
    assert book.for_region("141029", date(2023, 2, 1)).jurisdiction == "140000"  # the city's set is not yet in force


def test_no_deadline_rules_before_the_national_set_takes_effect() -> None:
    with pytest.raises(NoApplicableRules, match="141029 on 2022-10-31"):
        load_deadline_rules().for_region("141029", date(2022, 10, 31))


def test_an_invalid_region_code_is_refused() -> None:
    with pytest.raises(ValueError, match="region code"):
        load_deadline_rules().for_region("14102", date(2023, 6, 1))


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"publicity_min_working_days": 0}, "publicity_min_working_days"),
        ({"kind": "calendar"}, "kind"),
        ({"jurisdiction": "14"}, "jurisdiction"),
        ({"version": ""}, "version"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_an_invalid_deadline_file_is_refused_naming_the_file(tmp_path: Path, changes: dict[str, Any], problem: str) -> None:
    path = write(tmp_path, "bad.json", **{"version": "2099.1", **changes})
    with pytest.raises(RuleDataError) as caught:
        load_deadline_rules(tmp_path)
    assert str(path) in str(caught.value) and problem in str(caught.value)


def test_a_deadline_file_that_is_not_json_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("[", encoding="utf-8")
    with pytest.raises(RuleDataError, match="not valid JSON") as caught:
        load_deadline_rules(tmp_path)
    assert str(path) in str(caught.value)


def test_the_same_jurisdiction_and_version_twice_is_refused_naming_both_files(tmp_path: Path) -> None:
    path = write(tmp_path, "copy.json")
    with pytest.raises(RuleDataError, match="already defined") as caught:
        load_deadline_rules(tmp_path)
    assert str(path) in str(caught.value) and str(NATIONAL_FILE) in str(caught.value)


def test_a_missing_deadline_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleDataError, match="does not exist"):
        load_deadline_rules(tmp_path / "nowhere")


# --------------------------------------------------------------------------- calendar months


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2023, 12, 31), 2, date(2024, 2, 29)),
        (date(2022, 12, 31), 2, date(2023, 2, 28)),
        (date(2024, 2, 29), 36, date(2027, 2, 28)),
        (date(2023, 11, 15), 2, date(2024, 1, 15)),
        (date(2023, 10, 31), 2, date(2023, 12, 31)),
    ],
)
def test_calendar_months_clamp_to_the_end_of_the_month(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


# --------------------------------------------------------------------------- the check


def test_the_example_report_posted_five_working_days_and_received_on_time_has_no_flags(rules: DeadlineSet) -> None:
    result = check(report(), date(2023, 6, 15), rules)
    assert result.flags == []
    assert result.publicity_working_days == 5  # 06-02, 06-05 … 06-08
    # 06-09, 06-12 … 06-16, 06-19 … 06-21, then 06-25 (make-up Sunday after the Dragon Boat holiday 06-22 … 06-24)
    assert result.submission_due == date(2023, 6, 25)
    assert result.next_assessment_due == date(2026, 6, 1)
    assert result.first_assessment_due is None


def test_every_computation_leaves_a_trace_line_with_its_dates_and_counts(rules: DeadlineSet) -> None:
    trace = check(report(), date(2023, 6, 15), rules).trace
    assert {entry.rule for entry in trace} == {RULE}
    details = [entry.detail for entry in trace]
    assert "CN 2022.1 版" in details[0]
    assert any("公示2023年6月2日至2023年6月8日：共5个工作日（至少5个）" in d for d in details)
    assert any("报送期限2023年6月25日" in d and "2023年6月15日收到：按期报送" in d for d in details)
    assert any("下次评估应于2026年6月1日前完成" in d for d in details)
    assert any(d.startswith("2023年工作日依据：chinese_calendar") for d in details)
    english = [entry.text("en") for entry in trace]
    assert "CN version 2022.1" in english[0]
    assert any("2023-06-02 to 2023-06-08: 5 working day(s) (minimum 5)" in d for d in english)
    assert any("submission due 2023-06-25" in d and "received 2023-06-15: on time" in d for d in english)
    assert any(d.startswith("working days 2023: chinese_calendar") for d in english)


def test_publicity_across_the_2023_national_day_counts_three_working_days_and_is_short(rules: DeadlineSet) -> None:
    r = report(publicity=("2023-09-27", "2023-10-07"), assessed_on="2023-09-26")
    result = check(r, date(2023, 10, 9), rules)
    assert result.publicity_working_days == 3  # 09-27, 09-28, 10-07
    assert codes(result) == ["publicity_short"]
    message = flag(result, "publicity_short")
    assert "仅3个工作日，少于规定的5个工作日" in message and "2023年9月27日" in message and "2023年10月7日" in message
    english = flag(result, "publicity_short", "en")
    assert "3 working day(s)" in english and "minimum of 5" in english and "2023-09-27" in english and "2023-10-07" in english


def test_ten_working_days_after_publicity_ending_30_september_2024_are_due_18_october(rules: DeadlineSet) -> None:
    r = report(publicity=("2024-09-23", "2024-09-30"), assessed_on="2024-09-20")
    assert check(r, date(2024, 10, 18), rules).submission_due == date(2024, 10, 18)
    assert check(r, date(2024, 10, 18), rules).flags == []


def test_a_report_received_after_the_deadline_is_flagged_late_by_working_days(rules: DeadlineSet) -> None:
    r = report(publicity=("2024-09-23", "2024-09-30"), assessed_on="2024-09-20")
    result = check(r, date(2024, 10, 22), rules)  # 10-21, 10-22 are working days after the 10-18 deadline
    assert codes(result) == ["submission_late"]
    message = flag(result, "submission_late")
    assert "逾期2个工作日（超过期限4个自然日）" in message and "2024年10月18日" in message
    assert "2 working day(s) late (4 calendar day(s)" in flag(result, "submission_late", "en")


def test_a_report_received_on_the_weekend_after_the_deadline_is_late_by_zero_working_days(rules: DeadlineSet) -> None:
    r = report(publicity=("2024-09-23", "2024-09-30"), assessed_on="2024-09-20")
    result = check(r, date(2024, 10, 19), rules)
    assert "逾期0个工作日（超过期限1个自然日）" in flag(result, "submission_late")
    assert "0 working day(s) late (1 calendar day(s) after the deadline)" in flag(result, "submission_late", "en")


def test_re_assessment_after_a_leap_day_is_due_on_28_february(rules: DeadlineSet) -> None:
    r = report(publicity=("2024-03-01", "2024-03-07"), assessed_on="2024-02-29")
    assert check(r, date(2024, 3, 8), rules).next_assessment_due == date(2027, 2, 28)


def test_a_first_assessment_two_months_and_a_day_after_production_started_is_late(rules: DeadlineSet) -> None:
    r = report(publicity=("2024-03-04", "2024-03-08"), assessed_on="2024-03-01", production_started_on="2023-12-31")
    result = check(r, date(2024, 3, 11), rules, first=True)
    assert result.first_assessment_due == date(2024, 2, 29)
    assert codes(result) == ["first_assessment_late"]
    message = flag(result, "first_assessment_late")
    assert "2024年3月1日" in message and "2024年2月29日" in message and "2023年12月31日" in message and "个月）1天" in message
    english = flag(result, "first_assessment_late", "en")
    assert "2024-03-01" in english and "2024-02-29" in english and "2023-12-31" in english and "1 day(s) " in english


def test_a_first_assessment_on_its_due_date_is_on_time(rules: DeadlineSet) -> None:
    r = report(publicity=("2024-03-01", "2024-03-07"), assessed_on="2024-02-29", production_started_on="2023-12-31")
    result = check(r, date(2024, 3, 8), rules, first=True)
    assert result.first_assessment_due == date(2024, 2, 29)
    assert result.flags == []
    assert any("首次评估期限2024年2月29日" in e.detail and "按期" in e.detail for e in result.trace)


def test_a_re_assessment_is_not_held_to_the_first_assessment_limit(rules: DeadlineSet) -> None:
    result = check(report(), date(2023, 6, 15), rules, first=False)  # production started 2016
    assert result.first_assessment_due is None and result.flags == []


def test_a_first_assessment_without_a_production_start_date_is_traced_not_flagged(rules: DeadlineSet) -> None:
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["enterprise"]["production_started_on"] = None
    result = check(Report.model_validate(data), date(2023, 6, 15), rules, first=True)
    assert result.first_assessment_due is None and result.flags == []
    assert any("未填写投产日期（production_started_on）" in e.detail for e in result.trace)


def test_a_2027_publicity_without_a_published_schedule_assumes_monday_to_friday_and_is_flagged(rules: DeadlineSet) -> None:
    r = report(publicity=("2027-09-27", "2027-10-05"), assessed_on="2027-09-24")
    calendar = WorkingCalendar()
    result = check(r, date(2027, 10, 12), rules, calendar=calendar)
    assert result.publicity_working_days == 7  # 09-27 … 10-01, 10-04, 10-05: no National Day known
    assert result.submission_due == date(2027, 10, 19)
    assert codes(result) == ["calendar_unpublished"]
    assert "2027" in flag(result, "calendar_unpublished") and "按周一至周五计算" in flag(result, "calendar_unpublished")
    assert "Monday–Friday" in flag(result, "calendar_unpublished", "en")
    assert calendar.unpublished_years_used == frozenset({2027})
    assert any("2027年工作日依据：尚无已公布的节假日安排，按周一至周五计算" == e.detail for e in result.trace)
    assert any("working days 2027: no published holiday schedule, Monday–Friday assumed" == e.text("en") for e in result.trace)


def test_a_deadline_running_into_an_unpublished_year_names_only_that_year(rules: DeadlineSet) -> None:
    r = report(publicity=("2026-12-21", "2026-12-25"), assessed_on="2026-12-18")
    result = check(r, date(2027, 1, 4), rules)
    assert codes(result) == ["calendar_unpublished"]
    message = flag(result, "calendar_unpublished")
    assert "2027" in message and "2026" not in message


def test_a_2027_publicity_with_the_official_schedule_loaded_is_counted_with_its_holidays(tmp_path: Path, rules: DeadlineSet) -> None:
    (tmp_path / "2027.json").write_text(json.dumps({
        "kind": "calendar",
        "year": 2027,
        "source": "国务院办公厅关于2027年部分节假日安排的通知 (test data)",
        "holidays": [f"2027-10-0{d}" for d in range(1, 8)],
        "workdays": ["2027-09-26", "2027-10-09"],
    }, ensure_ascii=False), encoding="utf-8")
    r = report(publicity=("2027-09-27", "2027-10-05"), assessed_on="2027-09-24")
    result = check(r, date(2027, 10, 12), rules, calendar=WorkingCalendar(tmp_path))
    assert result.publicity_working_days == 4  # 09-27 … 09-30
    assert codes(result) == ["publicity_short"]
    # 10-08, 10-09 (make-up Saturday), 10-11 … 10-15, 10-18, 10-19, 10-20
    assert result.submission_due == date(2027, 10, 20)


def test_several_findings_are_all_flagged_on_the_accepted_report(rules: DeadlineSet) -> None:
    r = report(publicity=("2023-09-27", "2023-10-07"), assessed_on="2023-09-26", production_started_on="2023-06-01")
    result = check(r, date(2023, 11, 1), rules, first=True)
    assert codes(result) == ["publicity_short", "submission_late", "first_assessment_late"]
