"""The penalty service's read models: plain queries returning dicts, for the routes
(``await uow.run(lambda u: views.x(u.session, …))``). A case as shown by GET /cases/{id} (with its
timeline), an employer's cases, the no-penalty list in force, 行政行为码 coverage, the case-file
review (案卷评查), an organisation's record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.functions import coalesce
from sqlmodel import Session, col, select

from services.penalty.adapters.orm import ArchivedEmployer, Case, CaseStep
from services.penalty.adapters.orm_orgs import OrgDisqualification, OrgFinding
from services.penalty.adapters.orm_screening import Screening
from services.penalty.adapters.rules import Rulebook
from services.penalty.domain.case_codes import case_code_problem, code_region
from services.penalty.domain.no_penalty import NoPenaltyList
from services.penalty.domain.procedure import NEXT
from services.penalty.domain.review import FLAGS, CaseFile, TimelineStep, review
from shared.jurisdiction import region_prefix

# --------------------------------------------------------------------------- cases


def step_view(step: CaseStep) -> dict[str, Any]:
    return {"seq": step.seq, "step": step.step, "status": step.status, "on": step.on.isoformat(), "by": step.actor,
            "deadline": step.deadline.isoformat() if step.deadline else None, "detail": step.detail}


def case_view(case: Case, steps: list[CaseStep] | None = None) -> dict[str, Any]:
    proposed = case.proposed_fine
    return {
        "id": case.id,
        "case_code": case.case_code,
        "credit_code": case.credit_code,
        "region_code": case.region_code,
        "item_code": case.item_code,
        "found_on": case.found_on.isoformat(),
        "harm": case.harm,
        "major": case.major,
        "corrected_on": case.corrected_on.isoformat() if case.corrected_on else None,
        "rectification_deadline": case.rectification_deadline.isoformat() if case.rectification_deadline else None,
        "deadline": case.rectification_deadline.isoformat() if case.rectification_deadline else None,
        "procedure": case.procedure,
        "status": case.status,
        "decision": case.decision,
        "reasons": case.reasons,
        "trace": case.trace,
        "rule_set": case.rule_set,
        "first_time": case.first_time,
        "circumstance": case.circumstance,
        "proposed_fine_range": [proposed["min_yuan"], proposed["max_yuan"]] if proposed else None,
        "proposed_fine": proposed,
        "fine_yuan": case.fine_yuan,
        "departure_reason": case.departure_reason,
        "producer": case.producer,
        "task_id": case.task_id,
        "description": case.description,
        "created_at": case.created_at.isoformat(),
        "decided_at": case.decided_at.isoformat() if case.decided_at else None,
        "decided_on": case.decided_on.isoformat() if case.decided_on else None,
        "closed_on": case.closed_on.isoformat() if case.closed_on else None,
        "timeline": [step_view(s) for s in steps] if steps is not None else None,
        "next": list(NEXT.get(case.status, ())),
    }


def _timeline(session: Session, case_id: str) -> list[CaseStep]:
    return list(session.exec(select(CaseStep).where(CaseStep.case_id == case_id).order_by(col(CaseStep.seq))))


def case_detail(session: Session, case: Case) -> dict[str, Any]:
    """The case with its timeline (GET /cases/{id}, and the answer of every step); a case opened from a
    screening shows the screening (its id, report, outcome and trace)."""
    view = case_view(case, _timeline(session, case.id))
    screening = session.exec(select(Screening).where(Screening.case_id == case.id)).first()
    view["screening"] = None if screening is None else {
        "id": screening.id, "submission_id": screening.submission_id, "outcome": screening.outcome,
        "shortcoming": screening.shortcoming, "screened_on": screening.screened_on.isoformat(), "trace": screening.trace,
    }
    return view


def case_by_id(session: Session, case_id: str) -> dict[str, Any] | None:
    case = session.get(Case, case_id)
    return case_detail(session, case) if case else None


def cases_of(session: Session, credit_code: str, may_read: Callable[[str, str | None], bool]) -> list[dict[str, Any]]:
    """An employer's cases, newest first, those ``may_read(credit_code, region_code)`` allows."""
    rows = session.exec(select(Case).where(Case.credit_code == credit_code).order_by(col(Case.found_on).desc()))
    return [case_view(c) for c in rows if may_read(c.credit_code, c.region_code)]


