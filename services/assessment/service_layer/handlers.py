"""Assessment use cases: submit and accept a report, classify it, keep the list of disqualified organisations.

Each takes the assessment's unit of work. The commands (``submit_report``, ``accept_report``)
commit it; the Kafka event handlers (``classify_submission``, ``record_disqualification``) do not:
the reliable consumer commits their work together with the inbox mark.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from services.assessment.adapters.orm import (
    DisqualifiedOrg,
    Submission,
)
from services.assessment.domain.assessment_rules import AssessmentRules
from services.assessment.domain.classifier import Classified, classify
from services.assessment.domain.deadlines import DeadlineCheck, check_deadlines
from services.assessment.domain.report_rules import report_problems
from services.assessment.domain.rules import NoApplicableRules
from services.assessment.service_layer.unit_of_work import AbstractAssessmentUnitOfWork
from shared.archive_region import remember_archive_region
from shared.auth import Principal
from shared.contracts import (
    AssessmentClassified,
    ClassificationChanged,
    FieldProblem,
    OrgDisqualified,
    Report,
    ReportRejected,
    ReportSubmitted,
    utc_now,
)
from shared.dates import china_today

__all__ = [
    "Accepted",
    "AssessmentRules",
    "AssessorDisqualified",
    "NotInJurisdiction",
    "ReportInvalid",
    "SubmissionConflict",
    "SubmissionRefused",
    "accept_report",
    "assess",
    "classify_submission",
    "record_archived_employer",
    "record_disqualification",
    "submission_refusal",
    "submit_report",
]

PRODUCER = "assessment"


class SubmissionRefused(Exception):
    """The caller may not submit this report (an auditor, another employer, outside the region)."""


class NotInJurisdiction(LookupError):
    """The employer is archived in a region the staff token does not cover: answered 404, exactly as if
    there were no such employer (a county acts only on its own employers, RULES §5a)."""


class ReportInvalid(Exception):
    """The report breaks the business rules across its fields; ``problems`` name each field."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class SubmissionConflict(Exception):
    """The submission id is taken by a report with other content."""


class AssessorDisqualified(Exception):
    """The report was made by a disqualified technical service organisation."""


@dataclass(frozen=True)
class Accepted:
    submission: Submission
    new: bool  # False when the identical report had already been accepted


# --------------------------------------------------------------------------- submitting a report


def submission_refusal(principal: Principal, report: Report, archived_region: str | None = None) -> str | None:
    """Why ``principal`` may not submit ``report``, or None. Not a read: the answer is 403, naming why.

    ``archived_region``: where the registry's archive has the employer (None: not archived yet). Once
    archived, that region is the employer's jurisdiction, not the report's ``enterprise.region_code``
    (which, when it differs, asks the registry for a move, RULES §5a); staff outside it are refused by
    :func:`submit_report` as if the employer did not exist (:class:`NotInJurisdiction`, 404)."""
    enterprise = report.enterprise
    if principal.role == "auditor":
        return "an auditor's token reads; it cannot submit reports"
    if principal.role == "employer":
        if enterprise.credit_code != principal.credit_code:
            return f"an employer's token submits only the employer's own reports (token for {principal.credit_code})"
        return None
    if archived_region is not None:
        return None if principal.can_act_for(enterprise.credit_code, archived_region) else f"no employer {enterprise.credit_code} in your jurisdiction"
    if not principal.can_act_for(enterprise.credit_code, enterprise.region_code):
        return (
            f"enterprise.region_code {enterprise.region_code} is outside the jurisdiction of this {principal.role} token "
            f"({principal.region_code}): staff submit only for employers of their own region"
        )
    return None


