"""Assessment use cases: submit and accept a report, classify it, keep the list of disqualified organisations.

Each takes the assessment's unit of work. The commands (``submit_report``, ``submit_reports``,
``accept_report``) commit it; the Kafka event handlers (``classify_submission``, ``record_disqualification``) do not:
the reliable consumer commits their work together with the inbox mark. ``preview_report`` (the console's
preview before submitting) reads only: it neither commits nor publishes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from services.assessment.adapters.orm import (
    DisqualifiedOrg,
    Submission,
)
from services.assessment.adapters.orm_test_filings import FiledTestReport
from services.assessment.domain.assessment_rules import AssessmentRules
from services.assessment.domain import test_filings
from services.assessment.domain.checklist import RunningScore, running_score
from services.assessment.domain.classifier import Classified, Rejected, classify, rejected
from services.assessment.domain.deadlines import DeadlineCheck, check_deadlines
from services.assessment.domain.report_rules import report_messages
from services.assessment.domain.rules import NoApplicableRules, RuleSet
from services.assessment.service_layer.unit_of_work import AbstractAssessmentUnitOfWork
from shared import i18n
from shared.archive_region import remember_archive_region
from shared.auth import Principal
from shared.contracts import (
    AssessmentClassified,
    ClassificationChanged,
    FieldProblem,
    Flag,
    OrgDisqualified,
    Report,
    ReportRejected,
    ReportSubmitted,
    TestReportFiled,
    TraceEntry,
    utc_now,
)
from shared.dates import china_today
from shared.errors import coded, constraint_of, validation_issues
from shared.problems import Problem
from shared.i18n import Message

__all__ = [
    "BATCH_LIMIT",
    "Accepted",
    "AssessmentRules",
    "AssessorDisqualified",
    "ItemResult",
    "NotInJurisdiction",
    "PartialPreview",
    "Preloaded",
    "Preview",
    "Reads",
    "ReportInvalid",
    "SubmissionConflict",
    "SubmissionRefused",
    "accept_report",
    "assess",
    "check_assessor",
    "check_submission",
    "classified_event",
    "classify_submission",
    "preview_report",
    "record_archived_employer",
    "record_disqualification",
    "submission_refusal",
    "submit_report",
    "submit_reports",
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
        return Problem("errors.submission.auditor")
    if principal.role == "employer":
        if enterprise.credit_code != principal.credit_code:
            return Problem("errors.submission.other_employer", credit_code=principal.credit_code)
        return None
    if archived_region is not None:
        return None if principal.can_act_for(enterprise.credit_code, archived_region) else Problem(
            "errors.employer.not_in_jurisdiction", credit_code=enterprise.credit_code)
    if not principal.can_act_for(enterprise.credit_code, enterprise.region_code):
        return Problem("errors.submission.outside_jurisdiction", region_code=enterprise.region_code, token_region=principal.region_code)
    return None


def submit_report(uow: AbstractAssessmentUnitOfWork, report: Report, principal: Principal, today: date) -> Accepted:
    """``POST /reports``: who may submit, then the report's business rules, then :func:`accept_report`.

    :class:`NotInJurisdiction` (404: staff outside the region the archive has the employer in),
    :class:`SubmissionRefused` (403), :class:`ReportInvalid` (422), :class:`SubmissionConflict` (409),
    :class:`AssessorDisqualified` (422)."""
    check_submission(uow, report, principal, today)
    return accept_report(uow, report, today)


def check_submission(uow: AbstractAssessmentUnitOfWork, report: Report, principal: Principal, today: date, reads: Reads | None = None) -> None:
    """Who may submit ``report``, and does it keep the business rules? Reads only; raises
    :class:`NotInJurisdiction`, :class:`SubmissionRefused` or :class:`ReportInvalid`."""
    archived_region = (reads or Reads(uow)).archived_region(report.enterprise.credit_code)
    if archived_region is not None and principal.is_staff and not principal.can_act_for(report.enterprise.credit_code, archived_region):
        raise coded(NotInJurisdiction(f"employer {report.enterprise.credit_code} in your jurisdiction"),
                    "errors.employer.not_in_jurisdiction", credit_code=report.enterprise.credit_code)
    if refusal := submission_refusal(principal, report, archived_region):
        raise coded(SubmissionRefused(refusal), refusal.code, **refusal.params)
    if problems := [FieldProblem(m.params["field"], m.text(), m.code, m.params) for m in report_messages(report, today)]:
        raise ReportInvalid(problems)  # each with its code: the 422 says it in the reader's language


def content_fingerprint(report: Report) -> str:
    """The report's content without its submission id: the same report sent twice has the same fingerprint."""
    return hashlib.sha256(report.model_dump_json(exclude={"submission_id"}).encode()).hexdigest()


