"""The one query of who sits in a region's pools: what the pool view shows and what a draw uses."""

from __future__ import annotations

from sqlmodel import Session, col, select

from services.sampling.adapters.orm import PoolExemption, PoolMember
from shared.jurisdiction import region_prefix


def members_and_exemptions(session: Session, region_code: str) -> tuple[list[PoolMember], dict[str, PoolExemption]]:
    """The pool members of a county (or of every county of a city or province), sorted by credit code,
    and the 免检 in force among them by credit code: those are left out of the pools."""
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
    return members, exemptions