def submit_report(uow: AbstractAssessmentUnitOfWork, report: Report, principal: Principal, today: date) -> Accepted:
    """``POST /reports``: who may submit, then the report's business rules, then :func:`accept_report`.

    :class:`NotInJurisdiction` (404: staff outside the region the archive has the employer in),
    :class:`SubmissionRefused` (403), :class:`ReportInvalid` (422), :class:`SubmissionConflict` (409),
    :class:`AssessorDisqualified` (422)."""
    archived = uow.archived_employers.get(report.enterprise.credit_code)
    archived_region = archived.region_code if archived is not None else None
    if archived_region is not None and principal.is_staff and not principal.can_act_for(report.enterprise.credit_code, archived_region):
        raise NotInJurisdiction(f"employer {report.enterprise.credit_code} in your jurisdiction")
    if refusal := submission_refusal(principal, report, archived_region):
        raise SubmissionRefused(refusal)
    if problems := report_problems(report, today):
        raise ReportInvalid(problems)
    return accept_report(uow, report, today)


def content_fingerprint(report: Report) -> str:
    """The report's content without its submission id: the same report sent twice has the same fingerprint."""
    return hashlib.sha256(report.model_dump_json(exclude={"submission_id"}).encode()).hexdigest()


def disqualification(uow: AbstractAssessmentUnitOfWork, report: Report, on: date) -> DisqualifiedOrg | None:
    """The decision barring the report's assessor on ``on``, if any."""
    if report.assessor.type != "organisation" or not report.assessor.org_id:
        return None
    org = uow.disqualified_orgs.get(report.assessor.org_id)
    return org if org is not None and org.bars(on) else None


def accept_report(uow: AbstractAssessmentUnitOfWork, report: Report, today: date) -> Accepted:
    """Store a validated report and announce ``reports.submitted``; commits.

    The same submission id with the same report, or a report identical to the employer's latest
    one, is a no-op; the same id with other content is a conflict; a disqualified assessor is refused.
    """
    digest = content_fingerprint(report)
    existing = uow.submissions.get(str(report.submission_id))
    if existing is not None:
        if existing.content_sha256 != digest:
            raise SubmissionConflict(f"submission {report.submission_id} already holds a different report")
        return Accepted(existing, new=False)
    latest = uow.submissions.latest_for(report.enterprise.credit_code)
    if latest is not None and latest.content_sha256 == digest:
        return Accepted(latest, new=False)
    barred = disqualification(uow, report, today)
    if barred is not None:
        raise AssessorDisqualified(barred.describe())

    submission = new_submission(report)
    uow.submissions.add(submission)
    uow.publish(
        ReportSubmitted(
            producer=PRODUCER,
            credit_code=report.enterprise.credit_code,
            submission_id=report.submission_id,
            received_at=submission.received_at,
            report=report,
        )
    )
    uow.commit()
    return Accepted(submission, new=True)


def new_submission(report: Report, received_at: datetime | None = None) -> Submission:
    return Submission(
        submission_id=str(report.submission_id),
        credit_code=report.enterprise.credit_code,
        region_code=report.enterprise.region_code,
        content_sha256=content_fingerprint(report),
        report=report.model_dump(mode="json"),
        **({"received_at": received_at} if received_at else {}),
    )


# --------------------------------------------------------------------------- classifying it (ohs.reports.submitted)


def assess(
    uow: AbstractAssessmentUnitOfWork, report: Report, submission_id: str, received_on: date, rules: AssessmentRules
) -> tuple[Classified, DeadlineCheck] | list[str]:
    """The classification and the deadline check of a report, or the reasons it cannot be classified."""
    reasons = [str(p) for p in report_problems(report, today=received_on)]
    if barred := disqualification(uow, report, received_on):
        reasons.append(f"assessor.org_id: {barred.describe()}")
    if reasons:
        return reasons
    region, on = report.enterprise.region_code, report.assessed_on
    try:
        outcome = classify(report, rules.rule_book.for_region(region, on))
        if not isinstance(outcome, Classified):
            return outcome.reasons
        first = not uow.submissions.classified_other_than(report.enterprise.credit_code, submission_id)
        return outcome, check_deadlines(report, received_on, first, rules.deadlines.for_region(region, on), rules.calendar)
    except NoApplicableRules as error:
        return [str(error)]
    except (OverflowError, ValueError, ArithmeticError) as error:
        # belt and braces: the contract keeps dates, headcounts and points in range, but a computation that still
        # leaves the calendar (a working day past 9999, +3 years past date.max) rejects the report with the reason
        # instead of leaving it accepted for ever
        return [f"the report cannot be classified: a date or number is out of the range the rules can compute with ({error})"]


