"""The sampling service's own tables."""

from __future__ import annotations

from datetime import datetime

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


MODELS = [PoolMember]
