"""Penalty use cases: open a case (with its 行政行为码), judge it, take it through the 三步法 or
告知承诺, escalate overdue cases, record the fine. Each step is a row of the case's timeline and a
``CaseProgressed`` event; the decision (``PenaltyDecided``) goes out exactly once per case.

Every function works on a unit of work (``uow``: ``service_layer.unit_of_work``). The commands —
:func:`record_violation`, :func:`record_new_violation`, :func:`take_step`, :func:`sweep_escalations`
— commit it; the Kafka handler :func:`decide_case` does not (the consumer commits, with the inbox
mark); the steps (:func:`record_education` …) are what :func:`take_step` runs, inside its unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid4

from services.penalty.adapters.orm import Case, CaseStep
from services.penalty.adapters.rules import (
    Rulebook,  # also handlers.Rulebook, as callers know it
)
from services.penalty.domain import case_codes, procedure, words
from services.penalty.domain.case_codes import make_code
from services.penalty.domain.discretion import (
    Proposal,
    circumstance_for,
    departs,
    fine_problems,
    propose,
)
from services.penalty.domain.no_penalty import (
    EarlierCase,
    Judgement,
    NoPenaltyList,
    Violation,
    judge,
)
from services.penalty.domain.orgs import ROLE
from services.penalty.domain.procedure import StepNotAllowed
from services.penalty.domain.words import Coded, Problem
from services.penalty.service_layer.unit_of_work import AbstractPenaltyUnitOfWork
from shared import i18n
from shared.archive_region import remember_archive_region
from shared.auth import Principal
from shared.contracts import (
    CaseProgressed,
    ClassificationChanged,
    Harm,
    PenaltyDecided,
    TraceEntry,
    ViolationRecorded,
    utc_now,
)
from shared.dates import china_today
from shared.i18n import Message

PRODUCER = "penalty"
SYSTEM = "system"

Uow = AbstractPenaltyUnitOfWork


@lru_cache(maxsize=1)
def packaged_rulebook() -> Rulebook:
    return Rulebook.load(None)


class StepProblem(ValueError):
    """A step's input that cannot be right (a date before the finding, …): 422 naming the field; why as a
    message code and its parameters (``shared.i18n``), ``str()`` in Chinese."""

    def __init__(self, field: str, code: str, params: dict[str, Any] | None = None):
        self.field, self.code, self.params = field, code, dict(params or {})
        super().__init__(i18n.text(code, self.params))

    @classmethod
    def of(cls, problem: Problem) -> "StepProblem":
        return cls(problem.field, problem.code, problem.params)


class CaseNotFound(LookupError):
    """No such case (or one the caller may not act for: it reads the same)."""

    def __init__(self, case_id: str):
        self.case_id = case_id
        self.code, self.params = "penalty.error.case_not_found", {"case_id": case_id}
        super().__init__(i18n.text(self.code, self.params))


registration_region = case_codes.registration_region


def case_region(event: ViolationRecorded) -> str | None:
    """The county the case belongs to: as recorded, else the registering authority when that is a county."""
    return case_codes.case_region(event.region_code, event.credit_code)


def code_region(case: Case) -> str:
    return case_codes.code_region(case.region_code, case.credit_code)


# --------------------------------------------------------------------------- steps and decisions


def timeline(uow: Uow, case_id: str) -> list[CaseStep]:
    return uow.cases.timeline(case_id)


def _step(uow: Uow, case: Case, step: str, on: date, actor: str, code: str, params: dict[str, Any] | None = None,
          deadline: date | None = None) -> None:
    """A row of the case's timeline (its detail the Chinese text of ``code``) and its ``CaseProgressed`` (code and params too)."""
    params = dict(params or {})
    detail = i18n.text(code, params)
    seq = len(uow.cases.timeline(case.id)) + 1
    uow.cases.add_step(CaseStep(case_id=case.id, seq=seq, step=step, status=case.status, on=on, deadline=deadline,
                                actor=actor, detail=detail))
    uow.publish(CaseProgressed(
        producer=PRODUCER, credit_code=case.credit_code, case_id=UUID(case.id), case_code=case.case_code or "",
        region_code=code_region(case), item_code=case.item_code, step=step, status=case.status,  # type: ignore[arg-type]
        on=on, deadline=deadline, actor=actor, detail=detail, fine_yuan=case.fine_yuan if step == "closed" else None,
        code=code, params=params,
    ))


