"""Registry event handlers. Each works on the unit of work it is given; the Kafka consumer
commits it (with the inbox mark) after the handler returns."""

from __future__ import annotations

from services.registry.adapters.orm import (
    ClassificationVersion,
    EnterpriseRecord,
    TransferRecord,
)
from services.registry.domain.archive import (
    ArchiveDecision,
    CurrentClassification,
    Held,
    archive,
    changes,
    changes_only_details,
    details_reason,
    report_basis,
)
from services.registry.domain.words import Said, joined, say
from services.registry.domain.regions import RegionTree
from services.registry.service_layer import chain_log, overrides, transfers
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.contracts import AssessmentClassified, ClassificationChanged, utc_now

PRODUCER = "registry"


def held(record: EnterpriseRecord | None) -> Held | None:
    """What the other services hold about the employer, from its archive record."""
    if record is None:
        return None
    return Held.of(record.category, record.region_code, record.name, record.industry_codes or [], record.employees)


def preload_archive(uow: RegistryUnitOfWork, events: list[AssessmentClassified]) -> None:
    """Before a batch of classified reports: their employers' records and any version of the same submissions."""
    uow.enterprises.preload([event.credit_code for event in events])
    uow.versions.preload_submissions([str(event.submission_id) for event in events])


def archive_classification(uow: RegistryUnitOfWork, event: AssessmentClassified, regions: RegionTree | None = None) -> None:
    """Archive one classified report; announce what the other services hold about the employer
    (category, region, name, industry codes, headcount) when the report changes it.

    The employer's region is the archive's (RULES §5a): a first report archives the employer in the
    region it names; a later current report naming another region does not move the employer, it
    asks for a move (a transfer the receiving region confirms, ``service_layer.transfers``; refused
    at once when that region is not a county of ``regions``, the platform's region tree)."""
    submission_id = str(event.submission_id)
    if uow.versions.for_submission(submission_id) is not None:
        return  # this report is already in the archive (re-published classification)

    record = uow.enterprises.get(event.credit_code)
    before = held(record)
    current = (
        CurrentClassification(record.category, record.region_code, record.assessed_on, record.latest_version)
        if record is not None
        else None
    )
    region = record.region_code if record is not None else event.region_code  # the archive's, not the report's claim
    decision = archive(current, event.category, region, event.assessed_on)
    version_number = decision.version

    uow.versions.add(
        ClassificationVersion(
            credit_code=event.credit_code,
            version=version_number,
            submission_id=submission_id,
            source_event_id=str(event.event_id),
            region_code=region,  # the region it was archived in (a report naming another one asks for a transfer)
            name=event.enterprise_name,
            category=event.category,
            hazard_grade=event.hazard_grade,
            management_grade=event.management_grade,
            score=event.score,
            assessed_on=event.assessed_on,
            rule_set=event.rule_set.model_dump(mode="json"),
            factors=[f.model_dump(mode="json") for f in event.factors],
            trace=[t.model_dump(mode="json") for t in event.trace],
            became_current=decision.becomes_current,
        )
    )
    cleared: list[Said] = []
    if decision.becomes_current and record is not None:
        # RULES §5: a newer report starts again from its own result; earlier overrides are cleared
        # (kept in the history) and an open dispute is closed — see domain/overrides.py
        cleared = overrides.clear_for_new_basis(
            uow, record, say("registry.override.cleared_by.report", submission_id=submission_id, version=version_number).text()
        )
    record = record or EnterpriseRecord(credit_code=event.credit_code)
    record.latest_version = version_number
    if decision.becomes_current:  # always for the first archive
        _make_current(record, event, version_number, region)
    record.updated_at = utc_now()
    uow.enterprises.add(record)
    transfer = (
        transfers.request_from_report(uow, record, event.region_code, submission_id, regions)
        if decision.becomes_current and current is not None
        else None
    )
    _log_archived(uow, event, decision, region, cleared, transfer)

    changed = changes(before, held(record)) if decision.becomes_current else []  # type: ignore[arg-type]
    if changed:
        reason = (
            details_reason(report_basis(submission_id), changed, event.category)
            if changes_only_details(changed)
            else decision.reason(submission_id, event.category)
        )
        uow.publish(
            ClassificationChanged(
                producer=PRODUCER,
                credit_code=event.credit_code,
                enterprise_name=event.enterprise_name,
                region_code=record.region_code,
                archive_version=version_number,
                previous_category=decision.previous_category,  # type: ignore[arg-type]
                category=event.category,
                hazard_grade=event.hazard_grade,
                management_grade=event.management_grade,
                submission_id=event.submission_id,
                reason=reason.text(),
                **reason.message,
                industry_codes=list(record.industry_codes or event.industry_codes),
                employees=record.employees,
                changed=changed,  # type: ignore[arg-type]
            )
        )


