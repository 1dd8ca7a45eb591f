"""Non-site supervision (非现场执法, RULES §10): online monitoring readings from provincial gateways, the
exceedance episodes the monitoring service finds in them, each employer's monitoring coverage for the
sampling draw, and the data technical service organisations and examination institutions file, with
their star rating (星级评定)."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from shared import topics
from shared.problems import refusal
from shared.contracts.envelope import Envelope, Event, RuleSetRef, TraceEntry, validate_county_code

HazardKind = Literal["noise", "dust", "chemical", "heat"]  # 噪声 / 粉尘 / 化学毒物 / 高温
Measure = Literal["twa", "stel", "peak", "silent"]  # PC-TWA over a shift, STEL (15 min), a peak / L_EX,8h for noise, no data
OrgKind = Literal["technical_service", "examination"]  # 职业卫生技术服务机构 / 职业健康检查机构

DEVICE_ID_MAX = 64
READINGS_PER_RECORD_MAX = 10_000


class Reading(BaseModel):
    """One value of one device at one instant (timezone-aware; stored in UTC)."""

    device_id: str = Field(min_length=1, max_length=DEVICE_ID_MAX, pattern=r"^[A-Za-z0-9._:-]+$")
    at: datetime
    value: float

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise refusal("errors.field.timezone_aware")
        return value

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("a reading is a finite number")
        return value


class DeviceReadings(Envelope):
    """A gateway's record on ``ohs.monitoring.readings``: one device's readings, in the order taken. Keyed by the
    device, so one device's records stay in order on one partition."""

    topic: ClassVar[str] = topics.MONITORING_READINGS
    key_description: ClassVar[str] = "the device id"

    gateway_id: str = Field(min_length=1, max_length=64)
    device_id: str = Field(min_length=1, max_length=DEVICE_ID_MAX, pattern=r"^[A-Za-z0-9._:-]+$")
    readings: list[Reading] = Field(min_length=1, max_length=READINGS_PER_RECORD_MAX)

    @property
    def partition_key(self) -> str:
        return self.device_id


class EvidenceReading(BaseModel):
    at: datetime
    value: float


class ExceedanceDetected(Event):
    """One exceedance episode (not one reading) of one device: a shift's time-weighted average over the
    limit, short-term values over the STEL or peak, or a device gone silent. Keyed by the employer.
    A later event with the same ``episode_id`` and ``status: "closed"`` ends it."""

    topic: ClassVar[str] = topics.MONITORING_EXCEEDANCES

    episode_id: UUID
    status: Literal["open", "closed"] = "open"
    region_code: str
    device_id: str = Field(max_length=DEVICE_ID_MAX)
    factor: str = Field(max_length=64, description="the hazard factor as in the report and the catalogue, e.g. 矽尘, 噪声")
    kind: HazardKind
    post: str = Field(max_length=100, description="the post (岗位) the device watches")
    measure: Measure
    limit: float | None = Field(description="the limit it was judged against (None for a silent device)")
    unit: str = Field(max_length=16)
    observed: float | None = Field(description="the TWA / STEL / peak found (None for a silent device)")
    started_at: datetime
    ended_at: datetime | None = None
    shift_day: date = Field(description="the China day of the shift the episode belongs to")
    evidence: list[EvidenceReading] = Field(default_factory=list, max_length=200,
                                            description="the readings that prove it (at most 200, the highest first)")
    rule_set: RuleSetRef
    trace: list[TraceEntry]

    _region = field_validator("region_code")(validate_county_code)


class FactorCoverage(BaseModel):
    factor: str = Field(max_length=64)
    devices: int = Field(ge=0, description="devices registered for the factor")
    reporting: int = Field(ge=0, description="of which reported in the period as often as the rules ask")
    exceedances: int = Field(ge=0, description="exceedance episodes in the period")


class MonitoringCoverage(Event):
    """What online monitoring covered of an employer's hazards over a period (facts only; the sampling rule
    data of the jurisdiction decides what they are worth in a draw). Published when the facts change and
    at least daily for every monitored employer."""

    topic: ClassVar[str] = topics.MONITORING_COVERAGE

    region_code: str
    period_start: date
    period_end: date
    hazards: list[str] = Field(max_length=100, description="the hazard factors the employer's latest classified report declares")
    factors: list[FactorCoverage] = Field(max_length=100)

    _region = field_validator("region_code")(validate_county_code)


class TestReportFiled(Event):
    """A technical service organisation's test report (检测报告) on an employer's hazard, filed by the
    organisation itself. Keyed by the employer."""

    topic: ClassVar[str] = topics.ORGS_TEST_REPORTS

    org_id: str = Field(description="the organisation's 统一社会信用代码")
    report_no: str = Field(min_length=1, max_length=64)
    factor: str = Field(max_length=64)
    post: str = Field(max_length=100)
    compliant: bool
    result: str = Field(max_length=200, description="the measured result as the report states it")
    tested_on: date
    filed_on: date


class ExamSummaryFiled(Event):
    """An examination institution's summary of one round of occupational health examinations (职业健康检查) at
    an employer. Keyed by the employer."""

    topic: ClassVar[str] = topics.ORGS_EXAM_SUMMARIES

    org_id: str
    summary_no: str = Field(min_length=1, max_length=64)
    examined_on: date
    examined: int = Field(ge=0, le=1_000_000)
    abnormal: int = Field(ge=0, le=1_000_000)
    suspected_occupational_disease: int = Field(ge=0, le=1_000_000)
    filed_on: date


class OrgRated(Event):
    """An organisation's star rating (星级评定) changed; keyed by the organisation's 统一社会信用代码 (``credit_code``)."""

    topic: ClassVar[str] = topics.ORGS_RATED

    org_kind: OrgKind
    org_name: str = Field(max_length=200)
    stars: int = Field(ge=0, le=5, description="0: not rated (disqualified)")
    previous_stars: int | None = Field(default=None, ge=0, le=5)
    rated_on: date
    rule_set: RuleSetRef
    trace: list[TraceEntry]
