"""The inspector rosters (执法检查人员名录库): an agency's inspectors and their declared conflicts (回避)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.sampling.adapters.orm import Inspector, InspectorConflict
from services.sampling.service_layer.errors import Invalid, Problem
from services.sampling.service_layer.verification import staff_unassigned
from services.sampling.service_layer.unit_of_work import SamplingUnitOfWork

if TYPE_CHECKING:
    from services.sampling.service_layer.commands import ConflictIn, RosterIn


def _replace(uow: SamplingUnitOfWork, agency: str, roster: RosterIn) -> None:
    uow.roster.clear(agency)
    for i in roster.inspectors:
        uow.roster.add(Inspector(agency_region_code=agency, id=i.id, name=i.name, active=i.active))
        for c in {c.credit_code: c for c in i.conflicts}.values():
            uow.roster.add(InspectorConflict(agency_region_code=agency, inspector_id=i.id, credit_code=c.credit_code, reason=c.reason))
    staff_unassigned(uow, agency)  # verification tasks the former roster could not staff (RULES §10)


def replace_roster(uow: SamplingUnitOfWork, agency: str, roster: RosterIn) -> None:
    """The agency's roster becomes ``roster`` (inspectors and their conflicts)."""
    _replace(uow, agency, roster)
    uow.commit()


def replace_rosters(uow: SamplingUnitOfWork, rosters: dict[str, RosterIn]) -> None:
    """Several agencies' rosters replaced at once (a roster file): all or none."""
    for agency, roster in rosters.items():
        _replace(uow, agency, roster)
    uow.commit()


def add_conflict(uow: SamplingUnitOfWork, agency: str, conflict: ConflictIn) -> None:
    """Declare (or restate the reason of) an inspector's conflict with an employer: it is never drawn for it."""
    if uow.roster.inspector(agency, conflict.inspector_id) is None:
        raise Invalid([Problem("inspector_id", "sampling.error.no_such_inspector", {"inspector_id": conflict.inspector_id, "agency": agency})],
                      "sampling.error.conflict_invalid")
    held = uow.roster.conflict(agency, conflict.inspector_id, conflict.credit_code)
    if held is None:
        held = InspectorConflict(agency_region_code=agency, inspector_id=conflict.inspector_id, credit_code=conflict.credit_code,
                                 reason=conflict.reason)
    else:
        held.reason = conflict.reason
    uow.roster.add(held)
    uow.commit()
