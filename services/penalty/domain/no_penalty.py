"""初次轻微违法行为不予处罚 (行政处罚法 2021 art. 33, 附件5): pure rules, no I/O.

A violation goes unpenalised only when every condition holds: the item is on the list in force
for the jurisdiction on the day it was found; it is the first time this employer was found
violating this item; it was corrected by the rectification deadline; and it caused no (or only
minor) harm. Otherwise the decision is ``penalty``, with every failed condition named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field

from shared import rule_data
from shared.contracts import TraceEntry
from shared.jurisdiction import jurisdiction_covers
from shared.rule_data import NoApplicableRules, read_all, read_json, rule_files, validate

PACKAGED_RULES = Path(__file__).resolve().parent.parent / "rules"
ITEM_CODE_PATTERN = r"^\d{2,3}-\d+[a-z]?$"  # 职业病防治法 article - item, e.g. 70-4, 70-2a


class NoPenaltyItem(BaseModel):
    code: str = Field(pattern=ITEM_CODE_PATTERN)
    violation: str
    penalty_provision: str


class FirstTimeRule(BaseModel):
    lookback_years: int | None = None  # None: the whole history counts


class Conditions(BaseModel):
    allowed_harm: list[str]
    must_be_corrected_by_deadline: bool = True


class NoPenaltyList(BaseModel):
    kind: str = "no_penalty_list"
    jurisdiction: str
    version: str
    effective_from: date
    provisional: bool
    source: str = ""
    first_time: FirstTimeRule
    conditions: Conditions
    items: list[NoPenaltyItem]

    def item(self, code: str) -> NoPenaltyItem | None:
        return next((i for i in self.items if i.code == code), None)

    def covers(self, region_code: str) -> bool:
        return jurisdiction_covers(self.jurisdiction, region_code)

    def label(self) -> str:
        flag = ", provisional" if self.provisional else ""
        return f"no-penalty list {self.jurisdiction} v{self.version} (effective {self.effective_from}{flag})"


NoApplicableList = NoApplicableRules  # the name callers catch


def _read_list(path: Path) -> NoPenaltyList | None:
    """The file's no-penalty list; None for other rule data sharing the folder (another ``kind``)."""
    data = read_json(path, "no-penalty list file")
    if not isinstance(data, dict) or data.get("kind") != "no_penalty_list":
        return None
    return validate(data, NoPenaltyList, path, "no-penalty list file")


class NoPenaltyRules:
    """Every loaded version of the list; picks the one in force for a region on a date."""

    def __init__(self, lists: list[NoPenaltyList]):
        self.lists = lists

    @classmethod
    def load(cls, extra_dir: Path | None = None) -> "NoPenaltyRules":
        folders = [folder for folder in (PACKAGED_RULES, extra_dir) if folder is not None and folder.is_dir()]
        return cls(list(read_all([path for folder in folders for path in rule_files(folder)], _read_list)))

    def in_force(self, region_code: str, on: date) -> NoPenaltyList:
        return rule_data.in_force(self.lists, region_code, on, "no-penalty list in force for", "no-penalty lists", check_region=False)


@dataclass(frozen=True)
class Violation:
    case_id: str
    credit_code: str
    item_code: str
    found_on: date
    harm: str  # none | minor | serious
    corrected_on: date | None
    rectification_deadline: date | None


@dataclass(frozen=True)
class EarlierCase:
    case_id: str
    found_on: date


@dataclass(frozen=True)
class Judgement:
    decision: str  # no_penalty | penalty
    reasons: list[str]
    trace: list[TraceEntry]


def judge(violation: Violation, earlier: list[EarlierCase], rules: NoPenaltyList) -> Judgement:
    """Decide one violation given the employer's earlier cases of the same item."""
    trace = [TraceEntry(rule="rule data", detail=rules.label())]
    failed: list[str] = []

    item = rules.item(violation.item_code)
    if item is None:
        failed.append(f"item {violation.item_code} is not on the no-penalty list (附件5)")
        trace.append(TraceEntry(rule="附件5 list", detail=f"{violation.item_code}: not listed → not eligible"))
    else:
        trace.append(TraceEntry(rule="附件5 list", detail=f"{item.code}: {item.violation} ({item.penalty_provision})"))

    years = rules.first_time.lookback_years
    since = None if years is None else _years_before(violation.found_on, years)
    relevant = [c for c in earlier if since is None or c.found_on >= since]
    if relevant:
        first = min(relevant, key=lambda c: c.found_on)
        failed.append(f"not the first time: case {first.case_id} found the same item on {first.found_on}")
        trace.append(TraceEntry(rule="first time 初次", detail=f"earlier case {first.case_id} ({first.found_on}) → not first time"))
    else:
        trace.append(TraceEntry(rule="first time 初次", detail="no earlier case of this item for this employer → first time"))

    if violation.harm not in rules.conditions.allowed_harm:
        failed.append(f"harm was {violation.harm}; only {' or '.join(rules.conditions.allowed_harm)} harm qualifies")
        trace.append(TraceEntry(rule="harm 危害后果", detail=f"{violation.harm} → not minor"))
    else:
        trace.append(TraceEntry(rule="harm 危害后果", detail=f"{violation.harm} → qualifies"))

    if rules.conditions.must_be_corrected_by_deadline:
        trace.append(TraceEntry(rule="correction 及时改正", detail=_correction(violation, failed)))

    if failed:
        return Judgement("penalty", failed, trace + [TraceEntry(rule="decision", detail="penalty: " + "; ".join(failed))])
    reasons = ["first-time minor violation corrected in time with no harm: no penalty (行政处罚法 第三十三条); rectification order and education recorded"]
    return Judgement("no_penalty", reasons, trace + [TraceEntry(rule="decision", detail="no_penalty 不予处罚")])


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
