"""The sampling service's Kafka event handlers: the pools follow the registry.

Each runs in the consumer's unit of work, which commits it with the inbox mark: a handler never
commits.
"""

from __future__ import annotations

import json

from services.sampling.adapters.orm import PoolExemption, PoolMember
from services.sampling.domain.pools import exemption_update, should_apply
from services.sampling.service_layer.unit_of_work import SamplingUnitOfWork
from shared.contracts import ClassificationChanged, ExemptionChanged, utc_now


def preload_members(uow: SamplingUnitOfWork, events: list[ClassificationChanged]) -> None:
    """Before a batch of announcements: their members, in one query."""
    uow.pools.preload_members([event.credit_code for event in events])


def place_in_pool(uow: SamplingUnitOfWork, event: ClassificationChanged) -> None:
    """The member takes the archive's current facts — category, region, name, industry codes and
    headcount — from every announcement newer than the one it holds (a change of the name, region,
    industry codes or headcount alone comes with the same category)."""
    member = uow.pools.member(event.credit_code)
    if not should_apply(member.archive_version if member else None, event.archive_version):
        return
    if member is None:
        member = PoolMember(credit_code=event.credit_code, enterprise_name=event.enterprise_name, region_code=event.region_code,
                            category=event.category, archive_version=event.archive_version)
    member.enterprise_name = event.enterprise_name
    member.region_code = event.region_code
    member.category = event.category
    member.archive_version = event.archive_version
    member.industry_codes = json.dumps(event.industry_codes, ensure_ascii=False)
    if event.employees is not None:  # events from before the headcount was announced carry none: the held one stays
        member.employees = event.employees
    member.updated_at = utc_now()
    uow.pools.add_member(member)
    uow.pools.bump_version()


def apply_exemption(uow: SamplingUnitOfWork, event: ExemptionChanged) -> None:
    """A 免检 came into force (the employer leaves the pool) or ended (it is re-admitted)."""
    held = uow.pools.exemption(str(event.exemption_id))
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
    uow.pools.add_exemption(held)
    uow.pools.bump_version()
