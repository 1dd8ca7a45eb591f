"""Sampling use cases, run inside the consumer's transaction."""

from __future__ import annotations

from sqlmodel import Session

from services.sampling.adapters.orm import PoolMember
from services.sampling.domain.pools import should_apply
from shared.contracts import ClassificationChanged, utc_now


def place_in_pool(session: Session, event: ClassificationChanged) -> None:
    member = session.get(PoolMember, event.credit_code)
    if not should_apply(member.archive_version if member else None, event.archive_version):
        return
    if member is None:
        member = PoolMember(
            credit_code=event.credit_code,
            enterprise_name=event.enterprise_name,
            region_code=event.region_code,
            category=event.category,
            archive_version=event.archive_version,
        )
    else:
        member.enterprise_name = event.enterprise_name
        member.region_code = event.region_code
        member.category = event.category
        member.archive_version = event.archive_version
        member.updated_at = utc_now()
    session.add(member)