def _log_archived(
    uow: RegistryUnitOfWork,
    event: AssessmentClassified,
    decision: ArchiveDecision,
    region: str,
    cleared: list[Said] | None = None,
    transfer: TransferRecord | None = None,
) -> None:
    """The hash-chained change log (RULES §8): one entry per archived version, in the chain of the
    region the employer is archived in. A report naming another region says so (and what became of
    the transfer it asks for); the employer moves only when the receiving region accepts, which
    leaves entries in both chains (``service_layer.transfers``). The reason is kept in Chinese."""
    submission_id = str(event.submission_id)
    category_after = event.category if decision.becomes_current else decision.previous_category
    if not decision.becomes_current:
        said = say("registry.archive.log.history_only", submission_id=submission_id, assessed_on=event.assessed_on.isoformat())
    elif decision.announce:
        said = decision.reason(submission_id, event.category)
    else:
        said = say("registry.archive.log.confirmed", submission_id=submission_id, category=event.category)
    notes = list(cleared or [])
    if event.region_code != region:
        if transfer is not None and transfer.status == "refused":
            notes.append(say("registry.archive.log.transfer_refused", region_code=event.region_code, reason=transfer.reason or ""))
        elif transfer is not None:
            notes.append(say("registry.archive.log.transfer_pending", region_code=event.region_code, transfer_id=transfer.id, region=region))
        else:
            notes.append(say("registry.archive.log.other_region", region_code=event.region_code, region=region))
    reason = joined([said, *notes])
    uow.change_log.append(
        region_code=region,
        credit_code=event.credit_code,
        change="archived",
        category_before=decision.previous_category,
        category_after=category_after,
        actor=chain_log.system_actor(event.producer, event.event_id),
        reason=reason,
        payload={
            "submission_id": submission_id,
            "version": decision.version,
            "category": event.category,
            "hazard_grade": event.hazard_grade,
            "management_grade": event.management_grade,
            "score": event.score,
            "assessed_on": event.assessed_on.isoformat(),
            "rule_set": event.rule_set.model_dump(mode="json"),
            "became_current": decision.becomes_current,
            **({"cleared": [note.text() for note in cleared]} if cleared else {}),
            **({"reported_region_code": event.region_code} if event.region_code != region else {}),
            **({"transfer": {"id": transfer.id, "to_region_code": transfer.to_region, "status": transfer.status}} if transfer else {}),
        },
    )


def _make_current(record: EnterpriseRecord, event: AssessmentClassified, version: int, region: str) -> None:
    """The archive's current state is the classified report's result, in the archive's ``region``."""
    record.name = event.enterprise_name
    record.region_code = region
    record.industry_codes = event.industry_codes
    record.employees = event.employees
    record.category = event.category
    record.hazard_grade = event.hazard_grade
    record.management_grade = event.management_grade
    record.score = event.score
    record.assessed_on = event.assessed_on
    record.submission_id = str(event.submission_id)
    record.archive_version = version
    record.report_category = event.category
    record.report_version = version
    record.source = "report"
    record.dispute_status = None
    record.next_assessment_due = event.next_assessment_due  # reminders (RULES §1)
    if event.production_started_on is not None:
        record.production_started_on = event.production_started_on
