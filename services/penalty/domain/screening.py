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

from services.penalty.domain import words
from services.penalty.domain.no_penalty import ITEM_CODE_PATTERN, EarlierCase, NoPenaltyList, NoPenaltyRules, lookback_line
from shared import i18n
from shared import rules_in_force as rule_data
from shared.contracts import TraceEntry
from shared.i18n import Message
from shared.contracts.assessment import Shortcoming
from shared.contracts.penalty import ScreeningResult
from shared.identifiers import region_problem
from shared.jurisdiction import NATIONAL, jurisdiction_level
from shared.rules_in_force import FromRuleFile, RuleDataError

# the rule keys a report's shortcomings carry (Shortcoming.rule_key): a self-check item, or one of these kinds
NON_CHECKLIST_KEYS = ("test_missing", "test_expired", "exposure_over_limit", "publicity_short", "submission_late", "first_assessment_late")
CHECKLIST_KEY = re.compile(r"^checklist:[^\s:]{1,32}$")
OUTCOME = {"eligible_if_corrected": "改正后可不予处罚", "not_eligible": "不适用首违不罚", "no_violation": "不构成违法"}  # each a term


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

    def versions(self) -> str:
        """``CN v2021.1`` (or ``CN v2021.1 + 330000 v2022.1``): the same in every language, for a trace."""
        return words.versions(self.composed_of, self.jurisdiction, self.version)

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

    def params(self) -> dict[str, object]:
        """What a text about it names: the report, the screening day, the correction day (ISO dates; null: none)."""
        return {"screening_id": self.screening_id, "submission_id": self.submission_id, "screened_on": self.screened_on.isoformat(),
                "corrected_on": self.corrected_on.isoformat() if self.corrected_on else None}


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
    return TraceEntry.of(words.RULE_DEADLINE, "penalty.screening.trace.deadline", deadline=deadline.isoformat(),
                         days=rules.rules_procedure.rectification_working_days, screened_on=screened_on.isoformat(), list=rules.versions())


def _result(sid: UUID, shortcoming: Shortcoming, outcome: str, trace: list[TraceEntry], **fields: object) -> ScreeningResult:
    """The result, its outcome said by the trace's last line (code, params)."""
    last = trace[-1]
    return ScreeningResult(screening_id=sid, shortcoming=shortcoming, outcome=outcome, trace=trace, code=last.code,  # type: ignore[arg-type]
                           params=dict(last.params), **fields)  # type: ignore[arg-type]


def _screen_one(submission_id: UUID, shortcoming: Shortcoming, duties: ShortcomingMap, rules: NoPenaltyList,
                cases: Sequence[EarlierCase], screenings: Sequence[EarlierScreening], screened_on: date,
                deadline: date, observed_on: date) -> ScreeningResult:
    sid = screening_id(submission_id, shortcoming.code)
    trace = [TraceEntry.of(words.RULE_SHORTCOMING, "penalty.screening.trace.shortcoming", shortcoming=shortcoming.code,
                           text=shortcoming.text, submission_id=str(submission_id))]
    entry = duties.entry(shortcoming.rule_key)
    if entry is None or not entry.violation:
        if entry is None:
            trace.append(TraceEntry.of(words.RULE_MAP, "penalty.screening.trace.map.unnamed", map=duties.versions(),
                                       rule_key=shortcoming.rule_key))
            trace.append(TraceEntry.of(words.RULE_RECOMMENDATION, "penalty.screening.trace.advice.unnamed"))
        else:
            if entry.duty_provision:
                trace.append(TraceEntry.of(words.RULE_MAP, "penalty.screening.trace.map.no_violation", map=duties.versions(),
                                           rule_key=entry.rule_key, duty=entry.duty_provision))
            else:
                trace.append(TraceEntry.of(words.RULE_MAP, "penalty.screening.trace.map.no_violation_no_duty", map=duties.versions(),
                                           rule_key=entry.rule_key))
            trace.append(TraceEntry.of(words.RULE_RECOMMENDATION, "penalty.screening.trace.advice", advice=entry.recommendation))
        trace.append(_deadline_line(rules, screened_on, deadline))
        trace.append(TraceEntry.of(words.RULE_OUTCOME, "penalty.screening.outcome.no_violation", deadline=deadline.isoformat()))
        return _result(sid, shortcoming, "no_violation", trace, deadline=deadline)

    provision = entry.provision_code or ""
    duty = i18n.text("penalty.screening.duty", {"duty": entry.duty_provision, "penalty": entry.penalty_provision})
    mapped = {"map": duties.versions(), "rule_key": entry.rule_key, "duty": entry.duty_provision, "penalty": entry.penalty_provision,
              "provision": provision}
    if entry.item_code:
        trace.append(TraceEntry.of(words.RULE_MAP, "penalty.screening.trace.map.duty", **mapped, item=entry.item_code))
    else:
        trace.append(TraceEntry.of(words.RULE_MAP, "penalty.screening.trace.map.duty_no_item", **mapped))
    if entry.note:
        trace.append(TraceEntry.of(words.RULE_MAP_NOTE, "penalty.screening.trace.map_note", note=entry.note))
    reasons: list[Message] = []
    failed: list[str] = []

    item = rules.item(provision)
    if item is None:
        reasons.append(Message(code="penalty.screening.reason.not_listed", params={"penalty": entry.penalty_provision}))
        failed.append(words.FAIL_LIST)
        trace.append(TraceEntry.of(words.RULE_LIST, "penalty.screening.trace.list.not_listed", list=rules.versions(), provision=provision))
    else:
        trace.append(TraceEntry.of(words.RULE_LIST, "penalty.screening.trace.list.listed", list=rules.versions(), item=item.code,
                                   violation=item.violation))
        if item.precondition:
            trace.append(TraceEntry.of(words.RULE_PRECONDITION, "penalty.trace.list.precondition", item=item.code,
                                       precondition=item.precondition))

    earlier = _first_time(provision, shortcoming, submission_id, rules, cases, screenings, screened_on, observed_on, reasons, trace)
    if earlier is not None:
        failed.append(words.FAIL_REPEAT)

    trace.append(TraceEntry.of(words.RULE_HARM, "penalty.screening.trace.harm"))
    if entry.major:
        reasons.append(Message(code="penalty.screening.reason.major"))
        failed.append(words.FAIL_MAJOR)
        trace.append(TraceEntry.of(words.RULE_MAJOR, "penalty.screening.trace.major", rule_key=entry.rule_key))
    else:
        trace.append(TraceEntry.of(words.RULE_MAJOR, "penalty.screening.trace.not_major"))
    trace.append(_deadline_line(rules, screened_on, deadline))

    fields = dict(item_code=item.code if item else None, provision_code=provision, duty=duty, deadline=deadline)
    if reasons:
        trace.append(TraceEntry.of(words.RULE_OUTCOME, "penalty.screening.outcome.not_eligible", failed=failed, deadline=deadline.isoformat()))
        return _result(sid, shortcoming, "not_eligible", trace, **fields, reasons=words.messages_text(reasons), reason_codes=reasons,
                       earlier=earlier.text() if earlier else None, earlier_message=earlier)
    trace.append(TraceEntry.of(words.RULE_OUTCOME, "penalty.screening.outcome.eligible_if_corrected", deadline=deadline.isoformat()))
    return _result(sid, shortcoming, "eligible_if_corrected", trace, **fields)


