"""False-report findings against technical service organisations, and their disqualification.
The commands (:func:`record_finding`, :func:`disqualify`) commit their unit of work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from services.penalty.adapters.orm_orgs import OrgDisqualification, OrgFinding
from services.penalty.domain.orgs import (
    DisqualificationRefused,
    FindingFacts,
    check_disqualification,
    disqualification_reason,
    finding_status,
)
from services.penalty.domain.org_rating import OrgRatingRuleBook
from services.penalty.service_layer import org_filings
from services.penalty.service_layer.unit_of_work import AbstractPenaltyUnitOfWork
from shared.contracts import OrgDisqualified

PRODUCER = "penalty"


@dataclass(frozen=True)
class NewFinding:
    org_credit_code: str
    org_name: str
    region_code: str
    employer_credit_code: str | None
    submission_id: str | None
    misstated: list[str]
    description: str
    severity: str
    found_on: date


@dataclass(frozen=True)
class Decision:
    decision_no: str
    decided_on: date
    until: date | None
    reason: str | None


def _facts(finding: OrgFinding) -> FindingFacts:
    return FindingFacts(finding.id, finding.severity, finding.found_on, finding.description)


def record_finding(
    uow: AbstractPenaltyUnitOfWork, new: NewFinding, *, recorded_by: str, role: str, deciding_region: str | None, decision: Decision | None, today: date,
    rating_rules: OrgRatingRuleBook | None = None,
) -> tuple[OrgFinding, OrgDisqualification | None]:
    """Record a finding; a serious one found by the province with a decision disqualifies at once. With
    ``rating_rules`` the organisation's star rating is recomputed (issue 17: OrgRated when its stars change)."""
    if decision is not None and new.severity != "serious":
        raise DisqualificationRefused("disqualification", "penalty.error.org.minor_finding")
    finding = OrgFinding(
        id=str(uuid.uuid4()), org_credit_code=new.org_credit_code, org_name=new.org_name, region_code=new.region_code,
        employer_credit_code=new.employer_credit_code, submission_id=new.submission_id, misstated=list(new.misstated),
        description=new.description, severity=new.severity, found_on=new.found_on,
        status=finding_status(new.severity), recorded_by=recorded_by,
    )
    if decision is not None:  # checked before anything is written
        check_disqualification(role, [_facts(finding)], decision.decided_on, decision.until, today)
    uow.orgs.add_finding(finding)
    disqualification = None
    if decision is not None:
        disqualification = _disqualify(
            uow, new.org_credit_code, decision, [finding.id], role=role, decided_by=recorded_by,
            region_code=deciding_region or new.region_code, today=today,
        )
    if rating_rules is not None:
        org_filings.rerate_known(uow, new.org_credit_code, new.org_name, new.region_code, rating_rules, today)
    uow.commit()
    return finding, disqualification


def disqualify(
    uow: AbstractPenaltyUnitOfWork, org_credit_code: str, decision: Decision, finding_ids: list[str], *, role: str, decided_by: str,
    region_code: str, today: date, rating_rules: OrgRatingRuleBook | None = None,
) -> OrgDisqualification:
    """The province disqualifies the organisation on its serious findings; the same decision twice is one. With
    ``rating_rules`` the organisation's star rating is recomputed (0 stars while the disqualification is in force)."""
    disqualification = _disqualify(uow, org_credit_code, decision, finding_ids, role=role, decided_by=decided_by,
                                   region_code=region_code, today=today)
    if rating_rules is not None:
        org_filings.rerate_known(uow, org_credit_code, disqualification.org_name, region_code, rating_rules, today)
    uow.commit()
    return disqualification


def _disqualify(
    uow: AbstractPenaltyUnitOfWork, org_credit_code: str, decision: Decision, finding_ids: list[str], *, role: str, decided_by: str,
    region_code: str, today: date,
) -> OrgDisqualification:
    existing = uow.orgs.disqualification(decision.decision_no)
    if existing is not None:
        if existing.org_credit_code != org_credit_code:
            raise DisqualificationRefused("decision_no", "penalty.error.org.decision_no_used", {
                "decision_no": decision.decision_no, "org_credit_code": existing.org_credit_code})
        return existing
    findings = uow.orgs.findings(finding_ids)
    unknown = sorted(set(finding_ids) - {f.id for f in findings})
    if unknown:
        raise DisqualificationRefused("finding_ids", "penalty.error.org.unknown_findings", {"findings": unknown})
    others = [f.id for f in findings if f.org_credit_code != org_credit_code]
    if others:
        raise DisqualificationRefused("finding_ids", "penalty.error.org.findings_of_another", {"findings": others})
    minor = [f.id for f in findings if f.severity != "serious"]
    if minor:
        raise DisqualificationRefused("finding_ids", "penalty.error.org.findings_minor", {"findings": minor})
    serious = [_facts(f) for f in findings]
    check_disqualification(role, serious, decision.decided_on, decision.until, today)

    org_name = findings[0].org_name
    disqualification = OrgDisqualification(
        id=str(uuid.uuid4()), org_credit_code=org_credit_code, org_name=org_name, decision_no=decision.decision_no,
        decided_on=decision.decided_on, until=decision.until, reason=disqualification_reason(serious, decision.reason),
        decided_by=decided_by, region_code=region_code,
    )
    uow.orgs.add_disqualification(disqualification)
    for finding in findings:
        finding.status, finding.disqualification_id = "disqualified", disqualification.id
    uow.publish(
        OrgDisqualified(
            event_id=uuid.UUID(disqualification.id), producer=PRODUCER, credit_code=org_credit_code, org_name=org_name,
            decision_no=disqualification.decision_no, decided_on=disqualification.decided_on, until=disqualification.until,
            reason=disqualification.reason,
        ),
    )
    return disqualification
