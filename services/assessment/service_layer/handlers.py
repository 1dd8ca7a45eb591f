"""Assessment use cases: accept a report, classify it, keep the list of disqualified organisations."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from services.assessment.adapters.orm import DisqualifiedOrg, Submission
from shared.rule_data import agency_folder
from shared.working_calendar import WorkingCalendar
from services.assessment.domain.classifier import Classified, classify
from services.assessment.domain.deadlines import DeadlineCheck, DeadlineRules, check_deadlines
from services.assessment.domain.rules import NoApplicableRules, RuleBook
from shared.contracts import (
    AssessmentClassified,
    OrgDisqualified,
    Report,
    ReportRejected,
    ReportSubmitted,
    utc_now,
)
from shared.db import enqueue

PRODUCER = "assessment"


class SubmissionConflict(Exception):
    """The submission id is taken by a report with other content."""


class AssessorDisqualified(Exception):
    """The report was made by a disqualified technical service organisation."""


@dataclass(frozen=True)
class AssessmentRules:
    """Every piece of rule data the classification reads, loaded once at start-up."""

    rule_book: RuleBook  # 附件1–3 tables, checklist, test validity
    deadlines: DeadlineRules  # §1 deadlines
    calendar: WorkingCalendar  # statutory working days

    @classmethod
    def load(cls, extra_dir=None) -> "AssessmentRules":  # noqa: ANN001
        return cls(RuleBook(extra_dir), DeadlineRules(agency_folder(extra_dir, "deadlines")),
                   WorkingCalendar(agency_folder(extra_dir, "calendar")))


@dataclass(frozen=True)
class Accepted:
    submission: Submission
    new: bool  # False when the identical report had already been accepted


def content_fingerprint(report: Report) -> str:
    """The report's content without its submission id: the same report sent twice has the same fingerprint."""
    return hashlib.sha256(report.model_dump_json(exclude={"submission_id"}).encode()).hexdigest()


def disqualification(session: Session, report: Report, on: date) -> DisqualifiedOrg | None:
    """The decision barring the report's assessor on ``on``, if any."""
    if report.assessor.type != "organisation" or not report.assessor.org_id:
        return None
    org = session.get(DisqualifiedOrg, report.assessor.org_id)
    return org if org is not None and org.bars(on) else None


def accept_report(session: Session, report: Report, today: date) -> Accepted:
    """Store a validated report and queue ``reports.submitted``.

    The same submission id with the same report, or a report identical to the employer's latest
    one, is a no-op; the same id with other content is a conflict; a disqualified assessor is refused.
    """
    digest = content_fingerprint(report)
    existing = session.get(Submission, str(report.submission_id))
    if existing is not None:
        if existing.content_sha256 != digest:
            raise SubmissionConflict(f"submission {report.submission_id} already holds a different report")
        return Accepted(existing, new=False)
    latest = session.exec(
        select(Submission)
        .where(Submission.credit_code == report.enterprise.credit_code)
        .order_by(col(Submission.received_at).desc())
    ).first()
    if latest is not None and latest.content_sha256 == digest:
        return Accepted(latest, new=False)
    barred = disqualification(session, report, today)
    if barred is not None:
        raise AssessorDisqualified(barred.describe())

    submission = new_submission(report)
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


def is_first_assessment(session: Session, credit_code: str, submission_id: str) -> bool:
    earlier = session.exec(
        select(Submission.submission_id).where(
            Submission.credit_code == credit_code, Submission.status == "classified", Submission.submission_id != submission_id
        )
    ).first()
    return earlier is None


def new_submission(report: Report, received_at: datetime | None = None) -> Submission:
    return Submission(
        submission_id=str(report.submission_id),
        credit_code=report.enterprise.credit_code,
        region_code=report.enterprise.region_code,
        content_sha256=content_fingerprint(report),
        report=report.model_dump(mode="json"),
        **({"received_at": received_at} if received_at else {}),
    )


def assess(
    session: Session, report: Report, submission_id: str, received_on: date, rules: AssessmentRules
) -> tuple[Classified, DeadlineCheck] | list[str]:
    """The classification and the deadline check of a report, or the reasons it cannot be classified."""
    reasons = [str(p) for p in report.consistency_problems(today=received_on)]
    if barred := disqualification(session, report, received_on):
        reasons.append(f"assessor.org_id: {barred.describe()}")
    if reasons:
        return reasons
    region, on = report.enterprise.region_code, report.assessed_on
    try:
        outcome = classify(report, rules.rule_book.for_region(region, on))
        if not isinstance(outcome, Classified):
            return outcome.reasons
        first = is_first_assessment(session, report.enterprise.credit_code, submission_id)
        return outcome, check_deadlines(report, received_on, first, rules.deadlines.for_region(region, on), rules.calendar)
    except NoApplicableRules as error:
        return [str(error)]


def classify_submission(session: Session, event: ReportSubmitted, rules: AssessmentRules) -> None:
    """Classify a submitted report, or reject it with reasons; record the outcome and announce it."""
    report = event.report
    # a report submitted through another channel (replay, another intake) is recorded here
    submission = session.get(Submission, str(event.submission_id)) or new_submission(report, event.received_at)
    if submission.status != "accepted":
        return  # already decided

    assessed = assess(session, report, submission.submission_id, event.received_at.date(), rules)
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
    session.add(submission)
    enqueue(session, announcement)


def record_disqualification(session: Session, event: OrgDisqualified) -> None:
    """Keep the latest decision about an organisation."""
    org = session.get(DisqualifiedOrg, event.credit_code)
    if org is not None and org.decided_on > event.decided_on:
        return  # an older decision arriving late
    org = org or DisqualifiedOrg(org_id=event.credit_code)
    org.org_name = event.org_name
    org.decision_no = event.decision_no
    org.decided_on = event.decided_on
    org.until = event.until
    org.reason = event.reason
    session.add(org)
