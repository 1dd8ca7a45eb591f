"""Reminders (RULES §1): the daily sweep that announces them on ``ohs.registry.reminder-due``, and
the query behind ``GET /reminders``. What is due when is decided in ``domain.reminders``.

A reminder is sent once per employer, kind and due day: the sweep claims it by inserting its key
into ``registry_reminder`` (``INSERT … ON CONFLICT DO NOTHING``) in the same transaction as the
outbox row, so a second run on the same day sends nothing, and of two sweeps running at once
(two registry processes, or the timer and the cron command) only one sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

from services.registry.adapters.orm import EnterpriseRecord
from services.registry.domain import reminders as rules
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.contracts import ReminderDue, utc_now

log = logging.getLogger(__name__)
PRODUCER = "registry"


def facts(record: EnterpriseRecord) -> rules.EmployerFacts:
    return rules.EmployerFacts(
        credit_code=record.credit_code,
        name=record.name,
        region_code=record.region_code,
        has_report=record.report_version is not None,
        next_assessment_due=record.next_assessment_due,
        assessed_on=record.assessed_on,
        production_started_on=record.production_started_on,
    )


def due_among(candidates: Iterable[EnterpriseRecord], today: date, within_days: int) -> list[rules.Reminder]:
    """The reminders due on ``today`` among the candidates, most urgent first."""
    found = (rules.reminder_for(facts(r), today, within_days) for r in candidates)
    return sorted((r for r in found if r is not None), key=rules.sort_key)


def due(uow: RegistryUnitOfWork, today: date, within_days: int, region_prefix: str | None = None) -> list[rules.Reminder]:
    """Every reminder due on ``today`` (of the region, when given), most urgent first."""
    return due_among(uow.enterprises.reminder_candidates(today, within_days, region_prefix), today, within_days)


def sweep_reminders(uow: RegistryUnitOfWork, today: date, within_days: int) -> list[str]:
    """Announce every reminder due on ``today`` that was not sent before. Returns one line per
    reminder sent (its reason in Chinese). Idempotent; the caller commits."""
    done: list[str] = []
    now = utc_now()
    for reminder in due(uow, today, within_days):
        if not uow.reminders.claim(reminder.credit_code, reminder.kind, reminder.due_on, now):
            continue
        uow.publish(
            ReminderDue(
                producer=PRODUCER,
                credit_code=reminder.credit_code,
                kind=reminder.kind,  # type: ignore[arg-type]
                region_code=reminder.region_code,
                due_on=reminder.due_on,
                days=reminder.days,
                enterprise_name=reminder.enterprise_name,
                reason=reminder.reason,
                code=reminder.code,
                params=dict(reminder.params),
            ),
        )
        done.append(f"{reminder.credit_code} {reminder.kind} {reminder.due_on.isoformat()}: {reminder.reason}")
    return done


def run_sweep(uow: RegistryUnitOfWork, today: date, within_days: int) -> list[str]:
    """One reminder sweep, committed; returns the reminders sent (the timer and ``ohs registry sweep reminders``)."""
    done = sweep_reminders(uow, today, within_days)
    uow.commit()
    return done
