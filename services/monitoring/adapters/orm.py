"""The monitoring service's own tables. Instants are aware UTC datetimes; raw readings keep theirs as epoch
milliseconds (compact, and fast to insert in bulk)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, Float, Index, String, true
from sqlmodel import Field, SQLModel

from shared.contracts import utc_now


class Device(SQLModel, table=True):
    """An online monitoring device at an employer's post, measuring one hazard factor."""

    __tablename__ = "monitoring_device"
    # (region, last reading): the timer's look for the devices of a county silent since before an instant
    __table_args__ = (Index("ix_monitoring_device_employer", "credit_code"), Index("ix_monitoring_device_region_last", "region_code", "last_at"))

    device_id: str = Field(primary_key=True, max_length=64)
    credit_code: str = Field(max_length=18)
    region_code: str = Field(max_length=6)  # the employer's county when registered (scopes the readers)
    factor: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    post: str = Field(max_length=100)
    unit: str = Field(max_length=16)
    registered_at: datetime
    registered_by: str = Field(max_length=200)
    last_at: datetime | None = None  # the last accepted reading (readings must come after it)
    # when the last accepted readings arrived (the server's clock): while a gateway is still sending (a back-fill after
    # an outage), the timer does not close the past shifts its readings are filling
    received_at: datetime | None = None
    last_value: float | None = None
    closed_through: datetime | None = None  # the end of the latest shift judged and closed: nothing before it is accepted
    readings: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    # readings of the device refused (HTTP or a gateway's record), with the last refusal's code and when: a partly
    # refused gateway record is applied, and what it lost stays visible here, not only in a log line
    refused: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    last_refusal: str | None = Field(default=None, max_length=64)
    last_refusal_at: datetime | None = None


class RawReading(SQLModel, table=True):
    """A reading as received; kept ``OHS_MONITORING_RAW_DAYS`` days (the shift aggregates are kept for good)."""

    __tablename__ = "monitoring_reading"
    __table_args__ = (Index("ix_monitoring_reading_at", "at_ms"),)

    device_id: str = Field(sa_column=Column(String(64), primary_key=True))
    at_ms: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))  # UTC epoch milliseconds
    value: float = Field(sa_column=Column(Float, nullable=False))


class ShiftAggregate(SQLModel, table=True):
    """One device's shift: count, mean, min, max, the TWA once closed, and the detector's state (JSON)."""

    __tablename__ = "monitoring_shift"
    __table_args__ = (Index("ix_monitoring_shift_open", "device_id", "closed"), Index("ix_monitoring_shift_day", "shift_day"),
                      Index("ix_monitoring_shift_due", "closed", "shift_end"))  # the timer: open shifts over by an instant

    device_id: str = Field(primary_key=True, max_length=64)
    shift_start: datetime = Field(primary_key=True)
    shift_end: datetime
    shift_day: date
    shift_index: int
    closed: bool = False
    count: int = 0
    mean: float | None = None
    min_value: float | None = None
    max_value: float | None = None
    twa: float | None = None
    limits_version: str = Field(max_length=120)
    state: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utc_now)


class ExceedanceEpisode(SQLModel, table=True):
    """One exceedance episode (device, measure, shift), as last published or updated."""

    __tablename__ = "monitoring_episode"
    __table_args__ = (Index("ix_monitoring_episode_employer", "credit_code", "shift_day"), Index("ix_monitoring_episode_region", "region_code"),
                      Index("ix_monitoring_episode_device", "device_id", "measure", "started_at"))  # the timer: a shift's silent episode

    episode_id: str = Field(primary_key=True, max_length=36)
    device_id: str = Field(max_length=64)
    credit_code: str = Field(max_length=18)
    region_code: str = Field(max_length=6)
    factor: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    post: str = Field(max_length=100)
    measure: str = Field(max_length=8)
    unit: str = Field(max_length=16)
    limit: float | None = None
    observed: float | None = None
    status: str = Field(max_length=8)
    started_at: datetime
    ended_at: datetime | None = None
    shift_day: date
    evidence: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rule_set: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    trace: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utc_now)


class MonitoredEmployer(SQLModel, table=True):
    """What the service knows of an employer: its county and name (ohs.registry.classification-changed, the highest
    archive version wins) and the hazard factors its latest classified report declares (ohs.assessments.classified)."""

    __tablename__ = "monitoring_employer"

    credit_code: str = Field(primary_key=True, max_length=18)
    enterprise_name: str = Field(default="", max_length=200)
    region_code: str = Field(max_length=6)
    archive_version: int = 0  # 0: the region is the classified report's, no archive announcement yet
    hazards: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    hazards_assessed_on: date | None = None
    coverage_digest: str | None = Field(default=None, max_length=64)  # of the coverage last published
    coverage_published_on: date | None = None
    # something its coverage counts changed since it was last published (a device, a shift reported, an episode, its
    # hazards): the coverage round recomputes only these, and every employer once a day
    coverage_stale: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=true()))


MODELS: list[type[SQLModel]] = [Device, RawReading, ShiftAggregate, ExceedanceEpisode, MonitoredEmployer]
