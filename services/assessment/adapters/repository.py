"""The assessment's repositories: submitted reports and disqualified organisations.

The abstract classes are what the service layer relies on; the SQL ones work on the unit of
work's session, and the handler tests have in-memory ones (``tests/unit/assessment/fakes.py``).
"""

from __future__ import annotations

import abc

from sqlmodel import Session, col, select

from services.assessment.adapters.orm import (
    DisqualifiedOrg,
    Submission,
)


class AbstractSubmissionRepository(abc.ABC):
    """Every report submitted, by its submission id."""

    @abc.abstractmethod
    def add(self, submission: Submission) -> None:
        """Keep a new (or changed) submission."""

    @abc.abstractmethod
    def get(self, submission_id: str) -> Submission | None:
        """The submission with this id, if any."""

    @abc.abstractmethod
    def latest_for(self, credit_code: str) -> Submission | None:
        """The employer's most recently received submission, if any."""

    @abc.abstractmethod
    def classified_other_than(self, credit_code: str, submission_id: str) -> bool:
        """Has the employer a classified submission other than ``submission_id``?"""


class AbstractDisqualifiedOrgRepository(abc.ABC):
    """The latest disqualification decision about each technical service organisation."""

    @abc.abstractmethod
    def add(self, org: DisqualifiedOrg) -> None:
        """Keep a new (or changed) decision."""

    @abc.abstractmethod
    def get(self, org_id: str) -> DisqualifiedOrg | None:
        """The decision about the organisation with this 统一社会信用代码, if any."""




class SqlSubmissionRepository(AbstractSubmissionRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, submission: Submission) -> None:
        self.session.add(submission)

    def get(self, submission_id: str) -> Submission | None:
        return self.session.get(Submission, submission_id)

    def latest_for(self, credit_code: str) -> Submission | None:
        return self.session.exec(
            select(Submission).where(Submission.credit_code == credit_code).order_by(col(Submission.received_at).desc())
        ).first()

    def classified_other_than(self, credit_code: str, submission_id: str) -> bool:
        found = self.session.exec(
            select(Submission.submission_id).where(
                Submission.credit_code == credit_code, Submission.status == "classified", Submission.submission_id != submission_id
            )
        ).first()
        return found is not None


class SqlDisqualifiedOrgRepository(AbstractDisqualifiedOrgRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, org: DisqualifiedOrg) -> None:
        self.session.add(org)

    def get(self, org_id: str) -> DisqualifiedOrg | None:
        return self.session.get(DisqualifiedOrg, org_id)
