"""Overrides kept in the archive (RULES §5): industry defaults, enforcement upgrades, disputes and
on-site verifications. Each step works on the unit of work it is given and, like every change to
a classification, appends to the hash-chained change log with its actor; a change of what other
services hold (the effective category, the region, name, industry codes or headcount) is
announced on ``ohs.registry.classification-changed`` with a higher archive version. The staff
commands (``*_by_staff``, ``classify_by_industry_by_staff``) check the employer is the caller's
to act for, and commit; the Kafka handler (``upgrade_for_major_violation``) leaves the commit to
the consumer.

The rules themselves (ordering, bounds, the catalogue match, what a new report clears) are in
``services.registry.domain.overrides``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.registry.adapters.orm import EnterpriseRecord, OverrideRecord
from services.registry.domain import overrides as rules
from services.registry.domain.archive import (
    Held,
    changes,
    changes_only_details,
    details_reason,
    industry_basis,
    report_basis,
)
from services.registry.domain.words import Said, joined, say
from services.registry.service_layer import chain_log
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.auth import Principal
from shared.contracts import CATEGORIES, ClassificationChanged, PenaltyDecided, utc_now
from shared.errors import coded

log = logging.getLogger(__name__)
PRODUCER = "registry"

# the change names in the change log
CHANGE_OF_KIND = {
    rules.INDUSTRY_DEFAULT: "industry_default",
    rules.ENFORCEMENT_UPGRADE: "override",
    rules.DISPUTE: "dispute",
    rules.VERIFICATION: "verification",
}


class NotInArchive(LookupError):
    """The employer has no archive (answered 404 by HTTP)."""


class ArchiveConflict(ValueError):
    """The step is not possible in the archive's current state (answered 409 by HTTP)."""


@dataclass(frozen=True)
class IndustryClassification:
    credit_code: str
    name: str
    region_code: str
    industry_codes: list[str]
    employees: int
    reason: str
    production_started_on: date | None = None  # a new employer: its first assessment is due 2 months after


# --------------------------------------------------------------------------- helpers


def as_rule(row: OverrideRecord) -> rules.Override:
    return rules.Override(
        kind=row.kind,
        version=row.version,
        at=row.recorded_at,
        category=row.category_after if row.kind == rules.INDUSTRY_DEFAULT else None,
        steps=row.steps or 0,
        active=row.cleared_at is None,
        label=f"{row.reason} ({row.actor})",
    )


def _next_version(record: EnterpriseRecord) -> int:
    record.latest_version += 1
    return record.latest_version


def _basis_label(record: EnterpriseRecord) -> str:
    """What an upgrade applies to, as kept in its details (in Chinese): the current report, or the industry default."""
    basis = report_basis(record.submission_id or "") if record.report_version is not None else say("registry.archive.basis.industry_default")
    return basis.text()


def _held(record: EnterpriseRecord) -> Held:
    return Held.of(record.category, record.region_code, record.name, record.industry_codes or [], record.employees)


def clear_for_new_basis(uow: RegistryUnitOfWork, record: EnterpriseRecord | None, cleared_by: str, at: datetime | None = None) -> list[Said]:
    """A new basis starts again from its own result: clear every active override of the employer
    (kept in the history, marked with ``cleared_by``, in Chinese) and close an open dispute. Returns one
    note per cleared entry."""
    if record is None:
        return []
    at = at or utc_now()
    notes: list[Said] = []
    active = [r for r in uow.overrides.for_employer(record.credit_code) if r.cleared_at is None]
    cleared_versions = {o.version for o in rules.to_clear(as_rule(r) for r in active)}
    for row in active:
        if row.version not in cleared_versions:
            continue
        row.cleared_at, row.cleared_by = at, cleared_by
        if row.kind == rules.ENFORCEMENT_UPGRADE:
            upgrade = {"version": row.version, "before": row.category_before, "after": row.category_after}
            notes.append(say("registry.override.note.upgrade_cleared_case", **upgrade, case_ref=row.case_ref) if row.case_ref
                         else say("registry.override.note.upgrade_cleared", **upgrade))
        elif row.kind == rules.INDUSTRY_DEFAULT:
            notes.append(say("registry.override.note.default_replaced", version=row.version, category=row.category_after))
    if record.dispute_status is not None:
        notes.append(say("registry.override.note.dispute_closed", submission_id=record.submission_id,
                         state=say(rules.DISPUTE_CODES[record.dispute_status])))
        record.dispute_status = None
    return notes


