"""The registry's repositories: how its use cases reach the archive's tables.

One repository per aggregate the use cases touch (an employer's archive record, its report
versions, its overrides, its 免检, the reminders sent, the hash-chained change log). Each takes
the unit of work's session; the handler tests use in-memory fakes with the same methods
(``tests/unit/registry/fakes.py``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from services.registry.adapters.orm import (
    ChangeLogEntry,
    ClassificationVersion,
    EnterpriseRecord,
    ExemptionRecord,
    OverrideRecord,
    ReminderRecord,
    TransferRecord,
)
from services.registry.adapters.orm_rectification import (
    RectificationAttachmentRecord,
    RectificationItem,
    RectificationStepRecord,
    RectificationSubmission,
)
from services.registry.domain import reminders
from services.registry.domain.reminders import EmployerFacts
from services.registry.service_layer import (
    chain_log,  # the chain's SQL (row locks on each region's head)
)
from shared.db import OutboxMessage, lookup, outbox_has, preload, remember


class EnterpriseRepository:
    """Each employer's archive record (its current classification)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, credit_code: str) -> EnterpriseRecord | None:
        return lookup(self.session, EnterpriseRecord, credit_code)

    def add(self, record: EnterpriseRecord) -> None:
        remember(self.session, record)

    def preload(self, credit_codes: list[str]) -> None:
        """Load these employers' records in one query (a batch of classified reports)."""
        preload(self.session, EnterpriseRecord, credit_codes)

    def reminder_candidates(self, today: date, within_days: int, region_prefix: str | None = None) -> list[EnterpriseRecord]:
        """The employers that may have a reminder today (the domain decides): a report due by the
        horizon (or without a stored due day), or no report but a production start."""
        statement = select(EnterpriseRecord).where(*_reminder_conditions(today, within_days, region_prefix))
        return list(self.session.exec(statement.order_by(col(EnterpriseRecord.region_code), col(EnterpriseRecord.credit_code))))

    def reminder_facts(self, today: date, within_days: int, region_prefix: str | None = None) -> list[EmployerFacts]:
        """What the domain needs of the same candidates as :meth:`reminder_candidates`, read as plain columns (a
        province's tens of thousands of candidates, for ``GET /reminders``: no ORM object per employer)."""
        return self._facts(_reminder_conditions(today, within_days, region_prefix))

    def reminder_counts(self, today: date, within_days: int, region_prefix: str | None = None) -> dict[str, int]:
        """How many employers have a reminder of each kind today, counted in one query by the domain's own boundaries
        (``domain.reminders.overdue_before``): what :meth:`reminder_facts` and the domain would count, without reading them."""
        counted = [func.coalesce(func.sum(case((reminder_condition(today, within_days, (kind,)), 1), else_=0)), 0) for kind in reminders.KINDS]
        statement = select(*counted).select_from(EnterpriseRecord).where(*_in_prefix(region_prefix))
        return dict(zip(reminders.KINDS, (int(n) for n in self.session.exec(statement).one()), strict=True))

    def most_urgent_reminder_facts(self, today: date, within_days: int, region_prefix: str | None, limit: int,
                                   counts: dict[str, int] | None = None) -> list[EmployerFacts]:
        """The facts of a few employers among which the domain finds the ``limit`` most urgent reminders of today: of each
        part of each kind (most urgent kind first, until ``limit`` are certain), the ``limit`` first by the part's day —
        the due day, or the day it is counted from — and those up to 3 days after the last of them (a month's last days
        share their due day: 2024-02-29 and 2024-02-28 + 36 months are both 2027-02-28). A few queries on the day
        columns instead of reading every candidate. ``counts``: :meth:`reminder_counts`, when the caller has them."""
        if limit <= 0:
            return []
        found: dict[str, EmployerFacts] = {}
        counts = counts if counts is not None else self.reminder_counts(today, within_days, region_prefix)
        certain = 0
        for kind in reminders.KINDS_BY_URGENCY:
            for part_kind, condition, day in _reminder_parts(today, within_days):
                if part_kind != kind:
                    continue
                where = [condition, *_in_prefix(region_prefix)]
                last = self.session.exec(select(day).where(*where).order_by(day).offset(limit - 1).limit(1)).first()
                if last is not None:
                    where.append(day <= last + timedelta(days=3))
                found.update((f.credit_code, f) for f in self._facts(where))
            certain += counts[kind]
            if certain >= limit:
                break
        return list(found.values())

    def _facts(self, conditions: list[Any]) -> list[EmployerFacts]:
        record = EnterpriseRecord
        statement = (
            select(record.credit_code, record.name, record.region_code, col(record.report_version).is_not(None),
                   record.next_assessment_due, record.assessed_on, record.production_started_on)
            .where(*conditions)  # in no order: the domain orders reminders by urgency, employer by employer
        )
        return [EmployerFacts(code, name, region, bool(has_report), due, assessed, started)
                for code, name, region, has_report, due, assessed, started in self.session.exec(statement)]


