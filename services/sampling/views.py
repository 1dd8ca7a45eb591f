"""Read models of the sampling pools, for HTTP (plain queries, no domain logic)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from services.sampling.adapters.orm import PoolExemption, PoolMember
from services.sampling.domain.pools import CATEGORIES
from shared.jurisdiction import region_prefix


def _member(m: PoolMember) -> dict[str, Any]:
    return {"credit_code": m.credit_code, "name": m.enterprise_name, "region_code": m.region_code,
            "archive_version": m.archive_version, "updated_at": m.updated_at.isoformat()}


def pools(session: Session, region_code: str) -> dict[str, Any]:
    """The pools of a county (or of every county of a city or province): per category the members
    that may be drawn and their count; employers with a 免检 in force listed apart (``exempted``),
    outside the counts."""
    prefix = region_prefix(region_code)
    members = list(
        session.exec(select(PoolMember).where(col(PoolMember.region_code).startswith(prefix)).order_by(col(PoolMember.credit_code)))
    )
    exemptions: dict[str, PoolExemption] = {}
    codes = [m.credit_code for m in members]
    for start in range(0, len(codes), 500):
        for exemption in session.exec(
            select(PoolExemption).where(col(PoolExemption.credit_code).in_(codes[start : start + 500]), col(PoolExemption.exempt).is_(True))
        ):
            exemptions[exemption.credit_code] = exemption
    drawable = [m for m in members if m.credit_code not in exemptions]
    in_pool = {c: [m for m in drawable if m.category == c] for c in CATEGORIES}
    return {
        "region_code": region_code,
        "counts": {c: len(in_pool[c]) for c in CATEGORIES},
        "total": len(drawable),
        "members": {c: [_member(m) for m in in_pool[c]] for c in CATEGORIES},
        "exempted": [
            {**_member(m), "category": m.category, "exemption_id": exemptions[m.credit_code].exemption_id,
             "exempt_from": exemptions[m.credit_code].valid_from.isoformat(),
             "exempt_until": exemptions[m.credit_code].valid_until.isoformat()}
            for m in members
            if m.credit_code in exemptions
        ],
    }