def no_penalty_list(rule_list: NoPenaltyList, region_code: str, on: date) -> dict[str, Any]:
    """The no-penalty list in force for a region on a day, with its item codes and procedure settings."""
    return {**rule_list.model_dump(mode="json"), "label": rule_list.label(), "region_code": region_code,
            "on": on.isoformat(), "item_codes": [item.code for item in rule_list.items],
            "procedure": rule_list.rules_procedure.model_dump(mode="json")}


# --------------------------------------------------------------------------- screenings of reports (附件5)


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def screening_view(row: Screening, region_code: str | None = None) -> dict[str, Any]:
    """One screened shortcoming as GET /screenings shows it; ``region_code``: the employer's county now (the archive's,
    as penalty knows it), which decides who reads it — the county it was screened in may have handed the employer on."""
    return {
        "id": row.id, "submission_id": row.submission_id, "credit_code": row.credit_code, "region_code": region_code or row.region_code,
        "screened_region_code": row.region_code,
        "screened_on": row.screened_on.isoformat(), "shortcoming": row.shortcoming, "item_code": row.item_code,
        "provision_code": row.provision_code, "duty": row.duty, "major": row.major, "outcome": row.outcome,
        "deadline": row.deadline.isoformat(), "reasons": row.reasons, "earlier": row.earlier, "item_id": row.item_id,
        "rectification_status": row.rectification_status, "corrected_on": _day(row.corrected_on),
        "corrected_in_time": row.corrected_in_time, "listed_for_enforcement": row.listed_on is not None,
        "listed_on": _day(row.listed_on), "case_id": row.case_id, "case_code": row.case_code, "trace": row.trace,
    }


def _current_region():  # noqa: ANN202 - a SQL expression
    """The employer's county now: the archive's as penalty knows it, else the one it was screened in."""
    return coalesce(ArchivedEmployer.region_code, Screening.region_code)


def screenings(session: Session, *, credit_code: str | None, region: str | None, outcome: str | None, limit: int,
               offset: int) -> dict[str, Any]:
    """Screenings newest first: of one employer (``credit_code``) and/or of the employers now in a region (``region``: a
    GB/T 2260 code whose counties count), of one ``outcome`` when given; ``total`` counts them all, ``items`` the page."""
    current = _current_region()
    query = select(Screening, current).outerjoin(ArchivedEmployer, col(ArchivedEmployer.credit_code) == col(Screening.credit_code))
    if credit_code is not None:
        query = query.where(Screening.credit_code == credit_code)
    if region is not None:
        query = query.where(current.startswith(region_prefix(region)))
    if outcome is not None:
        query = query.where(Screening.outcome == outcome)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    page = query.order_by(col(Screening.screened_on).desc(), col(Screening.submission_id), col(Screening.seq)).offset(offset).limit(limit)
    return {"total": total, "limit": limit, "offset": offset, "items": [screening_view(row, region) for row, region in session.exec(page)]}


def screening_by_id(session: Session, screening_id: str) -> dict[str, Any] | None:
    row = session.get(Screening, screening_id)
    if row is None:
        return None
    archived = session.get(ArchivedEmployer, row.credit_code)
    return screening_view(row, archived.region_code if archived else None)


# --------------------------------------------------------------------------- 行政行为码 coverage and 案卷评查


def _cases(session: Session, region_code: str, start: date | None = None, end: date | None = None) -> list[Case]:
    query = select(Case).where(col(Case.region_code).startswith(region_prefix(region_code)))
    if start:
        query = query.where(col(Case.found_on) >= start)
    if end:
        query = query.where(col(Case.found_on) <= end)
    return list(session.exec(query.order_by(col(Case.found_on), col(Case.created_at))))


def code_coverage(session: Session, region_code: str) -> dict[str, Any]:
    cases = _cases(session, region_code)
    without = [{"id": c.id, "case_code": c.case_code, "problem": case_code_problem(c.case_code)} for c in cases
               if case_code_problem(c.case_code)]
    codes = [c.case_code for c in cases if c.case_code]
    total = len(cases)
    return {"region_code": region_code, "total": total, "with_code": total - len(without),
            "coverage": 1.0 if total == 0 else round((total - len(without)) / total, 4),
            "duplicates": sorted({c for c in codes if codes.count(c) > 1}), "without": without}


def _steps(session: Session, case_ids: list[str]) -> dict[str, list[CaseStep]]:
    grouped: dict[str, list[CaseStep]] = {i: [] for i in case_ids}
    if case_ids:
        for step in session.exec(select(CaseStep).where(col(CaseStep.case_id).in_(case_ids)).order_by(col(CaseStep.case_id), col(CaseStep.seq))):
            grouped[step.case_id].append(step)
    return grouped


