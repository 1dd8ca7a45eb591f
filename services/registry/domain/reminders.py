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

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.registry.domain.words import Said, days as in_days, say
from shared import i18n
from shared.contracts.registry import render
from shared.dates import add_months

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
    reason: str  # in Chinese
    code: str | None = None  # the reason's message code (``ReminderDue.code``)
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        """The reason in ``locale`` (Chinese by default)."""
        return render(self.code, self.params, self.reason, locale)


def reminder_for(facts: EmployerFacts, today: date, within_days: int) -> Reminder | None:
    """The reminder due for ``facts`` on ``today``, or None."""
    if within_days < 0:
        raise ValueError(f"within_days must not be negative (got {within_days})")

    def make(kind: str, due_on: date, days: int, reason: Said) -> Reminder:
        return Reminder(facts.credit_code, kind, due_on, days, facts.region_code, facts.name, reason.text(), reason.code, reason.params)

    if facts.has_report:
        due_on, basis = facts.next_assessment_due, say("registry.reminder.basis.deadline")
        if due_on is None:
            if facts.assessed_on is None:
                return None
            due_on = add_months(facts.assessed_on, 12 * REASSESSMENT_YEARS)
            basis = say("registry.reminder.basis.fallback", years=REASSESSMENT_YEARS, assessed_on=facts.assessed_on.isoformat())
        else:
            if facts.assessed_on is not None:
                basis = say("registry.reminder.basis.valid_until", assessed_on=facts.assessed_on.isoformat())
        until = (due_on - today).days
        due = {"years": REASSESSMENT_YEARS, "due_on": due_on.isoformat(), "basis": basis}
        if until < 0:
            return make(OVERDUE, due_on, -until, say("registry.reminder.overdue", **due, late=in_days(-until)))
        if until <= within_days:
            when = say("registry.reminder.when.today") if until == 0 else say("registry.reminder.when.in", days=in_days(until))
            return make(DUE_SOON, due_on, until, say("registry.reminder.due_soon", **due, when=when))
        return None

    started = facts.production_started_on
    if started is None:
        return None
    due_on = first_assessment_due(started)
    since = (today - due_on).days
    if since <= 0:
        return None
    return make(FIRST_OVERDUE, due_on, since, say("registry.reminder.first_overdue", months=FIRST_ASSESSMENT_MONTHS, started=started.isoformat(),
                                                  due_on=due_on.isoformat(), late=in_days(since)))


ORDER = {OVERDUE: 0, FIRST_OVERDUE: 1, DUE_SOON: 2}


def sort_key(reminder: Reminder) -> tuple:
    """Most urgent first: overdue (longest first), first assessments overdue, then due soon (soonest first)."""
    urgency = -reminder.days if reminder.kind != DUE_SOON else reminder.days
    return (ORDER[reminder.kind], urgency, reminder.region_code, reminder.credit_code)