def _rules_for(case: Case, rulebook: Rulebook) -> NoPenaltyList:
    return rulebook.no_penalty.in_force(code_region(case), case.found_on)


def _earlier(uow: Uow, case: Case) -> list[EarlierCase]:
    """Earlier findings of this employer and item: its cases, from every producer (the case table holds
    them all), and the screenings of its reports that found the same provision and were corrected before
    this case's finding without a case of their own (the first-time leniency was used: RULES §7)."""
    cases = [EarlierCase(c.id, c.found_on, c.case_code) for c in uow.cases.earlier(case)]
    screenings = [
        EarlierCase(s.id, s.screened_on, screening_of=s.submission_id)
        for s in uow.screenings.corrected_of_provision(case.credit_code, case.item_code)
        if s.case_id is None and s.corrected_on is not None and s.corrected_on < case.found_on
    ]
    return sorted(cases + screenings, key=lambda e: e.found_on)


def _judge(uow: Uow, case: Case, rulebook: Rulebook, *, check_correction: bool) -> tuple[Judgement, NoPenaltyList]:
    rules = _rules_for(case, rulebook)
    violation = Violation(case.id, case.credit_code, case.item_code, case.found_on, case.harm, case.corrected_on,
                          case.rectification_deadline, case.major)
    judgement = judge(violation, _earlier(uow, case), rules, check_correction=check_correction)
    case.rule_set = rules.rule_set()
    case.first_time = judgement.first_time
    return judgement, rules


def _decide(uow: Uow, case: Case, judgement: Judgement, rulebook: Rulebook, actor: str, on: date,
            extra_reasons: list[Message] | None = None) -> None:
    """Record the decision and announce it (once per case); a penalty gets its proposed fine range. The case keeps
    the reasons in Chinese; the event carries them as codes too."""
    if case.decision is not None:
        return
    reasons = (extra_reasons or []) + judgement.reasons
    trace = list(judgement.trace)
    case.decision, case.reasons = judgement.decision, words.messages_text(reasons)
    case.decided_at, case.decided_on = utc_now(), on
    proposal = None
    if judgement.decision == "penalty":
        case.status = procedure.PENALTY_PENDING
        proposal = _propose_fine(case, circumstance_for(bool(case.first_time), case.harm), rulebook)
        if proposal:
            code, params = proposal.message()
            trace.append(TraceEntry.of(words.RULE_DISCRETION, code, **params))
        else:
            trace.append(TraceEntry.of(words.RULE_DISCRETION, "penalty.trace.discretion.none", item=case.item_code,
                                       circumstance=words.named(words.CIRCUMSTANCE, case.circumstance)))
    else:
        case.status = procedure.CLOSED
        case.closed_on = on
    case.trace = [t.model_dump(mode="json") for t in trace]
    if judgement.decision == "penalty":
        _step(uow, case, "decided", on, actor, "penalty.step.decided.penalty", {"failed": judgement.failed or [words.FAIL_OVERDUE]})
    else:
        _step(uow, case, "decided", on, actor, "penalty.step.decided.no_penalty")
    uow.publish(PenaltyDecided(
        producer=PRODUCER, credit_code=case.credit_code, case_id=UUID(case.id), item_code=case.item_code,
        decision=judgement.decision,  # type: ignore[arg-type]
        major=case.major, reasons=list(case.reasons), trace=trace, case_code=case.case_code, region_code=code_region(case),
        reason_codes=reasons,
    ))
    if judgement.decision == "penalty":
        if proposal:
            _step(uow, case, "penalty_proposed", on, actor, *proposal.message())
        else:
            _step(uow, case, "penalty_proposed", on, actor, "penalty.step.no_baseline", {"item": case.item_code})
    else:
        _step(uow, case, "closed", on, actor, "penalty.step.closed.no_penalty")


# --------------------------------------------------------------------------- opening and judging


