"""Chinese statutory working days: the library's holidays and 调休, supplementary years, the Monday–Friday fallback."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest

from shared.working_calendar import PACKAGED_CALENDAR_DIR, WorkingCalendar
from services.assessment.domain.rules import RuleDataError


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def calendar_file(folder: Path, name: str = "2027.json", **changes: Any) -> Path:
    data: dict[str, Any] = {
        "kind": "calendar",
        "year": 2027,
        "source": "国务院办公厅关于2027年部分节假日安排的通知 (test data)",
        "holidays": [d.isoformat() for d in days(date(2027, 10, 1), date(2027, 10, 7))],
        "workdays": ["2027-09-26", "2027-10-09"],  # a Sunday and a Saturday
    }
    path = folder / name
    path.write_text(json.dumps({**data, **changes}, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def assert_schedule(cal: WorkingCalendar, off: list[date], makeup: list[date]) -> None:
    # the facts are checked against the library itself first, then against our calendar
    assert [chinese_calendar.is_workday(d) for d in off] == [False] * len(off)
    assert [chinese_calendar.is_workday(d) for d in makeup] == [True] * len(makeup)
    assert [cal.is_workday(d) for d in off] == [False] * len(off)
    assert [cal.is_workday(d) for d in makeup] == [True] * len(makeup)
    assert all(d.weekday() >= 5 for d in makeup)


# --------------------------------------------------------------------------- golden holidays from the library


def test_the_2023_national_day_holiday_is_off_and_7_and_8_october_are_make_up_working_days(cal: WorkingCalendar) -> None:
    assert_schedule(cal, days(date(2023, 9, 29), date(2023, 10, 6)), [date(2023, 10, 7), date(2023, 10, 8)])
    assert cal.is_workday(date(2023, 9, 28)) and cal.is_workday(date(2023, 10, 9))


def test_the_2024_national_day_holiday_is_off_and_29_september_and_12_october_are_make_up_working_days(cal: WorkingCalendar) -> None:
    assert_schedule(cal, days(date(2024, 10, 1), date(2024, 10, 7)), [date(2024, 9, 29), date(2024, 10, 12)])
    assert not cal.is_workday(date(2024, 9, 28)) and not cal.is_workday(date(2024, 10, 13))


def test_the_2023_spring_festival_is_off_and_28_and_29_january_are_make_up_working_days(cal: WorkingCalendar) -> None:
    assert_schedule(cal, days(date(2023, 1, 21), date(2023, 1, 27)), [date(2023, 1, 28), date(2023, 1, 29)])


def test_the_2024_spring_festival_is_off_and_4_and_18_february_are_make_up_working_days(cal: WorkingCalendar) -> None:
    assert_schedule(cal, days(date(2024, 2, 10), date(2024, 2, 17)), [date(2024, 2, 4), date(2024, 2, 18)])


def test_publicity_from_27_september_to_7_october_2023_counts_three_working_days(cal: WorkingCalendar) -> None:
    assert cal.working_days_in(date(2023, 9, 27), date(2023, 10, 7)) == 3  # 09-27, 09-28, 10-07


def test_ten_working_days_after_30_september_2024_is_18_october_2024(cal: WorkingCalendar) -> None:
    # 10-08, 09, 10, 11, 12 (make-up Saturday), 14, 15, 16, 17, 18
    assert cal.add_working_days(date(2024, 9, 30), 10) == date(2024, 10, 18)


def test_working_days_across_the_2023_spring_festival_count_the_make_up_weekend(cal: WorkingCalendar) -> None:
    assert cal.working_days_in(date(2023, 1, 20), date(2023, 1, 30)) == 4  # 01-20, 01-28, 01-29, 01-30
    assert cal.add_working_days(date(2023, 1, 20), 1) == date(2023, 1, 28)


def test_five_working_days_after_8_february_2024_skip_the_spring_festival_and_count_18_february(cal: WorkingCalendar) -> None:
    # 02-09, 02-18 (make-up Sunday), 02-19, 02-20, 02-21
    assert cal.add_working_days(date(2024, 2, 8), 5) == date(2024, 2, 21)


def test_one_working_day_after_a_friday_is_the_next_monday(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(date(2023, 6, 2), 1) == date(2023, 6, 5)


def test_a_single_day_counts_itself_when_it_is_a_working_day(cal: WorkingCalendar) -> None:
    assert cal.working_days_in(date(2023, 6, 5), date(2023, 6, 5)) == 1
    assert cal.working_days_in(date(2023, 6, 3), date(2023, 6, 3)) == 0


def test_arguments_out_of_range_are_refused(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        cal.add_working_days(date(2023, 6, 2), 0)
    with pytest.raises(ValueError, match="before start"):
        cal.working_days_in(date(2023, 6, 8), date(2023, 6, 2))


def test_library_years_are_not_remembered_as_unpublished(cal: WorkingCalendar) -> None:
    cal.working_days_in(date(2004, 1, 1), date(2004, 1, 10))
    cal.working_days_in(date(2026, 12, 20), date(2026, 12, 31))
    assert cal.unpublished_years_used == frozenset()
    assert cal.has_schedule(2004) and cal.has_schedule(2026)
    assert "chinese_calendar" in cal.source_of(2026)


# --------------------------------------------------------------------------- years the library does not cover


def test_the_packaged_calendar_folder_ships_no_supplementary_year() -> None:
    assert sorted(PACKAGED_CALENDAR_DIR.glob("*.json")) == []
    assert WorkingCalendar().supplementary_years == ()


def test_a_year_without_any_schedule_falls_back_to_monday_to_friday_and_is_remembered(cal: WorkingCalendar) -> None:
    assert not cal.has_schedule(2027)
    assert cal.is_workday(date(2027, 10, 1))  # a Friday; the real National Day is unknown
    assert not cal.is_workday(date(2027, 10, 2))
    assert cal.add_working_days(date(2027, 10, 1), 1) == date(2027, 10, 4)
    assert cal.unpublished_years_used == frozenset({2027})
    assert "Monday–Friday assumed" in cal.source_of(2027)


def test_a_year_before_the_library_also_falls_back(cal: WorkingCalendar) -> None:
    assert cal.working_days_in(date(2003, 10, 1), date(2003, 10, 7)) == 5
    assert cal.unpublished_years_used == frozenset({2003})


def test_a_year_with_supplementary_data_uses_its_holidays_and_make_up_days(tmp_path: Path) -> None:
    calendar_file(tmp_path)
    cal = WorkingCalendar(tmp_path)
    assert cal.supplementary_years == (2027,)
    assert cal.has_schedule(2027)
    assert not cal.is_workday(date(2027, 10, 1)) and not cal.is_workday(date(2027, 10, 7))
    assert cal.is_workday(date(2027, 9, 26)) and cal.is_workday(date(2027, 10, 9))  # Sunday, Saturday
    assert cal.is_workday(date(2027, 10, 8)) and not cal.is_workday(date(2027, 10, 10))
    # 09-26 (make-up Sunday), 09-27 … 09-30, 10-08, 10-09 (make-up Saturday)
    assert cal.working_days_in(date(2027, 9, 26), date(2027, 10, 10)) == 7
    assert cal.add_working_days(date(2027, 9, 30), 1) == date(2027, 10, 8)
    assert cal.unpublished_years_used == frozenset()
    assert "国务院办公厅关于2027年部分节假日安排的通知" in cal.source_of(2027) and "2027.json" in cal.source_of(2027)


def test_the_library_decides_a_year_it_covers_even_when_a_file_gives_that_year(tmp_path: Path) -> None:
    calendar_file(tmp_path, "2024.json", year=2024, holidays=["2024-10-08"], workdays=[])
    cal = WorkingCalendar(tmp_path)
    assert cal.is_workday(date(2024, 10, 8))
    assert "chinese_calendar" in cal.source_of(2024)


# --------------------------------------------------------------------------- invalid calendar data


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"holidays": ["2028-01-03"]}, "outside 2027: 2028-01-03"),
        ({"workdays": ["2027-10-01"]}, "both holiday and make-up working day: 2027-10-01"),
        ({"workdays": ["2027-10-08"]}, "on a weekday"),
        ({"kind": "deadlines"}, "kind"),
        ({"source": ""}, "source"),
        ({"holidays": ["2027-02-30"]}, "holidays"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_an_invalid_calendar_file_is_refused_naming_the_file_and_the_problem(tmp_path: Path, changes: dict[str, Any], problem: str) -> None:
    path = calendar_file(tmp_path, **changes)
    with pytest.raises(RuleDataError) as caught:
        WorkingCalendar(tmp_path)
    assert str(path) in str(caught.value) and problem in str(caught.value)


def test_a_calendar_file_that_is_not_json_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "2027.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(RuleDataError, match="not valid JSON") as caught:
        WorkingCalendar(tmp_path)
    assert str(path) in str(caught.value)


def test_two_files_for_the_same_year_are_refused_naming_both(tmp_path: Path) -> None:
    packaged, extra = tmp_path / "packaged", tmp_path / "extra"
    packaged.mkdir()
    extra.mkdir()
    first = calendar_file(packaged)
    second = calendar_file(extra, "2027-official.json")
    with pytest.raises(RuleDataError, match="year 2027 is already defined") as caught:
        WorkingCalendar(extra, packaged_dir=packaged)
    assert str(first) in str(caught.value) and str(second) in str(caught.value)


def test_a_missing_extra_calendar_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleDataError, match="does not exist"):
        WorkingCalendar(tmp_path / "nowhere")


def test_a_missing_packaged_calendar_folder_means_no_supplementary_years(tmp_path: Path) -> None:
    assert WorkingCalendar(packaged_dir=tmp_path / "nowhere").supplementary_years == ()