def _announce(uow: RegistryUnitOfWork, record: EnterpriseRecord, previous_category: str | None, reason: Said, changed: list[str]) -> None:
    """Announce what other services hold about the employer; ``reason`` in Chinese, with its code and parameters."""
    uow.publish(
        ClassificationChanged(
            producer=PRODUCER,
            credit_code=record.credit_code,
            enterprise_name=record.name,
            region_code=record.region_code,
            archive_version=record.archive_version,
            previous_category=previous_category,  # type: ignore[arg-type]
            category=record.category,  # type: ignore[arg-type]
            hazard_grade=record.hazard_grade,  # type: ignore[arg-type]
            management_grade=record.management_grade,  # type: ignore[arg-type]
            submission_id=record.submission_id,  # type: ignore[arg-type]
            reason=reason.text(),
            **reason.message,
            industry_codes=list(record.industry_codes or []),
            employees=record.employees,
            changed=changed,  # type: ignore[arg-type]
        ),
    )


def _record(
    uow: RegistryUnitOfWork,
    record: EnterpriseRecord,
    kind: str,
    *,
    before: str | None,
    after: str | None,
    actor: str,
    reason: str,
    steps: int | None = None,
    case_ref: str | None = None,
    details: dict[str, Any] | None = None,
    log_reason: str | None = None,
) -> OverrideRecord:
    """Store the entry (the next archive version), move the record's current state to it, and
    append it to the change log."""
    version = _next_version(record)
    record.archive_version = version
    record.updated_at = utc_now()
    row = OverrideRecord(
        credit_code=record.credit_code,
        version=version,
        kind=kind,
        region_code=record.region_code,
        category_before=before,
        category_after=after,
        steps=steps,
        submission_id=record.submission_id if record.report_version is not None else None,
        actor=actor,
        reason=reason,
        case_ref=case_ref,
        details=details or {},
        recorded_at=record.updated_at,
    )
    uow.enterprises.add(record)
    uow.overrides.add(row)
    uow.change_log.append(
        region_code=record.region_code,
        credit_code=record.credit_code,
        change=CHANGE_OF_KIND[kind],
        category_before=before,
        category_after=after,
        actor=actor,
        reason=log_reason or reason,
        payload={
            "kind": kind,
            "version": version,
            "submission_id": row.submission_id,
            "steps": steps,
            "case_ref": case_ref,
            "details": row.details,
        },
    )
    return row


# --------------------------------------------------------------------------- industry default


def classify_by_industry(
    uow: RegistryUnitOfWork, catalogues: rules.IndustryCatalogues, request: IndustryClassification, actor: str, today: date
) -> OverrideRecord:
    """Archive an employer without a usable report by its industries (RULES §5).

    Raises :class:`ArchiveConflict` when the archive already holds a report-based classification
    and :class:`services.registry.domain.overrides.NoIndustryMatch` when no industry is in the catalogue."""
    record = uow.enterprises.get(request.credit_code)
    if record is not None and record.report_version is not None:
        raise coded(ArchiveConflict(
            f"the archive already classifies {request.credit_code} from report {record.submission_id} "
            f"(category {record.category}): an industry default is only for an employer without a usable report"
        ), "errors.archive.classified_from_report", credit_code=request.credit_code, submission_id=record.submission_id,
            category=record.category)
    catalogue = catalogues.in_force(request.region_code, today)
    default = rules.industry_default(catalogue, request.industry_codes)
    details = {
        "catalogue": catalogue.ref,
        "industry_codes": list(request.industry_codes),
        "employees": request.employees,
        **({"production_started_on": request.production_started_on.isoformat()} if request.production_started_on else {}),
        "nature": default.nature,
        "matches": [
            {"industry_code": m.industry_code, "entry": m.entry.code, "name": m.entry.name, "nature": m.entry.nature,
             "provisional": m.entry.provisional}
            for m in default.matches
        ],
        "unmatched": list(default.unmatched),
        "trace": [entry.model_dump(mode="json") for entry in default.trace],
    }
    previous_category = record.category if record is not None else None
    previous_region = record.region_code if record is not None else None
    before = _held(record) if record is not None else None
    if record is None:
        record = EnterpriseRecord(
            credit_code=request.credit_code, name=request.name, region_code=request.region_code, employees=request.employees,
            category=default.category, archive_version=0, latest_version=0, source="industry",
        )
        notes: list[Said] = []
    else:
        notes = clear_for_new_basis(uow, record, say("registry.override.cleared_by.industry", version=record.latest_version + 1).text())
    moved_from = previous_region if previous_region not in (None, request.region_code) else None
    record.name, record.region_code = request.name, request.region_code
    record.industry_codes, record.employees = list(request.industry_codes), request.employees
    record.category, record.source = default.category, "industry"
    if request.production_started_on is not None:
        record.production_started_on = request.production_started_on
    matched = [say("registry.override.industry_default.match", industry_code=m.industry_code, entry_code=m.entry.code, entry_name=m.entry.name,
                   nature=m.entry.nature) for m in default.matches]
    summary = say("registry.override.industry_default.summary", category=default.category, nature=default.nature,
                  catalogue=f"{catalogue.jurisdiction} {catalogue.version}", matches=matched)
    if moved_from:
        uow.change_log.lock_regions([request.region_code, moved_from])
    row = _record(
        uow, record, rules.INDUSTRY_DEFAULT, before=previous_category, after=default.category, actor=actor,
        reason=request.reason, details=details,
        log_reason=joined([say("registry.override.log.with_reason", reason=request.reason, summary=summary), *notes]),
    )
    if moved_from:
        uow.change_log.append(
            region_code=moved_from, credit_code=record.credit_code, change="region_left",
            category_before=previous_category, category_after=None, actor=actor,
            reason=say("registry.override.log.region_left", region_code=request.region_code).text(),
            payload={"version": row.version, "to_region_code": request.region_code},
        )
    changed = changes(before, _held(record))
    if changed:
        reason = details_reason(industry_basis(), changed, default.category) if changes_only_details(changed) else summary
        _announce(uow, record, previous_category, reason, changed)
    return row


