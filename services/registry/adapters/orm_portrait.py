"""The registry's projection for the risk portrait (风险画像) and the agency's figures, and its repositories.

Fed by events only (a replay of the topics into an empty registry rebuilds it): one fact row per
classified report, per rectification item (from ``ohs.registry.rectification-progressed``), per
screened shortcoming and per penalty decision, each with its day and county; then each employer's
portrait, its versions (a new one only when the content's hash changes). The rectification loop's
own tables are not read here. Coverage (employers known / classified) is counted from the archive's
tables (its versions and industry defaults), the registry's own record of the employers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, and_, or_
from sqlmodel import Field, Session, SQLModel, col, func, select

from services.registry.adapters.orm import ClassificationVersion, EnterpriseRecord, OverrideRecord
from services.registry.domain.overrides import INDUSTRY_DEFAULT
from shared.contracts import utc_now
from shared.dates import CHINA


class PortraitReportFact(SQLModel, table=True):
    """A classified report (``ohs.assessments.classified``) as the portrait needs it."""

    __tablename__ = "registry_portrait_report"

    submission_id: str = Field(primary_key=True, max_length=36)
    credit_code: str = Field(index=True, max_length=18)
    region_code: str = Field(max_length=6)
    enterprise_name: str
    assessed_on: date
    classified_on: date  # the China day of the event
    classified_at: datetime
    hazard_grade: str = Field(max_length=1)
    management_grade: str = Field(max_length=1)
    score: float
    factors: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    shortcomings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class PortraitItemFact(SQLModel, table=True):
    """A rectification item as its steps (``ohs.registry.rectification-progressed``) tell it: the days it
    was raised, first listed overdue and (last) cleared, and its status after its latest step. Folded so
    that the steps give the same row in any order (first/last days, the latest step by time)."""

    __tablename__ = "registry_portrait_item"

    item_id: str = Field(primary_key=True, max_length=36)
    credit_code: str = Field(index=True, max_length=18)
    region_code: str = Field(index=True, max_length=6)
    shortcoming_code: str = Field(max_length=300)
    shortcoming_text: str
    submission_id: str = Field(max_length=36)
    status: str = Field(max_length=16)
    deadline: date
    raised_on: date | None = Field(default=None, index=True)
    overdue_on: date | None = None  # the first overdue step (listed for enforcement)
    cleared_on: date | None = Field(default=None, index=True)  # the latest cleared step (解除)
    last_on: date | None = None
    last_at: datetime  # the latest step's occurred_at (with last_event_id: which step is the latest)
    last_event_id: str = Field(max_length=36)


class PortraitScreeningFact(SQLModel, table=True):
    """One screened shortcoming (``ohs.penalty.screened``): one row per report and shortcoming, the latest
    screening of it winning."""

    __tablename__ = "registry_portrait_screening"
    __table_args__ = (UniqueConstraint("submission_id", "shortcoming_code", name="uq_registry_portrait_screening"),)

    id: str = Field(primary_key=True, max_length=36)  # uuid5 of the submission and the shortcoming code
    screening_id: str = Field(max_length=36)
    submission_id: str = Field(max_length=36)
    shortcoming_code: str = Field(max_length=300)
    credit_code: str = Field(index=True, max_length=18)
    region_code: str = Field(index=True, max_length=6)
    screened_on: date = Field(index=True)
    outcome: str = Field(max_length=32)
    item_code: str | None = Field(default=None, max_length=32)
    screened_at: datetime
    event_id: str = Field(max_length=36)


class PortraitDecisionFact(SQLModel, table=True):
    """A penalty decision (``ohs.penalty.decided``), one per case."""

    __tablename__ = "registry_portrait_decision"

    case_id: str = Field(primary_key=True, max_length=36)
    credit_code: str = Field(index=True, max_length=18)
    region_code: str | None = Field(default=None, index=True, max_length=6)
    item_code: str = Field(max_length=32)
    case_code: str | None = Field(default=None, max_length=100)
    decision: str = Field(max_length=16)  # penalty | no_penalty
    major: bool = False
    decided_on: date = Field(index=True)  # the China day of the event
    decided_at: datetime
    event_id: str = Field(max_length=36)


class PortraitRecord(SQLModel, table=True):
    """An employer's current portrait: its latest version and the hash of its content."""

    __tablename__ = "registry_portrait"

    credit_code: str = Field(primary_key=True, max_length=18)
    region_code: str = Field(index=True, max_length=6)  # the latest report's (or event's) county
    enterprise_name: str
    version: int
    content_hash: str = Field(max_length=64)
    computed_at: datetime  # the time of the event that produced the version


