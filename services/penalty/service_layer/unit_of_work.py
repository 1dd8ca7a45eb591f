"""The penalty service's unit of work: its repositories (cases and timelines, the 行政行为码 sequence,
organisations' findings and disqualifications) over one session, with the inbox and the outbox of
:class:`shared.unit_of_work.SqlUnitOfWork`. Installed by ``services.penalty.bootstrap``."""

from __future__ import annotations

from typing import Self

from services.penalty.adapters.orm import ArchivedEmployer
from services.penalty.adapters.orm_org_filings import AbstractOrgFilingRepository, SqlOrgFilingRepository
from services.penalty.adapters.orm_screening import AbstractScreeningRepository, SqlScreeningRepository
from services.penalty.adapters.repository import (
    AbstractCaseCodeSequence,
    AbstractCaseRepository,
    AbstractOrgRepository,
    SqlCaseCodeSequence,
    SqlCaseRepository,
    SqlOrgRepository,
)
from shared.archive_region import AbstractArchivedEmployers, SqlArchivedEmployers
from shared.unit_of_work import AbstractUnitOfWork, SqlUnitOfWork


class AbstractPenaltyUnitOfWork(AbstractUnitOfWork):
    """What the penalty use cases rely on."""

    cases: AbstractCaseRepository
    case_codes: AbstractCaseCodeSequence
    orgs: AbstractOrgRepository
    archived_employers: AbstractArchivedEmployers  # where the registry has each employer (RULES §5a)
    screenings: AbstractScreeningRepository  # reports screened against 附件5, one row per shortcoming (issue 13)
    org_filings: AbstractOrgFilingRepository  # organisations' filings and star rating (issue 17)


class PenaltyUnitOfWork(SqlUnitOfWork, AbstractPenaltyUnitOfWork):
    def __enter__(self) -> Self:
        uow = super().__enter__()
        self.cases = SqlCaseRepository(self.session)
        self.case_codes = SqlCaseCodeSequence(self.session)
        self.orgs = SqlOrgRepository(self.session)
        self.archived_employers = SqlArchivedEmployers(self.session, ArchivedEmployer)
        self.screenings = SqlScreeningRepository(self.session)
        self.org_filings = SqlOrgFilingRepository(self.session)
        return uow