def open_case(uow: Uow, event: ViolationRecorded, *, actor: str | None = None,
              today: date | None = None, origin: dict[str, Any] | None = None) -> Case:
    """Create the case with its 行政行为码 (sequence per region and year, in this transaction) and step ``opened``
    (``origin``: the screening the finding comes from — screening_id, submission_id, outcome, trace — named by the step)."""
    today = today or china_today()
    case = Case(
        id=str(event.case_id),
        credit_code=event.credit_code,
        region_code=case_region(event),
        item_code=event.item_code,
        found_on=event.found_on,
        harm=event.harm,
        major=event.major,
        corrected_on=event.corrected_on,
        rectification_deadline=event.rectification_deadline,
        producer=event.producer,
        task_id=str(event.task_id) if event.task_id else None,
        description=event.description,
    )
    region = code_region(case)
    case.case_code = make_code(region, today.year, uow.case_codes.next(region, today.year))
    uow.cases.add(case)
    who = actor or (", ".join(event.inspectors) if event.inspectors else f"{event.producer} service")
    params: dict[str, Any] = {"case_code": case.case_code, "item": case.item_code, "found_on": case.found_on.isoformat(),
                              "harm": words.harm(case.harm), "producer": event.producer, "task": str(event.task_id) if event.task_id else "—"}
    if origin is not None:
        params.update(origin)
        _step(uow, case, "opened", event.found_on, who,
              "penalty.step.opened.from_screening.major" if case.major else "penalty.step.opened.from_screening", params)
    else:
        _step(uow, case, "opened", event.found_on, who, "penalty.step.opened.major" if case.major else "penalty.step.opened", params)
    return case


def judge_case(uow: Uow, case: Case, rulebook: Rulebook, actor: str, today: date | None = None) -> None:
    """Judge a newly opened case at once: not eligible → penalty now; eligible and already corrected (on the
    spot, or by the deadline given) → no penalty, closed; eligible with a deadline given at inspection →
    rectifying; eligible otherwise → open (education or commitment next)."""
    today = today or china_today()
    if case.corrected_on is not None:
        judgement, _ = _judge(uow, case, rulebook, check_correction=True)
        if judgement.eligible:
            case.procedure = "on_the_spot" if case.rectification_deadline is None else "three_step"
            _step(uow, case, "educated", case.found_on, actor, "penalty.step.educated_at_inspection")
            if case.rectification_deadline is not None:
                _step(uow, case, "rectification_ordered", case.found_on, actor, "penalty.step.ordered_at_inspection",
                      {"deadline": case.rectification_deadline.isoformat()}, case.rectification_deadline)
            _step(uow, case, "correction_verified", case.corrected_on, actor, "penalty.step.corrected",
                  {"corrected_on": case.corrected_on.isoformat()})
            _decide(uow, case, judgement, rulebook, actor, today)
            return
        # corrected late or without a deadline: judged as it stands
        _decide(uow, case, judgement, rulebook, actor, today)
        return
    judgement, _ = _judge(uow, case, rulebook, check_correction=False)
    if not judgement.eligible:
        _decide(uow, case, judgement, rulebook, actor, today)
        return
    case.reasons = judgement.texts()
    case.trace = [t.model_dump(mode="json") for t in judgement.trace]
    if case.rectification_deadline is not None:
        case.procedure = "three_step"
        case.status = procedure.EDUCATED
        _step(uow, case, "educated", case.found_on, actor, "penalty.step.educated_at_inspection")
        case.status = procedure.RECTIFYING
        _step(uow, case, "rectification_ordered", case.found_on, actor, "penalty.step.ordered_at_inspection",
              {"deadline": case.rectification_deadline.isoformat()}, case.rectification_deadline)
    else:
        case.status = procedure.OPEN


def record_violation(uow: Uow, event: ViolationRecorded, rulebook: Rulebook | None = None, *,
                     actor: str | None = None, today: date | None = None) -> Case:
    """A violation recorded through penalty's HTTP API: open the case, judge it, and announce the violation."""
    rulebook = rulebook or packaged_rulebook()
    case = open_case(uow, event, actor=actor, today=today)
    judge_case(uow, case, rulebook, actor or PRODUCER, today)
    uow.publish(event)
    uow.commit()
    return case


@dataclass(frozen=True)
class NewViolation:
    """A violation found at inspection, as staff record it through penalty's HTTP API."""

    credit_code: str
    item_code: str
    found_on: date
    harm: Harm
    corrected_on: date | None = None
    rectification_deadline: date | None = None
    region_code: str | None = None
    major: bool = False


def violation_region(credit_code: str, region_code: str | None) -> str | None:
    """The county a new violation's case will belong to (None: give region_code, the credit code names no county)."""
    return case_codes.case_region(region_code, credit_code)


