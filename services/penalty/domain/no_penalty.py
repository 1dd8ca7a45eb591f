"""初次轻微违法行为不予处罚 (行政处罚法 2021 art. 33, 附件5): pure rules, no I/O.

A violation goes unpenalised only when every condition holds: the item is on the list in force
for the jurisdiction on the day it was found; it is the first time this employer was found
violating this item; it was corrected by the rectification deadline; and it caused no (or only
minor) harm. Otherwise the decision is ``penalty``, with every failed condition named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, Field, model_validator

from services.penalty.domain import words
from shared import i18n
from shared import rules_in_force as rule_data
from shared.contracts import TraceEntry
from shared.i18n import Message
from shared.jurisdiction import jurisdiction_covers
from shared.rules_in_force import NoApplicableRules, RuleDataError  # noqa: F401 (RuleDataError: the name callers know)

ITEM_CODE_PATTERN = r"^\d{2,3}-\d+[a-z]?$"  # 职业病防治法 article - item, e.g. 70-4, 70-2a


class NoPenaltyItem(BaseModel):
    code: str = Field(pattern=ITEM_CODE_PATTERN)
    violation: str
    duty_provision: str = ""  # the provision the employer breached (违反条款)
    penalty_provision: str  # the provision the penalty would rest on (处罚依据)
    precondition: str | None = None  # an item-specific condition, shown in the trace for the staff to confirm
    provisional: bool | None = None  # this item alone (an extension's illustrative items)


class FirstTimeRule(BaseModel):
    lookback_years: int | None = None  # None: the whole history counts


class Conditions(BaseModel):
    allowed_harm: list[str]
    must_be_corrected_by_deadline: bool = True


class Procedure(BaseModel):
    """三步法 and 告知承诺 settings of the jurisdiction (RULES §7, §8)."""

    rectification_working_days: int = Field(default=10, ge=1, le=120)  # default 责令限期改正 period
    notice_and_commitment: bool = False  # 告知承诺 enabled for minor violations
    commitment_working_days: int = Field(default=10, ge=1, le=120)  # default commitment period
    fine_due_days: int = Field(default=90, ge=1)  # a penalty case without a fine after this many days is flagged in review
    note: str = ""


class NoPenaltyList(BaseModel):
    kind: str = "no_penalty_list"
    jurisdiction: str
    version: str
    effective_from: date
    provisional: bool
    source: str = ""
    extends: str | None = None  # an extension: the items are added to the list in force for this jurisdiction
    first_time: FirstTimeRule | None = None  # an extension may leave these to the list it extends
    conditions: Conditions | None = None
    procedure: Procedure | None = None
    items: list[NoPenaltyItem]
    composed_of: list[str] = Field(default_factory=list, description="for a list in force: the files' labels it merges")

    @model_validator(mode="after")
    def _complete(self) -> "NoPenaltyList":
        if self.extends is None and (self.first_time is None or self.conditions is None):
            raise ValueError("a list that extends no other needs first_time and conditions")
        codes = [item.code for item in self.items]
        if len(codes) != len(set(codes)):
            raise ValueError(f"item codes repeat: {sorted({c for c in codes if codes.count(c) > 1})}")
        return self

    @property
    def rules_first_time(self) -> FirstTimeRule:
        assert self.first_time is not None
        return self.first_time

    @property
    def rules_conditions(self) -> Conditions:
        assert self.conditions is not None
        return self.conditions

    @property
    def rules_procedure(self) -> Procedure:
        return self.procedure or Procedure()

    def item(self, code: str) -> NoPenaltyItem | None:
        return next((i for i in self.items if i.code == code), None)

    def covers(self, region_code: str) -> bool:
        return jurisdiction_covers(self.jurisdiction, region_code)

    def label(self) -> str:
        if self.composed_of:
            return "no-penalty list " + " + ".join(self.composed_of)
        return "no-penalty list " + self.own_label()

    def own_label(self) -> str:
        flag = ", provisional" if self.provisional else ""
        extends = f", extends {self.extends}" if self.extends else ""
        return f"{self.jurisdiction} v{self.version} (effective {self.effective_from}{flag}{extends})"

    def versions(self) -> str:
        """``CN v2021.1`` (or ``CN v2021.1 + 330000 v2022.1``): the same in every language, for a trace."""
        return words.versions(self.composed_of, self.jurisdiction, self.version)

    def rule_set(self) -> dict[str, object]:
        return {"jurisdiction": self.jurisdiction, "version": self.version, "effective_from": self.effective_from.isoformat(),
                "provisional": self.provisional, "composed_of": self.composed_of or [self.own_label()]}


NoApplicableList = NoApplicableRules  # the name callers catch


class NoPenaltyRules:
    """Every loaded version of the list (parsed by ``services.penalty.adapters.rules``); picks the one in
    force for a region on a date."""

    def __init__(self, lists: list[NoPenaltyList]):
        self.lists = lists

    def in_force(self, region_code: str, on: date) -> NoPenaltyList:
        """The list that applies: the most specific one in force; an extension (``extends``) is merged onto the
        list in force for the jurisdiction it extends (its items added, or replacing an item of the same code)."""
        return rule_data.in_force_extended(self.lists, region_code, on, "no-penalty list in force for", "no-penalty lists", _merged_list)


def _merged_list(base: NoPenaltyList, chosen: NoPenaltyList) -> NoPenaltyList:
    """An extension's items added to its base list (replacing an item of the same code); its rules where it gives them."""
    own = {item.code for item in chosen.items}
    return NoPenaltyList(
        jurisdiction=chosen.jurisdiction, version=f"{base.version}+{chosen.version}",
        effective_from=max(base.effective_from, chosen.effective_from), provisional=base.provisional or chosen.provisional,
        source=chosen.source, first_time=chosen.first_time or base.first_time, conditions=chosen.conditions or base.conditions,
        procedure=chosen.procedure or base.procedure, items=[item for item in base.items if item.code not in own] + list(chosen.items),
        composed_of=(base.composed_of or [base.own_label()]) + [chosen.own_label()],
    )


