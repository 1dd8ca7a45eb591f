"""Events produced by the penalty service: case decisions and steps, organisations disqualified."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from shared import i18n, topics
from shared.i18n import Message
from shared.contracts.assessment import Shortcoming
from shared.contracts.envelope import Decision, Event, RuleSetRef, TraceEntry


class OrgDisqualified(Event):
    """A technical service organisation may no longer do comprehensive risk assessments.

    ``credit_code`` (the key) is the organisation's own 统一社会信用代码."""

    topic: ClassVar[str] = topics.ORGS_DISQUALIFIED

    org_name: str
    decision_no: str  # the deciding document, e.g. 晋卫监罚〔2026〕12号
    decided_on: date
    until: date | None = None  # None: until lifted
    reason: str


def _texts(messages: list[Message], written: list[str], locale: str) -> list[str]:
    """Coded reasons in ``locale``; the reasons as written for an event of an earlier format (no codes)."""
    return [m.text(locale) for m in messages] if messages else list(written)


class PenaltyDecided(Event):
    """A case's decision (no penalty or penalty), once per case. ``reasons`` are the reasons in Chinese as
    written; ``reason_codes`` the same reasons as message codes and parameters (``shared.i18n``; absent in
    events published before codes existed: :meth:`reason_texts` then gives ``reasons`` as written)."""

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
    reason_codes: list[Message] = Field(default_factory=list, description="the reasons as message codes and parameters, in order")

    def reason_texts(self, locale: str = i18n.DEFAULT_LOCALE) -> list[str]:
        return _texts(self.reason_codes, self.reasons, locale)


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
    detail: str = Field(description="what the step did, in Chinese as written")
    fine_yuan: int | None = Field(default=None, ge=0, description="the fine, on the step that records it (closed after a penalty)")
    code: str | None = Field(default=None, max_length=i18n.CODE_MAX_LENGTH, description="the detail's message code (shared.i18n)")
    params: dict[str, Any] = Field(default_factory=dict, description="the values of the detail's text")

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        """The step's detail in ``locale``; as written for an event of an earlier format (no code)."""
        return i18n.text_or(self.code, self.params, self.detail, locale)


ScreeningOutcome = Literal["eligible_if_corrected", "not_eligible", "no_violation"]


class ScreeningResult(BaseModel):
    """One disclosed shortcoming screened against the no-penalty list (附件5) in force: the duty it
    breaches and whether a first-time, minor, promptly corrected breach would go unpenalised.

    ``item_code`` is the 附件5 item when one applies (else null); ``provision_code`` is the
    article-item a case opened from it would carry (``70-1``, ``72-4``; null for no violation)."""

    screening_id: UUID
    shortcoming: Shortcoming
    outcome: ScreeningOutcome
    item_code: str | None = None
    provision_code: str | None = None
    duty: str = Field(default="", description="the duty breached (违反条款) and the penalty provision, in words")
    deadline: date | None = Field(default=None, description="correct by this China date (责令限期改正, in working days)")
    reasons: list[str] = Field(default_factory=list, description="why not eligible: repeat, harm, not on the list, major")
    earlier: str | None = Field(default=None, description="the earlier case or screening that makes it a repeat, when it is one")
    trace: list[TraceEntry]
    code: str | None = Field(default=None, max_length=i18n.CODE_MAX_LENGTH, description="the outcome's message code (shared.i18n)")
    params: dict[str, Any] = Field(default_factory=dict, description="the values of the outcome's text")
    reason_codes: list[Message] = Field(default_factory=list, description="the reasons as message codes and parameters, in order")
    earlier_message: Message | None = Field(default=None, description="the earlier case or screening as a message code")

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        """The outcome in words: the coded outcome, else the last line of the trace as written (its outcome line)."""
        written = self.trace[-1].text(locale) if self.trace else self.outcome
        return i18n.text_or(self.code, self.params, written, locale)

    def reason_texts(self, locale: str = i18n.DEFAULT_LOCALE) -> list[str]:
        return _texts(self.reason_codes, self.reasons, locale)

    def earlier_text(self, locale: str = i18n.DEFAULT_LOCALE) -> str | None:
        return self.earlier_message.text(locale) if self.earlier_message is not None else self.earlier


class ScreeningRecorded(Event):
    """A classified report's shortcomings screened against 附件5 (RULES §7), one result per
    shortcoming, in the order the report discloses them. Nothing is penalised by it: the county
    opens a case from a result when it decides to. An empty ``results`` is a report with nothing
    to put right (the registry then clears nothing and raises nothing)."""

    topic: ClassVar[str] = topics.SCREENED

    submission_id: UUID
    region_code: str
    screened_on: date = Field(description="the China date of the screening: deadlines count from it")
    results: list[ScreeningResult]
    rule_set: RuleSetRef
