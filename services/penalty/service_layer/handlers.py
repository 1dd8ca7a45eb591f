"""Penalty use cases."""

from __future__ import annotations

from uuid import UUID

from sqlmodel import Session, col, or_, select, and_

from services.penalty.adapters.orm import Case
from services.penalty.domain.no_penalty import EarlierCase, NoPenaltyRules, Violation, judge
from shared.contracts import PenaltyDecided, ViolationRecorded, utc_now
from shared.db import enqueue
from shared.identifiers import county_region_problem

PRODUCER = "penalty"


def registration_region(credit_code: str) -> str:
    """Characters 3–8 of a 统一社会信用代码 are the registering authority's GB/T 2260 code
    (a county, a city, a province or 100000 for national registration)."""
    return credit_code[2:8]


def case_region(event: ViolationRecorded) -> str | None:
    """The county the case belongs to: as recorded, else the registering authority when that is a county."""
    if event.region_code:
        return event.region_code
    registered = registration_region(event.credit_code)
    return None if county_region_problem(registered) else registered


def open_case(event: ViolationRecorded) -> Case:
    return Case(
        id=str(event.case_id),
        credit_code=event.credit_code,
        region_code=case_region(event),
        item_code=event.item_code,
        found_on=event.found_on,
        harm=event.harm,
        corrected_on=event.corrected_on,
        rectification_deadline=event.rectification_deadline,
    )


def record_violation(session: Session, event: ViolationRecorded) -> Case:
    """Create the case for a violation found at inspection (HTTP) and announce it."""
    case = open_case(event)
    session.add(case)
    enqueue(session, event)
    return case


def decide_case(session: Session, event: ViolationRecorded, rules: NoPenaltyRules) -> None:
    """Decide penalty or no penalty for a recorded violation (whoever recorded it)."""
    case = session.get(Case, str(event.case_id))
    if case is None:  # recorded by another service: open the case here
        case = open_case(event)
        session.add(case)
        session.flush()
    if case.decision is not None:
        return

    earlier_rows = session.exec(
        select(Case).where(
            Case.credit_code == case.credit_code,
            Case.item_code == case.item_code,
            Case.id != case.id,
            or_(
                col(Case.found_on) < case.found_on,
                and_(Case.found_on == case.found_on, col(Case.created_at) < case.created_at),
            ),
        )
    )
    earlier = [EarlierCase(c.id, c.found_on) for c in earlier_rows]
    rule_list = rules.in_force(case.region_code or registration_region(case.credit_code), case.found_on)
    judgement = judge(
        Violation(case.id, case.credit_code, case.item_code, case.found_on, case.harm, case.corrected_on, case.rectification_deadline),
        earlier,
        rule_list,
    )
    case.status = "decided"
    case.decision = judgement.decision
    case.reasons = judgement.reasons
    case.trace = [t.model_dump(mode="json") for t in judgement.trace]
    case.rule_set = {"jurisdiction": rule_list.jurisdiction, "version": rule_list.version,
                     "effective_from": rule_list.effective_from.isoformat(), "provisional": rule_list.provisional}
    case.decided_at = utc_now()
    session.add(case)
    enqueue(
        session,
        PenaltyDecided(
            producer=PRODUCER,
            credit_code=case.credit_code,
            case_id=UUID(case.id),
            item_code=case.item_code,
            decision=judgement.decision,  # type: ignore[arg-type]
            major=False,
            reasons=judgement.reasons,
            trace=judgement.trace,
        ),
    )
