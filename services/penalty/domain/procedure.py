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


class StepNotAllowed(Exception):
    """The step does not fit the case's status; the message names the status and what may come next."""

    def __init__(self, action: str, status: str, why: str = ""):
        self.action, self.status = action, status
        allowed = ", ".join(NEXT.get(status, ())) or "nothing: the case is closed"
        super().__init__(why or f"{action} is not allowed: the case is {status}; allowed next: {allowed}")


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
    detail: str


def verify(deadline: date, verified_on: date, corrected: bool, corrected_on: date | None) -> Verification:
    """The outcome of a verification (复查). Not corrected while the deadline has not passed is refused:
    the employer still has time (StepNotAllowed)."""
    if corrected:
        assert corrected_on is not None
        if corrected_on <= deadline:
            return Verification(True, "correction_verified", f"corrected on {corrected_on} ≤ deadline {deadline}, verified {verified_on}")
        return Verification(False, "correction_verified", f"corrected on {corrected_on}, after the deadline {deadline} (verified {verified_on})")
    if verified_on <= deadline:
        raise StepNotAllowed("verification", RECTIFYING,
                             f"not corrected on {verified_on}, but the deadline {deadline} has not passed: verify again after it "
                             "(or let the escalation sweep act)")
    return Verification(False, "correction_failed", f"not corrected when verified on {verified_on}; deadline {deadline}")

