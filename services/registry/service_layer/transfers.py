"""Moving an employer between counties (迁移, RULES §5a).

A current report naming another region than the archive's asks for a move (``request_from_report``,
called by the archiving handler in its unit of work); the receiving region's staff accept or refuse
it (``decide_by_staff``, a command: commits). An accepted move changes the archive's region with a
new archive version, leaves an entry in both counties' hash chains and is announced on
``ohs.registry.classification-changed`` (``changed == ["region_code"]``).

The rules (what a report asks, who can confirm) are in ``services.registry.domain.transfers``.
"""

from __future__ import annotations

import uuid
from functools import lru_cache

from services.registry.adapters.orm import EnterpriseRecord, TransferRecord
from services.registry.adapters.rules import load_region_tree
from services.registry.domain import transfers as rules
from services.registry.domain.regions import RegionTree
from services.registry.domain.words import say
from services.registry.service_layer.overrides import (
    ArchiveConflict,
    NotInArchive,
    _announce,
    _next_version,
)
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.auth import Principal
from shared.contracts import utc_now
from shared.errors import coded

SYSTEM = "system:registry"


class TransferForbidden(PermissionError):
    """The caller sees the employer but may not decide its transfer (answered 403, saying who decides)."""


@lru_cache(maxsize=1)
def packaged_regions() -> RegionTree:
    """The packaged region tree, for callers (tests, scripts) that do not hand the service's own."""
    return load_region_tree(None)


def _close(row: TransferRecord, status: str, reason: str, by: str) -> None:
    row.status, row.reason, row.decided_at, row.decided_by = status, reason, utc_now(), by


def request_from_report(
    uow: RegistryUnitOfWork, record: EnterpriseRecord, reported_region: str, submission_id: str, regions: RegionTree | None = None
) -> TransferRecord | None:
    """A current report of an archived employer names ``reported_region``: supersede a pending transfer
    it contradicts, and ask for a move when it names another region than the archive's. Returns the
    transfer the report stands for (new, or the pending one it repeats), None when it names the archive's region."""
    tree = regions or packaged_regions()
    pending = uow.transfers.pending_for(record.credit_code)
    outcome = rules.on_report(tree, record.region_code, reported_region, pending.to_region if pending else None)
    if outcome.supersede_pending and pending is not None:
        why = (
            say("registry.transfer.superseded.same_region", submission_id=submission_id, region_code=record.region_code)
            if reported_region == record.region_code
            else say("registry.transfer.superseded.other_region", submission_id=submission_id, region_code=reported_region)
        )
        _close(pending, rules.SUPERSEDED, why.text(), SYSTEM)
        uow.transfers.add(pending)
    if not outcome.request:
        return pending if pending is not None and pending.status == rules.PENDING else None
    row = TransferRecord(
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"ohs:registry:transfer:{submission_id}")),  # one per report: a replay rebuilds the same
        credit_code=record.credit_code,
        from_region=record.region_code,
        to_region=reported_region,
        submission_id=submission_id,
        status=rules.PENDING,
    )
    if outcome.refuse_at_once:
        _close(row, rules.REFUSED, outcome.refuse_at_once.text(), SYSTEM)
    uow.transfers.add(row)
    return row


def decide(
    uow: RegistryUnitOfWork, record: EnterpriseRecord, row: TransferRecord, decision: rules.Decision, reason: str | None, actor: str,
    regions: RegionTree | None = None,
) -> TransferRecord:
    """Accept (move the employer) or refuse (close it; the employer stays) a pending transfer."""
    if decision == "refuse":
        if not reason:
            raise coded(ArchiveConflict("a refusal needs its reason (both counties see it)"), "errors.transfer.refusal_needs_reason")
        _close(row, rules.REFUSED, reason, actor)
        uow.transfers.add(row)
        return row
    tree = regions or packaged_regions()
    if not rules.is_platform_county(tree, row.to_region):
        raise coded(ArchiveConflict(rules.not_a_county_reason(row.to_region)), "registry.transfer.not_a_county", region_code=row.to_region)
    left, arrived = record.region_code, row.to_region
    version = _next_version(record)
    record.archive_version, record.region_code, record.updated_at = version, arrived, utc_now()
    uow.enterprises.add(record)
    _close(row, rules.ACCEPTED, reason or say("registry.transfer.accepted_by", actor=actor).text(), actor)
    row.archive_version = version
    uow.transfers.add(row)
    payload = {"transfer_id": row.id, "submission_id": row.submission_id, "version": version, "category": record.category,
               "from_region_code": left, "to_region_code": arrived}
    asked = {"transfer_id": row.id, "submission_id": row.submission_id}
    uow.change_log.lock_regions([left, arrived])  # in a fixed order: no deadlock between movers
    uow.change_log.append(
        # as for any move: the employer's archive arrives in the new county's chain, and leaves the old one's
        region_code=arrived, credit_code=record.credit_code, change="archived", category_before=record.category,
        category_after=record.category, actor=actor,
        reason=(say("registry.transfer.log.arrived_reason", **asked, from_region=left, reason=reason) if reason
                else say("registry.transfer.log.arrived", **asked, from_region=left)).text(),
        payload=payload,
    )
    uow.change_log.append(
        region_code=left, credit_code=record.credit_code, change="region_left", category_before=record.category,
        category_after=None, actor=actor,
        reason=say("registry.transfer.log.left", **asked, to_region=arrived).text(),
        payload=payload,
    )
    _announce(
        uow, record, record.category,
        say("registry.transfer.reason.moved", transfer_id=row.id, from_region=left, to_region=arrived, category=record.category),
        ["region_code"],
    )
    return row


def decide_by_staff(
    uow: RegistryUnitOfWork, principal: Principal, credit_code: str, decision: rules.Decision, reason: str | None,
    regions: RegionTree | None = None,
) -> tuple[EnterpriseRecord, TransferRecord]:
    """``POST /enterprises/{credit_code}/transfer``: staff of the receiving region decide the pending
    transfer. Staff of the archive's region see it but do not decide (:class:`TransferForbidden`);
    anyone else reads it as absent (:class:`NotInArchive`); nothing pending: :class:`ArchiveConflict`."""
    record = uow.enterprises.get(credit_code)
    if record is None:
        raise NotInArchive(credit_code)
    pending = uow.transfers.pending_for(credit_code)
    if pending is None or not principal.can_act_for(credit_code, pending.to_region):
        if not principal.can_act_for(credit_code, record.region_code):
            raise NotInArchive(credit_code)
        if pending is None:
            raise coded(ArchiveConflict(f"{credit_code} has no pending transfer to decide"), "errors.transfer.none_pending",
                        credit_code=credit_code)
        raise coded(TransferForbidden(
            f"the transfer of {credit_code} to region {pending.to_region} is confirmed or refused by staff of {pending.to_region}; "
            f"region {record.region_code} sees it"
        ), "errors.transfer.receiving_region_decides", credit_code=credit_code, to_region=pending.to_region,
            region_code=record.region_code)
    row = decide(uow, record, pending, decision, reason, principal.describe(), regions)
    uow.commit()
    return record, row
