"""Reminders (RULES §1): the daily sweep that announces them on ``ohs.registry.reminder-due``, and
the query behind ``GET /reminders``. What is due when is decided in ``domain.reminders``.

A reminder is sent once per employer, kind and due day: the sweep claims it by inserting its key
into ``registry_reminder`` (``INSERT … ON CONFLICT DO NOTHING``) in the same transaction as the
outbox row, so a second run on the same day sends nothing, and of two sweeps running at once
(two registry processes, or the timer and the cron command) only one sends it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.registry.adapters.orm import EnterpriseRecord, ReminderRecord
from services.registry.domain import reminders as rules
from shared.contracts import ReminderDue, utc_now
from shared.db import enqueue

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


def _candidates(session: Session, today: date, within_days: int, region_prefix: str | None = None) -> list[EnterpriseRecord]:
    """The employers that may have a reminder today (the domain decides): a report due by the
    horizon (or without a stored due day), or no report but a production start."""
    horizon = today + timedelta(days=within_days)
    due_on = col(EnterpriseRecord.next_assessment_due)
    condition = or_(
        and_(col(EnterpriseRecord.report_version).is_not(None), or_(due_on <= horizon, due_on.is_(None))),
        and_(col(EnterpriseRecord.report_version).is_(None), col(EnterpriseRecord.production_started_on).is_not(None)),
    )
    statement = select(EnterpriseRecord).where(condition)
    if region_prefix:
        statement = statement.where(col(EnterpriseRecord.region_code).startswith(region_prefix))
    return list(session.exec(statement.order_by(col(EnterpriseRecord.region_code), col(EnterpriseRecord.credit_code))))


def due(session: Session, today: date, within_days: int, region_prefix: str | None = None) -> list[rules.Reminder]:
    """Every reminder due on ``today`` (of the region, when given), most urgent first."""
    found = (rules.reminder_for(facts(r), today, within_days) for r in _candidates(session, today, within_days, region_prefix))
    return sorted((r for r in found if r is not None), key=rules.sort_key)


def _claim(session: Session, reminder: rules.Reminder, now: datetime) -> bool:
    """Record that ``reminder`` is sent, unless it already was; True when this call recorded it."""
    values = {"credit_code": reminder.credit_code, "kind": reminder.kind, "due_on": reminder.due_on, "sent_at": now}
    key = ["credit_code", "kind", "due_on"]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":  # psycopg reports no rowcount here: RETURNING says whether the row went in
        statement = postgresql.insert(ReminderRecord).values(**values).on_conflict_do_nothing(index_elements=key)
        return session.execute(statement.returning(col(ReminderRecord.credit_code))).first() is not None
    if dialect == "sqlite":
        statement = sqlite.insert(ReminderRecord).values(**values).on_conflict_do_nothing(index_elements=key)
        return session.execute(statement).rowcount == 1  # type: ignore[attr-defined]
    try:  # any other database: a savepoint around a plain insert
        with session.begin_nested():
            session.add(ReminderRecord(**values))
        return True
    except IntegrityError:
        return False


def sweep_reminders(session: Session, today: date, within_days: int) -> list[str]:
    """Announce every reminder due on ``today`` that was not sent before. Returns one line per
    reminder sent. Idempotent; the caller commits."""
    done: list[str] = []
    now = utc_now()
    for reminder in due(session, today, within_days):
        if not _claim(session, reminder, now):
            continue
        enqueue(
            session,
            ReminderDue(
                producer=PRODUCER,
                credit_code=reminder.credit_code,
                kind=reminder.kind,  # type: ignore[arg-type]
                region_code=reminder.region_code,
                due_on=reminder.due_on,
                days=reminder.days,
                enterprise_name=reminder.enterprise_name,
                reason=reminder.reason,
            ),
        )
        done.append(f"{reminder.credit_code} {reminder.kind} {reminder.due_on.isoformat()}: {reminder.reason}")
    return done


def view(session: Session, reminder: rules.Reminder) -> dict[str, Any]:
    sent = session.get(ReminderRecord, (reminder.credit_code, reminder.kind, reminder.due_on))
    return {
        "credit_code": reminder.credit_code,
        "enterprise_name": reminder.enterprise_name,
        "region_code": reminder.region_code,
        "kind": reminder.kind,
        "due_on": reminder.due_on.isoformat(),
        "days": reminder.days,
        "reason": reminder.reason,
        "sent_at": sent.sent_at.isoformat() if sent is not None else None,  # when the sweep announced it
    }


def listing(session: Session, region_code: str, region_prefix: str, today: date, within_days: int) -> dict[str, Any]:
    found = due(session, today, within_days, region_prefix)
    return {
        "region_code": region_code,
        "today": today.isoformat(),
        "within_days": within_days,
        "counts": {kind: sum(1 for r in found if r.kind == kind) for kind in rules.KINDS},
        "items": [view(session, r) for r in found],
    }
