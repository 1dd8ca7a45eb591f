"""初次轻微违法行为不予处罚 (行政处罚法 2021 art. 33, 附件5): pure rules, no I/O.

A violation goes unpenalised only when every condition holds: the item is on the list in force
for the jurisdiction on the day it was found; it is the first time this employer was found
violating this item; it was corrected by the rectification deadline; and it caused no (or only
minor) harm. Otherwise the decision is ``penalty``, with every failed condition named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, Field, model_validator

from shared import rules_in_force as rule_data
from shared.contracts import TraceEntry
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
        if self.screening_of:
            return f"screening {self.case_id} of report {self.screening_of}, corrected under the no-penalty rule"
        code = f" ({self.case_code})" if self.case_code else ""
        return f"case {self.case_id}{code}"


@dataclass(frozen=True)
class Judgement:
    decision: str  # no_penalty | penalty
    reasons: list[str]
    trace: list[TraceEntry]
    first_time: bool = True

    @property
    def eligible(self) -> bool:
        return self.decision == "no_penalty"


def judge(violation: Violation, earlier: list[EarlierCase], rules: NoPenaltyList, *, check_correction: bool = True) -> Judgement:
    """Decide one violation given the employer's earlier cases of the same item.

    ``check_correction=False`` judges eligibility only (at opening, before any correction is due):
    ``no_penalty`` then means "eligible, pending correction by the deadline"."""
    trace = [TraceEntry(rule="rule data", detail=rules.label())]
    failed: list[str] = []

    item = rules.item(violation.item_code)
    if item is None:
        failed.append(f"item {violation.item_code} is not on the no-penalty list (附件5)")
        trace.append(TraceEntry(rule="附件5 list", detail=f"{violation.item_code}: not listed → not eligible"))
    else:
        duty = f"; duty {item.duty_provision}" if item.duty_provision else ""
        trace.append(TraceEntry(rule="附件5 list", detail=f"{item.code}: {item.violation} (penalty {item.penalty_provision}{duty})"))
        if item.precondition:
            trace.append(TraceEntry(rule="item precondition", detail=f"{item.code}: {item.precondition} (to be confirmed by the staff)"))

    years = rules.rules_first_time.lookback_years
    since = None if years is None else _years_before(violation.found_on, years)
    relevant = [c for c in earlier if since is None or c.found_on >= since]
    outside = [c for c in earlier if c not in relevant]
    window = "over the whole history" if since is None else f"within {years} years (since {since})"
    if relevant:
        first = min(relevant, key=lambda c: c.found_on)
        failed.append(f"not the first time: {first.describe()} found the same item on {first.found_on}")
        trace.append(TraceEntry(rule="first time 初次", detail=f"earlier {first.describe()} ({first.found_on}) {window} → not first time"))
    else:
        older = f"; {len(outside)} earlier case(s) before {since} do not count" if outside else ""
        trace.append(TraceEntry(rule="first time 初次", detail=f"no earlier case of this item for this employer {window}{older} → first time"))

    allowed = rules.rules_conditions.allowed_harm
    if violation.harm not in allowed:
        failed.append(f"harm was {violation.harm}; only {' or '.join(allowed)} harm qualifies")
        trace.append(TraceEntry(rule="harm 危害后果", detail=f"{violation.harm} → not minor"))
    else:
        trace.append(TraceEntry(rule="harm 危害后果", detail=f"{violation.harm} → qualifies"))

    if violation.major:
        failed.append("found to be a major violation (重大违法): never without penalty")
        trace.append(TraceEntry(rule="major 重大违法", detail="marked major by the staff → not eligible"))

    if check_correction and rules.rules_conditions.must_be_corrected_by_deadline:
        trace.append(TraceEntry(rule="correction 及时改正", detail=_correction(violation, failed)))

    first_time = not relevant
    if failed:
        return Judgement("penalty", failed, trace + [TraceEntry(rule="decision", detail="penalty: " + "; ".join(failed))], first_time)
    if not check_correction:
        reasons = ["eligible for no penalty (listed, first time, no or minor harm): pending correction by the rectification deadline"]
        return Judgement("no_penalty", reasons, trace + [TraceEntry(rule="eligibility", detail="eligible 可不予处罚, pending correction")], first_time)
    reasons = ["first-time minor violation corrected in time with no harm: no penalty (行政处罚法 第三十三条); rectification order and education recorded"]
    return Judgement("no_penalty", reasons, trace + [TraceEntry(rule="decision", detail="no_penalty 不予处罚")], first_time)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _correction(violation: Violation, failed: list[str]) -> str:
    corrected, deadline = violation.corrected_on, violation.rectification_deadline
    if corrected is None:
        failed.append("not corrected")
        return "not corrected → fails"
    if deadline is None:
        if corrected == violation.found_on:
            return f"corrected on the spot ({corrected}) → qualifies"
        failed.append(f"corrected on {corrected} but no rectification deadline was set and it was not corrected on the spot")
        return f"corrected {corrected}, no deadline, not on the spot → fails"
    if corrected > deadline:
        failed.append(f"corrected on {corrected}, after the rectification deadline {deadline}")
        return f"corrected {corrected} > deadline {deadline} → fails"
    return f"corrected {corrected} ≤ deadline {deadline} → qualifies"