def _in_prefix(region_prefix: str | None) -> list[Any]:
    return [col(EnterpriseRecord.region_code).startswith(region_prefix)] if region_prefix else []


def _reminder_conditions(today: date, within_days: int, region_prefix: str | None) -> list[Any]:
    horizon = today + timedelta(days=within_days)
    due_on = col(EnterpriseRecord.next_assessment_due)
    return [or_(
        and_(col(EnterpriseRecord.report_version).is_not(None), or_(due_on <= horizon, due_on.is_(None))),
        and_(col(EnterpriseRecord.report_version).is_(None), col(EnterpriseRecord.production_started_on).is_not(None)),
    ), *_in_prefix(region_prefix)]


def reminder_condition(today: date, within_days: int, kinds: tuple[str, ...]) -> Any:
    """SQL: the employer has a reminder of one of ``kinds`` today (``domain.reminders``' kinds and boundaries)."""
    return or_(*(condition for kind, condition, _ in _reminder_parts(today, within_days) if kind in kinds))


def _reminder_parts(today: date, within_days: int) -> list[tuple[str, Any, Any]]:
    """(kind, condition, day column) of each set of employers with a reminder of that kind today, as the domain decides
    it (``domain.reminders``): a report's stored due day, or (archived before it was kept) 3 years after the assessment;
    without a report, 2 months after the production start. The day column orders each set by urgency."""
    has_report, no_report = col(EnterpriseRecord.report_version).is_not(None), col(EnterpriseRecord.report_version).is_(None)
    due_on, assessed_on = col(EnterpriseRecord.next_assessment_due), col(EnterpriseRecord.assessed_on)
    started_on = col(EnterpriseRecord.production_started_on)
    years = 12 * reminders.REASSESSMENT_YEARS
    due_before_today = reminders.overdue_before(today, years)  # assessed before it: 3 years are past today
    due_after_horizon = reminders.overdue_before(today + timedelta(days=within_days + 1), years)  # … past the horizon
    return [
        (reminders.OVERDUE, and_(has_report, due_on < today), due_on),
        (reminders.OVERDUE, and_(has_report, due_on.is_(None), assessed_on < due_before_today), assessed_on),
        (reminders.FIRST_OVERDUE, and_(no_report, started_on < reminders.overdue_before(today, reminders.FIRST_ASSESSMENT_MONTHS)), started_on),
        (reminders.DUE_SOON, and_(has_report, due_on >= today, due_on <= today + timedelta(days=within_days)), due_on),
        (reminders.DUE_SOON, and_(has_report, due_on.is_(None), assessed_on >= due_before_today, assessed_on < due_after_horizon), assessed_on),
    ]


class VersionRepository:
    """Every classified report archived, per employer."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def for_submission(self, submission_id: str) -> ClassificationVersion | None:
        return lookup(self.session, ClassificationVersion, submission_id, "submission_id")

    def add(self, version: ClassificationVersion) -> None:
        remember(self.session, version, "submission_id")

    def preload_submissions(self, submission_ids: list[str]) -> None:
        """Load the versions of these submissions in one query (a batch of classified reports)."""
        preload(self.session, ClassificationVersion, submission_ids, "submission_id")


class OverrideRepository:
    """Industry defaults, enforcement upgrades, disputes and verifications (RULES §5)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def for_employer(self, credit_code: str) -> list[OverrideRecord]:
        """Every override entry of an employer, in recording order."""
        statement = select(OverrideRecord).where(OverrideRecord.credit_code == credit_code).order_by(
            col(OverrideRecord.recorded_at), col(OverrideRecord.version)
        )
        return list(self.session.exec(statement))

    def for_case(self, credit_code: str, case_ref: str, kind: str) -> OverrideRecord | None:
        return self.session.exec(
            select(OverrideRecord).where(OverrideRecord.credit_code == credit_code, OverrideRecord.case_ref == case_ref, OverrideRecord.kind == kind)
        ).first()

    def add(self, row: OverrideRecord) -> None:
        self.session.add(row)
        self.session.flush()


