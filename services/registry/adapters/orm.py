"""The registry's own tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.contracts import utc_now


class EnterpriseRecord(SQLModel, table=True):
    """Current state of one employer's archive."""

    __tablename__ = "registry_enterprise"

    credit_code: str = Field(primary_key=True, max_length=18)  # 统一社会信用代码
    name: str
    region_code: str = Field(index=True, max_length=6)
    industry_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    employees: int
    category: str = Field(index=True, max_length=1)  # 综合风险类别 甲/乙/丙
    hazard_grade: str = Field(max_length=1)  # Ⅰ/Ⅱ/Ⅲ
    management_grade: str = Field(max_length=1)  # A/B/C
    score: float
    assessed_on: date
    submission_id: str = Field(max_length=36)
    archive_version: int  # the version the current state comes from
    latest_version: int  # the highest version number in the history
    updated_at: datetime = Field(default_factory=utc_now)


class ClassificationVersion(SQLModel, table=True):
    """Every classification ever archived for an employer, in arrival order."""

    __tablename__ = "registry_classification_version"
    __table_args__ = (
        UniqueConstraint("credit_code", "version", name="uq_registry_version"),
        UniqueConstraint("submission_id", name="uq_registry_submission"),
    )

    id: int | None = Field(default=None, primary_key=True)
    credit_code: str = Field(index=True, max_length=18)
    version: int
    submission_id: str = Field(max_length=36)
    source_event_id: str = Field(max_length=36)
    region_code: str = Field(max_length=6)
    name: str
    category: str = Field(max_length=1)
    hazard_grade: str = Field(max_length=1)
    management_grade: str = Field(max_length=1)
    score: float
    assessed_on: date
    rule_set: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    factors: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    trace: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    became_current: bool
    recorded_at: datetime = Field(default_factory=utc_now)


class ChangeLogEntry(SQLModel, table=True):
    """One change to an employer's classification, hash-chained per county (RULES §8).

    Append-only: written once by ``service_layer.chain_log.append`` (its hash set in the same
    transaction, once the seq is known). The hash covers every other column (``domain.chain``)."""

    __tablename__ = "registry_change_log"
    __table_args__ = (
        # a chain cannot fork: no two entries of a region follow the same one
        UniqueConstraint("region_code", "prev_hash", name="uq_registry_change_log_link"),
        {"sqlite_autoincrement": True},  # a seq is never given out twice, even after the last row is deleted
    )

    seq: int | None = Field(default=None, primary_key=True)
    region_code: str = Field(index=True, max_length=6)
    credit_code: str = Field(index=True, max_length=18)
    change: str = Field(max_length=32)  # archived, later override, exemption, …
    category_before: str | None = Field(default=None, max_length=1)
    category_after: str | None = Field(default=None, max_length=1)
    actor: str = Field(max_length=300)  # "system:<producer> event <event_id>", or a person from a token
    reason: str
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # the facts hashed
    recorded_at: datetime = Field(default_factory=utc_now)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class ChainHeadRecord(SQLModel, table=True):
    """The last entry of each region's chain; its row is locked while an entry is appended."""

    __tablename__ = "registry_chain_head"

    region_code: str = Field(primary_key=True, max_length=6)
    last_seq: int
    last_hash: str = Field(max_length=64)


MODELS = [EnterpriseRecord, ClassificationVersion, ChangeLogEntry, ChainHeadRecord]
