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
from datetime import date, timedelta
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


def unworded_reminder_for(facts: EmployerFacts, today: date, within_days: int) -> Reminder | None:
    """:func:`reminder_for` without its reason (``reason`` empty, no ``code``): cheap, for counting and ordering
    many (a province's tens of thousands) — the words of the few shown come from :func:`reminder_for`."""
    return _decide(facts, today, within_days, worded=False)


def reminder_for(facts: EmployerFacts, today: date, within_days: int) -> Reminder | None:
    """The reminder due for ``facts`` on ``today``, or None."""
    return _decide(facts, today, within_days, worded=True)


def _decide(facts: EmployerFacts, today: date, within_days: int, worded: bool) -> Reminder | None:
    if within_days < 0:
        raise ValueError(f"within_days must not be negative (got {within_days})")
    if facts.has_report:
        due_on = facts.next_assessment_due
        if due_on is None:
            if facts.assessed_on is None:
                return None
            due_on = add_months(facts.assessed_on, 12 * REASSESSMENT_YEARS)
        until = (due_on - today).days
        if until < 0:
            kind, days = OVERDUE, -until
        elif until <= within_days:
            kind, days = DUE_SOON, until
        else:
            return None
    else:
        if facts.production_started_on is None:
            return None
        due_on = first_assessment_due(facts.production_started_on)
        kind, days = FIRST_OVERDUE, (today - due_on).days
        if days <= 0:
            return None
    if not worded:
        return Reminder(facts.credit_code, kind, due_on, days, facts.region_code, facts.name, "")
    reason = _reason(facts, kind, due_on, days)
    return Reminder(facts.credit_code, kind, due_on, days, facts.region_code, facts.name, reason.text(), reason.code, reason.params)


def _reason(facts: EmployerFacts, kind: str, due_on: date, days: int) -> Said:
    """Why the reminder is due, in words (the costly part: only for the reminders shown or sent)."""
    if kind == FIRST_OVERDUE:
        assert facts.production_started_on is not None
        return say("registry.reminder.first_overdue", months=FIRST_ASSESSMENT_MONTHS, started=facts.production_started_on.isoformat(),
                   due_on=due_on.isoformat(), late=in_days(days))
    if facts.next_assessment_due is None:
        assert facts.assessed_on is not None
        basis = say("registry.reminder.basis.fallback", years=REASSESSMENT_YEARS, assessed_on=facts.assessed_on.isoformat())
    elif facts.assessed_on is not None:
        basis = say("registry.reminder.basis.valid_until", assessed_on=facts.assessed_on.isoformat())
    else:
        basis = say("registry.reminder.basis.deadline")
    due = {"years": REASSESSMENT_YEARS, "due_on": due_on.isoformat(), "basis": basis}
    if kind == OVERDUE:
        return say("registry.reminder.overdue", **due, late=in_days(days))
    when = say("registry.reminder.when.today") if days == 0 else say("registry.reminder.when.in", days=in_days(days))
    return say("registry.reminder.due_soon", **due, when=when)


def overdue_before(today: date, months: int) -> date:
    """The first day ``d`` whose deadline ``months`` later is not yet past on ``today`` (``add_months(d, months) >= today``):
    an assessment (or a production start) on a day before it is overdue today, exactly as :func:`reminder_for` decides
    (months clamped as there; for a query over the archive: ``column < overdue_before(…)``)."""
    day = add_months(today, -months)
    while add_months(day - timedelta(days=1), months) >= today:
        day -= timedelta(days=1)
    while add_months(day, months) < today:
        day += timedelta(days=1)
    return day


ORDER = {OVERDUE: 0, FIRST_OVERDUE: 1, DUE_SOON: 2}
KINDS_BY_URGENCY = tuple(sorted(KINDS, key=ORDER.__getitem__))


def sort_key(reminder: Reminder) -> tuple:
    """Most urgent first: overdue (longest first), first assessments overdue, then due soon (soonest first)."""
    urgency = -reminder.days if reminder.kind != DUE_SOON else reminder.days
    return (ORDER[reminder.kind], urgency, reminder.region_code, reminder.credit_code)
