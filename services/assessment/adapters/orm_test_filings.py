"""The assessment's projection of the test reports organisations file (``ohs.orgs.test-reports``, issue 17): what the
test-validity check compares a report's declared tests with. One row per (organisation, report number, factor): one
检测报告 covers several factors, each filed as a line."""

from __future__ import annotations

import abc
from datetime import date, datetime

from sqlmodel import Field, Session, SQLModel, col, or_, select

from shared.contracts import utc_now


class FiledTestReport(SQLModel, table=True):
    __tablename__ = "assessment_filed_test_report"

    org_id: str = Field(primary_key=True, max_length=18)  # the filing organisation's 统一社会信用代码
    report_no: str = Field(primary_key=True, max_length=64)
    credit_code: str = Field(index=True, max_length=18)  # the employer tested
    factor: str = Field(primary_key=True, max_length=64)
    post: str = Field(default="", max_length=100)
    tested_on: date
    compliant: bool
    filed_on: date
    event_id: str = Field(max_length=36)
    created_at: datetime = Field(default_factory=utc_now)


MODELS = [FiledTestReport]


class AbstractFiledTestReports(abc.ABC):
    @abc.abstractmethod
    def get(self, org_id: str, report_no: str, factor: str) -> FiledTestReport | None: ...

    @abc.abstractmethod
    def add(self, filed: FiledTestReport) -> None: ...

    @abc.abstractmethod
    def relevant(self, credit_code: str, report_nos: list[str]) -> list[FiledTestReport]:
        """The employer's filed reports, and any report (of any employer) bearing one of these numbers."""


class SqlFiledTestReports(AbstractFiledTestReports):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, org_id: str, report_no: str, factor: str) -> FiledTestReport | None:
        return self.session.get(FiledTestReport, (org_id, report_no, factor))

    def add(self, filed: FiledTestReport) -> None:
        self.session.add(filed)

    def relevant(self, credit_code: str, report_nos: list[str]) -> list[FiledTestReport]:
        where = FiledTestReport.credit_code == credit_code
        if report_nos:
            where = or_(where, col(FiledTestReport.report_no).in_(report_nos))
        return list(self.session.exec(select(FiledTestReport).where(where).order_by(col(FiledTestReport.filed_on), col(FiledTestReport.org_id))))
