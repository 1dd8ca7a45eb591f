"""A penalty unit of work in memory, for the handler tests: repositories over dicts and lists, a
``committed`` flag, the events ``published`` (the outbox rows that would go out after the commit),
and the inbox marks. No database."""

from __future__ import annotations

from datetime import date

from services.penalty.adapters.orm import ArchivedEmployer, Case, CaseStep
from services.penalty.adapters.orm_orgs import OrgDisqualification, OrgFinding
from services.penalty.adapters.orm_screening import AbstractScreeningRepository, ScreenedReport, Screening
from services.penalty.adapters.repository import (
    AbstractCaseCodeSequence,
    AbstractCaseRepository,
    AbstractOrgRepository,
)
from services.penalty.domain import procedure
from services.penalty.service_layer.unit_of_work import AbstractPenaltyUnitOfWork
from tests.unit.fakes import FakeArchivedEmployers, InMemoryInboxAndOutbox


class FakeCaseRepository(AbstractCaseRepository):
    def __init__(self, cases: list[Case] | None = None):
        self.cases: dict[str, Case] = {case.id: case for case in cases or []}
        self.steps: list[CaseStep] = []

    def get(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)

    def add(self, case: Case) -> None:
        self.cases[case.id] = case

    def earlier(self, case: Case) -> list[Case]:
        return [c for c in self.cases.values()
                if c.credit_code == case.credit_code and c.item_code == case.item_code and c.id != case.id
                and (c.found_on < case.found_on or (c.found_on == case.found_on and c.created_at < case.created_at))]

    def timeline(self, case_id: str) -> list[CaseStep]:
        return sorted((s for s in self.steps if s.case_id == case_id), key=lambda s: s.seq)

    def add_step(self, step: CaseStep) -> None:
        if any(s.case_id == step.case_id and s.seq == step.seq for s in self.steps):
            raise AssertionError(f"step {step.seq} of case {step.case_id} taken twice")
        self.steps.append(step)

    def awaiting_correction(self, deadline_before: date) -> list[Case]:
        due = [c for c in self.cases.values() if c.status in procedure.AWAITING_CORRECTION
               and c.rectification_deadline is not None and c.rectification_deadline < deadline_before]
        return sorted(due, key=lambda c: (c.rectification_deadline, c.id))


class FakeCaseCodeSequence(AbstractCaseCodeSequence):
    def __init__(self) -> None:
        self.last: dict[tuple[str, int], int] = {}

    def next(self, region_code: str, year: int) -> int:
        self.last[(region_code, year)] = self.last.get((region_code, year), 0) + 1
        return self.last[(region_code, year)]


class FakeOrgRepository(AbstractOrgRepository):
    def __init__(self) -> None:
        self.found: dict[str, OrgFinding] = {}
        self.disqualifications: dict[str, OrgDisqualification] = {}

    def add_finding(self, finding: OrgFinding) -> None:
        self.found[finding.id] = finding

    def findings(self, finding_ids: list[str]) -> list[OrgFinding]:
        return [self.found[i] for i in finding_ids if i in self.found]

    def disqualification(self, decision_no: str) -> OrgDisqualification | None:
        return self.disqualifications.get(decision_no)

    def add_disqualification(self, disqualification: OrgDisqualification) -> None:
        self.disqualifications[disqualification.decision_no] = disqualification


class FakeScreeningRepository(AbstractScreeningRepository):
    def __init__(self) -> None:
        self.reports: dict[str, ScreenedReport] = {}
        self.rows: dict[str, Screening] = {}

    def report(self, submission_id: str) -> ScreenedReport | None:
        return self.reports.get(submission_id)

    def add_report(self, report: ScreenedReport) -> None:
        self.reports[report.submission_id] = report

    def add(self, screening: Screening) -> None:
        if screening.id in self.rows:
            raise AssertionError(f"screening {screening.id} added twice")
        self.rows[screening.id] = screening

    def get(self, screening_id: str) -> Screening | None:
        return self.rows.get(screening_id)

    def of_employer(self, credit_code: str, shortcoming_codes: list[str]) -> list[Screening]:
        found = [s for s in self.rows.values() if s.credit_code == credit_code and s.shortcoming_code in shortcoming_codes]
        return sorted(found, key=lambda s: (s.screened_on, s.created_at, s.seq))

    def corrected_of_provision(self, credit_code: str, provision_code: str) -> list[Screening]:
        found = [s for s in self.rows.values()
                 if s.credit_code == credit_code and s.provision_code == provision_code and s.corrected_on is not None]
        return sorted(found, key=lambda s: (s.screened_on, s.created_at, s.seq))


class FakeUnitOfWork(InMemoryInboxAndOutbox, AbstractPenaltyUnitOfWork):
    """Nothing is rolled back (the objects are the repositories' own); ``committed`` says whether the use case committed."""

    def __init__(self, cases: list[Case] | None = None) -> None:
        super().__init__()
        self.cases = FakeCaseRepository(cases)
        self.case_codes = FakeCaseCodeSequence()
        self.orgs = FakeOrgRepository()
        self.archived_employers = FakeArchivedEmployers(ArchivedEmployer)
        self.screenings = FakeScreeningRepository()

    # --- what the tests read ---------------------------------------------------------------
    def steps_of(self, case_id: str) -> list[str]:
        return [s.step for s in self.cases.timeline(case_id)]
