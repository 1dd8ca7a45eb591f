"""The penalty service's tables about organisations' filings and star rating (issue 17): each organisation
(its kind, accreditation region, public-credit input and current rating with its trace) and what it filed
(test reports, examination summaries). With their repository (the unit of work's ``org_filings``)."""

from __future__ import annotations

import abc
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, col, select

from services.penalty.adapters.orm_orgs import OrgDisqualification, OrgFinding
from shared.contracts import utc_now


class Org(SQLModel, table=True):
    """An organisation the penalty service rates: known from its first filing, a province's PUT, or a finding."""

    __tablename__ = "penalty_org"

    org_id: str = Field(primary_key=True, max_length=18)  # its 统一社会信用代码
    name: str = Field(max_length=200)
    kind: str | None = Field(default=None, max_length=24)  # technical_service | examination (None: not declared yet)
    region_code: str = Field(index=True, max_length=6)  # where it is accredited (a finding's county until known)
    public_credit_level: str | None = Field(default=None, max_length=1)
    public_credit_source: str | None = Field(default=None, max_length=200)
    public_credit_as_of: date | None = None
    stars: int | None = None  # the current rating (None: never rated)
    points: float | None = None
    rated_on: date | None = None
    published_stars: int | None = None  # the stars last announced on ohs.orgs.rated
    rule_set: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    trace: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utc_now)


class OrgFiling(SQLModel, table=True):
    """One test report or examination summary an organisation filed; one per (organisation, kind, number, subject): a test
    report's subject is its factor (one 检测报告 covers several factors, each filed as a line), a summary's is empty."""

    __tablename__ = "penalty_org_filing"
    __table_args__ = (UniqueConstraint("org_id", "kind", "number", "subject", name="uq_penalty_org_filing_number"),)

    id: str = Field(primary_key=True, max_length=36)  # also the announcing event's id
    org_id: str = Field(index=True, max_length=18)
    kind: str = Field(max_length=16)  # test_report | exam_summary
    number: str = Field(max_length=64)  # report_no | summary_no
    subject: str = Field(default="", max_length=64)  # the factor of a test report; "" for a summary
    employer_credit_code: str = Field(index=True, max_length=18)
    region_code: str = Field(max_length=6)  # the employer's county
    done_on: date  # tested_on | examined_on
    filed_on: date
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    complete: bool
    filed_by: str
    created_at: datetime = Field(default_factory=utc_now)


class OrgEngagement(SQLModel, table=True):
    """An employer the organisation served: a classified assessment report naming it as the assessor (from
    ``ohs.assessments.classified``), one per report; the rating's share of employers served that were filed for."""

    __tablename__ = "penalty_org_engagement"

    submission_id: str = Field(primary_key=True, max_length=36)
    org_id: str = Field(index=True, max_length=18)
    employer_credit_code: str = Field(max_length=18)
    region_code: str = Field(max_length=6)  # the employer's county
    assessed_on: date
    created_at: datetime = Field(default_factory=utc_now)


MODELS: list[type[SQLModel]] = [Org, OrgFiling, OrgEngagement]


class AbstractOrgFilingRepository(abc.ABC):
    @abc.abstractmethod
    def org(self, org_id: str, *, for_update: bool = False) -> Org | None:
        """The organisation; ``for_update``: its row locked until the command commits (PostgreSQL), so two commands
        rating one organisation take turns and announce a change once."""

    @abc.abstractmethod
    def add_org(self, org: Org) -> None: ...

    @abc.abstractmethod
    def filing(self, org_id: str, kind: str, number: str, subject: str) -> OrgFiling | None: ...

    @abc.abstractmethod
    def add_filing(self, filing: OrgFiling) -> None: ...

    @abc.abstractmethod
    def filings_of(self, org_id: str) -> list[OrgFiling]: ...

    @abc.abstractmethod
    def findings_of(self, org_id: str) -> list[OrgFinding]: ...

    @abc.abstractmethod
    def disqualifications_of(self, org_id: str) -> list[OrgDisqualification]: ...

    @abc.abstractmethod
    def all_orgs(self) -> list[Org]:
        """Every organisation, rows locked (the daily pass rates them all)."""

    @abc.abstractmethod
    def engagement(self, submission_id: str) -> OrgEngagement | None: ...

    @abc.abstractmethod
    def add_engagement(self, engagement: OrgEngagement) -> None: ...

    @abc.abstractmethod
    def engagements_of(self, org_id: str) -> list[OrgEngagement]: ...


class SqlOrgFilingRepository(AbstractOrgFilingRepository):
    def __init__(self, session: Session):
        self.session = session

    def org(self, org_id: str, *, for_update: bool = False) -> Org | None:
        return self.session.get(Org, org_id, with_for_update=for_update or None, populate_existing=for_update)

    def add_org(self, org: Org) -> None:
        self.session.add(org)
        self.session.flush()

    def filing(self, org_id: str, kind: str, number: str, subject: str) -> OrgFiling | None:
        return self.session.exec(select(OrgFiling).where(OrgFiling.org_id == org_id, OrgFiling.kind == kind,
                                                         OrgFiling.number == number, OrgFiling.subject == subject)).first()

    def add_filing(self, filing: OrgFiling) -> None:
        self.session.add(filing)
        self.session.flush()

    def filings_of(self, org_id: str) -> list[OrgFiling]:
        return list(self.session.exec(select(OrgFiling).where(OrgFiling.org_id == org_id)
                                      .order_by(col(OrgFiling.filed_on), col(OrgFiling.created_at))))

    def findings_of(self, org_id: str) -> list[OrgFinding]:
        return list(self.session.exec(select(OrgFinding).where(OrgFinding.org_credit_code == org_id)))

    def disqualifications_of(self, org_id: str) -> list[OrgDisqualification]:
        return list(self.session.exec(select(OrgDisqualification).where(OrgDisqualification.org_credit_code == org_id)))

    def all_orgs(self) -> list[Org]:
        return list(self.session.exec(select(Org).order_by(col(Org.org_id)).with_for_update()))

    def engagement(self, submission_id: str) -> OrgEngagement | None:
        return self.session.get(OrgEngagement, submission_id)

    def add_engagement(self, engagement: OrgEngagement) -> None:
        self.session.add(engagement)
        self.session.flush()

    def engagements_of(self, org_id: str) -> list[OrgEngagement]:
        return list(self.session.exec(select(OrgEngagement).where(OrgEngagement.org_id == org_id)))


def filings_page(session: Session, org_id: str, limit: int, offset: int) -> tuple[list[OrgFiling], int]:
    query = select(OrgFiling).where(OrgFiling.org_id == org_id)
    total = session.exec(select(func.count()).select_from(OrgFiling).where(OrgFiling.org_id == org_id)).one()
    rows = session.exec(query.order_by(col(OrgFiling.filed_on).desc(), col(OrgFiling.created_at).desc()).limit(limit).offset(offset))
    return list(rows), int(total)


def rated_page(session: Session, kind: str | None, limit: int, offset: int) -> tuple[list[Org], int]:
    where = [col(Org.kind).is_not(None), col(Org.stars).is_not(None)]
    if kind is not None:
        where.append(Org.kind == kind)
    total = session.exec(select(func.count()).select_from(Org).where(*where)).one()
    rows = session.exec(select(Org).where(*where).order_by(col(Org.stars).desc(), col(Org.name), col(Org.org_id)).limit(limit).offset(offset))
    return list(rows), int(total)
