"""Screening a classified report's shortcomings against 附件5 (RULES §7, issue 13): pure rules, no I/O.

Every shortcoming a report discloses (``shared.contracts.Shortcoming``) is looked up in the
**shortcoming map** in force (rule data ``"kind": "shortcoming_map"``, versioned per jurisdiction like
the no-penalty list, an agency's extension merged onto the map it ``extends``): is it a breach of a
legal duty at all, which duty (违反条款), which penalty provision (处罚依据) and which article-item a
case would carry (``provision_code``, e.g. ``70-1``, ``72-4``). Then, for a violation, against the
no-penalty list in force:

* ``no_violation`` — the map says it breaches no duty (or names no duty for it): a recommendation only;
* ``eligible_if_corrected`` — the item is on the list in force, it is the first time (by the same rule
  as cases: the list's ``first_time`` lookback), and the map does not mark it major: no penalty if it is
  corrected by the deadline (行政处罚法 第三十三条: first time, minor, corrected in time, no harm — the
  report discloses no harm, the inspector confirms it);
* ``not_eligible`` — otherwise, every reason named (not on the list, repeat with the earlier case or
  screening named, major).

"The first time" counts the employer's earlier **cases** of the same provision within the lookback, and
its earlier **screenings** of the same shortcoming (another report) that were corrected (cleared) before
this screening day: a shortcoming disclosed again after it was put right is a repeat. An earlier
screening still uncorrected is not a repeat: this report's finding continues that one.

Nothing is penalised here: the county opens a case from a screening when it decides to."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.penalty.domain.no_penalty import ITEM_CODE_PATTERN, EarlierCase, NoPenaltyList, NoPenaltyRules
from shared import rules_in_force as rule_data
from shared.contracts import TraceEntry
from shared.contracts.assessment import Shortcoming
from shared.contracts.penalty import ScreeningResult
from shared.identifiers import region_problem
from shared.jurisdiction import NATIONAL, jurisdiction_level
from shared.rules_in_force import FromRuleFile, RuleDataError

# the rule keys a report's shortcomings carry (Shortcoming.rule_key): a self-check item, or one of these kinds
NON_CHECKLIST_KEYS = ("test_missing", "test_expired", "exposure_over_limit", "publicity_short", "submission_late", "first_assessment_late")
CHECKLIST_KEY = re.compile(r"^checklist:[^\s:]{1,32}$")
ART_33 = "行政处罚法 第三十三条"


# --------------------------------------------------------------------------- the rule data


class ShortcomingDuty(BaseModel):
    """One entry of the map: what a shortcoming (by ``rule_key``) breaches, if anything."""

    model_config = ConfigDict(extra="forbid")

    rule_key: str = Field(max_length=64, description="checklist:<item id>, or test_missing, test_expired, exposure_over_limit, …")
    violation: bool = Field(description="is it a breach of a legal duty at all")
    duty_provision: str = Field(default="", max_length=500, description="违反条款: the provision the employer breached")
    penalty_provision: str = Field(default="", max_length=500, description="处罚依据: the provision a penalty would rest on")
    item_code: str | None = Field(default=None, pattern=ITEM_CODE_PATTERN, description="the 附件5 item, when one applies")
    provision_code: str | None = Field(default=None, pattern=ITEM_CODE_PATTERN, description="the article-item a case would carry")
    major: bool = Field(default=False, description="重大违法: never without penalty")
    recommendation: str = Field(default="", max_length=2000, description="what the employer should do (shown for no violation)")
    note: str = Field(default="", max_length=2000, description="the team's reading, alternatives the staff may choose at the case")

    @field_validator("rule_key")
    @classmethod
    def _rule_key(cls, key: str) -> str:
        if key not in NON_CHECKLIST_KEYS and not CHECKLIST_KEY.fullmatch(key):
            raise ValueError(f"{key!r} is no shortcoming rule key: checklist:<item id> or one of {', '.join(NON_CHECKLIST_KEYS)}")
        return key

    @model_validator(mode="after")
    def _coherent(self) -> "ShortcomingDuty":
        if not self.violation:
            if self.item_code or self.provision_code:
                raise ValueError(f"{self.rule_key}: no violation, so no item_code or provision_code (a case cannot be opened from it)")
            if self.major:
                raise ValueError(f"{self.rule_key}: no violation cannot be major")
            if not self.recommendation.strip():
                raise ValueError(f"{self.rule_key}: no violation needs a recommendation (what the employer is told)")
            return self
        if self.provision_code is None:
            self.provision_code = self.item_code
        if self.provision_code is None:
            raise ValueError(f"{self.rule_key}: a violation needs its provision_code (the article-item a case carries, e.g. 72-4)")
        if self.item_code is not None and self.item_code != self.provision_code:
            raise ValueError(f"{self.rule_key}: item_code {self.item_code} differs from provision_code {self.provision_code}: a case "
                             "opened from the screening carries the provision, and the list is looked up by it")
        if not self.duty_provision.strip() or not self.penalty_provision.strip():
            raise ValueError(f"{self.rule_key}: a violation needs its duty_provision (违反条款) and penalty_provision (处罚依据)")
        return self


class ShortcomingMap(FromRuleFile):
    """A version of the map for a jurisdiction (or, with ``extends``, an agency's additions and replacements)."""

    model_config = ConfigDict(extra="forbid")

    kind: str = "shortcoming_map"
    jurisdiction: str
    version: str = Field(min_length=1, max_length=32)
    effective_from: date
    provisional: bool
    source: str = ""
    note: str = ""
    extends: str | None = None  # an extension: its entries replace or add to the map in force for that jurisdiction
    entries: list[ShortcomingDuty]
    composed_of: list[str] = Field(default_factory=list, description="for a map in force: the files' labels it merges")

    @field_validator("jurisdiction", "extends")
    @classmethod
    def _jurisdiction(cls, value: str | None) -> str | None:
        if value is not None and value != NATIONAL and (problem := region_problem(value)):
            raise ValueError(f"{value!r}: CN or a GB/T 2260 code ({problem})")
        return value

    @model_validator(mode="after")
    def _unique(self) -> "ShortcomingMap":
        keys = [entry.rule_key for entry in self.entries]
        if repeated := sorted({key for key in keys if keys.count(key) > 1}):
            raise ValueError(f"rule keys repeat: {repeated}")
        if self.extends is not None and jurisdiction_level(self.extends) >= jurisdiction_level(self.jurisdiction):
            raise ValueError(f"extends {self.extends}: an extension extends a wider jurisdiction than its own ({self.jurisdiction})")
        return self

    def entry(self, rule_key: str) -> ShortcomingDuty | None:
        return next((e for e in self.entries if e.rule_key == rule_key), None)

    def own_label(self) -> str:
        flag = ", provisional" if self.provisional else ""
        extends = f", extends {self.extends}" if self.extends else ""
        return f"{self.jurisdiction} v{self.version} (effective {self.effective_from}{flag}{extends})"

    def label(self) -> str:
        return "shortcoming map " + (" + ".join(self.composed_of) if self.composed_of else self.own_label())

    def rule_set(self) -> dict[str, object]:
        """What a ``RuleSetRef`` holds (jurisdiction, version, effective_from, provisional)."""
        return {"jurisdiction": self.jurisdiction, "version": self.version, "effective_from": self.effective_from,
                "provisional": self.provisional}


class ShortcomingMaps:
    """Every loaded version of the map (parsed by ``services.penalty.adapters.rules``); picks the one in force
    for a region on a date, an extension merged onto the map in force for the jurisdiction it extends."""

    def __init__(self, maps: Sequence[ShortcomingMap]):
        self.maps = list(maps)

    def in_force(self, region_code: str, on: date) -> ShortcomingMap:
        return rule_data.in_force_extended(self.maps, region_code, on, "shortcoming map in force for", "shortcoming maps", _merged_map)


def _merged_map(base: ShortcomingMap, chosen: ShortcomingMap) -> ShortcomingMap:
    """An extension's entries added to its base map (replacing an entry of the same key)."""
    own = {entry.rule_key for entry in chosen.entries}
    return ShortcomingMap(
        jurisdiction=chosen.jurisdiction, version=f"{base.version}+{chosen.version}",
        effective_from=max(base.effective_from, chosen.effective_from), provisional=base.provisional or chosen.provisional,
        source=chosen.source, entries=[e for e in base.entries if e.rule_key not in own] + list(chosen.entries),
        composed_of=(base.composed_of or [base.own_label()]) + [chosen.own_label()],
    )


def listed_item_problems(duty_map: ShortcomingMap, lists: NoPenaltyRules) -> list[str]:
    """A map file's entries naming a 附件5 item the no-penalty list in force for its jurisdiction on its
    effective date does not hold (a typo, or a map ahead of its list): one line each."""
    named = [entry for entry in duty_map.entries if entry.item_code]
    if not named:
        return []
    try:
        in_force = lists.in_force(duty_map.jurisdiction, duty_map.effective_from)
    except rule_data.NoApplicableRules as error:
        return [f"entries name 附件5 items but {error}"]
    return [f"{entry.rule_key}: item_code {entry.item_code} is not on the {in_force.label()} in force for {duty_map.jurisdiction} "
            f"on {duty_map.effective_from} (items: {', '.join(item.code for item in in_force.items)})"
            for entry in named if in_force.item(entry.item_code or "") is None]


# --------------------------------------------------------------------------- the screening


def screening_id(submission_id: UUID, shortcoming_code: str) -> UUID:
    """The screening of a shortcoming in a report: the same ids whenever the report is screened again (a replay)."""
    return uuid5(submission_id, f"screening:{shortcoming_code}")


@dataclass(frozen=True)
class EarlierScreening:
    """An earlier screening of the same shortcoming for the employer, with its rectification so far."""

    screening_id: str
    submission_id: str
    screened_on: date
    rectification_status: str | None = None  # open | submitted | returned | cleared | overdue (the registry's item)
    corrected_on: date | None = None
    case_id: str | None = None

    def corrected_before(self, day: date) -> bool:
        return self.rectification_status == "cleared" and self.corrected_on is not None and self.corrected_on < day

    def describe(self) -> str:
        return f"earlier screening of report {self.submission_id} ({self.screened_on})"


def lookback_start(day: date, years: int | None) -> date | None:
    if years is None:
        return None
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def screen(
    submission_id: UUID,
    shortcomings: Sequence[Shortcoming],
    duties: ShortcomingMap,
    rules: NoPenaltyList,
    earlier_cases: Mapping[str, Sequence[EarlierCase]],
    earlier_screenings: Mapping[str, Sequence[EarlierScreening]],
    screened_on: date,
    deadline: date,
    observed_on: date | None = None,
) -> list[ScreeningResult]:
    """One result per shortcoming, in the report's order. ``earlier_cases``: the employer's cases found
    before (or on) the screening day, by provision code; ``earlier_screenings``: its screenings of other
    reports, by shortcoming code; ``deadline``: the screening day plus the list's rectification period in
    working days (every result has it: a recommendation is a rectification item too); ``observed_on``: the
    day the report describes (its assessment day, else the screening day) — an earlier shortcoming corrected
    after it does not make this one a repeat: the report predates the correction."""
    return [_screen_one(submission_id, shortcoming, duties, rules, earlier_cases.get(_provision(duties, shortcoming) or "", ()),
                        earlier_screenings.get(shortcoming.code, ()), screened_on, deadline, observed_on or screened_on)
            for shortcoming in shortcomings]


def _provision(duties: ShortcomingMap, shortcoming: Shortcoming) -> str | None:
    entry = duties.entry(shortcoming.rule_key)
    return entry.provision_code if entry is not None and entry.violation else None


def provisions_of(duties: ShortcomingMap, shortcomings: Sequence[Shortcoming]) -> list[str]:
    """The provision codes the shortcomings breach (whose earlier cases the first-time check needs)."""
    return sorted({code for s in shortcomings if (code := _provision(duties, s))})


def _deadline_line(rules: NoPenaltyList, screened_on: date, deadline: date) -> TraceEntry:
    days = rules.rules_procedure.rectification_working_days
    return TraceEntry(rule="deadline 责令限期改正",
                      detail=f"correct by {deadline}: {days} working days from the screening day {screened_on} ({rules.label()})")


def _screen_one(submission_id: UUID, shortcoming: Shortcoming, duties: ShortcomingMap, rules: NoPenaltyList,
                cases: Sequence[EarlierCase], screenings: Sequence[EarlierScreening], screened_on: date,
                deadline: date, observed_on: date) -> ScreeningResult:
    sid = screening_id(submission_id, shortcoming.code)
    trace = [TraceEntry(rule="shortcoming 问题", detail=f"{shortcoming.code}: {shortcoming.text} (self-disclosed in report {submission_id})")]
    entry = duties.entry(shortcoming.rule_key)
    if entry is None or not entry.violation:
        if entry is None:
            trace.append(TraceEntry(rule="shortcoming map", detail=f"{duties.label()}: names no duty for {shortcoming.rule_key} → no violation "
                                    "found; a recommendation only (the agency's table should name it)"))
            advice = "put it right; the shortcoming map in force names no duty for it"
        else:
            duty = f" ({entry.duty_provision})" if entry.duty_provision else ""
            trace.append(TraceEntry(rule="shortcoming map", detail=f"{duties.label()}: {entry.rule_key} → no violation of a legal duty{duty}"))
            advice = entry.recommendation
        trace.append(TraceEntry(rule="recommendation 建议", detail=advice))
        trace.append(_deadline_line(rules, screened_on, deadline))
        trace.append(TraceEntry(rule="outcome", detail="no_violation: a recommendation only, nothing to penalise; "
                                f"a rectification item all the same, by {deadline}"))
        return ScreeningResult(screening_id=sid, shortcoming=shortcoming, outcome="no_violation", deadline=deadline, trace=trace)

    provision = entry.provision_code or ""
    duty = f"{entry.duty_provision} (处罚依据 {entry.penalty_provision})"
    named = f"; the map names 附件5 item {entry.item_code}" if entry.item_code else "; the map names no 附件5 item"
    trace.append(TraceEntry(rule="shortcoming map 违反条款", detail=f"{duties.label()}: {entry.rule_key} → duty {entry.duty_provision}; "
                            f"penalty {entry.penalty_provision}; provision {provision}{named}"))
    if entry.note:
        trace.append(TraceEntry(rule="map note", detail=entry.note))
    reasons: list[str] = []

    item = rules.item(provision)
    if item is None:
        reasons.append(f"not on the 附件5 list ({entry.penalty_provision})")
        trace.append(TraceEntry(rule="附件5 list", detail=f"{rules.label()}: {provision} not listed → not eligible"))
    else:
        trace.append(TraceEntry(rule="附件5 list", detail=f"{rules.label()}: {item.code} listed — {item.violation}"))
        if item.precondition:
            trace.append(TraceEntry(rule="item precondition", detail=f"{item.code}: {item.precondition} (to be confirmed by the staff)"))

    earlier = _first_time(provision, shortcoming, submission_id, rules, cases, screenings, screened_on, observed_on, reasons, trace)

    trace.append(TraceEntry(rule="harm 危害后果", detail="the report discloses no harmful consequence (none); the inspector confirms it "
                            "at the case"))
    if entry.major:
        reasons.append("major 重大违法: the shortcoming map marks it major, never without penalty")
        trace.append(TraceEntry(rule="major 重大违法", detail=f"{entry.rule_key} marked major by the map → not eligible"))
    else:
        trace.append(TraceEntry(rule="major 重大违法", detail="not marked major by the map"))
    trace.append(_deadline_line(rules, screened_on, deadline))

    if reasons:
        trace.append(TraceEntry(rule="outcome", detail="not_eligible: " + "; ".join(reasons) + f"; correct it by {deadline} all the same"))
        return ScreeningResult(screening_id=sid, shortcoming=shortcoming, outcome="not_eligible", item_code=item.code if item else None,
                               provision_code=provision, duty=duty, deadline=deadline, reasons=reasons, earlier=earlier, trace=trace)
    trace.append(TraceEntry(rule="outcome", detail=f"eligible_if_corrected: no penalty if corrected by {deadline} ({ART_33}: first time, "
                            "minor — a listed item, not major —, corrected by the deadline, no harmful consequence — the report "
                            "discloses none, the inspector confirms)"))
    return ScreeningResult(screening_id=sid, shortcoming=shortcoming, outcome="eligible_if_corrected", item_code=item.code if item else None,
                           provision_code=provision, duty=duty, deadline=deadline, trace=trace)


def _first_time(provision: str, shortcoming: Shortcoming, submission_id: UUID, rules: NoPenaltyList, cases: Sequence[EarlierCase],
                screenings: Sequence[EarlierScreening], screened_on: date, observed_on: date, reasons: list[str],
                trace: list[TraceEntry]) -> str | None:
    """Cases of the provision and corrected screenings of the shortcoming within the lookback: each one a reason;
    uncorrected earlier screenings continue. Returns the earliest that makes it a repeat, described."""
    years = rules.rules_first_time.lookback_years
    since = lookback_start(screened_on, years)
    window = "over the whole history" if since is None else f"within {years} years (since {since})"
    within = [c for c in cases if c.found_on <= screened_on and (since is None or c.found_on >= since)]
    others = [s for s in screenings if s.submission_id != str(submission_id) and s.screened_on <= screened_on
              and (since is None or s.screened_on >= since)]
    case_ids = {c.case_id for c in within}
    repeats: list[tuple[date, str]] = []
    for case in sorted(within, key=lambda c: c.found_on):
        what = f"earlier case {case.case_code or case.case_id} of {case.found_on}"
        reasons.append(f"repeat: {what}")
        repeats.append((case.found_on, what))
    corrected = [s for s in others if s.corrected_before(observed_on) and s.case_id not in case_ids]
    after = [s for s in others if s.rectification_status == "cleared" and s not in corrected and s.case_id not in case_ids]
    for earlier in after:  # the report describes the day before that correction: not a new breach
        trace.append(TraceEntry(rule="first time 初次", detail=f"{earlier.describe()} was corrected on {earlier.corrected_on}, after the "
                                f"day this report describes ({observed_on}): not a repeat"))
    for earlier in sorted(corrected, key=lambda s: s.screened_on):
        what = f"{earlier.describe()}, corrected on {earlier.corrected_on}"
        reasons.append(f"repeat: {what}")
        repeats.append((earlier.screened_on, what))
    if repeats:
        trace.append(TraceEntry(rule="first time 初次", detail=f"{'; '.join(what for _, what in repeats)} ({provision}, {window}) → not first time"))
    else:
        outside = len(cases) - len(within)
        older = f"; {outside} earlier case(s) outside the lookback do not count" if outside else ""
        trace.append(TraceEntry(rule="first time 初次", detail=f"no earlier case of {provision} and no corrected earlier screening of "
                                f"{shortcoming.code} for this employer {window}{older} → first time"))
    for earlier in sorted((s for s in others if not s.corrected_before(screened_on)), key=lambda s: s.screened_on):
        status = earlier.rectification_status or "not yet raised"
        trace.append(TraceEntry(rule="continues 延续", detail=f"{earlier.describe()} not corrected before this screening day "
                                f"(rectification {status}): this finding continues that report's, not a repeat"))
    return min(repeats)[1] if repeats else None