def _first_time(provision: str, shortcoming: Shortcoming, submission_id: UUID, rules: NoPenaltyList, cases: Sequence[EarlierCase],
                screenings: Sequence[EarlierScreening], screened_on: date, observed_on: date, reasons: list[Message],
                trace: list[TraceEntry]) -> Message | None:
    """Cases of the provision and corrected screenings of the shortcoming within the lookback: each one a reason;
    uncorrected earlier screenings continue. Returns the earliest that makes it a repeat, as a message."""
    years = rules.rules_first_time.lookback_years
    since = lookback_start(screened_on, years)
    trace.append(lookback_line(years, since))
    within = [c for c in cases if c.found_on <= screened_on and (since is None or c.found_on >= since)]
    others = [s for s in screenings if s.submission_id != str(submission_id) and s.screened_on <= screened_on
              and (since is None or s.screened_on >= since)]
    case_ids = {c.case_id for c in within}
    repeats: list[tuple[date, int, Message]] = []
    for case in sorted(within, key=lambda c: c.found_on):
        what = Message(code="penalty.screening.earlier.case", params={"case": case.case_code or case.case_id, "case_id": case.case_id,
                                                                      "found_on": case.found_on.isoformat()})
        reasons.append(Message(code="penalty.screening.reason.repeat_case", params=what.params))
        trace.append(TraceEntry.of(words.RULE_FIRST_TIME, "penalty.screening.trace.first_time.repeat_case", **what.params, provision=provision))
        repeats.append((case.found_on, len(repeats), what))
    corrected = [s for s in others if s.corrected_before(observed_on) and s.case_id not in case_ids]
    after = [s for s in others if s.rectification_status == "cleared" and s not in corrected and s.case_id not in case_ids]
    for earlier in after:  # the report describes the day before that correction: not a new breach
        trace.append(TraceEntry.of(words.RULE_FIRST_TIME, "penalty.screening.trace.first_time.corrected_after", **earlier.params(),
                                   observed_on=observed_on.isoformat()))
    for earlier in sorted(corrected, key=lambda s: s.screened_on):
        what = Message(code="penalty.screening.earlier.screening", params=earlier.params())
        reasons.append(Message(code="penalty.screening.reason.repeat_screening", params=what.params))
        trace.append(TraceEntry.of(words.RULE_FIRST_TIME, "penalty.screening.trace.first_time.repeat_screening", **what.params,
                                   shortcoming=shortcoming.code))
        repeats.append((earlier.screened_on, len(repeats), what))
    if not repeats:
        outside = len(cases) - len(within)
        if outside:
            trace.append(TraceEntry.of(words.RULE_FIRST_TIME, "penalty.screening.trace.first_time.first_older", provision=provision,
                                       shortcoming=shortcoming.code, count=outside))
        else:
            trace.append(TraceEntry.of(words.RULE_FIRST_TIME, "penalty.screening.trace.first_time.first", provision=provision,
                                       shortcoming=shortcoming.code))
    for earlier in sorted((s for s in others if not s.corrected_before(screened_on)), key=lambda s: s.screened_on):
        trace.append(TraceEntry.of(words.RULE_CONTINUES, "penalty.screening.trace.continues", **earlier.params(),
                                   status=words.named(words.RECTIFICATION_STATUS, earlier.rectification_status)))
    return min(repeats, key=lambda r: (r[0], r[1]))[2] if repeats else None
