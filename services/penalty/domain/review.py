"""案卷评查 (case-file review, RULES §8): flags what a case file lacks. Pure rules, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.penalty.domain.case_codes import case_code_problem
from shared import i18n


@dataclass(frozen=True)
class CaseFile:
    case_code: str | None
    status: str
    decision: str | None
    decided_on: date | None
    deadline: date | None
    proposed_min_yuan: int | None
    proposed_max_yuan: int | None
    fine_yuan: int | None
    departure_reason: str | None


@dataclass(frozen=True)
class TimelineStep:
    step: str
    on: date
    deadline: date | None = None


FLAG_CODES = {  # flag → its message code (shared.i18n)
    "missing_case_code": "penalty.review.flag.missing_case_code",
    "missing_deadline": "penalty.review.flag.missing_deadline",
    "missing_verification": "penalty.review.flag.missing_verification",
    "missing_education": "penalty.review.flag.missing_education",
    "fine_outside_baseline_without_reason": "penalty.review.flag.fine_outside_baseline_without_reason",
    "penalty_without_fine": "penalty.review.flag.penalty_without_fine",
}
FLAGS = {flag: i18n.text(code) for flag, code in FLAG_CODES.items()}  # in Chinese; flag_text(flag, locale) in another language


def flag_text(flag: str, locale: str = i18n.DEFAULT_LOCALE) -> str:
    return i18n.text(FLAG_CODES[flag], {}, locale)


def review(case: CaseFile, timeline: list[TimelineStep], today: date, fine_due_days: int = 90) -> list[str]:
    """The flags of an incomplete case file (keys of FLAGS), in a stable order."""
    steps = {s.step for s in timeline}
    flags: list[str] = []
    if case_code_problem(case.case_code):
        flags.append("missing_case_code")
    ordering = [s for s in timeline if s.step in ("rectification_ordered", "commitment_signed")]
    no_penalty = case.decision == "no_penalty"
    on_the_spot = no_penalty and not ordering and "correction_verified" in steps and _on_the_spot(timeline)
    if any(s.deadline is None for s in ordering) or (no_penalty and not on_the_spot and case.deadline is None):
        flags.append("missing_deadline")
    if no_penalty and "correction_verified" not in steps:
        flags.append("missing_verification")
    if no_penalty and "educated" not in steps and "commitment_signed" not in steps:
        flags.append("missing_education")
    if case.fine_yuan is not None and case.proposed_min_yuan is not None and case.proposed_max_yuan is not None:
        if not case.proposed_min_yuan <= case.fine_yuan <= case.proposed_max_yuan and not (case.departure_reason or "").strip():
            flags.append("fine_outside_baseline_without_reason")
    if case.decision == "penalty" and case.fine_yuan is None and case.decided_on is not None \
            and (today - case.decided_on).days > fine_due_days:
        flags.append("penalty_without_fine")
    return flags


def _on_the_spot(timeline: list[TimelineStep]) -> bool:
    opened = next((s.on for s in timeline if s.step == "opened"), None)
    verified = next((s.on for s in timeline if s.step == "correction_verified"), None)
    return opened is not None and verified == opened