def disqualification(uow: AbstractAssessmentUnitOfWork, report: Report, on: date, reads: Reads | None = None) -> DisqualifiedOrg | None:
    """The decision barring the report's assessor on ``on``, if any."""
    if report.assessor.type != "organisation" or not report.assessor.org_id:
        return None
    org = (reads or Reads(uow)).disqualified_org(report.assessor.org_id)
    return org if org is not None and org.bars(on) else None


def accept_report(uow: AbstractAssessmentUnitOfWork, report: Report, today: date) -> Accepted:
    """Store a validated report and announce ``reports.submitted``; commits.

    The same submission id with the same report, or a report identical to the employer's latest
    one, is a no-op; the same id with other content is a conflict; a disqualified assessor is refused.
    """
    accepted = decide_acceptance(uow, report, today)
    if accepted.new:
        record_acceptance(uow, report, accepted.submission)
        uow.commit()
    return accepted


def decide_acceptance(uow: AbstractAssessmentUnitOfWork, report: Report, today: date, reads: Reads | None = None) -> Accepted:
    """What :func:`accept_report` does with ``report``, decided without writing anything: a new
    submission (to record), the earlier identical one (``new=False``), or :class:`SubmissionConflict` /
    :class:`AssessorDisqualified`. ``reads``: a batch's (:class:`Reads`), which also sees the submissions
    decided earlier in the batch and not written yet."""
    reads = reads or Reads(uow)
    digest = content_fingerprint(report)
    existing = reads.submission(str(report.submission_id))
    if existing is not None:
        if existing.content_sha256 != digest:
            raise coded(SubmissionConflict(f"submission {report.submission_id} already holds a different report"),
                        "errors.submission.conflict", submission_id=str(report.submission_id))
        return Accepted(existing, new=False)
    latest = reads.latest_for(report.enterprise.credit_code)
    if latest is not None and latest.content_sha256 == digest:
        return Accepted(latest, new=False)
    check_assessor(uow, report, today, reads)
    return Accepted(new_submission(report, digest=digest), new=True)


def check_assessor(uow: AbstractAssessmentUnitOfWork, report: Report, today: date, reads: Reads | None = None) -> None:
    """:class:`AssessorDisqualified` when the report's assessing organisation is barred on ``today``."""
    barred = disqualification(uow, report, today, reads)
    if barred is not None:
        code, params = barred_problem(barred)
        raise coded(AssessorDisqualified(barred.describe()), code, **params)


def record_acceptance(uow: AbstractAssessmentUnitOfWork, report: Report, submission: Submission) -> None:
    """Keep a new submission and announce it through the outbox (in the caller's transaction)."""
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


def new_submission(report: Report, received_at: datetime | None = None, digest: str | None = None) -> Submission:
    # every default given: SQLModel asks pydantic for a default factory's signature on each instance (≈ 0.3 ms)
    return Submission(
        submission_id=str(report.submission_id),
        credit_code=report.enterprise.credit_code,
        region_code=report.enterprise.region_code,
        content_sha256=digest or content_fingerprint(report),
        report=report.model_dump(mode="json"),
        reasons=[],
        received_at=received_at or utc_now(),
    )


# --------------------------------------------------------------------------- many reports at once (POST /reports:batch)

BATCH_LIMIT = 5_000  # reports in one POST /reports:batch
MAX_REPORT_BYTES = 256 * 1024  # one report of a batch, as compact JSON: far above the largest valid one (200 hazards)
WRITE_CHUNK = 1_000  # the reports a batch accepts are written in one transaction per this many items

ItemStatus = Literal["accepted", "duplicate", "invalid", "refused", "not_found", "conflict"]
ITEM_STATUSES: tuple[ItemStatus, ...] = ("accepted", "duplicate", "invalid", "refused", "not_found", "conflict")
# what POST /reports answers with 403, 404, 409 or 422 after reading the report: one item's status in a batch
SUBMISSION_ERRORS = (NotInJurisdiction, SubmissionRefused, ReportInvalid, SubmissionConflict, AssessorDisqualified)