class ExemptionRepository:
    """免检 (RULES §6). Status changes are claimed with a conditional ``UPDATE … WHERE status = …``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, exemption_id: str) -> ExemptionRecord | None:
        return self.session.get(ExemptionRecord, exemption_id)

    def add(self, row: ExemptionRecord) -> None:
        self.session.add(row)
        self.session.flush()

    def for_employer(self, credit_code: str) -> list[ExemptionRecord]:
        return list(
            self.session.exec(
                select(ExemptionRecord).where(ExemptionRecord.credit_code == credit_code).order_by(col(ExemptionRecord.granted_at), col(ExemptionRecord.id))
            )
        )

    def open_for(self, credit_code: str, statuses: tuple[str, ...]) -> list[ExemptionRecord]:
        return list(
            self.session.exec(select(ExemptionRecord).where(ExemptionRecord.credit_code == credit_code, col(ExemptionRecord.status).in_(statuses)))
        )

    def with_status(self, statuses: tuple[str, ...]) -> list[ExemptionRecord]:
        return list(
            self.session.exec(
                select(ExemptionRecord).where(col(ExemptionRecord.status).in_(statuses)).order_by(col(ExemptionRecord.valid_from), col(ExemptionRecord.id))
            ).all()
        )

    def claim(self, row: ExemptionRecord, from_status: str, **values: Any) -> bool:
        """Move ``row`` out of ``from_status`` unless someone else already did; True when this call did."""
        result = self.session.execute(
            update(ExemptionRecord)
            .where(col(ExemptionRecord.id) == row.id, col(ExemptionRecord.status) == from_status)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        self.session.expire(row)
        return result.rowcount == 1  # type: ignore[attr-defined]


class ReminderRepository:
    """The reminders sent: one per employer, kind and due day."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def sent(self, credit_code: str, kind: str, due_on: date) -> ReminderRecord | None:
        return self.session.get(ReminderRecord, (credit_code, kind, due_on))

    def claim(self, credit_code: str, kind: str, due_on: date, now: datetime) -> bool:
        """Record that the reminder is sent, unless it already was; True when this call recorded it
        (``INSERT … ON CONFLICT DO NOTHING``: of two sweeps at once only one sends it)."""
        values = {"credit_code": credit_code, "kind": kind, "due_on": due_on, "sent_at": now}
        key = ["credit_code", "kind", "due_on"]
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":  # psycopg reports no rowcount here: RETURNING says whether the row went in
            statement = postgresql.insert(ReminderRecord).values(**values).on_conflict_do_nothing(index_elements=key)
            return self.session.execute(statement.returning(col(ReminderRecord.credit_code))).first() is not None
        if dialect == "sqlite":
            statement = sqlite.insert(ReminderRecord).values(**values).on_conflict_do_nothing(index_elements=key)
            return self.session.execute(statement).rowcount == 1  # type: ignore[attr-defined]
        try:  # any other database: a savepoint around a plain insert
            with self.session.begin_nested():
                self.session.add(ReminderRecord(**values))
            return True
        except IntegrityError:
            return False


class TransferRepository:
    """Moves between counties (RULES §5a): at most one pending per employer."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: TransferRecord) -> None:
        self.session.add(row)
        self.session.flush()

    def pending_for(self, credit_code: str) -> TransferRecord | None:
        return self.session.exec(
            select(TransferRecord).where(TransferRecord.credit_code == credit_code, TransferRecord.status == "pending")
        ).first()

    def for_employer(self, credit_code: str) -> list[TransferRecord]:
        """Every transfer of the employer, oldest first."""
        statement = select(TransferRecord).where(TransferRecord.credit_code == credit_code)
        return list(self.session.exec(statement.order_by(col(TransferRecord.requested_at), col(TransferRecord.id))))


class ChangeLogRepository:
    """The hash-chained change log per county (RULES §8): append in the unit of work's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def append(self, **entry: Any) -> ChangeLogEntry:
        return chain_log.append(self.session, **entry)

    def lock_regions(self, region_codes: list[str]) -> None:
        chain_log.lock_regions(self.session, region_codes)


