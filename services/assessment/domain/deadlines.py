"""§1 deadlines (期限): 公示, submission, re-assessment and a new employer's first assessment.

The periods live in versioned rule data (``rules/deadlines/*.json``, plus an agency's extra
folder, read by ``services.assessment.adapters.rules``); :class:`DeadlineRules` picks the set for a region on a day exactly as the classification
rule book does (most specific jurisdiction, latest effective date, highest version). Working days
are Chinese statutory working days from :class:`WorkingCalendar`. Every finding is a
:class:`Flag` on an accepted report, never a rejection.

Words (``shared.i18n``): each trace line and each flag is a message code and its parameters (dates as
ISO strings), written in Chinese when the report is accepted (``detail``, ``message``) and rendered in
either language later (``entry.text(locale)``, ``flag.text(locale)``; a flag's code is
``assessment.flag.<flag code>``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from shared import i18n
from shared.working_calendar import WorkingCalendar
from shared.dates import add_months  # noqa: F401 - re-exported for callers of this module
from shared.contracts import Flag, Report, RuleSetRef, TraceEntry
from shared.identifiers import region_problem
from shared.jurisdiction import NATIONAL, jurisdiction_covers
from shared.rules_in_force import FromRuleFile, in_force

RULE = "§1 期限"  # the rule the trace lines cite (in Chinese, never translated)


class DeadlineSet(FromRuleFile):
    """One versioned set of §1 periods for one jurisdiction from one effective date."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["deadlines"]
    jurisdiction: str = Field(description="GB/T 2260 code (province / city / county) or CN for national")
    version: str = Field(min_length=1)
    effective_from: date
    provisional: bool
    source: str = Field(min_length=1)
    publicity_min_working_days: int = Field(ge=1, description="公示 lasts at least this many working days")
    submission_within_working_days: int = Field(ge=1, description="submit within this many working days after 公示 ends")
    reassessment_interval_years: int = Field(ge=1, description="re-assess this many years after an assessment")
    first_assessment_within_months: int = Field(ge=1, description="a new employer's first assessment, months after production starts")

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction(cls, value: str) -> str:
        if value != NATIONAL and (problem := region_problem(value)):
            raise ValueError(f"jurisdiction must be {NATIONAL} or a GB/T 2260 code: {problem}")
        return value

    def covers(self, region_code: str) -> bool:
        return jurisdiction_covers(self.jurisdiction, region_code)

    def ref(self) -> RuleSetRef:
        return RuleSetRef(jurisdiction=self.jurisdiction, version=self.version, effective_from=self.effective_from, provisional=self.provisional)

    def description(self) -> tuple[str, dict[str, Any]]:
        """The set as a trace says it: message code and parameters."""
        code = "assessment.trace.deadlines.rule_set_provisional" if self.provisional else "assessment.trace.deadlines.rule_set_confirmed"
        return code, {"jurisdiction": self.jurisdiction, "version": self.version, "effective_from": self.effective_from.isoformat()}

    def describe(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        code, params = self.description()
        return i18n.text(code, params, locale)


class DeadlineRules:
    """Every deadline set loaded (the packaged ones and an agency's, see ``adapters.rules.load_deadline_rules``)."""

    def __init__(self, deadline_sets: Iterable[DeadlineSet]) -> None:
        self._sets = tuple(deadline_sets)

    @property
    def deadline_sets(self) -> tuple[DeadlineSet, ...]:
        return self._sets

    def for_region(self, region_code: str, on: date) -> DeadlineSet:
        """The set for ``region_code`` on day ``on``: most specific jurisdiction, then latest effective_from, then highest version."""
        return in_force(self._sets, region_code, on, "deadline rules cover", "deadline sets")


# --------------------------------------------------------------------------- words


def _line(code: str, **params: Any) -> TraceEntry:
    return TraceEntry.of(RULE, code, **params)


def _flag(flag_code: str, message_code: str, **params: Any) -> Flag:
    return Flag(code=flag_code, message=i18n.text(message_code, params), params=params)


def _calendar_line(calendar: WorkingCalendar, year: int) -> TraceEntry:
    """Which data decided ``year``'s working days: the library, an official notice loaded as rule data, or none."""
    kind, values = calendar.source_params(year)
    if kind == "library":
        return _line("assessment.trace.deadlines.calendar_library", year=year, **values)
    if kind == "notice":
        return _line("assessment.trace.deadlines.calendar_notice", year=year, **values)
    return _line("assessment.trace.deadlines.calendar_assumed", year=year)


# --------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class DeadlineCheck:
    flags: list[Flag]
    trace: list[TraceEntry]
    next_assessment_due: date
    first_assessment_due: date | None
    submission_due: date
    publicity_working_days: int


def check_deadlines(
    report: Report,
    received_on: date,
    is_first_assessment: bool,
    rules: DeadlineSet,
    calendar: WorkingCalendar,
) -> DeadlineCheck:
    """Check a report's §1 deadlines; flags for what a supervisor should see, a trace line per computation."""
    flags: list[Flag] = []
    code, params = rules.description()
    trace = [_line(code, **params)]
    walked: list[tuple[date, date]] = []  # the ranges counted in working days

    # 公示 lasts at least N working days
    start, end = report.publicity.start, report.publicity.end
    minimum = rules.publicity_min_working_days
    publicity_days = calendar.working_days_in(start, end)
    walked.append((start, end))
    publicity = {"start": start.isoformat(), "end": end.isoformat(), "days": publicity_days, "minimum": minimum}
    if publicity_days < minimum:
        trace.append(_line("assessment.trace.deadlines.publicity_too_short", **publicity))
        flags.append(_flag("publicity_short", "assessment.flag.publicity_short", **publicity))
    else:
        trace.append(_line("assessment.trace.deadlines.publicity_long_enough", **publicity))

    # submission within N working days after 公示 ends
    within = rules.submission_within_working_days
    submission_due = calendar.add_working_days(end, within)
    walked.append((end + timedelta(days=1), submission_due))
    submission = {"due": submission_due.isoformat(), "within": within, "end": end.isoformat(), "received": received_on.isoformat()}
    if received_on > submission_due:
        late = calendar.working_days_in(submission_due + timedelta(days=1), received_on)
        walked.append((submission_due + timedelta(days=1), received_on))
        lateness = {**submission, "late": late, "calendar_days": (received_on - submission_due).days}
        trace.append(_line("assessment.trace.deadlines.submission_late", **lateness))
        flags.append(_flag("submission_late", "assessment.flag.submission_late", **lateness))
    else:
        trace.append(_line("assessment.trace.deadlines.submission_on_time", **submission))

    # re-assessment N years after this assessment
    years = rules.reassessment_interval_years
    next_due = add_months(report.assessed_on, 12 * years)
    trace.append(_line("assessment.trace.deadlines.reassessment", due=next_due.isoformat(), years=years,
                       assessed_on=report.assessed_on.isoformat()))

    # a new employer's first assessment within N months of starting production
    first_due: date | None = None
    if is_first_assessment:
        months = rules.first_assessment_within_months
        started = report.enterprise.production_started_on
        if started is None:
            trace.append(_line("assessment.trace.deadlines.first_unknown_start", months=months))
        else:
            first_due = add_months(started, months)
            assessed = report.assessed_on
            first = {"due": first_due.isoformat(), "months": months, "started": started.isoformat(), "assessed": assessed.isoformat()}
            if assessed > first_due:
                days_late = (assessed - first_due).days
                trace.append(_line("assessment.trace.deadlines.first_late", **first, days_late=days_late))
                flags.append(_flag("first_assessment_late", "assessment.flag.first_assessment_late", **first, days_late=days_late))
            else:
                trace.append(_line("assessment.trace.deadlines.first_on_time", **first))

    # which calendar decided the working days: a line per year
    touched = sorted({year for first_day, last_day in walked for year in range(first_day.year, last_day.year + 1)})
    trace.extend(_calendar_line(calendar, year) for year in touched)
    unpublished = [year for year in touched if not calendar.has_schedule(year)]
    if unpublished:
        flags.append(_flag("calendar_unpublished", "assessment.flag.calendar_unpublished", years=unpublished))

    return DeadlineCheck(
        flags=flags,
        trace=trace,
        next_assessment_due=next_due,
        first_assessment_due=first_due,
        submission_due=submission_due,
        publicity_working_days=publicity_days,
    )