@dataclass(frozen=True)
class ItemResult:
    """What became of one item of a batch: the answer ``POST /reports`` would have given it.

    ``accepted`` (202, new), ``duplicate`` (202, the identical report is already kept: ``submission_id``
    is the kept one), ``invalid`` (422: ``errors`` name the fields), ``refused`` (403), ``not_found``
    (404: an employer outside the token's jurisdiction), ``conflict`` (409)."""

    index: int
    status: ItemStatus
    submission_id: str | None = None
    errors: tuple[FieldProblem, ...] = ()
    detail: str | None = None
    code: str | None = None  # the message code of ``detail`` (shared.i18n: the answer renders it in the reader's language)
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class Preloaded:
    """What the store holds for a chunk of a batch, read in a few queries (``views.preloaded``): for each of
    ``submission_ids`` the submission kept under it, for each of ``credit_codes`` the employer's latest
    submission and the region the archive has it in, for each of ``org_ids`` the decision about the
    organisation; a key absent from a mapping means the store has none."""

    submission_ids: set[str]
    credit_codes: set[str]
    org_ids: set[str]
    submissions: dict[str, Submission] = field(default_factory=dict)
    latest: dict[str, Submission] = field(default_factory=dict)
    archived_regions: dict[str, str] = field(default_factory=dict)
    orgs: dict[str, DisqualifiedOrg] = field(default_factory=dict)


Preload = Callable[[list[Report]], Preloaded]


class Reads:
    """What deciding a submission reads: the unit of work's repositories, or — for a batch — first the
    submissions it has decided to accept and not written yet (a later item repeating one is its duplicate,
    exactly as one request after another), then what was preloaded for the chunk (:class:`Preloaded`)."""

    def __init__(self, uow: AbstractAssessmentUnitOfWork, preloaded: Preloaded | None = None) -> None:
        self.uow, self.preloaded = uow, preloaded
        self._pending: dict[str, Submission] = {}
        self._pending_latest: dict[str, Submission] = {}

    def pend(self, submission: Submission) -> None:
        """``submission`` will be written with the batch: the batch's later items see it as kept (and as its employer's latest)."""
        self._pending[submission.submission_id] = submission
        self._pending_latest[submission.credit_code] = submission

    def submission(self, submission_id: str) -> Submission | None:
        if submission_id in self._pending:
            return self._pending[submission_id]
        if self.preloaded is not None and submission_id in self.preloaded.submission_ids:
            return self.preloaded.submissions.get(submission_id)
        return self.uow.submissions.get(submission_id)

    def latest_for(self, credit_code: str) -> Submission | None:
        if credit_code in self._pending_latest:
            return self._pending_latest[credit_code]
        if self.preloaded is not None and credit_code in self.preloaded.credit_codes:
            return self.preloaded.latest.get(credit_code)
        return self.uow.submissions.latest_for(credit_code)

    def archived_region(self, credit_code: str) -> str | None:
        if self.preloaded is not None and credit_code in self.preloaded.credit_codes:
            return self.preloaded.archived_regions.get(credit_code)
        archived = self.uow.archived_employers.get(credit_code)
        return archived.region_code if archived is not None else None

    def disqualified_org(self, org_id: str) -> DisqualifiedOrg | None:
        if self.preloaded is not None and org_id in self.preloaded.org_ids:
            return self.preloaded.orgs.get(org_id)
        return self.uow.disqualified_orgs.get(org_id)


def submit_reports(
    uow: AbstractAssessmentUnitOfWork, items: Sequence[object], principal: Principal, today: date, preload: Preload | None = None
) -> list[ItemResult]:
    """``POST /reports:batch``: every item decided exactly as :func:`submit_report` decides a report sent
    alone (the contract, who may submit, the business rules, the same id or the same report again, a
    conflict), in order, as if sent one after another; the results in the items' order. One item's
    problem never stops another.

    An item is a report as ``POST /reports`` takes it, as parsed JSON (or a :class:`Report`). The items
    of each :data:`WRITE_CHUNK` are all decided first (reads only; ``preload``, when given, reads what the
    chunk needs in a few queries instead of a few per item), then the accepted ones are written and
    announced (outbox) in one transaction: one commit. When the database refuses that write (a concurrent
    request inserted the same row between the reads and the commit), the chunk is rolled back and its items
    are submitted again one by one, each in its own transaction, exactly as ``POST /reports`` would."""
    results: list[ItemResult] = []
    for start in range(0, len(items), WRITE_CHUNK):
        chunk = list(enumerate(items[start:start + WRITE_CHUNK], start=start))
        results += _submit_chunk(uow, chunk, principal, today, preload)
    return results


