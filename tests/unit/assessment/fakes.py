"""An in-memory unit of work for the assessment's handler tests: no database."""

from __future__ import annotations

from services.assessment.adapters.orm import (
    ArchivedEmployer,
    DisqualifiedOrg,
    Submission,
)
from services.assessment.adapters.orm_test_filings import AbstractFiledTestReports, FiledTestReport
from services.assessment.adapters.repository import (
    AbstractDisqualifiedOrgRepository,
    AbstractSubmissionRepository,
)
from services.assessment.service_layer.unit_of_work import AbstractAssessmentUnitOfWork
from tests.unit.fakes import FakeArchivedEmployers, InMemoryInboxAndOutbox


class FakeSubmissionRepository(AbstractSubmissionRepository):
    def __init__(self, submissions: list[Submission] | None = None) -> None:
        self._by_id = {s.submission_id: s for s in submissions or []}

    def add(self, submission: Submission) -> None:
        self._by_id[submission.submission_id] = submission

    def get(self, submission_id: str) -> Submission | None:
        return self._by_id.get(submission_id)

    def latest_for(self, credit_code: str) -> Submission | None:
        theirs = [s for s in self._by_id.values() if s.credit_code == credit_code]
        return max(theirs, key=lambda s: s.received_at, default=None)

    def classified_other_than(self, credit_code: str, submission_id: str) -> bool:
        return any(
            s.credit_code == credit_code and s.status == "classified" and s.submission_id != submission_id
            for s in self._by_id.values()
        )

    def __len__(self) -> int:
        return len(self._by_id)


class FakeDisqualifiedOrgRepository(AbstractDisqualifiedOrgRepository):
    def __init__(self) -> None:
        self._by_id: dict[str, DisqualifiedOrg] = {}

    def add(self, org: DisqualifiedOrg) -> None:
        self._by_id[org.org_id] = org

    def get(self, org_id: str) -> DisqualifiedOrg | None:
        return self._by_id.get(org_id)


class InMemoryFiledTestReports(AbstractFiledTestReports):
    """The organisations' filed test reports in a dict."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], FiledTestReport] = {}

    def get(self, org_id: str, report_no: str, factor: str) -> FiledTestReport | None:
        return self.rows.get((org_id, report_no, factor))

    def add(self, filed: FiledTestReport) -> None:
        self.rows[(filed.org_id, filed.report_no, filed.factor)] = filed

    def relevant(self, credit_code: str, report_nos: list[str]) -> list[FiledTestReport]:
        return sorted((r for r in self.rows.values() if r.credit_code == credit_code or r.report_no in report_nos),
                      key=lambda r: (r.filed_on, r.org_id))


class FakeUnitOfWork(InMemoryInboxAndOutbox, AbstractAssessmentUnitOfWork):
    """Repositories in dicts; ``committed`` says whether the use case committed, ``published``
    lists the events it published (as the outbox would, were it committed)."""

    def __init__(self) -> None:
        super().__init__()
        self.submissions = FakeSubmissionRepository()
        self.disqualified_orgs = FakeDisqualifiedOrgRepository()
        self.archived_employers = FakeArchivedEmployers(ArchivedEmployer)
        self.filed_tests = InMemoryFiledTestReports()

    def published_topics(self) -> list[str]:
        return [event.topic for event in self.published]
