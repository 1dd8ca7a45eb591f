"""The sampling service's own tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from shared.contracts import utc_now


class PoolMember(SQLModel, table=True):
    """One employer's place in the pools; the primary key makes two pools impossible."""

    __tablename__ = "sampling_pool_member"

    credit_code: str = Field(primary_key=True, max_length=18)
    enterprise_name: str
    region_code: str = Field(index=True, max_length=6)
    category: str = Field(index=True, max_length=1)  # 综合风险类别 甲/乙/丙
    archive_version: int
    updated_at: datetime = Field(default_factory=utc_now)


class PoolExemption(SQLModel, table=True):
    """A 免检 as announced by the registry (ohs.registry.exemption-changed). While ``exempt``, the
    employer is left out of the pool (its PoolMember row stays, so it comes back as it was).
    Kept per exemption, whatever arrives first: an exemption may be announced before the
    employer's classification reaches the pool. An ended exemption never starts again."""

    __tablename__ = "sampling_exemption"

    exemption_id: str = Field(primary_key=True, max_length=36)
    credit_code: str = Field(index=True, max_length=18)
    region_code: str = Field(max_length=6)
    valid_from: date
    valid_until: date  # China date, included
    reason: str
    exempt: bool
    updated_at: datetime = Field(default_factory=utc_now)


MODELS = [PoolMember, PoolExemption]
