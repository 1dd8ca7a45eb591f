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
from uuid import UUID, uuid4

from services.penalty.adapters.orm import Case, CaseStep
from services.penalty.adapters.rules import (
    Rulebook,  # also handlers.Rulebook, as callers know it
)
from services.penalty.domain import case_codes, procedure
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
from services.penalty.domain.procedure import StepNotAllowed
from services.penalty.service_layer.unit_of_work import AbstractPenaltyUnitOfWork
from shared.archive_region import remember_archive_region
from shared.auth import Principal
from shared.contracts import (
    CaseProgressed,
    ClassificationChanged,
    FieldProblem,
    Harm,
    PenaltyDecided,
    TraceEntry,
    ViolationRecorded,
    utc_now,
)
from shared.dates import china_today

PRODUCER = "penalty"
SYSTEM = "system"

Uow = AbstractPenaltyUnitOfWork


@lru_cache(maxsize=1)
def packaged_rulebook() -> Rulebook:
    return Rulebook.load(None)


class StepProblem(ValueError):
    """A step's input that cannot be right (a date before the finding, …): 422 naming the field."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


class CaseNotFound(LookupError):
    """No such case (or one the caller may not act for: it reads the same)."""

    def __init__(self, case_id: str):
        self.case_id = case_id
        super().__init__(f"no case {case_id}")


registration_region = case_codes.registration_region


def case_region(event: ViolationRecorded) -> str | None:
    """The county the case belongs to: as recorded, else the registering authority when that is a county."""
    return case_codes.case_region(event.region_code, event.credit_code)


def code_region(case: Case) -> str:
    return case_codes.code_region(case.region_code, case.credit_code)


# --------------------------------------------------------------------------- steps and decisions


def timeline(uow: Uow, case_id: str) -> list[CaseStep]:
    return uow.cases.timeline(case_id)


def _step(uow: Uow, case: Case, step: str, on: date, actor: str, detail: str, deadline: date | None = None) -> None:
    seq = len(uow.cases.timeline(case.id)) + 1
    uow.cases.add_step(CaseStep(case_id=case.id, seq=seq, step=step, status=case.status, on=on, deadline=deadline,
                                actor=actor, detail=detail))
    uow.publish(CaseProgressed(
        producer=PRODUCER, credit_code=case.credit_code, case_id=UUID(case.id), case_code=case.case_code or "",
        region_code=code_region(case), item_code=case.item_code, step=step, status=case.status,  # type: ignore[arg-type]
        on=on, deadline=deadline, actor=actor, detail=detail, fine_yuan=case.fine_yuan if step == "closed" else None,
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
            extra_reasons: list[str] | None = None) -> None:
    """Record the decision and announce it (once per case); a penalty gets its proposed fine range."""
    if case.decision is not None:
        return
    reasons = (extra_reasons or []) + judgement.reasons
    trace = list(judgement.trace)
    case.decision, case.reasons = judgement.decision, reasons
    case.decided_at, case.decided_on = utc_now(), on
    proposal = None
    if judgement.decision == "penalty":
        case.status = procedure.PENALTY_PENDING
        proposal = _propose_fine(case, circumstance_for(bool(case.first_time), case.harm), rulebook)
        trace.append(TraceEntry(rule="裁量基准", detail=proposal.detail() if proposal else
                                f"no baseline range for item {case.item_code} ({case.circumstance})"))
    else:
        case.status = procedure.CLOSED
        case.closed_on = on
    case.trace = [t.model_dump(mode="json") for t in trace]
    _step(uow, case, "decided", on, actor, f"{judgement.decision}: " + "; ".join(reasons))
    uow.publish(PenaltyDecided(
        producer=PRODUCER, credit_code=case.credit_code, case_id=UUID(case.id), item_code=case.item_code,
        decision=judgement.decision,  # type: ignore[arg-type]
        major=case.major, reasons=reasons, trace=trace, case_code=case.case_code, region_code=code_region(case),
    ))
    if judgement.decision == "penalty":
        _step(uow, case, "penalty_proposed", on, actor,
              proposal.detail() if proposal else f"no discretion baseline for item {case.item_code}: fine within the statute")
    else:
        _step(uow, case, "closed", on, actor, "closed 结案: no penalty (不予处罚), education and rectification on file")


# --------------------------------------------------------------------------- opening and judging


def open_case(uow: Uow, event: ViolationRecorded, *, actor: str | None = None,
              today: date | None = None, origin: str | None = None) -> Case:
    """Create the case with its 行政行为码 (sequence per region and year, in this transaction) and step ``opened``
    (``origin``: where the finding comes from, e.g. a screening and its trace, added to the step's detail)."""
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
    source = f" by {event.producer}" + (f" (task {event.task_id})" if event.task_id else "")
    _step(uow, case, "opened", event.found_on, who,
          f"立案 {case.case_code}: item {case.item_code} found on {case.found_on}, harm {case.harm}"
          + (", marked major 重大违法" if case.major else "") + source + (f"; {origin}" if origin else ""))
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
            _step(uow, case, "educated", case.found_on, actor, "教育引导 recorded at the inspection")
            if case.rectification_deadline is not None:
                _step(uow, case, "rectification_ordered", case.found_on, actor,
                      f"责令限期改正 at the inspection, deadline {case.rectification_deadline}", case.rectification_deadline)
            _step(uow, case, "correction_verified", case.corrected_on, actor, f"corrected on {case.corrected_on}")
            _decide(uow, case, judgement, rulebook, actor, today)
            return
        # corrected late or without a deadline: judged as it stands
        _decide(uow, case, judgement, rulebook, actor, today)
        return
    judgement, _ = _judge(uow, case, rulebook, check_correction=False)
    if not judgement.eligible:
        _decide(uow, case, judgement, rulebook, actor, today)
        return
    case.reasons = judgement.reasons
    case.trace = [t.model_dump(mode="json") for t in judgement.trace]
    if case.rectification_deadline is not None:
        case.procedure = "three_step"
        case.status = procedure.EDUCATED
        _step(uow, case, "educated", case.found_on, actor, "教育引导 recorded at the inspection")
        case.status = procedure.RECTIFYING
        _step(uow, case, "rectification_ordered", case.found_on, actor,
              f"责令限期改正 at the inspection, deadline {case.rectification_deadline}", case.rectification_deadline)
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
    """The violation cannot be recorded as given: 422 naming each field."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class NotInJurisdiction(LookupError):
    """The employer is archived in a county the token does not cover: 404, exactly as if absent (RULES §5a)."""


class OutsideJurisdiction(PermissionError):
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
            raise NotInJurisdiction(f"employer {credit_code} in your jurisdiction")
        if region_code is not None and region_code != county:
            raise ViolationInvalid([FieldProblem(
                "region_code", f"the employer is archived in county {county}, not {region_code}: a case belongs to the archive's county "
                "(a move between counties goes through the registry, RULES §5a)")])
        return county
    county = violation_region(credit_code, region_code)
    if county is None:
        raise ViolationInvalid([FieldProblem(
            "region_code", f"the credit code's registering authority {registration_region(credit_code)} is not a county: "
            "give the employer's county as region_code")])
    if not principal.can_act_for(credit_code, county):
        raise OutsideJurisdiction(f"region {county} is outside the jurisdiction of this {principal.role} token ({principal.region_code})")
    return county


def record_violation_by_staff(uow: Uow, principal: Principal, violation: NewViolation, problems: Callable[[], list[FieldProblem]],
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
    if day < case.found_on:
        raise StepProblem(field, f"{day} is before the violation was found ({case.found_on})")
    if after is not None and day < after:
        raise StepProblem(field, f"{day} is before {after_what} ({after})")
    if day > today:
        raise StepProblem(field, f"{day} is in the future (today in China is {today})")


def _last_on(uow: Uow, case: Case, step: str) -> date | None:
    days = [s.on for s in timeline(uow, case.id) if s.step == step]
    return days[-1] if days else None


def record_education(uow: Uow, case: Case, on: date, by: str, content: str, today: date | None = None) -> Case:
    procedure.require("education", case.status)
    _check_day("on", on, case, today or china_today())
    case.procedure = "three_step"
    case.status = procedure.EDUCATED
    _step(uow, case, "educated", on, by, f"教育引导: {content}")
    return case


def order_rectification(uow: Uow, case: Case, ordered_on: date, working_days: int | None, by: str, rulebook: Rulebook,
                        today: date | None = None) -> Case:
    procedure.require("rectification-order", case.status)
    _check_day("ordered_on", ordered_on, case, today or china_today(), _last_on(uow, case, "educated"), "the education")
    days = working_days or _rules_for(case, rulebook).rules_procedure.rectification_working_days
    deadline = rulebook.calendar.add_working_days(ordered_on, days)
    case.rectification_deadline = deadline
    case.status = procedure.RECTIFYING
    _step(uow, case, "rectification_ordered", ordered_on, by,
          f"责令限期改正: {days} working days from {ordered_on}, deadline {deadline}", deadline)
    return case


def sign_commitment(uow: Uow, case: Case, signed_on: date, working_days: int | None, by: str, rulebook: Rulebook,
                    today: date | None = None) -> Case:
    procedure.require("commitment", case.status)
    rules = _rules_for(case, rulebook)
    if not rules.rules_procedure.notice_and_commitment:
        raise StepNotAllowed("commitment", case.status,
                             f"告知承诺 is not enabled for region {code_region(case)} ({rules.label()}): "
                             "allowed next: education, then a rectification order")
    _check_day("signed_on", signed_on, case, today or china_today())
    days = working_days or rules.rules_procedure.commitment_working_days
    deadline = rulebook.calendar.add_working_days(signed_on, days)
    case.procedure = "commitment"
    case.rectification_deadline = deadline
    case.status = procedure.COMMITTED
    _step(uow, case, "commitment_signed", signed_on, by,
          f"告知承诺: the employer commits to correct within {days} working days from {signed_on}, by {deadline}", deadline)
    return case


def verify_correction(uow: Uow, case: Case, verified_on: date, corrected: bool, corrected_on: date | None, by: str,
                      rulebook: Rulebook, today: date | None = None) -> Case:
    procedure.require("verification", case.status)
    today = today or china_today()
    assert case.rectification_deadline is not None
    ordered = _last_on(uow, case, "rectification_ordered") or _last_on(uow, case, "commitment_signed")
    _check_day("verified_on", verified_on, case, today, ordered, "the order or commitment")
    if corrected and corrected_on is None:
        raise StepProblem("corrected_on", "required when corrected is true")
    if corrected_on is not None:
        _check_day("corrected_on", corrected_on, case, today)
        if corrected_on > verified_on:
            raise StepProblem("corrected_on", f"{corrected_on} is after the verification ({verified_on})")
    outcome = procedure.verify(case.rectification_deadline, verified_on, corrected, corrected_on)
    if corrected:
        case.corrected_on = corrected_on
    _step(uow, case, outcome.step, verified_on, by, f"复查: {outcome.detail}")
    if outcome.in_time:
        judgement, _ = _judge(uow, case, rulebook, check_correction=True)
        _decide(uow, case, judgement, rulebook, by, verified_on)
    else:
        escalate(uow, case, rulebook, by, verified_on)
    return case


def escalate(uow: Uow, case: Case, rulebook: Rulebook, actor: str, on: date) -> None:
    """逾期处罚: the deadline passed without verified correction → a penalty case."""
    why = f"deadline {case.rectification_deadline} passed without verified correction"
    case.status = procedure.PENALTY_PENDING
    _step(uow, case, "escalated", on, actor, f"逾期处罚: {why}")
    judgement, _ = _judge(uow, case, rulebook, check_correction=True)
    if judgement.eligible:  # cannot be, the correction fails; kept safe for rule data without the condition
        judgement = Judgement("penalty", [], judgement.trace, judgement.first_time)
    trace = judgement.trace + [TraceEntry(rule="escalation 逾期", detail=why)]
    _decide(uow, case, Judgement("penalty", judgement.reasons, trace, judgement.first_time), rulebook, actor, on, [why])


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
        done.append(f"escalated {case.case_code} (case {case.id}, {case.credit_code}, item {case.item_code}): "
                    f"deadline {case.rectification_deadline} passed")
    uow.commit()
    return done


def record_fine(uow: Uow, case: Case, fine_yuan: int, circumstance: str | None, departure_reason: str | None,
                by: str, rulebook: Rulebook, on: date | None = None) -> Case:
    procedure.require("fine", case.status)
    on = on or china_today()
    if case.decided_on and on < case.decided_on:
        raise StepProblem("decided_on", f"{on} is before the penalty decision ({case.decided_on})")
    if circumstance and circumstance != case.circumstance:
        _propose_fine(case, circumstance, rulebook)
    proposal = _proposal(case)
    problems = fine_problems(fine_yuan, proposal, departure_reason)
    if problems:
        raise StepProblem(*problems[0])
    case.fine_yuan = fine_yuan
    case.departure_reason = (departure_reason or "").strip() or None
    case.status = procedure.CLOSED
    case.closed_on = on
    departure = f"; departs from the baseline {proposal.min_yuan}–{proposal.max_yuan}: {case.departure_reason}" \
        if proposal and departs(fine_yuan, proposal) else ""
    _step(uow, case, "closed", on, by, f"罚款 {fine_yuan} yuan ({case.circumstance}){departure}; closed 结案")
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