# --------------------------------------------------------------------------- enforcement upgrade


def upgrade(
    uow: RegistryUnitOfWork,
    credit_code: str,
    *,
    steps: int,
    reason: str,
    actor: str,
    case_ref: str | None = None,
    details: dict[str, Any] | None = None,
) -> OverrideRecord:
    """Raise the current category by ``steps`` (1 or 2; 丙 stays 丙, and the upgrade is still recorded).

    The upgrade applies to the current basis: a newer report clears it (``clear_for_new_basis``)."""
    record = uow.enterprises.get(credit_code)
    if record is None:
        raise NotInArchive(credit_code)
    before = record.category
    after = rules.raise_category(before, steps)
    record.category = after
    bounded = CATEGORIES.index(after) - CATEGORIES.index(before) != steps
    logged = (say("registry.override.log.upgrade_case", steps=steps, case_ref=case_ref, reason=reason) if case_ref
              else say("registry.override.log.upgrade", steps=steps, reason=reason))
    row = _record(
        uow, record, rules.ENFORCEMENT_UPGRADE, before=before, after=after, steps=steps, actor=actor, reason=reason,
        case_ref=case_ref, details={**(details or {}), "basis": _basis_label(record)},
        log_reason=joined([logged, *([say("registry.override.note.bounded", before=before, after=after, highest=CATEGORIES[-1])] if bounded else [])]),
    )
    if after != before:
        _announce(uow, record, before, say("registry.override.reason.upgrade_case", before=before, after=after, case_ref=case_ref, reason=reason)
                  if case_ref else say("registry.override.reason.upgrade", before=before, after=after, reason=reason), ["category"])
    return row


def upgrade_for_major_violation(uow: RegistryUnitOfWork, event: PenaltyDecided) -> None:
    """``ohs.penalty.decided``: a decision on a major violation raises the category one step."""
    if not event.major:
        return
    case_ref = str(event.case_id)
    if uow.overrides.for_case(event.credit_code, case_ref, rules.ENFORCEMENT_UPGRADE) is not None:
        return  # the same case decided again (a re-published decision): one upgrade per case
    if uow.enterprises.get(event.credit_code) is None:
        log.warning("major violation in case %s for %s, which has no archive: nothing to upgrade", case_ref, event.credit_code)
        return
    upgrade(
        uow,
        event.credit_code,
        steps=1,
        reason=say("registry.override.reason.major_violation", case_ref=case_ref, item_code=event.item_code,
                   decision=say("registry.decision.penalty" if event.decision == "penalty" else "registry.decision.no_penalty")).text(),
        actor=chain_log.system_actor(event.producer, event.event_id),
        case_ref=case_ref,
        details={"source_event_id": str(event.event_id), "item_code": event.item_code, "decision": event.decision},
    )


# --------------------------------------------------------------------------- disputes


