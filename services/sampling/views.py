"""Read models of the sampling pools, for HTTP (plain queries, no domain logic)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from services.sampling.adapters.orm import PoolMember
from services.sampling.adapters.pools import members_and_exemptions
from services.sampling.domain.pools import CATEGORIES


def _member(m: PoolMember) -> dict[str, Any]:
    return {"credit_code": m.credit_code, "name": m.enterprise_name, "region_code": m.region_code,
            "archive_version": m.archive_version, "updated_at": m.updated_at.isoformat()}


def pools(session: Session, region_code: str) -> dict[str, Any]:
    """The pools of a county (or of every county of a city or province): per category the members
    that may be drawn and their count; employers with a 免检 in force listed apart (``exempted``),
    outside the counts."""
    members, exemptions = members_and_exemptions(session, region_code)
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
