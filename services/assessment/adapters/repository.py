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
from shared.db import lookup, preload, preloaded, remember

_CLASSIFIED = ("classified submissions", "credit_code")  # credit code -> its classified submission ids


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

    def preload(self, submission_ids: list[str], credit_codes: list[str]) -> None:
        """Load what a batch of submitted reports will ask about, at once (a store in memory has nothing to do)."""


class AbstractDisqualifiedOrgRepository(abc.ABC):
    """The latest disqualification decision about each technical service organisation."""

    @abc.abstractmethod
    def add(self, org: DisqualifiedOrg) -> None:
        """Keep a new (or changed) decision."""

    @abc.abstractmethod
    def get(self, org_id: str) -> DisqualifiedOrg | None:
        """The decision about the organisation with this 统一社会信用代码, if any."""

    def preload(self, org_ids: list[str]) -> None:
        """Load the decisions about these organisations at once (a store in memory has nothing to do)."""




class SqlSubmissionRepository(AbstractSubmissionRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, submission: Submission) -> None:
        remember(self.session, submission)
        classified = self._classified()
        if classified is not None and submission.status == "classified":
            classified.setdefault(submission.credit_code, set()).add(submission.submission_id)

    def get(self, submission_id: str) -> Submission | None:
        return lookup(self.session, Submission, submission_id)

    def preload(self, submission_ids: list[str], credit_codes: list[str]) -> None:
        preload(self.session, Submission, submission_ids)
        classified: dict[str, set[str]] = {code: set() for code in credit_codes}
        for start in range(0, len(credit_codes), 500):
            statement = select(Submission.submission_id, Submission.credit_code).where(
                col(Submission.credit_code).in_(credit_codes[start:start + 500]), Submission.status == "classified")
            for submission_id, credit_code in self.session.exec(statement):
                classified[credit_code].add(submission_id)
        preloaded(self.session)[_CLASSIFIED] = classified

    def _classified(self) -> dict[str, set[str]] | None:
        return preloaded(self.session).get(_CLASSIFIED)

    def latest_for(self, credit_code: str) -> Submission | None:
        return self.session.exec(
            select(Submission).where(Submission.credit_code == credit_code).order_by(col(Submission.received_at).desc())
        ).first()

    def classified_other_than(self, credit_code: str, submission_id: str) -> bool:
        classified = self._classified()
        if classified is not None and credit_code in classified:
            return bool(classified[credit_code] - {submission_id})
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
        remember(self.session, org)

    def get(self, org_id: str) -> DisqualifiedOrg | None:
        return lookup(self.session, DisqualifiedOrg, org_id)

    def preload(self, org_ids: list[str]) -> None:
        preload(self.session, DisqualifiedOrg, org_ids)
