"""A registry unit of work without a database: in-memory repositories, a ``committed`` flag and the
events published, for the handler tests (after cosmicpython's ``tests/unit/test_handlers.py``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from services.registry.adapters.orm import (
    ChangeLogEntry,
    ClassificationVersion,
    EnterpriseRecord,
    ExemptionRecord,
    OverrideRecord,
    TransferRecord,
)
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


class FakeOutbox:
    def preload(self, row_ids: list[str]) -> None:  # in memory already
        pass

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    def has(self, row_id: str) -> bool:
        return any(p["event_id"] == row_id for p in self._uow.payloads)


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
        self.outbox = FakeOutbox(self)