class PortraitVersion(SQLModel, table=True):
    """Every version of an employer's portrait, kept."""

    __tablename__ = "registry_portrait_version"
    __table_args__ = (UniqueConstraint("credit_code", "version", name="uq_registry_portrait_version"),)

    id: int | None = Field(default=None, primary_key=True)
    credit_code: str = Field(index=True, max_length=18)
    version: int
    content_hash: str = Field(max_length=64)
    rule_set: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    dimensions: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    trace: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    as_of: date
    computed_at: datetime
    reason: str
    event_id: str = Field(max_length=36)  # the PortraitChanged event announcing it
    recorded_at: datetime = Field(default_factory=utc_now)


class PortraitNonSiteFact(SQLModel, table=True):
    """A non-site fact (issue 17): an online monitoring exceedance episode (``ohs.monitoring.exceedances``), an
    organisation's test report (``ohs.orgs.test-reports``) or examination summary (``ohs.orgs.exam-summaries``)."""

    __tablename__ = "registry_portrait_nonsite_fact"

    id: str = Field(primary_key=True, max_length=200)  # <kind>|<key>
    credit_code: str = Field(index=True, max_length=18)
    kind: str = Field(max_length=16)  # exceedance | test_report | exam_summary
    key: str = Field(max_length=180)  # the episode id; org|report_no|factor; org|summary_no
    fact_on: date  # shift day; tested_on; examined_on
    status: str = Field(max_length=8)  # open | closed (an exceedance); filed
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime  # the source event's occurred_at
    event_id: str = Field(max_length=36)


MODELS = [PortraitReportFact, PortraitItemFact, PortraitScreeningFact, PortraitDecisionFact, PortraitRecord, PortraitVersion, PortraitNonSiteFact]


# --------------------------------------------------------------------------- repositories


class PortraitRepository:
    """Each employer's portrait and its versions."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, credit_code: str) -> PortraitRecord | None:
        return self.session.get(PortraitRecord, credit_code)

    def add(self, record: PortraitRecord) -> None:
        self.session.add(record)

    def add_version(self, row: PortraitVersion) -> None:
        self.session.add(row)
        self.session.flush()

    def version(self, credit_code: str, version: int) -> PortraitVersion | None:
        return self.session.exec(
            select(PortraitVersion).where(PortraitVersion.credit_code == credit_code, PortraitVersion.version == version)
        ).first()

    def versions(self, credit_code: str) -> list[PortraitVersion]:
        """Every version of the employer's portrait, oldest first."""
        statement = select(PortraitVersion).where(PortraitVersion.credit_code == credit_code).order_by(col(PortraitVersion.version))
        return list(self.session.exec(statement))


def _day_end(day: date) -> datetime:
    """The first instant after ``day`` in China (the exclusive end of a period ending on it)."""
    return datetime.combine(day + timedelta(days=1), time(), CHINA)


def _counts(rows: Any) -> dict[str, int]:
    return {str(county): int(count) for county, count in rows if county is not None}


