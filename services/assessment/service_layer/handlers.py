"""Assessment use cases: accept a report, classify it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlmodel import Session

from services.assessment.adapters.orm import Submission
from services.assessment.domain.classifier import Classified, classify
from services.assessment.domain.rules import NoApplicableRules, RuleBook
from shared.contracts import AssessmentClassified, Report, ReportRejected, ReportSubmitted, utc_now
from shared.db import enqueue

PRODUCER = "assessment"


class SubmissionConflict(Exception):
    """The submission id is taken by a report with other content."""


@dataclass(frozen=True)
class Accepted:
    submission: Submission
    new: bool  # False when the identical report had already been accepted


def fingerprint(report: Report) -> str:
    return hashlib.sha256(report.model_dump_json().encode()).hexdigest()


def accept_report(session: Session, report: Report) -> Accepted:
    """Store a validated report and queue ``reports.submitted``; idempotent for an identical resubmission."""
    digest = fingerprint(report)
    existing = session.get(Submission, str(report.submission_id))
    if existing is not None:
        if existing.payload_sha256 != digest:
            raise SubmissionConflict(f"submission {report.submission_id} already holds a different report")
        return Accepted(existing, new=False)
    submission = Submission(
        submission_id=str(report.submission_id),
        credit_code=report.enterprise.credit_code,
        region_code=report.enterprise.region_code,
        payload_sha256=digest,
        report=report.model_dump(mode="json"),
    )
    session.add(submission)
    enqueue(
        session,
        ReportSubmitted(
            producer=PRODUCER,
            credit_code=report.enterprise.credit_code,
            submission_id=report.submission_id,
            received_at=submission.received_at,
            report=report,
        ),
    )
    return Accepted(submission, new=True)


def classify_submission(session: Session, event: ReportSubmitted, rule_book: RuleBook) -> None:
    """Classify a submitted report, or reject it with reasons; record the outcome and announce it."""
    report = event.report
    submission = session.get(Submission, str(event.submission_id))
    if submission is None:  # submitted through another channel (bulk intake, replay): record it here
        submission = Submission(
            submission_id=str(event.submission_id),
            credit_code=report.enterprise.credit_code,
            region_code=report.enterprise.region_code,
            payload_sha256=fingerprint(report),
            report=report.model_dump(mode="json"),
            received_at=event.received_at,
        )
    if submission.status != "accepted":
        return  # already decided

    reasons = [str(p) for p in report.consistency_problems(today=event.received_at.date())]
    outcome = None
    if not reasons:
        try:
            outcome = classify(report, rule_book.for_region(report.enterprise.region_code, report.assessed_on))
        except NoApplicableRules as error:
            reasons = [str(error)]

    submission.decided_at = utc_now()
    if isinstance(outcome, Classified):
        classified = AssessmentClassified(
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
            category=outcome.category,
            factors=outcome.factors,
            rule_set=outcome.rule_set,
            trace=outcome.trace,
        )
        submission.status = "classified"
        submission.result = classified.model_dump(
            mode="json",
            include={"category", "hazard_grade", "management_grade", "score", "factors", "rule_set", "trace"},
        )
        enqueue(session, classified)
    else:
        submission.status = "rejected"
        submission.reasons = reasons if outcome is None else outcome.reasons
        enqueue(
            session,
            ReportRejected(
                producer=PRODUCER,
                credit_code=report.enterprise.credit_code,
                submission_id=event.submission_id,
                reasons=submission.reasons,
            ),
        )
    session.add(submission)
