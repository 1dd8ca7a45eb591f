"""Events produced by the penalty service: case decisions and steps, organisations disqualified."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from shared import topics
from shared.contracts.envelope import Decision, Event, TraceEntry


class OrgDisqualified(Event):
    """A technical service organisation may no longer do comprehensive risk assessments.

    ``credit_code`` (the key) is the organisation's own 统一社会信用代码."""

    topic: ClassVar[str] = topics.ORGS_DISQUALIFIED

    org_name: str
    decision_no: str  # the deciding document, e.g. 晋卫监罚〔2026〕12号
    decided_on: date
    until: date | None = None  # None: until lifted
    reason: str


class PenaltyDecided(Event):
    topic: ClassVar[str] = topics.PENALTY_DECIDED

    case_id: UUID
    item_code: str
    decision: Decision
    major: bool = False
    reasons: list[str]
    trace: list[TraceEntry]
    case_code: str | None = Field(default=None, description="行政行为码 of the case")
    region_code: str | None = Field(default=None, description="the case's county")
    fine_yuan: int | None = Field(default=None, ge=0, description="the fine decided, in yuan, when there is one")


CaseStep = Literal[
    "opened",  # 立案: the case exists and has its code
    "educated",  # 教育引导 recorded
    "rectification_ordered",  # 责令限期改正 with a deadline
    "commitment_signed",  # 告知承诺: the employer committed to correct by a deadline
    "correction_verified",  # 复查: corrected (date) — by the deadline or not
    "correction_failed",  # 复查: not corrected
    "escalated",  # 逾期处罚: deadline passed without verified correction → penalty case
    "penalty_proposed",  # 裁量基准: the fine range proposed
    "decided",  # no_penalty or penalty decided
    "closed",  # 结案
]


class CaseProgressed(Event):
    """A case moved one step of the procedure (RULES §8, 三步法); one event per step, in order per
    employer. ``status`` is the case's status after the step."""

    topic: ClassVar[str] = topics.CASE_PROGRESSED

    case_id: UUID
    case_code: str = Field(description="行政行为码")
    region_code: str
    item_code: str
    step: CaseStep
    status: str
    on: date = Field(description="the China date the step took effect")
    deadline: date | None = Field(default=None, description="the rectification / commitment deadline, when the step sets one")
    actor: str = Field(description="who took the step (a staff member's name, or 'system' for the daily sweep)")
    detail: str
    fine_yuan: int | None = Field(default=None, ge=0, description="the fine, on the step that records it (closed after a penalty)")