class OutboxRepository:
    """What the registry's outbox already holds (the credit feed writes each CloudEvent once)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def has(self, row_id: str) -> bool:
        return outbox_has(self.session, row_id)

    def preload(self, row_ids: list[str]) -> None:
        """Which of these rows the outbox holds, in one query (a batch of credit-feed events)."""
        preload(self.session, OutboxMessage, row_ids, "event_id")


class RectificationRepository:
    """Rectification items (整改), their steps, submissions and attachments. A step changes an item
    with :meth:`advance`, a conditional ``UPDATE … WHERE steps = <the steps read>``: of two steps
    taken at once on one item (a review and the sweep, two sweeps) only one goes through."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, item_id: str) -> RectificationItem | None:
        return self.session.get(RectificationItem, item_id)

    def add(self, item: RectificationItem) -> None:
        self.session.add(item)
        self.session.flush()

    def not_cleared(self, credit_code: str, shortcoming_code: str) -> RectificationItem | None:
        """The employer's item for this shortcoming that is not cleared yet, if any (the oldest)."""
        statement = select(RectificationItem).where(
            RectificationItem.credit_code == credit_code, RectificationItem.shortcoming_code == shortcoming_code,
            RectificationItem.status != "cleared",
        )
        return self.session.exec(statement.order_by(col(RectificationItem.raised_on), col(RectificationItem.created_at))).first()

    def advance(self, item: RectificationItem, **values: Any) -> int | None:
        """Set ``values`` and count one more step, unless another step was taken since ``item`` was read:
        the new step's number, or None."""
        expected = item.steps
        result = self.session.execute(
            update(RectificationItem)
            .where(col(RectificationItem.id) == item.id, col(RectificationItem.steps) == expected)
            .values(steps=expected + 1, **values)
            .execution_options(synchronize_session=False)
        )
        self.session.expire(item)
        return expected + 1 if result.rowcount == 1 else None  # type: ignore[attr-defined]

    def sweep_candidates(self, horizon: date) -> list[RectificationItem]:
        """Items not cleared nor already overdue whose deadline is on or before ``horizon``."""
        statement = select(RectificationItem).where(
            col(RectificationItem.status).in_(("open", "submitted", "returned")), col(RectificationItem.deadline) <= horizon,
        )
        return list(self.session.exec(statement.order_by(col(RectificationItem.deadline), col(RectificationItem.id))))

    def add_step(self, step: RectificationStepRecord) -> None:
        self.session.add(step)
        self.session.flush()

    def step_by_event(self, event_id: str) -> RectificationStepRecord | None:
        return self.session.exec(select(RectificationStepRecord).where(RectificationStepRecord.event_id == event_id)).first()

    def item_by_screening(self, screening_id: str) -> RectificationItem | None:
        """The item whose latest screening this is."""
        return self.session.exec(select(RectificationItem).where(RectificationItem.screening_id == screening_id)).first()

    def screening_recorded(self, screening_id: str) -> bool:
        """Whether some item already raised or continued from this screening (its steps name it)."""
        statement = select(RectificationStepRecord.id).where(RectificationStepRecord.screening_id == screening_id)
        return self.session.exec(statement.limit(1)).first() is not None

    def steps_of(self, item_id: str) -> list[RectificationStepRecord]:
        statement = select(RectificationStepRecord).where(RectificationStepRecord.item_id == item_id)
        return list(self.session.exec(statement.order_by(col(RectificationStepRecord.seq))))

    def add_submission(self, submission: RectificationSubmission) -> None:
        self.session.add(submission)
        self.session.flush()

    def submissions_of(self, item_id: str) -> list[RectificationSubmission]:
        statement = select(RectificationSubmission).where(RectificationSubmission.item_id == item_id)
        return list(self.session.exec(statement.order_by(col(RectificationSubmission.n))))

    def add_attachment(self, attachment: RectificationAttachmentRecord) -> None:
        self.session.add(attachment)
        self.session.flush()

    def attachments_of(self, item_id: str) -> list[RectificationAttachmentRecord]:
        statement = select(RectificationAttachmentRecord).where(RectificationAttachmentRecord.item_id == item_id)
        return list(self.session.exec(statement.order_by(col(RectificationAttachmentRecord.n))))

    def attachment(self, item_id: str, n: int) -> RectificationAttachmentRecord | None:
        return self.session.exec(
            select(RectificationAttachmentRecord).where(RectificationAttachmentRecord.item_id == item_id, RectificationAttachmentRecord.n == n)
        ).first()