def _submit_chunk(
    uow: AbstractAssessmentUnitOfWork, chunk: list[tuple[int, object]], principal: Principal, today: date, preload: Preload | None
) -> list[ItemResult]:
    results: dict[int, ItemResult] = {}
    reports: list[tuple[int, Report]] = []
    for index, item in chunk:
        parsed = parse_report(item)
        if isinstance(parsed, Report):
            reports.append((index, parsed))
        else:
            results[index] = ItemResult(index, "invalid", errors=tuple(parsed), detail="the report is invalid", code="errors.report.invalid")
    reads = Reads(uow, preload([report for _, report in reports]) if preload and reports else None)
    to_write: list[tuple[Report, Submission]] = []
    for index, report in reports:
        try:
            check_submission(uow, report, principal, today, reads)
            accepted = decide_acceptance(uow, report, today, reads)
        except SUBMISSION_ERRORS as error:
            results[index] = refused_item(index, error)
            continue
        if accepted.new:
            reads.pend(accepted.submission)
            to_write.append((report, accepted.submission))
        results[index] = ItemResult(index, "accepted" if accepted.new else "duplicate", submission_id=accepted.submission.submission_id)
    if to_write:
        try:
            for report, submission in to_write:
                record_acceptance(uow, report, submission)
            uow.commit()
        except IntegrityError:
            uow.rollback()
            for index, report in reports:
                results[index] = _submit_alone(uow, index, report, principal, today)
    return [results[index] for index, _ in chunk]


def _submit_alone(uow: AbstractAssessmentUnitOfWork, index: int, report: Report, principal: Principal, today: date) -> ItemResult:
    """One item in a transaction of its own, exactly as ``POST /reports``: a race lost once is tried once more
    (it then finds the other request's row: a duplicate, or a conflict); lost twice, a conflict."""
    for attempt in range(2):
        try:
            accepted = submit_report(uow, report, principal, today)
        except IntegrityError as error:
            uow.rollback()
            if attempt:
                return ItemResult(index, "conflict", detail=f"a concurrent request created the same record ({constraint_of(error)}); send the report again",
                                  code="errors.conflict.concurrent", params={"constraint": constraint_of(error)})
            continue
        except SUBMISSION_ERRORS as error:
            return refused_item(index, error)
        kept = str(report.submission_id) if accepted.new else accepted.submission.submission_id
        return ItemResult(index, "accepted" if accepted.new else "duplicate", submission_id=kept)
    raise AssertionError("unreachable")  # pragma: no cover


def refused_item(index: int, error: Exception) -> ItemResult:
    """The item's result for what ``POST /reports`` answers 403, 404, 409 or 422 (with the same detail and fields)."""
    said = {"code": getattr(error, "code", None), "params": getattr(error, "params", None) or {}}
    if isinstance(error, NotInJurisdiction):
        return ItemResult(index, "not_found", detail=f"no {error}", **said)
    if isinstance(error, SubmissionRefused):
        return ItemResult(index, "refused", detail=str(error), **said)
    if isinstance(error, ReportInvalid):
        return ItemResult(index, "invalid", errors=tuple(error.problems), detail="the report is invalid", code="errors.report.invalid")
    if isinstance(error, AssessorDisqualified):
        return ItemResult(index, "invalid", errors=(FieldProblem("assessor.org_id", str(error), said["code"], said["params"]),),
                          detail="the assessor may not submit", code="errors.assessor.may_not_submit")
    if isinstance(error, SubmissionConflict):
        return ItemResult(index, "conflict", detail=str(error), **said)
    raise error


def barred_problem(barred: DisqualifiedOrg) -> tuple[str, dict[str, object]]:
    """The message code and parameters of a disqualified assessor's refusal."""
    params = {"org_name": barred.org_name, "org_id": barred.org_id, "decision_no": barred.decision_no,
              "decided_on": barred.decided_on.isoformat(), "reason": barred.reason}
    if barred.until is None:
        return "errors.assessor.disqualified_until_lifted", params
    return "errors.assessor.disqualified", {**params, "until": barred.until.isoformat()}


