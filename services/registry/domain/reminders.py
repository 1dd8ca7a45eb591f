"""Reminders (RULES §1): re-assessment every 3 years, a new employer's first assessment within
2 months of starting production. Pure rules, no I/O.

For one employer on one day (China dates) the registry reminds of at most one thing:

==============================  ==============================================================  ===========================
kind                            when                                                            days
==============================  ==============================================================  ===========================
reassessment_due_soon           the current report's re-assessment is due today or within        until the due day (0 today)
                                ``within_days`` days
reassessment_overdue            the due day has passed (the day after it: 1)                     since the due day
first_assessment_overdue        no report yet (industry default), production started, and the   since the deadline
                                2 months after it have passed
==============================  ==============================================================  ===========================

The re-assessment is due on the report's ``next_assessment_due`` (assessment's deadline rules:
3 years after the assessment); an archive from before that field was kept falls back to 3
calendar months × 12 after ``assessed_on``, and the reason says so. Months are calendar months,
clamped to the month's last day (2023-12-31 + 2 months → 2024-02-29). An employer with a report
is never reminded of its first assessment (a late first report is flagged by assessment).

A reminder is identified by (credit code, kind, due day): the daily sweep sends each once. A
new report moves the due day, so it starts afresh; "due soon" then "overdue" are two reminders.
"""

from __future__ import annotations

from dataclasses import dataclass
from shared.dates import add_months
from datetime import date

DUE_SOON = "reassessment_due_soon"
OVERDUE = "reassessment_overdue"
FIRST_OVERDUE = "first_assessment_overdue"
KINDS = (DUE_SOON, OVERDUE, FIRST_OVERDUE)

REASSESSMENT_YEARS = 3  # RULES §1 (confirmed); the fallback for archives without next_assessment_due
FIRST_ASSESSMENT_MONTHS = 2  # RULES §1 (confirmed)


def first_assessment_due(production_started_on: date) -> date:
    """The last day for a new employer's first assessment."""
    return add_months(production_started_on, FIRST_ASSESSMENT_MONTHS)


@dataclass(frozen=True)
class EmployerFacts:
    """What the archive knows of one employer, as far as reminders go."""

    credit_code: str
    name: str
    region_code: str
    has_report: bool  # the archive's basis is a report (False: an industry default)
    next_assessment_due: date | None = None  # the current report's
    assessed_on: date | None = None  # the current report's
    production_started_on: date | None = None


@dataclass(frozen=True)
class Reminder:
    credit_code: str
    kind: str
    due_on: date
    days: int  # until the due day (due soon), or since it (overdue); never negative
    region_code: str
    enterprise_name: str
    reason: str


def _plural(n: int, word: str = "day") -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def reminder_for(facts: EmployerFacts, today: date, within_days: int) -> Reminder | None:
    """The reminder due for ``facts`` on ``today``, or None."""
    if within_days < 0:
        raise ValueError(f"within_days must not be negative (got {within_days})")

    def make(kind: str, due_on: date, days: int, reason: str) -> Reminder:
        return Reminder(facts.credit_code, kind, due_on, days, facts.region_code, facts.name, reason)

    if facts.has_report:
        due_on, basis = facts.next_assessment_due, "the current report's deadline"
        if due_on is None:
            if facts.assessed_on is None:
                return None
            due_on = add_months(facts.assessed_on, 12 * REASSESSMENT_YEARS)
            basis = f"{REASSESSMENT_YEARS} years after the assessment of {facts.assessed_on.isoformat()}"
        else:
            if facts.assessed_on is not None:
                basis = f"the assessment of {facts.assessed_on.isoformat()} is valid until then"
        until = (due_on - today).days
        if until < 0:
            return make(OVERDUE, due_on, -until,
                        f"re-assessment (every {REASSESSMENT_YEARS} years) was due {due_on.isoformat()} ({basis}): "
                        f"{_plural(-until)} overdue")
        if until <= within_days:
            when = "today" if until == 0 else f"in {_plural(until)}"
            return make(DUE_SOON, due_on, until,
                        f"re-assessment (every {REASSESSMENT_YEARS} years) due {due_on.isoformat()} ({basis}): {when}")
        return None

    started = facts.production_started_on
    if started is None:
        return None
    due_on = first_assessment_due(started)
    since = (today - due_on).days
    if since <= 0:
        return None
    return make(FIRST_OVERDUE, due_on, since,
                f"no assessment report yet: a new employer's first assessment is due within {FIRST_ASSESSMENT_MONTHS} months "
                f"of starting production ({started.isoformat()}), by {due_on.isoformat()}: {_plural(since)} overdue")


ORDER = {OVERDUE: 0, FIRST_OVERDUE: 1, DUE_SOON: 2}


def sort_key(reminder: Reminder) -> tuple:
    """Most urgent first: overdue (longest first), first assessments overdue, then due soon (soonest first)."""
    urgency = -reminder.days if reminder.kind != DUE_SOON else reminder.days
    return (ORDER[reminder.kind], urgency, reminder.region_code, reminder.credit_code)
