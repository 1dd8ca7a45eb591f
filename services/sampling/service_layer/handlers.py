"""Sampling use cases, run inside the consumer's transaction."""

from __future__ import annotations

from sqlmodel import Session

import json

from services.sampling.adapters.orm import PoolCounter, PoolExemption, PoolMember
from services.sampling.domain.pools import exemption_update, should_apply
from shared.contracts import ClassificationChanged, ExemptionChanged, utc_now


POOL_COUNTER = "pool"


def bump_pool_version(session: Session) -> int:
    """Every change to the pools raises the pool version (a draw records the one it used)."""
    counter = session.get(PoolCounter, POOL_COUNTER)
    if counter is None:
        counter = PoolCounter(name=POOL_COUNTER, version=0)
    counter.version += 1
    session.add(counter)
    return counter.version


def pool_version(session: Session) -> int:
    counter = session.get(PoolCounter, POOL_COUNTER)
    return counter.version if counter else 0


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
            industry_codes=json.dumps(event.industry_codes, ensure_ascii=False),
        )
    else:
        member.enterprise_name = event.enterprise_name
        member.region_code = event.region_code
        member.category = event.category
        member.archive_version = event.archive_version
        member.industry_codes = json.dumps(event.industry_codes, ensure_ascii=False)
        member.updated_at = utc_now()
    session.add(member)
    bump_pool_version(session)


def apply_exemption(session: Session, event: ExemptionChanged) -> None:
    """A 免检 came into force (the employer leaves the pool) or ended (it is re-admitted)."""
    held = session.get(PoolExemption, str(event.exemption_id))
    exempt = exemption_update(held.exempt if held else None, event.exempt)
    if exempt is None:
        return
    if held is None:
        held = PoolExemption(
            exemption_id=str(event.exemption_id), credit_code=event.credit_code, region_code=event.region_code,
            valid_from=event.valid_from, valid_until=event.valid_until, reason=event.reason, exempt=exempt,
        )
    else:
        held.exempt, held.reason, held.updated_at = exempt, event.reason, utc_now()
    session.add(held)
    bump_pool_version(session)