def classify_submission(uow: AbstractAssessmentUnitOfWork, event: ReportSubmitted, rules: AssessmentRules) -> None:
    """Classify a submitted report, or reject it with reasons; record the outcome and announce it."""
    report = event.report
    # a report submitted through another channel (replay, another intake) is recorded here
    submission = uow.submissions.get(str(event.submission_id)) or new_submission(report, event.received_at)
    if submission.status != "accepted":
        return  # already decided

    # the day it was received in China: received_at is a UTC instant, and between 00:00 and 08:00 China time its UTC
    # date is still yesterday (a report dated China's today would then be "in the future")
    assessed = assess(uow, report, submission.submission_id, china_today(event.received_at), rules)
    submission.decided_at = utc_now()
    if isinstance(assessed, list):
        submission.status, submission.reasons = "rejected", assessed
        announcement: AssessmentClassified | ReportRejected = ReportRejected(
            producer=PRODUCER, credit_code=report.enterprise.credit_code, submission_id=event.submission_id, reasons=assessed
        )
    else:
        outcome, deadlines = assessed
        announcement = AssessmentClassified(
            producer=PRODUCER,
            credit_code=report.enterprise.credit_code,
            submission_id=event.submission_id,
            enterprise_name=report.enterprise.name,
            region_code=report.enterprise.region_code,
            industry_codes=report.enterprise.industry_codes,
            employees=report.enterprise.employees,
            assessed_on=report.assessed_on,
            hazard_grade=outcome.hazard_grade,
            management_grade=outcome.management_grade,
            score=outcome.score,
            score_source=outcome.score_source,
            category=outcome.category,
            factors=outcome.factors,
            lost_points=outcome.lost_points,
            flags=deadlines.flags,  # accepted, but a supervisor should see these (late, short publicity, …)
            next_assessment_due=deadlines.next_assessment_due,
            production_started_on=report.enterprise.production_started_on,
            assessor=report.assessor,
            rule_set=outcome.rule_set,
            trace=[*outcome.trace, *deadlines.trace],
        )
        submission.status, submission.result = "classified", announcement.model_dump(mode="json")
    uow.submissions.add(submission)
    uow.publish(announcement)


# --------------------------------------------------------------------------- disqualified organisations (ohs.orgs.disqualified)


def record_disqualification(uow: AbstractAssessmentUnitOfWork, event: OrgDisqualified) -> None:
    """Keep the latest decision about an organisation."""
    org = uow.disqualified_orgs.get(event.credit_code)
    if org is not None and org.decided_on > event.decided_on:
        return  # an older decision arriving late
    org = org or DisqualifiedOrg(org_id=event.credit_code)
    org.org_name = event.org_name
    org.decision_no = event.decision_no
    org.decided_on = event.decided_on
    org.until = event.until
    org.reason = event.reason
    uow.disqualified_orgs.add(org)


# --------------------------------------------------------------------------- where the archive has each employer (ohs.registry.classification-changed)


def record_archived_employer(uow: AbstractAssessmentUnitOfWork, event: ClassificationChanged) -> None:
    """Keep the region the registry's archive has the employer in (the highest archive version): the
    employer's jurisdiction for :func:`submit_report` (RULES §5a). An older announcement arriving late changes nothing."""
    remember_archive_region(uow.archived_employers, event)