class ViolationInvalid(ValueError):
    """The violation cannot be recorded as given: 422 naming each field (each a coded :class:`Problem`)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class NotInJurisdiction(Coded, LookupError):
    """The employer is archived in a county the token does not cover: 404, exactly as if absent (RULES §5a)."""


class OutsideJurisdiction(Coded, PermissionError):
    """The case's county (not archived: the request's region_code, else the credit code's) is not the token's: 403."""


def case_county(uow: Uow, principal: Principal, credit_code: str, region_code: str | None) -> str:
    """The county a case opened by ``principal`` for the employer belongs to, checked (RULES §5a).

    Archived employer: the county the registry's archive has it in, whatever the request says —
    a token not covering it gets :class:`NotInJurisdiction` (404), and a ``region_code`` naming
    another county :class:`ViolationInvalid` on ``region_code`` naming the archive's county (422).
    Not archived yet: ``region_code``, else the registering authority in the credit code when that
    is a county (else 422 on ``region_code``); a token not covering it: :class:`OutsideJurisdiction` (403)."""
    archived = uow.archived_employers.get(credit_code)
    if archived is not None:
        county = archived.region_code
        if not principal.can_act_for(credit_code, county):
            raise NotInJurisdiction("penalty.error.employer_not_found", {"credit_code": credit_code})
        if region_code is not None and region_code != county:
            raise ViolationInvalid([Problem("region_code", "penalty.error.region_not_archive_county",
                                            {"county": county, "region_code": region_code})])
        return county
    county = violation_region(credit_code, region_code)
    if county is None:
        raise ViolationInvalid([Problem("region_code", "penalty.error.region_needed",
                                        {"registration_region": registration_region(credit_code)})])
    if not principal.can_act_for(credit_code, county):
        raise OutsideJurisdiction("penalty.error.outside_jurisdiction", {
            "region_code": county, "role": words.named(ROLE, principal.role), "token_region": principal.region_code or "—"})
    return county


def record_violation_by_staff(uow: Uow, principal: Principal, violation: NewViolation, problems: Callable[[], list[Problem]],
                              rulebook: Rulebook | None = None, today: date | None = None) -> Case:
    """``POST /violations``: the case's county checked against the token first (:func:`case_county`), then
    the violation's own ``problems`` (dates), then :func:`record_new_violation` with the county on the event."""
    county = case_county(uow, principal, violation.credit_code, violation.region_code)
    if found := problems():
        raise ViolationInvalid(found)
    command = NewViolation(**{**asdict(violation), "region_code": county})
    return record_new_violation(uow, command, rulebook, actor=principal.name, today=today)


def record_new_violation(uow: Uow, violation: NewViolation, rulebook: Rulebook | None = None, *, actor: str,
                         today: date | None = None) -> Case:
    """Staff record a violation: a new case (its id also the event's), judged at once, and ViolationRecorded announced."""
    event = ViolationRecorded(producer=PRODUCER, case_id=uuid4(), **asdict(violation))
    return record_violation(uow, event, rulebook, actor=actor, today=today)


def decide_case(uow: Uow, event: ViolationRecorded, rules: Rulebook | None = None) -> None:
    """ohs.inspections.violation-recorded, whoever recorded it: open and judge the case unless it exists."""
    rulebook = rules or packaged_rulebook()
    case = uow.cases.get(str(event.case_id))
    if case is None:  # recorded by another service (sampling): open the case here
        actor = ", ".join(event.inspectors) if event.inspectors else f"{event.producer} service"
        case = open_case(uow, event, actor=actor)
        judge_case(uow, case, rulebook, actor)
        return
    if case.status == "recorded" and case.decision is None:  # a case opened before the procedure existed
        judge_case(uow, case, rulebook, PRODUCER)


# --------------------------------------------------------------------------- the three steps and 告知承诺


def take_step(uow: Uow, case_id: str, step: Callable[[Uow, Case], object],
              may_act: Callable[[Case], bool] | None = None) -> Case:
    """One step of a case's procedure (``step``: :func:`record_education`, :func:`order_rectification`, …),
    committed. :class:`CaseNotFound` when there is no such case or ``may_act`` refuses it; a step that does not
    fit (:class:`StepNotAllowed`, :class:`StepProblem`) leaves nothing behind."""
    case = uow.cases.get(case_id)
    if case is None or (may_act is not None and not may_act(case)):
        raise CaseNotFound(case_id)
    step(uow, case)
    uow.commit()
    return case



