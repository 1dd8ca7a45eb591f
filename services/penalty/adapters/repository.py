"""The penalty service's repositories: cases with their timelines, the 行政行为码 sequence, and the
findings and disqualifications of technical service organisations. The SQL ones work in the unit of
work's session (``services.penalty.service_layer.unit_of_work``); the handler tests use in-memory
ones (``tests/unit/penalty/fakes.py``)."""

from __future__ import annotations

import abc
from datetime import date

from sqlmodel import Session, and_, col, or_, select

from services.penalty.adapters.orm import Case, CaseStep
from services.penalty.adapters.orm_orgs import OrgDisqualification, OrgFinding
from services.penalty.adapters.sequences import next_sequence
from services.penalty.domain import procedure


class AbstractCaseRepository(abc.ABC):
    """Cases and their timelines (one row per step)."""

    @abc.abstractmethod
    def get(self, case_id: str) -> Case | None: ...

    @abc.abstractmethod
    def add(self, case: Case) -> None: ...

    @abc.abstractmethod
    def earlier(self, case: Case) -> list[Case]:
        """Earlier cases of this employer and item, from every producer: found before, or the same day and created before."""

    @abc.abstractmethod
    def timeline(self, case_id: str) -> list[CaseStep]:
        """The case's steps in order."""

    @abc.abstractmethod
    def add_step(self, step: CaseStep) -> None: ...

    @abc.abstractmethod
    def awaiting_correction(self, deadline_before: date) -> list[Case]:
        """Cases awaiting correction whose deadline is before the day, by deadline (locked: a concurrent sweep skips them)."""




class AbstractCaseCodeSequence(abc.ABC):
    """The 行政行为码 sequence per region and year, taken in the case-creating transaction."""

    @abc.abstractmethod
    def next(self, region_code: str, year: int) -> int: ...


class AbstractOrgRepository(abc.ABC):
    """False-report findings against organisations, and the province's disqualifications."""

    @abc.abstractmethod
    def add_finding(self, finding: OrgFinding) -> None: ...

    @abc.abstractmethod
    def findings(self, finding_ids: list[str]) -> list[OrgFinding]: ...

    @abc.abstractmethod
    def disqualification(self, decision_no: str) -> OrgDisqualification | None:
        """The disqualification decided by that document, if any."""

    @abc.abstractmethod
    def add_disqualification(self, disqualification: OrgDisqualification) -> None: ...


# --------------------------------------------------------------------------- SQL


class SqlCaseRepository(AbstractCaseRepository):
    def __init__(self, session: Session):
        self.session = session

    def get(self, case_id: str) -> Case | None:
        return self.session.get(Case, case_id)

    def add(self, case: Case) -> None:
        self.session.add(case)
        self.session.flush()

    def earlier(self, case: Case) -> list[Case]:
        return list(self.session.exec(
            select(Case).where(
                Case.credit_code == case.credit_code,
                Case.item_code == case.item_code,
                Case.id != case.id,
                or_(
                    col(Case.found_on) < case.found_on,
                    and_(Case.found_on == case.found_on, col(Case.created_at) < case.created_at),
                ),
            )
        ))

    def timeline(self, case_id: str) -> list[CaseStep]:
        return list(self.session.exec(select(CaseStep).where(CaseStep.case_id == case_id).order_by(col(CaseStep.seq))))

    def add_step(self, step: CaseStep) -> None:
        self.session.add(step)
        self.session.flush()

    def awaiting_correction(self, deadline_before: date) -> list[Case]:
        query = (
            select(Case)
            .where(col(Case.status).in_(procedure.AWAITING_CORRECTION), col(Case.rectification_deadline) < deadline_before)
            .order_by(col(Case.rectification_deadline), col(Case.id))
            .with_for_update(skip_locked=True)
        )
        return list(self.session.exec(query).all())


class SqlCaseCodeSequence(AbstractCaseCodeSequence):
    def __init__(self, session: Session):
        self.session = session

    def next(self, region_code: str, year: int) -> int:
        return next_sequence(self.session, region_code, year)


class SqlOrgRepository(AbstractOrgRepository):
    def __init__(self, session: Session):
        self.session = session

    def add_finding(self, finding: OrgFinding) -> None:
        self.session.add(finding)
        self.session.flush()

    def findings(self, finding_ids: list[str]) -> list[OrgFinding]:
        if not finding_ids:
            return []
        return list(self.session.exec(select(OrgFinding).where(col(OrgFinding.id).in_(finding_ids))))

    def disqualification(self, decision_no: str) -> OrgDisqualification | None:
        return self.session.exec(select(OrgDisqualification).where(OrgDisqualification.decision_no == decision_no)).first()

    def add_disqualification(self, disqualification: OrgDisqualification) -> None:
        self.session.add(disqualification)