class PortraitFactRepository:
    """The facts the portraits and the figures are drawn from, and the figures' counts per county.

    Every count takes a region prefix (``shared.jurisdiction.region_prefix``: a county, or every county
    of a city or province) and a period ``start``–``end`` (China days, both included)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- facts ------------------------------------------------------------------------------
    def report(self, submission_id: str) -> PortraitReportFact | None:
        return self.session.get(PortraitReportFact, submission_id)

    def add_report(self, row: PortraitReportFact) -> None:
        self.session.add(row)

    def reports(self, credit_code: str) -> list[PortraitReportFact]:
        return list(self.session.exec(select(PortraitReportFact).where(PortraitReportFact.credit_code == credit_code)))

    def item(self, item_id: str) -> PortraitItemFact | None:
        return self.session.get(PortraitItemFact, item_id)

    def add_item(self, row: PortraitItemFact) -> None:
        self.session.add(row)

    def items(self, credit_code: str) -> list[PortraitItemFact]:
        return list(self.session.exec(select(PortraitItemFact).where(PortraitItemFact.credit_code == credit_code)))

    def screening(self, row_id: str) -> PortraitScreeningFact | None:
        return self.session.get(PortraitScreeningFact, row_id)

    def add_screening(self, row: PortraitScreeningFact) -> None:
        self.session.add(row)

    def decision(self, case_id: str) -> PortraitDecisionFact | None:
        return self.session.get(PortraitDecisionFact, case_id)

    def add_decision(self, row: PortraitDecisionFact) -> None:
        self.session.add(row)

    def nonsite_fact(self, row_id: str) -> PortraitNonSiteFact | None:
        return self.session.get(PortraitNonSiteFact, row_id)

    def add_nonsite_fact(self, row: PortraitNonSiteFact) -> None:
        self.session.add(row)

    def nonsite_facts(self, credit_code: str) -> list[PortraitNonSiteFact]:
        return list(self.session.exec(select(PortraitNonSiteFact).where(PortraitNonSiteFact.credit_code == credit_code)))

    def decisions(self, credit_code: str) -> list[PortraitDecisionFact]:
        return list(self.session.exec(select(PortraitDecisionFact).where(PortraitDecisionFact.credit_code == credit_code)))

    # --- figures ----------------------------------------------------------------------------
    def items_raised(self, prefix: str, start: date, end: date) -> dict[str, int]:
        """Items raised within the period, per county."""
        F = PortraitItemFact
        return _counts(self.session.exec(
            select(F.region_code, func.count()).where(col(F.region_code).startswith(prefix), col(F.raised_on) >= start, col(F.raised_on) <= end)
            .group_by(F.region_code)
        ))

    def items_cleared(self, prefix: str, start: date, end: date) -> dict[str, int]:
        """Items cleared (解除) within the period, per county."""
        F = PortraitItemFact
        return _counts(self.session.exec(
            select(F.region_code, func.count()).where(col(F.region_code).startswith(prefix), col(F.cleared_on) >= start, col(F.cleared_on) <= end)
            .group_by(F.region_code)
        ))

    def items_overdue(self, prefix: str, end: date) -> dict[str, int]:
        """Items listed overdue on or before ``end`` and not cleared by then, per county."""
        F = PortraitItemFact
        not_cleared = or_(col(F.cleared_on).is_(None), col(F.cleared_on) > end)
        return _counts(self.session.exec(
            select(F.region_code, func.count()).where(col(F.region_code).startswith(prefix), col(F.overdue_on) <= end, not_cleared)
            .group_by(F.region_code)
        ))

    def screenings(self, prefix: str, start: date, end: date) -> dict[str, dict[str, int]]:
        """Screened shortcomings within the period, per county and outcome."""
        F = PortraitScreeningFact
        found: dict[str, dict[str, int]] = defaultdict(dict)
        for county, outcome, count in self.session.exec(
            select(F.region_code, F.outcome, func.count())
            .where(col(F.region_code).startswith(prefix), col(F.screened_on) >= start, col(F.screened_on) <= end)
            .group_by(F.region_code, F.outcome)
        ):
            found[county][outcome] = int(count)
        return dict(found)

    def decisions_in(self, prefix: str, start: date, end: date) -> dict[str, dict[str, int]]:
        """Penalty decisions within the period, per county and decision."""
        F = PortraitDecisionFact
        found: dict[str, dict[str, int]] = defaultdict(dict)
        for county, decision, count in self.session.exec(
            select(F.region_code, F.decision, func.count())
            .where(col(F.region_code).startswith(prefix), col(F.decided_on) >= start, col(F.decided_on) <= end)
            .group_by(F.region_code, F.decision)
        ):
            found[county][decision] = int(count)
        return dict(found)

    def coverage(self, prefix: str, end: date) -> dict[str, tuple[int, int]]:
        """Per county (the archive's county today): (employers known, employers classified from a report) at the
        end of ``end``. Known: a report archived, or an industry default recorded, by then; classified: a report
        archived by then."""
        until = _day_end(end)
        reported = select(ClassificationVersion.credit_code).where(
            ClassificationVersion.credit_code == EnterpriseRecord.credit_code, col(ClassificationVersion.recorded_at) < until
        ).exists()
        by_industry = select(OverrideRecord.credit_code).where(
            OverrideRecord.credit_code == EnterpriseRecord.credit_code, OverrideRecord.kind == INDUSTRY_DEFAULT,
            col(OverrideRecord.recorded_at) < until,
        ).exists()
        in_region = col(EnterpriseRecord.region_code).startswith(prefix)
        known = _counts(self.session.exec(
            select(EnterpriseRecord.region_code, func.count()).where(in_region, or_(reported, by_industry)).group_by(EnterpriseRecord.region_code)
        ))
        classified = _counts(self.session.exec(
            select(EnterpriseRecord.region_code, func.count()).where(and_(in_region, reported)).group_by(EnterpriseRecord.region_code)
        ))
        return {county: (known.get(county, 0), classified.get(county, 0)) for county in sorted(set(known) | set(classified))}