def case_files(session: Session, region_code: str, start: date | None, end: date | None, rulebook: Rulebook,
               today: date) -> list[dict[str, Any]]:
    """案卷评查: the region's cases found in the period, each as GET /cases/{id} shows it, with the flags of an incomplete file."""
    cases = _cases(session, region_code, start, end)
    steps = _steps(session, [c.id for c in cases])
    files = []
    for case in cases:
        proposed = case.proposed_fine or {}
        file = CaseFile(case.case_code, case.status, case.decision, case.decided_on, case.rectification_deadline,
                        proposed.get("min_yuan"), proposed.get("max_yuan"), case.fine_yuan, case.departure_reason)
        try:
            due = rulebook.no_penalty.in_force(code_region(case.region_code, case.credit_code), case.found_on).rules_procedure.fine_due_days
        except LookupError:
            due = 90
        flags = review(file, [TimelineStep(s.step, s.on, s.deadline) for s in steps[case.id]], today, due)
        files.append({**case_view(case, steps[case.id]), "flags": flags, "flag_texts": [FLAGS[f] for f in flags]})
    return files


# --------------------------------------------------------------------------- technical service organisations


def finding_view(finding: OrgFinding) -> dict:
    return {
        "id": finding.id, "org_credit_code": finding.org_credit_code, "org_name": finding.org_name, "region_code": finding.region_code,
        "employer_credit_code": finding.employer_credit_code, "submission_id": finding.submission_id, "misstated": finding.misstated,
        "description": finding.description, "severity": finding.severity, "found_on": finding.found_on.isoformat(),
        "status": finding.status, "recorded_by": finding.recorded_by, "disqualification_id": finding.disqualification_id,
        "created_at": finding.created_at.isoformat(),
    }


def disqualification_view(row: OrgDisqualification) -> dict:
    return {
        "id": row.id, "org_credit_code": row.org_credit_code, "org_name": row.org_name, "decision_no": row.decision_no,
        "decided_on": row.decided_on.isoformat(), "until": row.until.isoformat() if row.until else None, "reason": row.reason,
        "decided_by": row.decided_by, "region_code": row.region_code, "created_at": row.created_at.isoformat(),
    }


def org_record(session: Session, org_credit_code: str, may_see_region: Callable[[str], bool], today: date) -> dict[str, Any]:
    """An organisation's findings (those of regions ``may_see_region`` allows) and all its disqualifications."""
    findings = session.exec(select(OrgFinding).where(OrgFinding.org_credit_code == org_credit_code).order_by(col(OrgFinding.found_on)))
    decisions = session.exec(
        select(OrgDisqualification).where(OrgDisqualification.org_credit_code == org_credit_code).order_by(col(OrgDisqualification.decided_on))
    )
    visible = [finding_view(f) for f in findings if may_see_region(f.region_code)]
    disqualifications = [disqualification_view(d) for d in decisions]
    return {
        "org_credit_code": org_credit_code,
        "disqualified": any(d["until"] is None or d["until"] >= today.isoformat() for d in disqualifications),
        "findings": visible,
        "disqualifications": disqualifications,
    }


CASE_SUMMARY_NEAREST_MAX = 50


def case_summary(session: Session, region_code: str, nearest: int) -> dict[str, Any]:
    """The region's cases per status (one grouped count), and the ``nearest`` cases whose rectification deadline
    runs (责令限期改正 or 告知承诺), the earliest deadline first — passed ones first of all."""
    in_region = col(Case.region_code).startswith(region_prefix(region_code))
    counts = dict(session.exec(select(Case.status, func.count()).where(in_region).group_by(Case.status)).all())
    waiting = session.exec(
        select(Case.id, Case.case_code, Case.credit_code, Case.status, Case.rectification_deadline)
        .where(in_region, col(Case.status).in_(("rectifying", "committed")), col(Case.rectification_deadline).is_not(None))
        .order_by(col(Case.rectification_deadline), col(Case.id)).limit(nearest)
    ).all()
    return {
        "region_code": region_code,
        "counts": {status: int(n) for status, n in sorted(counts.items())},
        "total": int(sum(counts.values())),
        "nearest": [{"id": i, "case_code": code, "credit_code": credit, "status": status, "deadline": deadline.isoformat()}
                    for i, code, credit, status, deadline in waiting],
    }