@dataclass(frozen=True)
class Violation:
    case_id: str
    credit_code: str
    item_code: str
    found_on: date
    harm: str  # none | minor | serious
    corrected_on: date | None
    rectification_deadline: date | None
    major: bool = False  # staff's finding: 重大违法 (never no penalty)


@dataclass(frozen=True)
class EarlierCase:
    case_id: str
    found_on: date
    case_code: str | None = None
    screening_of: str | None = None  # an earlier screening instead of a case: the report (submission id) it screened

    def describe(self) -> str:
        """In Chinese: the earlier case (its 行政行为码, else its id) or screening."""
        return i18n.text(*self.message())

    def message(self) -> tuple[str, dict[str, Any]]:
        """The earlier case or screening as a message code and its parameters."""
        if self.screening_of:
            return "penalty.earlier.screening", {"screening_id": self.case_id, "submission_id": self.screening_of,
                                                 "found_on": self.found_on.isoformat()}
        return "penalty.earlier.case", {"case": self.case_code or self.case_id, "case_id": self.case_id,
                                        "found_on": self.found_on.isoformat()}


@dataclass(frozen=True)
class Judgement:
    """``reasons``: why, as message codes (``texts()`` in Chinese); ``failed``: which conditions of no penalty do not
    hold, each named as a term (``words.FAIL_*``)."""

    decision: str  # no_penalty | penalty
    reasons: list[Message]
    trace: list[TraceEntry]
    first_time: bool = True
    failed: list[str] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return self.decision == "no_penalty"

    def texts(self, locale: str = i18n.DEFAULT_LOCALE) -> list[str]:
        return words.messages_text(self.reasons, locale)


def rule_data_line(rules: NoPenaltyList) -> TraceEntry:
    """The list a judgement or a screening used: its version, since when it is in force, provisional or not."""
    params = {"list": rules.versions(), "effective_from": rules.effective_from.isoformat()}
    if rules.provisional:
        return TraceEntry.of(words.RULE_DATA, "penalty.trace.rule_data.provisional", **params)
    return TraceEntry.of(words.RULE_DATA, "penalty.trace.rule_data", **params)


def lookback_line(years: int | None, since: date | None) -> TraceEntry:
    if since is None or years is None:
        return TraceEntry.of(words.RULE_FIRST_TIME, "penalty.trace.first_time.lookback_all")
    return TraceEntry.of(words.RULE_FIRST_TIME, "penalty.trace.first_time.lookback_years", years=years, since=since.isoformat())


