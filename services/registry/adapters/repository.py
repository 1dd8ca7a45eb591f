"""The registry's repositories: how its use cases reach the archive's tables.

One repository per aggregate the use cases touch (an employer's archive record, its report
versions, its overrides, its 免检, the reminders sent, the hash-chained change log). Each takes
the unit of work's session; the handler tests use in-memory fakes with the same methods
(``tests/unit/registry/fakes.py``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
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
        horizon = today + timedelta(days=within_days)
        due_on = col(EnterpriseRecord.next_assessment_due)
        condition = or_(
            and_(col(EnterpriseRecord.report_version).is_not(None), or_(due_on <= horizon, due_on.is_(None))),
            and_(col(EnterpriseRecord.report_version).is_(None), col(EnterpriseRecord.production_started_on).is_not(None)),
        )
        statement = select(EnterpriseRecord).where(condition)
        if region_prefix:
            statement = statement.where(col(EnterpriseRecord.region_code).startswith(region_prefix))
        return list(self.session.exec(statement.order_by(col(EnterpriseRecord.region_code), col(EnterpriseRecord.credit_code))))


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
