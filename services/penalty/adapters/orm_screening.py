"""The penalty service's tables about screenings (issue 13): every classified report screened against
附件5 (one row per report, one per disclosed shortcoming), the rectification item's progress as the
registry announces it, and the case the county opened from a screening. With their repository (the
unit of work's ``screenings``; an in-memory one in ``tests/unit/penalty/fakes.py``)."""

from __future__ import annotations

import abc
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel, col, select

from shared.contracts import utc_now


class ScreenedReport(SQLModel, table=True):
    """A classified report screened (its shortcomings may be none): the screening is done once per report."""

    __tablename__ = "penalty_screened_report"

    submission_id: str = Field(primary_key=True, max_length=36)
    credit_code: str = Field(index=True, max_length=18)
    region_code: str = Field(max_length=6)  # the archive's county when penalty knows it, else the report's
    screened_on: date  # the China date of the classification: deadlines count from it
    results: int  # how many shortcomings were screened
    rule_set: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # the map and list labels
    event_id: str = Field(max_length=36)  # the ScreeningRecorded announcing it
    created_at: datetime = Field(default_factory=utc_now)


class Screening(SQLModel, table=True):
    """One disclosed shortcoming screened against the no-penalty list in force (a ``ScreeningResult``), and
    what happened since: the rectification item's status, the correction, the case opened from it."""

    __tablename__ = "penalty_screening"

    id: str = Field(primary_key=True, max_length=36)  # uuid5 of the submission id and the shortcoming code
    submission_id: str = Field(index=True, max_length=36)
    seq: int  # its place among the report's shortcomings
    credit_code: str = Field(index=True, max_length=18)
    region_code: str = Field(index=True, max_length=6)
    screened_on: date
    shortcoming_code: str = Field(index=True, max_length=300)
    shortcoming: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # code, kind, subject, text
    outcome: str = Field(max_length=24)  # eligible_if_corrected | not_eligible | no_violation
    item_code: str | None = Field(default=None, max_length=16)  # the 附件5 item in force, when listed
    provision_code: str | None = Field(default=None, max_length=16)  # the article-item a case carries
    duty: str = ""
    major: bool = False
    deadline: date
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    earlier: str | None = None
    trace: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rectification_status: str | None = Field(default=None, max_length=16)  # the registry's item: open … cleared | overdue
    item_id: str | None = Field(default=None, max_length=36)  # the registry's rectification item
    corrected_on: date | None = None
    corrected_in_time: bool | None = None  # corrected by the deadline: counts as corrected promptly
    listed_on: date | None = None  # the day the item was listed for enforcement (overdue)
    case_id: str | None = Field(default=None, max_length=36, unique=True)
    case_code: str | None = Field(default=None, max_length=17)
    created_at: datetime = Field(default_factory=utc_now)


MODELS: list[type[SQLModel]] = [ScreenedReport, Screening]


# --------------------------------------------------------------------------- the repository


class AbstractScreeningRepository(abc.ABC):
    """Screened reports and their screenings."""

    @abc.abstractmethod
    def report(self, submission_id: str) -> ScreenedReport | None:
        """The report's screening, if it was screened."""

    @abc.abstractmethod
    def add_report(self, report: ScreenedReport) -> None: ...

    @abc.abstractmethod
    def add(self, screening: Screening) -> None: ...

    @abc.abstractmethod
    def get(self, screening_id: str) -> Screening | None: ...

    @abc.abstractmethod
    def of_employer(self, credit_code: str, shortcoming_codes: list[str]) -> list[Screening]:
        """The employer's screenings of these shortcomings (every report), oldest first."""

    @abc.abstractmethod
    def corrected_of_provision(self, credit_code: str, provision_code: str) -> list[Screening]:
        """The employer's screenings that found this provision and whose correction was accepted, oldest first."""


class SqlScreeningRepository(AbstractScreeningRepository):
    def __init__(self, session: Session):
        self.session = session

    def report(self, submission_id: str) -> ScreenedReport | None:
        return self.session.get(ScreenedReport, submission_id)

    def add_report(self, report: ScreenedReport) -> None:
        self.session.add(report)
        self.session.flush()  # a second delivery of the report in the same batch finds it

    def add(self, screening: Screening) -> None:
        self.session.add(screening)

    def get(self, screening_id: str) -> Screening | None:
        return self.session.get(Screening, screening_id)

    def of_employer(self, credit_code: str, shortcoming_codes: list[str]) -> list[Screening]:
        if not shortcoming_codes:
            return []
        query = (select(Screening)
                 .where(Screening.credit_code == credit_code, col(Screening.shortcoming_code).in_(shortcoming_codes))
                 .order_by(col(Screening.screened_on), col(Screening.created_at), col(Screening.seq)))
        return list(self.session.exec(query))

    def corrected_of_provision(self, credit_code: str, provision_code: str) -> list[Screening]:
        query = (select(Screening)
                 .where(Screening.credit_code == credit_code, Screening.provision_code == provision_code,
                        col(Screening.corrected_on).is_not(None))
                 .order_by(col(Screening.screened_on), col(Screening.created_at), col(Screening.seq)))
        return list(self.session.exec(query))
