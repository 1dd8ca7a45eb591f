"""Moving an employer between counties (迁移, RULES §5a): pure rules, no I/O.

The jurisdiction of an employer is the archive's region, never a caller's claim. A report that
names another region than the archive's does not move the employer: it asks for a move, which
the receiving region's staff accept or refuse. A region that is not a county of the platform's
region tree cannot confirm anything, so such a request is refused at once — an employer never
takes itself out of its province by naming a region outside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.registry.domain.regions import RegionTree
from services.registry.domain.words import Said, say

PENDING, ACCEPTED, REFUSED, SUPERSEDED = "pending", "accepted", "refused", "superseded"
STATUSES = (PENDING, ACCEPTED, REFUSED, SUPERSEDED)
Decision = Literal["accept", "refuse"]


def is_platform_county(tree: RegionTree, region_code: str) -> bool:
    """Is ``region_code`` a county of the loaded region tree (someone there can confirm a move)?"""
    return region_code in tree and tree.level(region_code) == "county"


def not_a_county(region_code: str) -> Said:
    """Why a move to ``region_code`` cannot be confirmed by anyone."""
    return say("registry.transfer.not_a_county", region_code=region_code)


def not_a_county_reason(region_code: str) -> str:
    """:func:`not_a_county` in Chinese (what a refused transfer keeps as its reason)."""
    return not_a_county(region_code).text()


@dataclass(frozen=True)
class ReportedRegion:
    """What a current report naming ``reported`` does to the transfers of an employer archived in ``archived``."""

    supersede_pending: bool  # the pending transfer (if any) no longer matches what the employer says
    request: bool  # a new transfer request to ``reported``
    refuse_at_once: Said | None  # the reason, when the new request cannot be confirmed by anyone


def on_report(tree: RegionTree, archived: str, reported: str, pending_to: str | None) -> ReportedRegion:
    """A current report of an archived employer: which transfers it closes and which it asks for.

    * the report names the archive's region: nothing to ask; a pending transfer is superseded
      (the employer says it is still there);
    * it names the region a pending transfer already goes to: the same request, nothing new;
    * it names another region: the pending transfer (if any) is superseded and a new one is asked,
      refused at once when that region is not a county of the platform.
    """
    if reported == archived:
        return ReportedRegion(pending_to is not None, False, None)
    if pending_to == reported:
        return ReportedRegion(False, False, None)
    refusal = None if is_platform_county(tree, reported) else not_a_county(reported)
    return ReportedRegion(pending_to is not None, True, refusal)