def judge(violation: Violation, earlier: list[EarlierCase], rules: NoPenaltyList, *, check_correction: bool = True) -> Judgement:
    """Decide one violation given the employer's earlier cases of the same item.

    ``check_correction=False`` judges eligibility only (at opening, before any correction is due):
    ``no_penalty`` then means "eligible, pending correction by the deadline"."""
    trace = [rule_data_line(rules)]
    reasons: list[Message] = []
    failed: list[str] = []

    def fails(condition: str, code: str, **params: Any) -> None:
        reasons.append(Message(code=code, params=params))
        if condition not in failed:
            failed.append(condition)

    item = rules.item(violation.item_code)
    if item is None:
        fails(words.FAIL_LIST, "penalty.reason.not_listed", item=violation.item_code)
        trace.append(TraceEntry.of(words.RULE_LIST, "penalty.trace.list.not_listed", item=violation.item_code))
    else:
        listed = {"item": item.code, "violation": item.violation, "penalty_provision": item.penalty_provision}
        if item.duty_provision:
            trace.append(TraceEntry.of(words.RULE_LIST, "penalty.trace.list.listed", **listed, duty_provision=item.duty_provision))
        else:
            trace.append(TraceEntry.of(words.RULE_LIST, "penalty.trace.list.listed_no_duty", **listed))
        if item.precondition:
            trace.append(TraceEntry.of(words.RULE_PRECONDITION, "penalty.trace.list.precondition", item=item.code,
                                       precondition=item.precondition))

    years = rules.rules_first_time.lookback_years
    since = None if years is None else _years_before(violation.found_on, years)
    relevant = [c for c in earlier if since is None or c.found_on >= since]
    outside = [c for c in earlier if c not in relevant]
    trace.append(lookback_line(years, since))
    if relevant:
        first = min(relevant, key=lambda c: c.found_on)
        _, params = first.message()
        if first.screening_of:
            fails(words.FAIL_REPEAT, "penalty.reason.repeat_screening", **params)
            trace.append(TraceEntry.of(words.RULE_FIRST_TIME, "penalty.trace.first_time.repeat_screening", **params))
        else:
            fails(words.FAIL_REPEAT, "penalty.reason.repeat_case", **params)
            trace.append(TraceEntry.of(words.RULE_FIRST_TIME, "penalty.trace.first_time.repeat_case", **params))
    elif outside:
        trace.append(TraceEntry.of(words.RULE_FIRST_TIME, "penalty.trace.first_time.first_older", count=len(outside),
                                   since=since.isoformat() if since else ""))
    else:
        trace.append(TraceEntry.of(words.RULE_FIRST_TIME, "penalty.trace.first_time.first"))

    allowed = rules.rules_conditions.allowed_harm
    if violation.harm not in allowed:
        fails(words.FAIL_HARM, "penalty.reason.harm", harm=words.harm(violation.harm), allowed=[words.harm(h) for h in allowed])
        trace.append(TraceEntry.of(words.RULE_HARM, "penalty.trace.harm.fails", harm=words.harm(violation.harm)))
    else:
        trace.append(TraceEntry.of(words.RULE_HARM, "penalty.trace.harm.qualifies", harm=words.harm(violation.harm)))

    if violation.major:
        fails(words.FAIL_MAJOR, "penalty.reason.major")
        trace.append(TraceEntry.of(words.RULE_MAJOR, "penalty.trace.major.staff"))

    if check_correction and rules.rules_conditions.must_be_corrected_by_deadline:
        code, params, failing = _correction(violation)
        trace.append(TraceEntry.of(words.RULE_CORRECTION, code, **params))
        if failing is not None:
            fails(words.FAIL_CORRECTION, failing, **params)

    first_time = not relevant
    if failed:
        decided = TraceEntry.of(words.RULE_DECISION, "penalty.trace.decision.penalty", failed=list(failed))
        return Judgement("penalty", reasons, trace + [decided], first_time, failed)
    if not check_correction:
        reasons = [Message(code="penalty.reason.eligible_pending")]
        return Judgement("no_penalty", reasons, trace + [TraceEntry.of(words.RULE_ELIGIBILITY, "penalty.trace.eligible_pending")], first_time)
    reasons = [Message(code="penalty.reason.no_penalty")]
    return Judgement("no_penalty", reasons, trace + [TraceEntry.of(words.RULE_DECISION, "penalty.trace.decision.no_penalty")], first_time)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _correction(violation: Violation) -> tuple[str, dict[str, Any], str | None]:
    """The correction's trace line (code, params) and, when it fails, the reason's code (same params)."""
    corrected, deadline = violation.corrected_on, violation.rectification_deadline
    if corrected is None:
        return "penalty.trace.correction.none", {}, "penalty.reason.not_corrected"
    if deadline is None:
        if corrected == violation.found_on:
            return "penalty.trace.correction.on_the_spot", {"corrected_on": corrected.isoformat()}, None
        return "penalty.trace.correction.no_deadline", {"corrected_on": corrected.isoformat()}, "penalty.reason.corrected_no_deadline"
    params = {"corrected_on": corrected.isoformat(), "deadline": deadline.isoformat()}
    if corrected > deadline:
        return "penalty.trace.correction.late", params, "penalty.reason.corrected_late"
    return "penalty.trace.correction.in_time", params, None
