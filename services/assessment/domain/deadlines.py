"""§1 deadlines (期限): 公示, submission, re-assessment and a new employer's first assessment.

The periods live in versioned rule data (``rules/deadlines/*.json``, plus an agency's extra
folder, read by ``services.assessment.adapters.rules``); :class:`DeadlineRules` picks the set for a region on a day exactly as the classification
rule book does (most specific jurisdiction, latest effective date, highest version). Working days
are Chinese statutory working days from :class:`WorkingCalendar`. Every finding is a
:class:`Flag` on an accepted report, never a rejection.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from shared.working_calendar import WorkingCalendar
from shared.dates import add_months  # noqa: F401 - re-exported for callers of this module
from shared.contracts import Flag, Report, RuleSetRef, TraceEntry
from shared.identifiers import region_problem
from shared.jurisdiction import NATIONAL, jurisdiction_covers
from shared.rules_in_force import FromRuleFile, in_force

RULE = "§1 deadlines 期限"


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

    def describe(self) -> str:
        state = "provisional" if self.provisional else "confirmed"
        return f"deadline rules {self.jurisdiction} version {self.version}, effective from {self.effective_from.isoformat()}, {state}"


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


# --------------------------------------------------------------------------- calendar arithmetic


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


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
    trace = [TraceEntry(rule=RULE, detail=f"using {rules.describe()}")]
    walked: list[tuple[date, date]] = []  # the ranges counted in working days

    # 公示 lasts at least N working days
    start, end = report.publicity.start, report.publicity.end
    minimum = rules.publicity_min_working_days
    publicity_days = calendar.working_days_in(start, end)
    walked.append((start, end))
    short = publicity_days < minimum
    trace.append(TraceEntry(rule=RULE, detail=(
        f"公示 {start.isoformat()} → {end.isoformat()}: {_plural(publicity_days, 'working day')} "
        f"(minimum {minimum}): {'too short' if short else 'long enough'}"
    )))
    if short:
        flags.append(Flag(code="publicity_short", message=(
            f"公示 from {start.isoformat()} to {end.isoformat()} lasted {_plural(publicity_days, 'working day')}, "
            f"fewer than the minimum of {minimum}"
        )))

    # submission within N working days after 公示 ends
    within = rules.submission_within_working_days
    submission_due = calendar.add_working_days(end, within)
    walked.append((end + timedelta(days=1), submission_due))
    if received_on > submission_due:
        late = calendar.working_days_in(submission_due + timedelta(days=1), received_on)
        walked.append((submission_due + timedelta(days=1), received_on))
        calendar_days = (received_on - submission_due).days
        lateness = f"{_plural(late, 'working day')} late ({_plural(calendar_days, 'calendar day')} after the deadline)"
        trace.append(TraceEntry(rule=RULE, detail=(
            f"submission due {submission_due.isoformat()} ({within} working days after 公示 ended {end.isoformat()}); "
            f"received {received_on.isoformat()}: {lateness}"
        )))
        flags.append(Flag(code="submission_late", message=(
            f"report received {received_on.isoformat()}, {lateness}: it was due by {submission_due.isoformat()}, "
            f"{within} working days after 公示 ended {end.isoformat()}"
        )))
    else:
        trace.append(TraceEntry(rule=RULE, detail=(
            f"submission due {submission_due.isoformat()} ({within} working days after 公示 ended {end.isoformat()}); "
            f"received {received_on.isoformat()}: on time"
        )))

    # re-assessment N years after this assessment
    years = rules.reassessment_interval_years
    next_due = add_months(report.assessed_on, 12 * years)
    trace.append(TraceEntry(rule=RULE, detail=(
        f"re-assessment due {next_due.isoformat()} ({_plural(years, 'year')} after assessed_on {report.assessed_on.isoformat()}), "
        "earlier if hazards, exposure, headcount or management change materially"
    )))

    # a new employer's first assessment within N months of starting production
    first_due: date | None = None
    if is_first_assessment:
        months = rules.first_assessment_within_months
        started = report.enterprise.production_started_on
        if started is None:
            trace.append(TraceEntry(rule=RULE, detail=(
                f"first assessment: production_started_on not given, so the {_plural(months, 'month')} limit cannot be checked"
            )))
        else:
            first_due = add_months(started, months)
            assessed = report.assessed_on
            if assessed > first_due:
                days_late = (assessed - first_due).days
                trace.append(TraceEntry(rule=RULE, detail=(
                    f"first assessment due {first_due.isoformat()} ({_plural(months, 'month')} after production started "
                    f"{started.isoformat()}); assessed {assessed.isoformat()}: {_plural(days_late, 'day')} late"
                )))
                flags.append(Flag(code="first_assessment_late", message=(
                    f"first assessment on {assessed.isoformat()}, {_plural(days_late, 'day')} after it was due on "
                    f"{first_due.isoformat()} ({_plural(months, 'month')} after production started {started.isoformat()})"
                )))
            else:
                trace.append(TraceEntry(rule=RULE, detail=(
                    f"first assessment due {first_due.isoformat()} ({_plural(months, 'month')} after production started "
                    f"{started.isoformat()}); assessed {assessed.isoformat()}: on time"
                )))

    # which calendar decided the working days
    touched = sorted({year for first, last in walked for year in range(first.year, last.year + 1)})
    trace.append(TraceEntry(rule=RULE, detail="working days: " + "; ".join(calendar.source_of(year) for year in touched)))
    unpublished = [year for year in touched if not calendar.has_schedule(year)]
    if unpublished:
        names = ", ".join(str(year) for year in unpublished)
        flags.append(Flag(code="calendar_unpublished", message=(
            f"no official holiday schedule loaded for {names}: working days there assume Monday–Friday, "
            "so the working-day counts and due dates may be off once the schedule is published"
        )))

    return DeadlineCheck(
        flags=flags,
        trace=trace,
        next_assessment_due=next_due,
        first_assessment_due=first_due,
        submission_due=submission_due,
        publicity_working_days=publicity_days,
    )