def parse_report(item: object) -> Report | list[FieldProblem]:
    """One item of a batch as a :class:`Report` (the contract of ``POST /reports``), or what is wrong with
    it, each problem named by field as the 422 of ``POST /reports`` names it."""
    if isinstance(item, Report):
        return item
    size = len(json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=str).encode())
    if size > MAX_REPORT_BYTES:
        return [FieldProblem("(body)", f"the report is {size} bytes as JSON; a report in a batch has at most {MAX_REPORT_BYTES}",
                             "errors.report.too_large_in_batch", {"size": size, "limit": MAX_REPORT_BYTES})]
    try:
        return Report.model_validate(item)
    except ValidationError as error:
        return field_problems(error)


def field_problems(error: ValidationError) -> list[FieldProblem]:
    """Pydantic's errors as the one error body names them, each with its message code (``shared.errors.validation_issues``)."""
    return [FieldProblem(issue.field, issue.message(), issue.code, dict(issue.params))
            for issue in validation_issues(error.errors(include_url=False, include_input=False))]


# --------------------------------------------------------------------------- classifying it (ohs.reports.submitted)


def disqualified_message(barred: DisqualifiedOrg) -> Message:
    """Why the report's assessor may not submit it, as a reason naming assessor.org_id."""
    params = {"field": "assessor.org_id", "org_name": barred.org_name, "org_id": barred.org_id, "decision_no": barred.decision_no,
              "decided_on": barred.decided_on.isoformat(), "reason": barred.reason}
    if barred.until:
        return Message(code="assessment.reject.assessor_disqualified_until", params={**params, "until": barred.until.isoformat()})
    return Message(code="assessment.reject.assessor_disqualified", params=params)


def assess(
    uow: AbstractAssessmentUnitOfWork, report: Report, submission_id: str, received_on: date, rules: AssessmentRules
) -> tuple[Classified, DeadlineCheck] | Rejected:
    """The classification and the deadline check of a report, or the reasons it cannot be classified (codes and Chinese texts)."""
    reasons = report_messages(report, today=received_on)
    if barred := disqualification(uow, report, received_on):
        reasons.append(disqualified_message(barred))
    if reasons:
        return rejected(reasons)
    region, on = report.enterprise.region_code, report.assessed_on
    try:
        outcome = classify(report, rules.rule_book.for_region(region, on))
        if not isinstance(outcome, Classified):
            return outcome
        first = not uow.submissions.classified_other_than(report.enterprise.credit_code, submission_id)
        return outcome, check_deadlines(report, received_on, first, rules.deadlines.for_region(region, on), rules.calendar)
    except NoApplicableRules as error:
        return rejected([Message(code="assessment.reject.no_rules", params={"region_code": region, "on": on.isoformat(), "error": str(error)})])
    except (OverflowError, ValueError, ArithmeticError) as error:
        # belt and braces: the contract keeps dates, headcounts and points in range, but a computation that still
        # leaves the calendar (a working day past 9999, +3 years past date.max) rejects the report with the reason
        # instead of leaving it accepted for ever
        return rejected([Message(code="assessment.reject.out_of_range", params={"error": str(error)})])


def preload_submissions(uow: AbstractAssessmentUnitOfWork, events: list[ReportSubmitted]) -> None:
    """Before a batch of submitted reports: the submissions, their employers' classified ones and their assessors'
    disqualifications, in a few queries."""
    uow.submissions.preload([str(event.submission_id) for event in events], list({event.report.enterprise.credit_code for event in events}))
    uow.disqualified_orgs.preload([event.report.assessor.org_id for event in events if event.report.assessor.org_id])


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
    if isinstance(assessed, Rejected):
        submission.status, submission.reasons = "rejected", assessed.reasons
        submission.reason_messages = [message.model_dump(mode="json") for message in assessed.messages]
        announcement: AssessmentClassified | ReportRejected = ReportRejected(
            producer=PRODUCER, credit_code=report.enterprise.credit_code, submission_id=event.submission_id, reasons=assessed.reasons,
            messages=assessed.messages,
        )
    else:
        announcement = with_filed_tests_checked(uow, report, classified_event(report, event.submission_id, *assessed))
        submission.status, submission.result = "classified", announcement.model_dump(mode="json")
    uow.submissions.add(submission)
    uow.publish(announcement)


