"""A registry unit of work without a database: in-memory repositories, a ``committed`` flag and the
events published, for the handler tests (after cosmicpython's ``tests/unit/test_handlers.py``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from services.registry.adapters.orm import (
    ChangeLogEntry,
    ClassificationVersion,
    EnterpriseRecord,
    ExemptionRecord,
    OverrideRecord,
    TransferRecord,
)
from services.registry.adapters.orm_portrait import (
    PortraitDecisionFact,
    PortraitItemFact,
    PortraitNonSiteFact,
    PortraitRecord,
    PortraitReportFact,
    PortraitScreeningFact,
    PortraitVersion,
)
from services.registry.domain.overrides import INDUSTRY_DEFAULT
from shared.dates import CHINA
from shared.unit_of_work import AbstractUnitOfWork
from tests.unit.fakes import InMemoryInboxAndOutbox


class FakeEnterprises:
    def preload(self, credit_codes: list[str]) -> None:  # in memory already
        pass

    def __init__(self) -> None:
        self.records: dict[str, EnterpriseRecord] = {}

    def get(self, credit_code: str) -> EnterpriseRecord | None:
        return self.records.get(credit_code)

    def add(self, record: EnterpriseRecord) -> None:
        self.records[record.credit_code] = record

    def reminder_candidates(self, today: date, within_days: int, region_prefix: str | None = None) -> list[EnterpriseRecord]:
        return sorted((r for r in self.records.values() if r.region_code.startswith(region_prefix or "")),
                      key=lambda r: (r.region_code, r.credit_code))


class FakeVersions:
    def preload_submissions(self, submission_ids: list[str]) -> None:  # in memory already
        pass

    def __init__(self) -> None:
        self.rows: list[ClassificationVersion] = []

    def for_submission(self, submission_id: str) -> ClassificationVersion | None:
        return next((v for v in self.rows if v.submission_id == submission_id), None)

    def add(self, version: ClassificationVersion) -> None:
        self.rows.append(version)


class FakeOverrides:
    def __init__(self) -> None:
        self.rows: list[OverrideRecord] = []

    def for_employer(self, credit_code: str) -> list[OverrideRecord]:
        return sorted((r for r in self.rows if r.credit_code == credit_code), key=lambda r: (r.recorded_at, r.version))

    def for_case(self, credit_code: str, case_ref: str, kind: str) -> OverrideRecord | None:
        return next((r for r in self.rows if (r.credit_code, r.case_ref, r.kind) == (credit_code, case_ref, kind)), None)

    def add(self, row: OverrideRecord) -> None:
        if row not in self.rows:
            self.rows.append(row)


class FakeExemptions:
    def __init__(self) -> None:
        self.rows: dict[str, ExemptionRecord] = {}

    def get(self, exemption_id: str) -> ExemptionRecord | None:
        return self.rows.get(exemption_id)

    def add(self, row: ExemptionRecord) -> None:
        self.rows[row.id] = row

    def for_employer(self, credit_code: str) -> list[ExemptionRecord]:
        return sorted((r for r in self.rows.values() if r.credit_code == credit_code), key=lambda r: (r.granted_at, r.id))

    def open_for(self, credit_code: str, statuses: tuple[str, ...]) -> list[ExemptionRecord]:
        return [r for r in self.for_employer(credit_code) if r.status in statuses]

    def with_status(self, statuses: tuple[str, ...]) -> list[ExemptionRecord]:
        return sorted((r for r in self.rows.values() if r.status in statuses), key=lambda r: (r.valid_from, r.id))

    def claim(self, row: ExemptionRecord, from_status: str, **values: Any) -> bool:
        if row.status != from_status:
            return False
        for name, value in values.items():
            setattr(row, name, value)
        return True


class FakeReminders:
    def __init__(self) -> None:
        self.sent_at: dict[tuple[str, str, date], datetime] = {}

    def sent(self, credit_code: str, kind: str, due_on: date) -> Any:
        return self.sent_at.get((credit_code, kind, due_on))

    def claim(self, credit_code: str, kind: str, due_on: date, now: datetime) -> bool:
        if (credit_code, kind, due_on) in self.sent_at:
            return False
        self.sent_at[(credit_code, kind, due_on)] = now
        return True


class FakeChangeLog:
    """The change log without its hashes: the entries in the order appended, per region."""

    def __init__(self) -> None:
        self.entries: list[ChangeLogEntry] = []
        self.locked: list[list[str]] = []

    def append(self, **entry: Any) -> ChangeLogEntry:
        row = ChangeLogEntry(seq=len(self.entries) + 1, prev_hash="", hash="", **entry)
        self.entries.append(row)
        return row

    def lock_regions(self, region_codes: list[str]) -> None:
        self.locked.append(sorted(set(region_codes)))

    def of(self, region_code: str) -> list[ChangeLogEntry]:
        return [e for e in self.entries if e.region_code == region_code]


class FakeTransfers:
    def __init__(self) -> None:
        self.rows: list[TransferRecord] = []

    def add(self, row: TransferRecord) -> None:
        if row not in self.rows:
            self.rows.append(row)

    def pending_for(self, credit_code: str) -> TransferRecord | None:
        return next((r for r in self.rows if r.credit_code == credit_code and r.status == "pending"), None)

    def for_employer(self, credit_code: str) -> list[TransferRecord]:
        return [r for r in self.rows if r.credit_code == credit_code]


class FakeRectifications:
    """Rectification items, their steps, submissions and attachments (``repository.RectificationRepository``)."""

    def __init__(self) -> None:
        self.items: dict[str, Any] = {}
        self.steps: list[Any] = []
        self.submissions: list[Any] = []
        self.attachments: list[Any] = []

    def get(self, item_id: str) -> Any:
        return self.items.get(item_id)

    def add(self, item: Any) -> None:
        self.items[item.id] = item

    def not_cleared(self, credit_code: str, shortcoming_code: str) -> Any:
        found = [i for i in self.items.values() if (i.credit_code, i.shortcoming_code) == (credit_code, shortcoming_code) and i.status != "cleared"]
        return min(found, key=lambda i: (i.raised_on, i.created_at), default=None)

    def advance(self, item: Any, **values: Any) -> int | None:
        stored = self.items[item.id]
        if stored.steps != item.steps:
            return None
        for name, value in values.items():
            setattr(stored, name, value)
        stored.steps += 1
        return stored.steps

    def sweep_candidates(self, horizon: date) -> list[Any]:
        return sorted((i for i in self.items.values() if i.status in ("open", "submitted", "returned") and i.deadline <= horizon),
                      key=lambda i: (i.deadline, i.id))

    def add_step(self, step: Any) -> None:
        assert all((s.item_id, s.seq) != (step.item_id, step.seq) for s in self.steps), "uq_registry_rectification_step"
        assert all(s.event_id != step.event_id for s in self.steps), "uq on registry_rectification_step.event_id"
        self.steps.append(step)

    def step_by_event(self, event_id: str) -> Any:
        return next((s for s in self.steps if s.event_id == event_id), None)

    def item_by_screening(self, screening_id: str) -> Any:
        return next((i for i in self.items.values() if i.screening_id == screening_id), None)

    def screening_recorded(self, screening_id: str) -> bool:
        return any(s.screening_id == screening_id for s in self.steps)

    def steps_of(self, item_id: str) -> list[Any]:
        return sorted((s for s in self.steps if s.item_id == item_id), key=lambda s: s.seq)

    def add_submission(self, submission: Any) -> None:
        self.submissions.append(submission)

    def submissions_of(self, item_id: str) -> list[Any]:
        return sorted((s for s in self.submissions if s.item_id == item_id), key=lambda s: s.n)

    def add_attachment(self, attachment: Any) -> None:
        self.attachments.append(attachment)

    def attachments_of(self, item_id: str) -> list[Any]:
        return sorted((a for a in self.attachments if a.item_id == item_id), key=lambda a: a.n)

    def attachment(self, item_id: str, n: int) -> Any:
        return next((a for a in self.attachments if (a.item_id, a.n) == (item_id, n)), None)


class FakeOutbox:
    def preload(self, row_ids: list[str]) -> None:  # in memory already
        pass

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def has(self, row_id: str) -> bool:
        return any(p["event_id"] == row_id for p in self._uow.payloads)


class FakePortraits:
    """Each employer's portrait and its versions (``orm_portrait.PortraitRepository``)."""

    def __init__(self) -> None:
        self.records: dict[str, PortraitRecord] = {}
        self.rows: list[PortraitVersion] = []

    def get(self, credit_code: str) -> PortraitRecord | None:
        return self.records.get(credit_code)

    def add(self, record: PortraitRecord) -> None:
        self.records[record.credit_code] = record

    def add_version(self, row: PortraitVersion) -> None:
        assert self.version(row.credit_code, row.version) is None, "uq_registry_portrait_version"
        self.rows.append(row)

    def version(self, credit_code: str, version: int) -> PortraitVersion | None:
        return next((r for r in self.rows if (r.credit_code, r.version) == (credit_code, version)), None)

    def versions(self, credit_code: str) -> list[PortraitVersion]:
        return sorted((r for r in self.rows if r.credit_code == credit_code), key=lambda r: r.version)


