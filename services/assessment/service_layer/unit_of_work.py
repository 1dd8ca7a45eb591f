"""The assessment's unit of work: its repositories, the inbox and the outbox in one transaction."""

from __future__ import annotations

from typing import Self

from services.assessment.adapters.orm import ArchivedEmployer
from services.assessment.adapters.orm_test_filings import AbstractFiledTestReports, SqlFiledTestReports
from services.assessment.adapters.repository import (
    AbstractDisqualifiedOrgRepository,
    AbstractSubmissionRepository,
    SqlDisqualifiedOrgRepository,
    SqlSubmissionRepository,
)
from shared.archive_region import AbstractArchivedEmployers, SqlArchivedEmployers
from shared.unit_of_work import AbstractUnitOfWork, SqlUnitOfWork


class AbstractAssessmentUnitOfWork(AbstractUnitOfWork):
    """What the assessment's use cases rely on, whatever stores it."""

    submissions: AbstractSubmissionRepository
    disqualified_orgs: AbstractDisqualifiedOrgRepository
    archived_employers: AbstractArchivedEmployers  # where the registry has each employer (RULES §5a)
    filed_tests: AbstractFiledTestReports  # organisations' filed test reports (issue 17; a fake without it checks nothing)


class AssessmentUnitOfWork(SqlUnitOfWork, AbstractAssessmentUnitOfWork):
    """The assessment's unit of work over its own database (installed by ``bootstrap``)."""

    def __enter__(self) -> Self:
        uow = super().__enter__()
        self.submissions = SqlSubmissionRepository(self.session)
        self.disqualified_orgs = SqlDisqualifiedOrgRepository(self.session)
        self.archived_employers = SqlArchivedEmployers(self.session, ArchivedEmployer)
        self.filed_tests = SqlFiledTestReports(self.session)
        return uow