def classified_event(report: Report, submission_id: UUID, outcome: Classified, deadlines: DeadlineCheck) -> AssessmentClassified:
    """What a classified report is announced (and kept) as: the classification, the deadline check and the report's facts."""
    return AssessmentClassified(
        producer=PRODUCER,
        credit_code=report.enterprise.credit_code,
        submission_id=submission_id,
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


# --------------------------------------------------------------------------- a preview of it (POST /reports:preview)


@dataclass(frozen=True)
class PartialPreview:
    """A report whose checklist is answered in part: the score so far under the rule set in force (no category yet)."""

    rule_set: RuleSet
    running: RunningScore


Preview = AssessmentClassified | Rejected | PartialPreview


def preview_report(
    uow: AbstractAssessmentUnitOfWork, report: Report, principal: Principal, today: date, rules: AssessmentRules, partial: bool = False
) -> Preview:
    """``POST /reports:preview``: what ``POST /reports`` and then the classification would make of ``report``
    received ``today``, with nothing stored and nothing announced (reads only; never commits).

    Refused exactly as :func:`submit_report` refuses (:class:`NotInJurisdiction`, :class:`SubmissionRefused`,
    :class:`ReportInvalid`, :class:`AssessorDisqualified`); then :func:`assess`, as the classification runs it:
    the result the report would be announced with (:func:`classified_event`), or the reasons it would be
    rejected. ``partial``: the checklist may be answered in part; the answer is the score so far
    (:func:`running_score`) instead of a classification, or the reasons the answers given cannot be scored."""
    check_submission(uow, report, principal, today)
    check_assessor(uow, report, today)
    if partial:
        region, on = report.enterprise.region_code, report.assessed_on
        try:
            rule_set = rules.rule_book.for_region(region, on)
        except NoApplicableRules as error:
            return rejected([Message(code="assessment.reject.no_rules", params={"region_code": region, "on": on.isoformat(), "error": str(error)})])
        running = running_score(report.self_check.items or {}, rule_set.self_check_checklist)
        return rejected(running) if isinstance(running, list) else PartialPreview(rule_set, running)
    assessed = assess(uow, report, str(report.submission_id), today, rules)
    if isinstance(assessed, Rejected):
        return assessed
    return classified_event(report, report.submission_id, *assessed)


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


# --------------------------------------------------------------------------- organisations' test reports (ohs.orgs.test-reports, issue 17)


def record_filed_test_report(uow: AbstractAssessmentUnitOfWork, event: TestReportFiled) -> None:
    """Keep a test report an organisation filed (one per organisation, number and factor; penalty refuses a changed one)."""
    if uow.filed_tests.get(event.org_id, event.report_no, event.factor) is not None:
        return
    uow.filed_tests.add(FiledTestReport(
        org_id=event.org_id, report_no=event.report_no, credit_code=event.credit_code, factor=event.factor, post=event.post,
        tested_on=event.tested_on, compliant=event.compliant, filed_on=event.filed_on, event_id=str(event.event_id)))


TEST_CONTRADICTED_FLAG = "test_report_contradicted"


def with_filed_tests_checked(uow: AbstractAssessmentUnitOfWork, report: Report, announcement: AssessmentClassified) -> AssessmentClassified:
    """The classification with each declared test checked against the organisations' filings: a trace line per hazard
    (confirmed / contradicted / unverified, naming the filing) and a flag per contradiction (a supervisor sees it; it is
    not one of the shortcomings penalty screens)."""
    numbers = sorted({h.test_report_no.strip() for h in report.hazards if h.test_report_no})
    checks = test_filings.check(report.enterprise.credit_code, list(report.hazards), uow.filed_tests.relevant(report.enterprise.credit_code, numbers))
    if not checks:
        return announcement
    trace = [TraceEntry(rule=test_filings.RULE, code=c.code, params=dict(c.params), detail=i18n.text(c.code, dict(c.params))) for c in checks]
    flags = [Flag(code=TEST_CONTRADICTED_FLAG, message=i18n.text(f"assessment.flag.{TEST_CONTRADICTED_FLAG}", dict(c.params)), params=dict(c.params))
             for c in checks if c.validity == "contradicted"]
    return announcement.model_copy(update={"trace": [*announcement.trace, *trace], "flags": [*announcement.flags, *flags]})


# --------------------------------------------------------------------------- where the archive has each employer (ohs.registry.classification-changed)


def record_archived_employer(uow: AbstractAssessmentUnitOfWork, event: ClassificationChanged) -> None:
    """Keep the region the registry's archive has the employer in (the highest archive version): the
    employer's jurisdiction for :func:`submit_report` (RULES §5a). An older announcement arriving late changes nothing."""
    remember_archive_region(uow.archived_employers, event)