def _check_day(field: str, day: date, case: Case, today: date, after: date | None = None, after_what: str = "") -> None:
    """``after_what``: the step ``day`` may not precede (a key of ``words.ACTION``)."""
    if day < case.found_on:
        raise StepProblem(field, "penalty.error.day_before_finding", {"day": day.isoformat(), "found_on": case.found_on.isoformat()})
    if after is not None and day < after:
        raise StepProblem(field, "penalty.error.day_before_step", {"day": day.isoformat(), "step": words.named(words.ACTION, after_what),
                                                                   "step_on": after.isoformat()})
    if day > today:
        raise StepProblem(field, "penalty.error.day_in_future", {"day": day.isoformat(), "today": today.isoformat()})


def _last_on(uow: Uow, case: Case, step: str) -> date | None:
    days = [s.on for s in timeline(uow, case.id) if s.step == step]
    return days[-1] if days else None


def record_education(uow: Uow, case: Case, on: date, by: str, content: str, today: date | None = None) -> Case:
    procedure.require("education", case.status)
    _check_day("on", on, case, today or china_today())
    case.procedure = "three_step"
    case.status = procedure.EDUCATED
    _step(uow, case, "educated", on, by, "penalty.step.educated", {"content": content})
    return case


def order_rectification(uow: Uow, case: Case, ordered_on: date, working_days: int | None, by: str, rulebook: Rulebook,
                        today: date | None = None) -> Case:
    procedure.require("rectification-order", case.status)
    _check_day("ordered_on", ordered_on, case, today or china_today(), _last_on(uow, case, "educated"), "education")
    days = working_days or _rules_for(case, rulebook).rules_procedure.rectification_working_days
    deadline = rulebook.calendar.add_working_days(ordered_on, days)
    case.rectification_deadline = deadline
    case.status = procedure.RECTIFYING
    _step(uow, case, "rectification_ordered", ordered_on, by, "penalty.step.ordered",
          {"days": days, "ordered_on": ordered_on.isoformat(), "deadline": deadline.isoformat()}, deadline)
    return case


def sign_commitment(uow: Uow, case: Case, signed_on: date, working_days: int | None, by: str, rulebook: Rulebook,
                    today: date | None = None) -> Case:
    procedure.require("commitment", case.status)
    rules = _rules_for(case, rulebook)
    if not rules.rules_procedure.notice_and_commitment:
        raise StepNotAllowed("commitment", case.status, "penalty.error.commitment_not_enabled",
                             {"region_code": code_region(case), "list": rules.versions()})
    _check_day("signed_on", signed_on, case, today or china_today())
    days = working_days or rules.rules_procedure.commitment_working_days
    deadline = rulebook.calendar.add_working_days(signed_on, days)
    case.procedure = "commitment"
    case.rectification_deadline = deadline
    case.status = procedure.COMMITTED
    _step(uow, case, "commitment_signed", signed_on, by, "penalty.step.committed",
          {"days": days, "signed_on": signed_on.isoformat(), "deadline": deadline.isoformat()}, deadline)
    return case


def verify_correction(uow: Uow, case: Case, verified_on: date, corrected: bool, corrected_on: date | None, by: str,
                      rulebook: Rulebook, today: date | None = None) -> Case:
    procedure.require("verification", case.status)
    today = today or china_today()
    assert case.rectification_deadline is not None
    ordered = _last_on(uow, case, "rectification_ordered") or _last_on(uow, case, "commitment_signed")
    _check_day("verified_on", verified_on, case, today, ordered,
               "rectification-order" if _last_on(uow, case, "rectification_ordered") else "commitment")
    if corrected and corrected_on is None:
        raise StepProblem("corrected_on", "penalty.error.corrected_on_required")
    if corrected_on is not None:
        _check_day("corrected_on", corrected_on, case, today)
        if corrected_on > verified_on:
            raise StepProblem("corrected_on", "penalty.error.corrected_after_verification",
                              {"corrected_on": corrected_on.isoformat(), "verified_on": verified_on.isoformat()})
    outcome = procedure.verify(case.rectification_deadline, verified_on, corrected, corrected_on)
    if corrected:
        case.corrected_on = corrected_on
    _step(uow, case, outcome.step, verified_on, by, outcome.code, outcome.params)
    if outcome.in_time:
        judgement, _ = _judge(uow, case, rulebook, check_correction=True)
        _decide(uow, case, judgement, rulebook, by, verified_on)
    else:
        escalate(uow, case, rulebook, by, verified_on)
    return case