def dispute(uow: RegistryUnitOfWork, credit_code: str, *, reason: str, actor: str) -> OverrideRecord:
    record = uow.enterprises.get(credit_code)
    if record is None:
        raise NotInArchive(credit_code)
    try:
        status = rules.after_dispute(record.dispute_status, record.report_version is not None)
    except rules.DisputeStateError as error:
        code = ("errors.dispute.no_report" if record.report_version is None else "errors.dispute.already_disputed"
                if record.dispute_status == "disputed" else "errors.dispute.resubmission_requested")
        raise coded(ArchiveConflict(str(error)), code, credit_code=credit_code) from error
    record.dispute_status = status
    return _record(
        uow, record, rules.DISPUTE, before=record.category, after=record.category, actor=actor, reason=reason,
        details={"status": status}, log_reason=say("registry.override.log.dispute", submission_id=record.submission_id, reason=reason).text(),
    )


def verify(uow: RegistryUnitOfWork, credit_code: str, *, finding: str, resubmission_requested: bool, actor: str) -> OverrideRecord:
    record = uow.enterprises.get(credit_code)
    if record is None:
        raise NotInArchive(credit_code)
    try:
        status = rules.after_verification(record.dispute_status, resubmission_requested)
    except rules.DisputeStateError as error:
        raise coded(ArchiveConflict(str(error)), "errors.dispute.not_disputed", credit_code=credit_code) from error
    record.dispute_status = status
    outcome = say("registry.override.verification.resubmission" if resubmission_requested else "registry.override.verification.no_resubmission")
    return _record(
        uow, record, rules.VERIFICATION, before=record.category, after=record.category, actor=actor, reason=finding,
        details={"status": status, "resubmission_requested": resubmission_requested},
        log_reason=say("registry.override.log.verification", submission_id=record.submission_id, outcome=outcome, finding=finding).text(),
    )


# --------------------------------------------------------------------------- staff commands (HTTP)


def actable_record(uow: RegistryUnitOfWork, principal: Principal, credit_code: str) -> EnterpriseRecord:
    """The employer's archive, if the caller may act for it; else :class:`NotInArchive` (404, as if absent)."""
    record = uow.enterprises.get(credit_code)
    if record is None or not principal.can_act_for(credit_code, record.region_code):
        raise NotInArchive(credit_code)
    return record


def classify_by_industry_by_staff(
    uow: RegistryUnitOfWork, catalogues: rules.IndustryCatalogues, request: IndustryClassification, principal: Principal, today: date
) -> tuple[EnterpriseRecord, OverrideRecord]:
    record = uow.enterprises.get(request.credit_code)
    if record is not None and not principal.can_act_for(request.credit_code, record.region_code):
        raise NotInArchive(request.credit_code)
    if record is not None and record.region_code != request.region_code:  # RULES §5a: the archive's region is the employer's
        raise coded(ArchiveConflict(
            f"{request.credit_code} is archived in {record.region_code}, not {request.region_code}: a move between counties "
            "is a transfer (迁移) the receiving county accepts"
        ), "errors.archive.other_region", credit_code=request.credit_code, archived_region=record.region_code,
            region_code=request.region_code)
    row = classify_by_industry(uow, catalogues, request, principal.describe(), today)
    uow.commit()
    return uow.enterprises.get(request.credit_code), row  # type: ignore[return-value]


def upgrade_by_staff(
    uow: RegistryUnitOfWork, principal: Principal, credit_code: str, *, steps: int, reason: str, case_ref: str | None
) -> tuple[EnterpriseRecord, OverrideRecord]:
    record = actable_record(uow, principal, credit_code)
    row = upgrade(uow, credit_code, steps=steps, reason=reason, actor=principal.describe(), case_ref=case_ref)
    uow.commit()
    return record, row


def dispute_by_staff(uow: RegistryUnitOfWork, principal: Principal, credit_code: str, *, reason: str) -> tuple[EnterpriseRecord, OverrideRecord]:
    record = actable_record(uow, principal, credit_code)
    row = dispute(uow, credit_code, reason=reason, actor=principal.describe())
    uow.commit()
    return record, row


def verify_by_staff(
    uow: RegistryUnitOfWork, principal: Principal, credit_code: str, *, finding: str, resubmission_requested: bool
) -> tuple[EnterpriseRecord, OverrideRecord]:
    record = actable_record(uow, principal, credit_code)
    row = verify(uow, credit_code, finding=finding, resubmission_requested=resubmission_requested, actor=principal.describe())
    uow.commit()
    return record, row