class FakePortraitFacts:
    """The portrait's and the figures' facts in dicts, the counts as the SQL repository makes them
    (``orm_portrait.PortraitFactRepository``); coverage from the fake archive of ``uow``."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow
        self.reports_by_id: dict[str, PortraitReportFact] = {}
        self.items_by_id: dict[str, PortraitItemFact] = {}
        self.screenings_by_id: dict[str, PortraitScreeningFact] = {}
        self.decisions_by_id: dict[str, PortraitDecisionFact] = {}
        self.nonsite_by_id: dict[str, PortraitNonSiteFact] = {}

    def report(self, submission_id: str) -> PortraitReportFact | None:
        return self.reports_by_id.get(submission_id)

    def add_report(self, row: PortraitReportFact) -> None:
        self.reports_by_id[row.submission_id] = row

    def reports(self, credit_code: str) -> list[PortraitReportFact]:
        return [r for r in self.reports_by_id.values() if r.credit_code == credit_code]

    def item(self, item_id: str) -> PortraitItemFact | None:
        return self.items_by_id.get(item_id)

    def add_item(self, row: PortraitItemFact) -> None:
        self.items_by_id[row.item_id] = row

    def items(self, credit_code: str) -> list[PortraitItemFact]:
        return [r for r in self.items_by_id.values() if r.credit_code == credit_code]

    def screening(self, row_id: str) -> PortraitScreeningFact | None:
        return self.screenings_by_id.get(row_id)

    def add_screening(self, row: PortraitScreeningFact) -> None:
        self.screenings_by_id[row.id] = row

    def decision(self, case_id: str) -> PortraitDecisionFact | None:
        return self.decisions_by_id.get(case_id)

    def add_decision(self, row: PortraitDecisionFact) -> None:
        self.decisions_by_id[row.case_id] = row

    def decisions(self, credit_code: str) -> list[PortraitDecisionFact]:
        return [r for r in self.decisions_by_id.values() if r.credit_code == credit_code]

    def nonsite_fact(self, row_id: str) -> PortraitNonSiteFact | None:
        return self.nonsite_by_id.get(row_id)

    def add_nonsite_fact(self, row: PortraitNonSiteFact) -> None:
        self.nonsite_by_id[row.id] = row

    def nonsite_facts(self, credit_code: str) -> list[PortraitNonSiteFact]:
        return [r for r in self.nonsite_by_id.values() if r.credit_code == credit_code]

    @staticmethod
    def _tally(keys: Any) -> dict[str, int]:
        found: dict[str, int] = {}
        for key in keys:
            found[key] = found.get(key, 0) + 1
        return found

    def items_raised(self, prefix: str, start: date, end: date) -> dict[str, int]:
        return self._tally(r.region_code for r in self.items_by_id.values()
                           if r.region_code.startswith(prefix) and r.raised_on is not None and start <= r.raised_on <= end)

    def items_cleared(self, prefix: str, start: date, end: date) -> dict[str, int]:
        return self._tally(r.region_code for r in self.items_by_id.values()
                           if r.region_code.startswith(prefix) and r.cleared_on is not None and start <= r.cleared_on <= end)

    def items_overdue(self, prefix: str, end: date) -> dict[str, int]:
        return self._tally(r.region_code for r in self.items_by_id.values()
                           if r.region_code.startswith(prefix) and r.overdue_on is not None and r.overdue_on <= end
                           and (r.cleared_on is None or r.cleared_on > end))

    def screenings(self, prefix: str, start: date, end: date) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {}
        for r in self.screenings_by_id.values():
            if r.region_code.startswith(prefix) and start <= r.screened_on <= end:
                found.setdefault(r.region_code, {})[r.outcome] = found.get(r.region_code, {}).get(r.outcome, 0) + 1
        return found

    def decisions_in(self, prefix: str, start: date, end: date) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {}
        for r in self.decisions_by_id.values():
            if r.region_code is not None and r.region_code.startswith(prefix) and start <= r.decided_on <= end:
                found.setdefault(r.region_code, {})[r.decision] = found.get(r.region_code, {}).get(r.decision, 0) + 1
        return found

    def coverage(self, prefix: str, end: date) -> dict[str, tuple[int, int]]:
        until = datetime.combine(end + timedelta(days=1), time(), CHINA)
        reported = {v.credit_code for v in self._uow.versions.rows if v.recorded_at < until}
        by_industry = {o.credit_code for o in self._uow.overrides.rows if o.kind == INDUSTRY_DEFAULT and o.recorded_at < until}
        found: dict[str, tuple[int, int]] = {}
        for record in self._uow.enterprises.records.values():
            if not record.region_code.startswith(prefix) or record.credit_code not in reported | by_industry:
                continue
            known, classified = found.get(record.region_code, (0, 0))
            found[record.region_code] = (known + 1, classified + (record.credit_code in reported))
        return dict(sorted(found.items()))


class FakeUnitOfWork(InMemoryInboxAndOutbox, AbstractUnitOfWork):
    """Everything kept in memory; ``committed`` says whether the use case committed, ``published``
    and ``payloads`` what it published (as the outbox would, once committed)."""

    def __init__(self) -> None:
        super().__init__()
        self.enterprises = FakeEnterprises()
        self.versions = FakeVersions()
        self.overrides = FakeOverrides()
        self.exemptions = FakeExemptions()
        self.reminders = FakeReminders()
        self.change_log = FakeChangeLog()
        self.transfers = FakeTransfers()
        self.rectifications = FakeRectifications()
        self.portraits = FakePortraits()
        self.portrait_facts = FakePortraitFacts(self)
        self.outbox = FakeOutbox(self)
