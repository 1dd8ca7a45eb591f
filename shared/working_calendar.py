"""Chinese statutory working days (法定工作日): weekends and public holidays off, 调休 make-up days on.

For the years the maintained ``chinese_calendar`` library covers, it decides. For any other year,
supplementary rule data decides: one JSON file per year, restating the 国务院办公厅 notice on that
year's holidays, in the packaged folder ``shared/calendar/`` or in an agency's extra folder (so next
year's official schedule can be added without a release)::

    {"kind": "calendar", "year": 2027, "source": "国务院办公厅关于2027年部分节假日安排的通知",
     "holidays": ["2027-10-01", …], "workdays": ["2027-09-26", …]}

A year with neither falls back to Monday–Friday and is remembered in
:attr:`WorkingCalendar.unpublished_years_used`, so callers can say the result is an assumption.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

import chinese_calendar
from pydantic import ConfigDict, Field, model_validator

from shared.rule_data import FromRuleFile, read_all, read_rule_file, rule_files

PACKAGED_CALENDAR_DIR = Path(__file__).resolve().parent / "calendar"

_ONE_DAY = timedelta(days=1)


@cache  # reading the installed package's metadata scans sys.path: once per process, not once per report
def _library_name() -> str:
    try:
        return f"chinese_calendar {version('chinese-calendar')}"
    except PackageNotFoundError:  # pragma: no cover - installed from source
        return "chinese_calendar"


class CalendarYear(FromRuleFile):
    """One year's official holiday schedule: days off, and 调休 make-up working days."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["calendar"]
    year: int = Field(ge=1, le=9999)
    source: str = Field(min_length=1, description="the official notice, e.g. 国务院办公厅关于2027年部分节假日安排的通知")
    holidays: frozenset[date] = Field(description="days off (weekend days inside a holiday period may be listed too)")
    workdays: frozenset[date] = Field(default=frozenset(), description="调休 make-up working days (weekend days)")

    @model_validator(mode="after")
    def _coherent(self) -> "CalendarYear":
        outside = sorted(d for d in self.holidays | self.workdays if d.year != self.year)
        if outside:
            raise ValueError(f"date(s) outside {self.year}: {', '.join(d.isoformat() for d in outside)}")
        both = sorted(self.holidays & self.workdays)
        if both:
            raise ValueError(f"date(s) both holiday and make-up working day: {', '.join(d.isoformat() for d in both)}")
        weekday_makeups = sorted(d for d in self.workdays if d.weekday() < 5)
        if weekday_makeups:
            raise ValueError(
                f"make-up working day(s) on a weekday, already working days: {', '.join(d.isoformat() for d in weekday_makeups)}"
            )
        return self

    def is_workday(self, day: date) -> bool:
        return day in self.workdays or (day.weekday() < 5 and day not in self.holidays)


def load_calendar_year(path: Path) -> CalendarYear:
    """Read and validate one calendar file; :class:`RuleDataError` names the file and every problem."""
    return read_rule_file(path, CalendarYear, "calendar file")


class WorkingCalendar:
    """Working days from ``chinese_calendar``, then supplementary files, then Monday–Friday."""

    def __init__(self, extra_dir: Path | None = None, *, packaged_dir: Path = PACKAGED_CALENDAR_DIR) -> None:
        files = rule_files(packaged_dir) if packaged_dir.is_dir() else []  # ships none for now
        if extra_dir is not None:
            files += rule_files(Path(extra_dir), "calendar folder")
        years = read_all(files, load_calendar_year, unique_by=("year",), what="calendar file")
        self._supplementary = {loaded.year: loaded for loaded in years}
        self._library_years: dict[int, bool] = {}
        self._unpublished: set[int] = set()
        self._answers: dict[date, bool] = {}

    # ------------------------------------------------------------------ which data decides a year

    def _library_covers(self, year: int) -> bool:
        if year not in self._library_years:
            try:
                chinese_calendar.is_workday(date(year, 1, 1))
                self._library_years[year] = True
            except NotImplementedError:
                self._library_years[year] = False
        return self._library_years[year]

    def has_schedule(self, year: int) -> bool:
        """True when the library or a supplementary file gives ``year``'s official holidays."""
        return self._library_covers(year) or year in self._supplementary

    def source_params(self, year: int) -> tuple[str, dict[str, Any]]:
        """Where ``year``'s working days come from, as (kind, values) for a coded trace line:
        ``("library", {library})``, ``("notice", {notice, file})`` or ``("assumed", {})``."""
        if self._library_covers(year):
            return "library", {"library": _library_name()}
        if year in self._supplementary:
            notice = self._supplementary[year]
            return "notice", {"notice": notice.source, "file": Path(notice.origin or "").name}
        return "assumed", {}

    def source_of(self, year: int) -> str:
        """Where ``year``'s working days come from, in words for a trace."""
        if self._library_covers(year):
            return f"{year}: {_library_name()} (statutory holidays and 调休)"
        if year in self._supplementary:
            return f"{year}: {self._supplementary[year].source} (rule data {Path(self._supplementary[year].origin or '').name})"
        return f"{year}: no published holiday schedule, Monday–Friday assumed"

    @property
    def supplementary_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._supplementary))

    @property
    def unpublished_years_used(self) -> frozenset[int]:
        """Every year this calendar has answered for with the Monday–Friday fallback."""
        return frozenset(self._unpublished)

    # ------------------------------------------------------------------ working days

    def is_workday(self, day: date) -> bool:
        answer = self._answers.get(day)  # the calendar does not change while it lives: each day is decided once
        if answer is None:
            answer = self._answers[day] = self._decide(day)
        if not self.has_schedule(day.year):
            self._unpublished.add(day.year)  # answered with the Monday–Friday fallback
        return answer

    def _decide(self, day: date) -> bool:
        if self._library_covers(day.year):
            return bool(chinese_calendar.is_workday(day))
        supplementary = self._supplementary.get(day.year)
        if supplementary is not None:
            return supplementary.is_workday(day)
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself not counted); n ≥ 1."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        day = start
        while n:
            day += _ONE_DAY
            if self.is_workday(day):
                n -= 1
        return day

    def working_days_in(self, start: date, end: date) -> int:
        """How many working days from ``start`` to ``end``, both included."""
        if end < start:
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
        return sum(self.is_workday(start + timedelta(days=i)) for i in range((end - start).days + 1))
