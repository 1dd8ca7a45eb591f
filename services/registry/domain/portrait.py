"""The risk portrait (风险画像, 一企一案, RULES §10): pure rules, no I/O.

An employer's portrait has six dimensions — hazard exposure (危害接触), testing (检测评价), health
examinations (职业健康检查), training (培训), management (管理) and enforcement history (执法记录) —
each with a level (low 低 / medium 中 / high 高) and the concrete shortcomings behind it, each naming
its source (``report <submission_id>`` or ``case <case_code>``) and its date.

It is a pure function of what the registry has heard (:class:`PortraitFacts`) and the rule data in
force (:class:`PortraitRules`, ``services/registry/rules/portrait-*.json``, provisional):

* **Shortcomings.** A shortcoming is in the portrait *from the report that discloses it* (the
  employer's latest report, by assessment date), before any rectification item is raised, and
  stays while its rectification item is not cleared (解除). An item that is not cleared is shown
  whichever report raised it (a later report need not disclose it again). A shortcoming of the
  latest report leaves the portrait when an item of the same code was cleared on or after that
  report's assessment day (the correction came after the assessment that found it); an item
  cleared before it does not hide a later report's finding.
* **Levels.** Each rule key (``Shortcoming.rule_key``: ``checklist:4.3``, ``test_expired`` …)
  maps to a dimension and a weight; a dimension's level is medium from ``medium_at`` and high
  from ``high_at`` (the sum of its open shortcomings' weights), raised to the level the latest
  report's hazard grade gives (hazard exposure) or its management grade gives (management).
* **Enforcement history.** Penalty decisions within ``lookback_years`` of the portrait's date
  (``as_of``: the latest day among its facts, so that the same facts always give the same
  portrait): a penalty gives ``penalty`` (high), a no-penalty decision ``no_penalty`` (medium).

The portrait's content (the rule set and the dimensions) has a canonical hash
(:func:`content_hash`): the registry keeps a new version only when it changes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.registry.domain.words import Parts, Said, say
from shared import i18n
from shared.contracts import TraceEntry
from shared.contracts.registry import render
from shared.dates import add_months
from shared.rules_in_force import FromRuleFile, in_force

WHAT = "portrait rule file"
KIND = "portrait_rules"

Level = Literal["low", "medium", "high"]
LEVELS: tuple[Level, ...] = ("low", "medium", "high")
LEVEL_TITLES: dict[str, str] = {"low": "低", "medium": "中", "high": "高"}  # domain terms (English beside them on request)
DimensionName = Literal["hazard_exposure", "testing", "health_examinations", "training", "management", "enforcement_history"]
DIMENSIONS: tuple[DimensionName, ...] = (
    "hazard_exposure", "testing", "health_examinations", "training", "management", "enforcement_history",
)
ENFORCEMENT: DimensionName = "enforcement_history"
HAZARD_EXPOSURE: DimensionName = "hazard_exposure"
MANAGEMENT: DimensionName = "management"
CLEARED = "cleared"
_RULE_KEY = re.compile(r"^(checklist:[0-9A-Za-z.\-]{1,32}|[a-z_]{1,40})$")


def higher(a: str, b: str) -> str:
    return a if LEVELS.index(a) >= LEVELS.index(b) else b  # type: ignore[arg-type]


def rule_key_of(code: str) -> str:
    """The rule key of a shortcoming code, as ``Shortcoming.rule_key`` gives it: ``checklist:4.3`` → itself,
    ``test_expired:矽尘`` → ``test_expired``, ``publicity_short`` → itself."""
    kind, _, _subject = code.partition(":")
    return code if kind == "checklist" else kind


# --------------------------------------------------------------------------- rule data


class DimensionRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: DimensionName
    title: str = Field(min_length=1, max_length=40, description="the dimension's name as the employer reads it (Chinese)")
    medium_at: int = Field(ge=1, le=1000, description="the sum of weights of open shortcomings from which the level is medium")
    high_at: int = Field(ge=1, le=1000, description="… from which it is high")

    @model_validator(mode="after")
    def _ordered(self) -> DimensionRule:
        if self.high_at < self.medium_at:
            raise ValueError(f"{self.name}: high_at ({self.high_at}) is below medium_at ({self.medium_at})")
        return self


class ShortcomingRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dimension: DimensionName
    weight: int = Field(ge=0, le=100)
    note: str | None = None

    @field_validator("dimension")
    @classmethod
    def _not_enforcement(cls, dimension: str) -> str:
        if dimension == ENFORCEMENT:
            raise ValueError("a report's shortcoming does not go to enforcement_history (that dimension is the penalty decisions)")
        return dimension


class EnforcementRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lookback_years: int = Field(ge=1, le=20, description="decisions within this many years of the portrait's date count")
    penalty: Level
    no_penalty: Level


class NonSiteRule(BaseModel):
    """How a non-site fact (issue 17) weighs in the portrait: its dimension, weight, and how long it counts."""

    model_config = ConfigDict(extra="forbid")

    dimension: DimensionName
    weight: int = Field(ge=0, le=100)
    lookback_days: int = Field(ge=1, le=3650, description="a fact older than this (by its day) no longer counts; an open exceedance always does")
    note: str | None = None


NonSiteKind = Literal["exceedance", "test_not_compliant", "exam_suspected"]


class PortraitRules(FromRuleFile):
    """One version of the portrait rules for a jurisdiction (``services/registry/rules/portrait-*.json``,
    ``$OHS_RULES_DIR/portrait/*.json``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["portrait_rules"]
    jurisdiction: str = Field(min_length=2, max_length=6)
    version: str = Field(min_length=1, max_length=40)
    effective_from: date
    provisional: bool
    source: str = Field(min_length=1)
    note: str | None = None
    dimensions: tuple[DimensionRule, ...]
    shortcomings: dict[str, ShortcomingRule]
    unmapped: ShortcomingRule
    hazard_grade_levels: dict[Literal["Ⅰ", "Ⅱ", "Ⅲ"], Level]
    management_grade_levels: dict[Literal["A", "B", "C"], Level]
    enforcement: EnforcementRule
    nonsite: dict[NonSiteKind, NonSiteRule] = Field(default_factory=dict, description="non-site facts (issue 17): monitoring "
                                                   "exceedances, organisations' test reports and examination summaries; absent: not drawn")

    @field_validator("dimensions")
    @classmethod
    def _six(cls, dimensions: tuple[DimensionRule, ...]) -> tuple[DimensionRule, ...]:
        names = [d.name for d in dimensions]
        if sorted(names) != sorted(DIMENSIONS):
            missing = [n for n in DIMENSIONS if n not in names]
            doubled = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(
                "list each of " + ", ".join(DIMENSIONS) + " once"
                + (f" (missing {', '.join(missing)})" if missing else "") + (f" (twice: {', '.join(doubled)})" if doubled else "")
            )
        return dimensions

    @field_validator("shortcomings")
    @classmethod
    def _rule_keys(cls, shortcomings: dict[str, ShortcomingRule]) -> dict[str, ShortcomingRule]:
        bad = [key for key in shortcomings if not _RULE_KEY.fullmatch(key)]
        if bad:
            raise ValueError(f"{', '.join(bad)}: not a rule key (checklist:<item> or a kind such as test_expired)")
        return shortcomings

    @field_validator("hazard_grade_levels", "management_grade_levels")
    @classmethod
    def _every_grade(cls, grades: dict[str, str]) -> dict[str, str]:
        if len(grades) != 3:
            raise ValueError("give a level for each of the three grades")
        return grades

    def dimension(self, name: str) -> DimensionRule:
        return next(d for d in self.dimensions if d.name == name)

    def rule_for(self, rule_key: str) -> ShortcomingRule:
        return self.shortcomings.get(rule_key, self.unmapped)

    @property
    def ref(self) -> dict[str, Any]:
        """What a portrait records about the rules it used."""
        return {
            "jurisdiction": self.jurisdiction,
            "version": self.version,
            "effective_from": self.effective_from.isoformat(),
            "provisional": self.provisional,
            "source": self.source,
        }


class PortraitRuleBook:
    """Every loaded version (``adapters.rules.load_portrait_rules``); the one in force for a region on a day."""

    def __init__(self, rules: Iterable[PortraitRules]) -> None:
        self._rules = tuple(rules)

    def in_force(self, region_code: str, on: date) -> PortraitRules:
        return in_force(self._rules, region_code, on, "portrait rules for", "portrait rule files")


# --------------------------------------------------------------------------- the facts


@dataclass(frozen=True)
class DisclosedShortcoming:
    code: str
    text: str  # in Chinese, as the report's classification wrote it
    message: dict[str, Any] | None = None  # its message code and parameters ({"code", "params"}), when the event carried them


@dataclass(frozen=True)
class ExposedFactor:
    factor: str
    nature: str
    exposed: int
    compliant: bool


@dataclass(frozen=True)
class ReportFacts:
    """A classified report (``AssessmentClassified``) as the portrait uses it."""

    submission_id: str
    region_code: str
    enterprise_name: str
    assessed_on: date
    classified_on: date  # the China day it was classified
    classified_at: datetime  # orders two reports assessed the same day
    hazard_grade: str
    management_grade: str
    score: float
    factors: tuple[ExposedFactor, ...] = ()
    shortcomings: tuple[DisclosedShortcoming, ...] = ()

    @property
    def source(self) -> str:
        return f"report {self.submission_id}"


@dataclass(frozen=True)
class ItemFacts:
    """A rectification item (``RectificationProgressed``, the registry's 整改 loop) as the portrait uses it."""

    item_id: str
    shortcoming_code: str
    shortcoming_text: str
    submission_id: str  # the report that first disclosed it
    status: str  # after its latest step: open, submitted, returned, cleared, overdue
    raised_on: date | None
    cleared_on: date | None
    last_on: date | None  # the day of its latest step


@dataclass(frozen=True)
class DecisionFacts:
    """A penalty decision (``PenaltyDecided``)."""

    case_id: str
    case_code: str | None
    item_code: str
    decision: str  # penalty | no_penalty
    major: bool
    decided_on: date

    @property
    def source(self) -> str:
        return f"case {self.case_code or self.case_id}"


@dataclass(frozen=True)
class NonSiteFacts:
    """A non-site fact (issue 17): an exceedance episode of online monitoring (``kind`` exceedance, ``status`` open /
    closed), an organisation's test report or examination summary (test_report / exam_summary, status filed)."""

    key: str  # the episode id; org|report_no|factor; org|summary_no
    kind: str
    on: date  # the shift day; tested_on; examined_on
    status: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PortraitFacts:
    reports: tuple[ReportFacts, ...] = ()
    items: tuple[ItemFacts, ...] = ()
    decisions: tuple[DecisionFacts, ...] = ()
    nonsite: tuple[NonSiteFacts, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.reports or self.items or self.decisions or self.nonsite)

    def latest_report(self) -> ReportFacts | None:
        """The current report: the latest assessment (a late-arriving older one does not replace it)."""
        if not self.reports:
            return None
        return max(self.reports, key=lambda r: (r.assessed_on, r.classified_at, r.submission_id))

    def as_of(self) -> date | None:
        """The latest day among the facts: the day the portrait is drawn for (rule data in force, lookback)."""
        days = [r.classified_on for r in self.reports] + [d.decided_on for d in self.decisions]
        days += [day for i in self.items for day in (i.raised_on, i.cleared_on, i.last_on) if day is not None]
        days += [f.on for f in self.nonsite]
        return max(days) if days else None


# --------------------------------------------------------------------------- the portrait


@dataclass(frozen=True)
class Entry:
    """One concrete shortcoming (or finding) behind a dimension's level. ``text`` is in Chinese (hashed with the
    content); ``message`` says it in every language (not hashed: :data:`UNHASHED`)."""

    code: str
    text: str
    source: str  # report <submission_id> or case <case code> (:func:`source_words`)
    since: date
    weight: int = 0  # what it adds to the dimension (not shown)
    message: dict[str, Any] | None = None

    def view(self) -> dict[str, Any]:
        seen: dict[str, Any] = {"code": self.code, "text": self.text, "source": self.source, "since": self.since.isoformat()}
        if self.message is not None:
            seen["message"] = self.message
        return seen


UNHASHED = ("message",)  # an entry's keys that say its text in other words: not part of the content's hash


def _hashed(content: Any) -> Any:
    """The content without the keys that only say the same in other words (an entry's ``message``)."""
    if isinstance(content, dict):
        return {key: _hashed(value) for key, value in content.items() if key not in UNHASHED}
    if isinstance(content, list):
        return [_hashed(value) for value in content]
    return content


@dataclass(frozen=True)
class Dimension:
    name: str
    title: str
    level: str
    entries: tuple[Entry, ...]

    def view(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "level": self.level,
            "level_title": LEVEL_TITLES[self.level],
            "shortcomings": [e.view() for e in self.entries],
        }


@dataclass(frozen=True)
class Portrait:
    as_of: date
    rule_set: dict[str, Any]
    dimensions: tuple[Dimension, ...]
    trace: tuple[TraceEntry, ...] = field(default=())  # why each level, as a supervisor reads it (Chinese, with code and params)

    def content(self) -> dict[str, Any]:
        """What is versioned: the rule set and the dimensions (not the day it was drawn for)."""
        return {"rule_set": self.rule_set, "dimensions": [d.view() for d in self.dimensions]}

    def levels(self) -> dict[str, str]:
        return {d.name: d.level for d in self.dimensions}


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a portrait's content (sorted keys, no spaces, UTF-8), the entries'
    messages left out (they say the Chinese text in other languages: the same content)."""
    canonical = json.dumps(_hashed(content), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _level_for(weight: int, rule: DimensionRule) -> str:
    if weight >= rule.high_at:
        return "high"
    if weight >= rule.medium_at:
        return "medium"
    return "low"


def open_shortcomings(facts: PortraitFacts) -> list[Entry]:
    """The shortcomings in the portrait (see the module docstring), without weights yet, in a fixed order."""
    report = facts.latest_report()
    reports = {r.submission_id: r for r in facts.reports}
    found: dict[str, Entry] = {}
    for item in sorted(facts.items, key=lambda i: (i.raised_on or date.max, i.shortcoming_code, i.item_id)):
        if item.status == CLEARED or item.shortcoming_code in found:
            continue
        disclosed_by = reports.get(item.submission_id)
        since = disclosed_by.assessed_on if disclosed_by is not None else item.raised_on or item.last_on or date.min
        found[item.shortcoming_code] = Entry(item.shortcoming_code, item.shortcoming_text, f"report {item.submission_id}", since,
                                             message=_disclosed_message(reports, item))
    if report is not None:
        for shortcoming in report.shortcomings:
            if shortcoming.code in found:
                continue
            cleared_since = any(
                i.shortcoming_code == shortcoming.code and i.status == CLEARED and i.cleared_on is not None and i.cleared_on >= report.assessed_on
                for i in facts.items
            )
            if not cleared_since:
                found[shortcoming.code] = Entry(shortcoming.code, shortcoming.text, report.source, report.assessed_on, message=shortcoming.message)
    return list(found.values())


def _disclosed_message(reports: dict[str, ReportFacts], item: ItemFacts) -> dict[str, Any] | None:
    """The message of an item's shortcoming, from the report that disclosed it (the item keeps only its text)."""
    report = reports.get(item.submission_id)
    found = next((s for s in report.shortcomings if s.code == item.shortcoming_code), None) if report is not None else None
    return found.message if found is not None and found.text == item.shortcoming_text else None


# The texts of the entries the portrait writes itself are kept exactly as first written (they are hashed with the
# content: another wording would make a new version of every portrait); their messages say them in every language.


def _hazard_entry(report: ReportFacts, level: str) -> Entry:
    over = [f for f in report.factors if not f.compliant]
    factors = "、".join(f"{f.factor}({f.nature}, 接触 {f.exposed} 人{', 不符合' if not f.compliant else ''})" for f in report.factors)
    text = f"职业病危害风险等级 {report.hazard_grade}（{LEVEL_TITLES[level]}）：{factors}" if factors else f"职业病危害风险等级 {report.hazard_grade}"
    if over:
        text += f"；{len(over)} 项因素接触水平不符合"
    listed = [say("registry.portrait.entry.factor" if f.compliant else "registry.portrait.entry.factor_over", factor=f.factor, nature=f.nature,
                  exposed=f.exposed) for f in report.factors]
    grade = {"grade": report.hazard_grade, "level": LEVEL_TITLES[level]}
    message = (say("registry.portrait.entry.hazard_grade_over", **grade, factors=listed, over=len(over)) if over
               else say("registry.portrait.entry.hazard_grade", **grade, factors=listed) if listed
               else say("registry.portrait.entry.hazard_grade_bare", grade=report.hazard_grade))
    return Entry("hazard_grade", text, report.source, report.assessed_on, message=message.message)


def _management_entry(report: ReportFacts, level: str) -> Entry:
    message = say("registry.portrait.entry.management_grade", grade=report.management_grade, level=LEVEL_TITLES[level], score=report.score)
    return Entry(
        "management_grade", f"职业卫生管理状况等级 {report.management_grade}（{LEVEL_TITLES[level]}），自查得分 {report.score:g}",
        report.source, report.assessed_on, message=message.message,
    )


def _decision_entry(decision: DecisionFacts) -> Entry:
    what = "行政处罚" if decision.decision == "penalty" else "不予处罚（责令改正、教育引导）"
    major = "，重大违法" if decision.major else ""
    code = {("penalty", False): "registry.portrait.entry.penalty", ("penalty", True): "registry.portrait.entry.penalty_major",
            ("no_penalty", False): "registry.portrait.entry.no_penalty", ("no_penalty", True): "registry.portrait.entry.no_penalty_major"}
    message = say(code[("penalty" if decision.decision == "penalty" else "no_penalty", decision.major)], item_code=decision.item_code)
    return Entry(f"case:{decision.case_code or decision.case_id}", f"违法事项 {decision.item_code}：{what}{major}", decision.source, decision.decided_on,
                 message=message.message)


def _nonsite_entry(fact: NonSiteFacts, rules: PortraitRules, as_of: date) -> tuple[str, NonSiteRule, Entry] | None:
    """The entry a non-site fact adds to its dimension, or None (not a finding, out of the lookback, or the rules draw none).
    An exceedance episode (open, or closed within the lookback); a test report filed as not compliant; an examination
    summary with suspected occupational disease."""
    d = fact.details
    if fact.kind == "exceedance":
        kind, source = "exceedance", f"monitoring {fact.key}"
        if d.get("measure") == "silent":
            said = say("registry.portrait.entry.exceedance_silent", device_id=d.get("device_id"), factor=d.get("factor"), post=d.get("post"),
                       on=fact.on.isoformat())
        else:
            said = say("registry.portrait.entry.exceedance", factor=d.get("factor"), post=d.get("post"), measure=d.get("measure"),
                       observed=d.get("observed"), limit=d.get("limit"), unit=d.get("unit"), on=fact.on.isoformat(), status=fact.status)
    elif fact.kind == "test_report" and d.get("compliant") is False:
        kind, source = "test_not_compliant", f"organisation {d.get('org_id')}"
        said = say("registry.portrait.entry.test_not_compliant", org_id=d.get("org_id"), report_no=d.get("report_no"), factor=d.get("factor"),
                   post=d.get("post"), result=d.get("result"), on=fact.on.isoformat())
    elif fact.kind == "exam_summary" and int(d.get("suspected_occupational_disease") or 0) > 0:
        kind, source = "exam_suspected", f"organisation {d.get('org_id')}"
        said = say("registry.portrait.entry.exam_suspected", org_id=d.get("org_id"), summary_no=d.get("summary_no"), examined=d.get("examined"),
                   abnormal=d.get("abnormal"), suspected=d.get("suspected_occupational_disease"), on=fact.on.isoformat())
    else:
        return None
    rule = rules.nonsite.get(kind)  # type: ignore[call-overload]
    if rule is None:
        return None
    if not (fact.kind == "exceedance" and fact.status == "open") and (as_of - fact.on).days > rule.lookback_days:
        return None
    return kind, rule, Entry(f"{fact.kind}:{fact.key}", said.text(), source, fact.on, rule.weight, said.message)


# --------------------------------------------------------------------------- the portrait in a reader's language

DIMENSION_WORDS: dict[str, str] = {
    "hazard_exposure": "registry.portrait.dimension.hazard_exposure",
    "testing": "registry.portrait.dimension.testing",
    "health_examinations": "registry.portrait.dimension.health_examinations",
    "training": "registry.portrait.dimension.training",
    "management": "registry.portrait.dimension.management",
    "enforcement_history": "registry.portrait.dimension.enforcement_history",
}


def dimension_said(name: str) -> Said | str:
    """A dimension's name in words (危害接触, 检测评价 …)."""
    return say(DIMENSION_WORDS[name]) if name in DIMENSION_WORDS else name


def source_said(source: str) -> Said | str:
    """An entry's source in words: ``report <id>`` → 评估报告 <id>, ``case <code>`` → 案件 <code>."""
    kind, _, ref = source.partition(" ")
    if kind == "report" and ref:
        return say("registry.portrait.source.report", ref=ref)
    if kind == "case" and ref:
        return say("registry.portrait.source.case", ref=ref)
    if kind in ("monitoring", "organisation") and ref:  # non-site facts (issue 17)
        return say(f"registry.portrait.source.{kind}", ref=ref)
    return source


def source_words(source: str, locale: str = i18n.DEFAULT_LOCALE) -> str:
    said = source_said(source)
    return said.text(locale) if isinstance(said, Said) else said


def entry_text(entry: dict[str, Any], locale: str = i18n.DEFAULT_LOCALE) -> str:
    """A shortcoming of a dimension (``Entry.view()``) in ``locale``: in Chinese as written; in English from its
    message when it has one (an entry of an earlier version has none: as written)."""
    message = entry.get("message")
    if locale == i18n.ZH or not isinstance(message, dict):
        return str(entry.get("text", ""))
    return render(message.get("code"), message.get("params") or {}, str(entry.get("text", "")), locale)


def dimension_in(dimension: dict[str, Any], locale: str = i18n.DEFAULT_LOCALE) -> dict[str, Any]:
    """A dimension (``Dimension.view()``, as a version keeps it) for a reader of ``locale``: Chinese as kept; in
    English its title, level and each shortcoming's text and source in English (the codes unchanged)."""
    if locale == i18n.ZH:
        return dimension
    title = dimension_said(str(dimension.get("name")))
    return {
        **dimension,
        "title": title.text(locale) if isinstance(title, Said) else dimension.get("title"),
        "level_title": i18n.term(LEVEL_TITLES.get(str(dimension.get("level")), str(dimension.get("level"))), locale),
        "shortcomings": [{**entry, "text": entry_text(entry, locale), "source": source_words(str(entry.get("source", "")), locale)}
                         for entry in dimension.get("shortcomings", [])],
    }


def trace_in(trace: Sequence[dict[str, Any]], locale: str = i18n.DEFAULT_LOCALE) -> list[str]:
    """A version's trace (as kept: ``{"rule", "detail", "code"?, "params"?}``) as lines in ``locale``; an entry of an
    earlier version (no code) as written."""
    lines = []
    for entry in trace:
        line = TraceEntry.model_validate(entry)
        lines.append(f"{line.rule}：{line.text(locale)}" if locale == i18n.ZH else f"{i18n.term(line.rule, locale)}: {line.text(locale)}")
    return lines


def draw(facts: PortraitFacts, rules: PortraitRules, as_of: date) -> Portrait:
    """The portrait of ``facts`` under ``rules`` on ``as_of`` (normally ``facts.as_of()``)."""
    trace: list[TraceEntry] = [TraceEntry.of(
        RULE_RULES, "registry.portrait.trace.rules_provisional" if rules.provisional else "registry.portrait.trace.rules",
        jurisdiction=rules.jurisdiction, version=rules.version, effective_from=rules.effective_from.isoformat(), as_of=as_of.isoformat(),
    )]
    report = facts.latest_report()
    by_dimension: dict[str, list[Entry]] = {name: [] for name in DIMENSIONS}
    for entry in open_shortcomings(facts):
        rule = rules.rule_for(rule_key_of(entry.code))
        by_dimension[rule.dimension].append(Entry(entry.code, entry.text, entry.source, entry.since, rule.weight, entry.message))
        if rule_key_of(entry.code) not in rules.shortcomings:
            trace.append(TraceEntry.of(RULE_UNMAPPED, "registry.portrait.trace.unmapped", shortcoming=entry.code,
                                       dimension=rules.dimension(rule.dimension).title, weight=rule.weight))

    counted_nonsite: dict[str, int] = {}
    for fact in sorted(facts.nonsite, key=lambda f: (f.on, f.kind, f.key)):  # non-site facts (issue 17), traced per kind
        drawn = _nonsite_entry(fact, rules, as_of)
        if drawn is not None:
            kind, nonsite_rule, entry = drawn
            by_dimension[nonsite_rule.dimension].append(entry)
            counted_nonsite[kind] = counted_nonsite.get(kind, 0) + 1
    for kind, count in sorted(counted_nonsite.items()):
        nonsite_rule = rules.nonsite[kind]  # type: ignore[index]
        trace.append(TraceEntry.of(RULE_NONSITE, f"registry.portrait.trace.nonsite_{kind}", count=count, weight=nonsite_rule.weight,
                                   dimension=rules.dimension(nonsite_rule.dimension).title, days=nonsite_rule.lookback_days))

    floors: dict[str, tuple[str, Entry | None]] = {}
    if report is not None:
        hazard = rules.hazard_grade_levels.get(report.hazard_grade, "low")  # type: ignore[call-overload]
        management = rules.management_grade_levels.get(report.management_grade, "low")  # type: ignore[call-overload]
        floors[HAZARD_EXPOSURE] = (hazard, _hazard_entry(report, hazard) if hazard != "low" else None)
        floors[MANAGEMENT] = (management, _management_entry(report, management) if management != "low" else None)

    since = add_months(as_of, -12 * rules.enforcement.lookback_years)
    counted = sorted((d for d in facts.decisions if since <= d.decided_on <= as_of), key=lambda d: (d.decided_on, d.case_id))
    enforcement_level = "low"
    for decision in counted:
        enforcement_level = higher(enforcement_level, rules.enforcement.penalty if decision.decision == "penalty" else rules.enforcement.no_penalty)
    by_dimension[ENFORCEMENT] = [_decision_entry(d) for d in counted]
    trace.append(TraceEntry.of(rules.dimension(ENFORCEMENT).title, "registry.portrait.trace.enforcement", count=len(counted),
                               since=since.isoformat(), as_of=as_of.isoformat(), years=rules.enforcement.lookback_years,
                               level=LEVEL_TITLES[enforcement_level]))

    dimensions = []
    for rule in rules.dimensions:
        entries = sorted(by_dimension[rule.name], key=lambda e: (e.since, e.code))
        if rule.name == ENFORCEMENT:
            level = enforcement_level
        else:
            weight = sum(e.weight for e in entries)
            level = _level_for(weight, rule)
            weights = " + ".join(f"{e.weight} ({e.code})" for e in entries) or "0"
            trace.append(TraceEntry.of(rule.title, "registry.portrait.trace.weights", weights=weights, total=weight, medium=rule.medium_at,
                                       high=rule.high_at, level=LEVEL_TITLES[level]))
        floor, floor_entry = floors.get(rule.name, ("low", None))
        if floor_entry is not None:
            entries.insert(0, floor_entry)
            kind, _, ref = floor_entry.source.partition(" ")
            trace.append(TraceEntry.of(rule.title, "registry.portrait.trace.floor_case" if kind == "case" else "registry.portrait.trace.floor",
                                       finding=floor_entry.code, ref=ref, level=LEVEL_TITLES[floor]))
        dimensions.append(Dimension(rule.name, rule.title, higher(level, floor), tuple(entries)))
    return Portrait(as_of, rules.ref, tuple(dimensions), tuple(trace))


# --------------------------------------------------------------------------- what changed


def describe_change(previous: dict[str, Any] | None, current: dict[str, Any], trigger: Said | str) -> Said:
    """Why a new version, in words: ``trigger`` (the event), then each dimension whose level changed and the
    shortcomings that came or went (``previous``/``current``: :meth:`Portrait.content`). ``.text()``: in Chinese."""
    if previous is None:
        levels = [say("registry.portrait.change.level_is", dimension=dimension_said(d["name"]), level=LEVEL_TITLES[d["level"]])
                  for d in current["dimensions"]]
        return say("registry.portrait.reason.first", trigger=trigger, levels=levels)
    before = {d["name"]: d for d in previous["dimensions"]}
    parts: list[Said] = []
    if previous.get("rule_set") != current.get("rule_set"):
        old, new = previous.get("rule_set") or {}, current["rule_set"]
        parts.append(say("registry.portrait.change.rules", old=f"{old.get('jurisdiction')} {old.get('version')}",
                         new=f"{new['jurisdiction']} {new['version']}"))
    for dimension in current["dimensions"]:
        old = before.get(dimension["name"], {"level": "low", "shortcomings": []})
        name = dimension_said(dimension["name"])
        if old["level"] != dimension["level"]:
            parts.append(say("registry.portrait.change.level", dimension=name, before=LEVEL_TITLES[old["level"]],
                             after=LEVEL_TITLES[dimension["level"]]))
        was = {s["code"]: _hashed(s) for s in old["shortcomings"]}
        now = {s["code"]: _hashed(s) for s in dimension["shortcomings"]}
        gone = [code for code in was if code not in now]
        came = [code for code in now if code not in was]
        changed = [code for code in now if code in was and now[code] != was[code]]
        if came:
            parts.append(say("registry.portrait.change.came", dimension=name, codes=came))
        if gone:
            parts.append(say("registry.portrait.change.gone", dimension=name, codes=gone))
        if changed:
            parts.append(say("registry.portrait.change.updated", dimension=name, codes=changed))
    if not parts:
        return say("registry.portrait.reason.unchanged", trigger=trigger)
    return say("registry.portrait.reason.changed", trigger=trigger, changes=Parts(tuple(parts)))


# the rules a portrait's trace names beside the dimensions (the name of the rule, as a supervisor reads it)
RULE_RULES = "画像规则"
RULE_UNMAPPED = "未对应的问题"
RULE_NONSITE = "非现场监管数据"


def summary(dimensions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per dimension: name, level and how many shortcomings (``PortraitChanged.dimensions``)."""
    return [{"name": d["name"], "level": d["level"], "shortcomings": len(d["shortcomings"])} for d in dimensions]
