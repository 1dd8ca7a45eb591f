"""三步法 (RULES §8) as a state machine: education → rectification order with a deadline →
verification of correction → closed; a deadline passing without verified correction escalates to a
penalty case. 告知承诺 (notice and commitment) replaces education and order where the jurisdiction
enables it. Pure rules, no I/O.

Statuses (``Case.status``)::

    open            eligible for no penalty, not yet corrected: education (or a commitment) next
    educated        教育引导 recorded: the rectification order next
    rectifying      责令限期改正 with a deadline: verification next (or the sweep escalates after the deadline)
    committed       告知承诺 signed with a deadline: verification next (or the sweep escalates)
    penalty_pending decided ``penalty`` (not eligible, or escalated): the fine next
    closed          结案
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from services.penalty.domain import words
from shared import i18n

OPEN, EDUCATED, RECTIFYING, COMMITTED, PENALTY_PENDING, CLOSED = "open", "educated", "rectifying", "committed", "penalty_pending", "closed"
STATUSES = (OPEN, EDUCATED, RECTIFYING, COMMITTED, PENALTY_PENDING, CLOSED)
AWAITING_CORRECTION = (RECTIFYING, COMMITTED)

# action → the statuses it may be taken from
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "education": (OPEN,),
    "commitment": (OPEN,),
    "rectification-order": (EDUCATED,),
    "verification": AWAITING_CORRECTION,
    "fine": (PENALTY_PENDING,),
}
NEXT: dict[str, tuple[str, ...]] = {  # status → what may be done next (for the 409's advice)
    OPEN: ("education", "commitment (where 告知承诺 is enabled)"),
    EDUCATED: ("rectification-order",),
    RECTIFYING: ("verification", "the escalation sweep after the deadline"),
    COMMITTED: ("verification", "the escalation sweep after the deadline"),
    PENALTY_PENDING: ("fine",),
    CLOSED: (),
}


# status → the actions (keys of words.ACTION) that may come next, for the 409's text
NEXT_ACTIONS: dict[str, tuple[str, ...]] = {
    OPEN: ("education", "commitment"),
    EDUCATED: ("rectification-order",),
    RECTIFYING: ("verification", "escalation"),
    COMMITTED: ("verification", "escalation"),
    PENALTY_PENDING: ("fine",),
    CLOSED: (),
}


class StepNotAllowed(Exception):
    """The step does not fit the case's status; the message names the status and what may come next.
    ``code`` and ``params`` say it for every language (``shared.i18n``); ``str()`` is the Chinese text."""

    def __init__(self, action: str, status: str, code: str | None = None, params: dict[str, Any] | None = None):
        self.action, self.status = action, status
        if code is None:
            allowed = [words.named(words.ACTION, a) for a in NEXT_ACTIONS.get(status, ())]
            step = {"action": words.named(words.ACTION, action), "status": words.named(words.STATUS, status)}
            code, params = ("penalty.error.step_not_allowed", {**step, "allowed": allowed}) if allowed else \
                ("penalty.error.step_not_allowed.closed", step)
        self.code, self.params = code, dict(params or {})
        super().__init__(i18n.text(code, self.params))

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        return i18n.text(self.code, self.params, locale)


def require(action: str, status: str) -> None:
    if status not in ALLOWED_FROM[action]:
        raise StepNotAllowed(action, status)


def overdue(deadline: date | None, today: date) -> bool:
    """Past the deadline on ``today``? The deadline day itself is still in time."""
    return deadline is not None and today > deadline


@dataclass(frozen=True)
class Verification:
    in_time: bool  # corrected by the deadline → no penalty (other conditions holding)
    step: str  # correction_verified | correction_failed
    code: str  # the step's detail as a message code (shared.i18n)
    params: dict[str, Any]

    @property
    def detail(self) -> str:
        return i18n.text(self.code, self.params)


def verify(deadline: date, verified_on: date, corrected: bool, corrected_on: date | None) -> Verification:
    """The outcome of a verification (复查). Not corrected while the deadline has not passed is refused:
    the employer still has time (StepNotAllowed)."""
    days = {"deadline": deadline.isoformat(), "verified_on": verified_on.isoformat()}
    if corrected:
        assert corrected_on is not None
        days["corrected_on"] = corrected_on.isoformat()
        if corrected_on <= deadline:
            return Verification(True, "correction_verified", "penalty.step.verified.in_time", days)
        return Verification(False, "correction_verified", "penalty.step.verified.late", days)
    if verified_on <= deadline:
        raise StepNotAllowed("verification", RECTIFYING, "penalty.error.verification_too_early", days)
    return Verification(False, "correction_failed", "penalty.step.verified.not_corrected", days)