def escalate(uow: Uow, case: Case, rulebook: Rulebook, actor: str, on: date) -> None:
    """逾期处罚: the deadline passed without verified correction → a penalty case."""
    deadline = {"deadline": case.rectification_deadline.isoformat() if case.rectification_deadline else None}
    why = Message(code="penalty.reason.escalated", params=deadline)
    case.status = procedure.PENALTY_PENDING
    _step(uow, case, "escalated", on, actor, "penalty.step.escalated", deadline)
    judgement, _ = _judge(uow, case, rulebook, check_correction=True)
    if judgement.eligible:  # cannot be, the correction fails; kept safe for rule data without the condition
        judgement = Judgement("penalty", [], judgement.trace, judgement.first_time)
    trace = judgement.trace + [TraceEntry.of(words.RULE_ESCALATION, "penalty.trace.escalated", **deadline)]
    failed = [words.FAIL_OVERDUE] + [f for f in judgement.failed if f not in (words.FAIL_OVERDUE, words.FAIL_CORRECTION)]
    _decide(uow, case, Judgement("penalty", judgement.reasons, trace, judgement.first_time, failed), rulebook, actor, on, [why])


def sweep_escalations(uow: Uow, today: date, rulebook: Rulebook, region_prefix: str = "") -> list[str]:
    """The daily sweep: every case awaiting correction whose deadline is before ``today`` escalates, in one
    transaction (committed). Idempotent: an escalated case no longer awaits correction. ``region_prefix``
    limits it to a jurisdiction. Returns one line per escalation."""
    done = []
    for case in uow.cases.awaiting_correction(today):
        if region_prefix and not code_region(case).startswith(region_prefix):
            continue
        if case.status not in procedure.AWAITING_CORRECTION or not procedure.overdue(case.rectification_deadline, today):
            continue
        escalate(uow, case, rulebook, SYSTEM, today)
        done.append(i18n.text("penalty.sweep.escalated", {
            "case_code": case.case_code, "case_id": case.id, "credit_code": case.credit_code, "item": case.item_code,
            "deadline": case.rectification_deadline.isoformat() if case.rectification_deadline else None}))
    uow.commit()
    return done


def record_fine(uow: Uow, case: Case, fine_yuan: int, circumstance: str | None, departure_reason: str | None,
                by: str, rulebook: Rulebook, on: date | None = None) -> Case:
    procedure.require("fine", case.status)
    on = on or china_today()
    if case.decided_on and on < case.decided_on:
        raise StepProblem("decided_on", "penalty.error.fine_before_decision", {"day": on.isoformat(), "decided_on": case.decided_on.isoformat()})
    if circumstance and circumstance != case.circumstance:
        _propose_fine(case, circumstance, rulebook)
    proposal = _proposal(case)
    problems = fine_problems(fine_yuan, proposal, departure_reason)
    if problems:
        raise StepProblem.of(problems[0])
    case.fine_yuan = fine_yuan
    case.departure_reason = (departure_reason or "").strip() or None
    case.status = procedure.CLOSED
    case.closed_on = on
    fined = {"fine_yuan": fine_yuan, "circumstance": words.named(words.CIRCUMSTANCE, case.circumstance)}
    if proposal and departs(fine_yuan, proposal):
        _step(uow, case, "closed", on, by, "penalty.step.fined.departure", {**fined, "min_yuan": proposal.min_yuan,
                                                                          "max_yuan": proposal.max_yuan, "reason": case.departure_reason})
    else:
        _step(uow, case, "closed", on, by, "penalty.step.fined", fined)
    return case


def _propose_fine(case: Case, circumstance: str, rulebook: Rulebook) -> Proposal | None:
    """Set the case's circumstance and the fine range the baseline in force proposes for it (kept on the case)."""
    case.circumstance = circumstance
    proposal = propose(rulebook.baselines.in_force(code_region(case), case.found_on), case.item_code, circumstance)
    case.proposed_fine = None if proposal is None else asdict(proposal)
    return proposal


def _proposal(case: Case) -> Proposal | None:
    return Proposal(**case.proposed_fine) if case.proposed_fine else None


# --------------------------------------------------------------------------- where the archive has each employer (ohs.registry.classification-changed)


def record_archived_employer(uow: Uow, event: ClassificationChanged) -> None:
    """Keep the county the registry's archive has the employer in (the highest archive version): the
    county of every case opened for it from a request (:func:`case_county`, RULES §5a)."""
    remember_archive_region(uow.archived_employers, event)