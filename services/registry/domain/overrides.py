"""Overrides kept in the archive (RULES §5): pure rules, no I/O.

The **effective category** of an employer is its *basis* — the current report's result, or,
for an employer without a usable report, the industry default — followed by the enforcement
upgrades recorded on that basis, applied in the order they were recorded (time, then archive
version). Every override keeps who, when and why, so the effective category can always be
explained line by line (:func:`explain`).

* **Industry default** (no usable report): the 《建设项目职业病危害风险分类管理目录》 classes
  industries (GB/T 4754-2017) as 严重 or 一般; each of the employer's industry codes is matched to
  the catalogue entry with the **longest code prefix** (C3021 → C302 rather than C30); a 严重
  industry gives 丙, a 一般 one 乙; several industries: **the higher** wins.
* **Enforcement upgrade**: raises the category by 1 or 2 steps (甲 → 乙 → 丙), never beyond 丙; an
  upgrade of a 丙 employer is still recorded (before 丙, after 丙).
* **A new basis clears earlier upgrades.** An upgrade applies to the basis current when it was
  recorded. When a *newer* report becomes current (or a new industry classification replaces
  the previous one), the effective category starts again from that basis: every earlier
  override is cleared — kept in the history, marked with what cleared it — and an open dispute
  is closed. A late report older than the current one goes to history only and clears nothing.
* **Disputed report**: staff mark the current report disputed, verify it on site, and may ask
  the employer to resubmit; the archive then shows "resubmission requested" until a new report
  arrives (:func:`after_dispute`, :func:`after_verification`). A dispute does not change the
  category by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.registry.domain.words import Said, say
from shared import i18n
from shared.contracts import CATEGORIES, TraceEntry  # 综合风险类别, lowest risk first
from shared.problems import Problem
from shared.rules_in_force import FromRuleFile, in_force

NATURE_RANK = {"一般": 0, "严重": 1}
WHAT = "industry catalogue"

# the kinds of archive entries beside the reports themselves
INDUSTRY_DEFAULT = "industry_default"
ENFORCEMENT_UPGRADE = "enforcement_upgrade"
DISPUTE = "dispute"
VERIFICATION = "verification"
CATEGORY_KINDS = (INDUSTRY_DEFAULT, ENFORCEMENT_UPGRADE)  # the ones that set or move the category
MAX_UPGRADE_STEPS = 2


# --------------------------------------------------------------------------- upgrades


def raise_category(category: str, steps: int) -> str:
    """``category`` raised by ``steps`` (at least 1), never beyond 丙."""
    if category not in CATEGORIES:
        raise ValueError(f"{category!r} is not a category ({'/'.join(CATEGORIES)})")
    if not 1 <= steps <= MAX_UPGRADE_STEPS:
        raise ValueError(f"an upgrade raises the category by 1 to {MAX_UPGRADE_STEPS} steps, not {steps}")
    return CATEGORIES[min(CATEGORIES.index(category) + steps, len(CATEGORIES) - 1)]


def higher(a: str, b: str) -> str:
    return a if CATEGORIES.index(a) >= CATEGORIES.index(b) else b


# --------------------------------------------------------------------------- the industry catalogue


class IndustryEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(description="GB/T 4754-2017 code or prefix: a section letter then up to 4 digits")
    name: str = Field(min_length=1)
    nature: Literal["严重", "一般"]
    provisional: bool

    @field_validator("code")
    @classmethod
    def _gb_t_4754(cls, code: str) -> str:
        if not (1 <= len(code) <= 5 and code[0].isalpha() and code[0].isupper() and code[1:].isdigit()):
            raise ValueError(f"{code!r} is not a GB/T 4754-2017 code (a letter then up to 4 digits, e.g. C302)")
        return code


class IndustryCatalogue(FromRuleFile):
    """One version of the catalogue for a jurisdiction (``services/registry/rules/industries-*.json``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["industry_catalogue"]
    jurisdiction: str
    version: str
    effective_from: date
    source: str
    note: str | None = None
    standard: str = "GB/T 4754-2017"
    category_for_nature: dict[Literal["严重", "一般"], Literal["甲", "乙", "丙"]]
    entries: tuple[IndustryEntry, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> IndustryCatalogue:
        missing = {"严重", "一般"} - set(self.category_for_nature)
        if missing:
            raise ValueError(f"category_for_nature needs a category for {', '.join(sorted(missing))}")
        codes = [e.code for e in self.entries]
        doubled = sorted({c for c in codes if codes.count(c) > 1})
        if doubled:
            raise ValueError(f"entries: code {', '.join(doubled)} listed more than once")
        return self

    @property
    def ref(self) -> dict[str, object]:
        """What an archive entry records about the catalogue it used."""
        return {
            "jurisdiction": self.jurisdiction,
            "version": self.version,
            "effective_from": self.effective_from.isoformat(),
            "provisional": any(e.provisional for e in self.entries),
            "source": self.source,
        }


class NoIndustryMatch(ValueError):
    """None of the employer's industry codes is in the catalogue: no industry default can be given.
    ``code`` and ``params`` say why (``text(locale)``); ``str()`` is the English text (logs)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.code, self.params = problem.code, problem.params

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        return i18n.text(self.code, self.params, locale)


@dataclass(frozen=True)
class IndustryMatch:
    industry_code: str  # the employer's code
    entry: IndustryEntry  # the catalogue entry with the longest matching prefix


@dataclass(frozen=True)
class IndustryDefault:
    category: str
    nature: str
    matches: tuple[IndustryMatch, ...]
    unmatched: tuple[str, ...]
    trace: tuple[TraceEntry, ...]  # as a classification trace: the rule, the Chinese detail, its code and parameters

    @property
    def provisional(self) -> bool:
        return any(m.entry.provisional for m in self.matches)


def match_industry(entries: Iterable[IndustryEntry], industry_code: str) -> IndustryEntry | None:
    """The entry whose code is the longest prefix of ``industry_code`` (C3021 → C302, not C30), or None."""
    candidates = [e for e in entries if industry_code.startswith(e.code)]
    return max(candidates, key=lambda e: len(e.code)) if candidates else None


def industry_default(catalogue: IndustryCatalogue, industry_codes: Sequence[str]) -> IndustryDefault:
    """The category of an employer without a usable report, from its industries (the higher wins)."""
    if not industry_codes:
        raise NoIndustryMatch(Problem("registry.industry.no_codes"))
    label = f"{catalogue.jurisdiction} {catalogue.version}"
    matches: list[IndustryMatch] = []
    unmatched: list[str] = []
    trace: list[TraceEntry] = []
    for code in dict.fromkeys(industry_codes):  # in the order given, once each
        entry = match_industry(catalogue.entries, code)
        if entry is None:
            unmatched.append(code)
            trace.append(TraceEntry.of(RULE_CATALOGUE, "registry.industry.trace.unmatched", industry_code=code, catalogue=label))
            continue
        matches.append(IndustryMatch(code, entry))
        trace.append(TraceEntry.of(
            RULE_CATALOGUE, "registry.industry.trace.matched_provisional" if entry.provisional else "registry.industry.trace.matched",
            industry_code=code, entry_code=entry.code, entry_name=entry.name, nature=entry.nature,
        ))
    if not matches:
        raise NoIndustryMatch(Problem("registry.industry.no_match", industry_codes=list(industry_codes), catalogue=label))
    decisive = max(matches, key=lambda m: NATURE_RANK[m.entry.nature])
    nature = decisive.entry.nature
    category = catalogue.category_for_nature[nature]
    if len(matches) > 1:
        trace.append(TraceEntry.of(RULE_HIGHEST, "registry.industry.trace.highest", count=len(matches), nature=nature,
                                   entry_code=decisive.entry.code))
    trace.append(TraceEntry.of(RULE_DEFAULT, "registry.industry.trace.default", nature=nature, category=category, catalogue=label))
    if any(m.entry.provisional for m in matches):
        trace.append(TraceEntry.of(RULE_PROVISIONAL, "registry.industry.trace.provisional",
                                   codes=[m.entry.code for m in matches if m.entry.provisional]))
    return IndustryDefault(category, nature, tuple(matches), tuple(unmatched), tuple(trace))


# the rules an industry default's trace names (the name of the rule, as a supervisor reads it)
RULE_CATALOGUE = "行业目录"  # the match of each industry code in the catalogue
RULE_HIGHEST = "就高原则"  # several industries: the higher nature wins
RULE_DEFAULT = "行业默认分类"  # the nature's category
RULE_PROVISIONAL = "暂定条目"  # entries not confirmed yet


class IndustryCatalogues:
    """Every loaded catalogue (``adapters.rules.load_industry_catalogues``: the packaged ones plus
    ``<OHS_RULES_DIR>/industries/*.json``); the one in force for a region on a day."""

    def __init__(self, catalogues: Iterable[IndustryCatalogue]) -> None:
        self._catalogues = tuple(catalogues)

    def in_force(self, region_code: str, on: date) -> IndustryCatalogue:
        return in_force(self._catalogues, region_code, on, "industry catalogue for", "catalogues")


# --------------------------------------------------------------------------- the effective category


@dataclass(frozen=True)
class Override:
    """One override as the fold sees it."""

    kind: str  # industry_default | enforcement_upgrade
    version: int  # the archive version it was given (recording order)
    at: datetime
    category: str | None = None  # industry_default: the category it sets
    steps: int = 0  # enforcement_upgrade
    active: bool = True  # False once a new basis cleared it
    label: str = ""  # who and why, for explain()


def ordered(overrides: Iterable[Override]) -> list[Override]:
    """In the order they were recorded: time, then archive version (the tie-break)."""
    return sorted(overrides, key=lambda o: (o.at, o.version))


def effective_category(report_category: str | None, overrides: Iterable[Override]) -> str | None:
    """The report's result (None: no report), then every active override in order."""
    category = report_category
    for override in ordered(o for o in overrides if o.active):
        if override.kind == INDUSTRY_DEFAULT:
            category = override.category
        elif override.kind == ENFORCEMENT_UPGRADE:
            if category is None:
                raise ValueError("an enforcement upgrade needs a category to raise")
            category = raise_category(category, override.steps)
    return category


KIND_WORDS = {INDUSTRY_DEFAULT: "registry.override.kind.industry_default", ENFORCEMENT_UPGRADE: "registry.override.kind.enforcement_upgrade",
              DISPUTE: "registry.override.kind.dispute", VERIFICATION: "registry.override.kind.verification"}


def kind_words(kind: str) -> Said | str:
    """An archive entry's kind in words (行业默认分类, 执法升级 …)."""
    return say(KIND_WORDS[kind]) if kind in KIND_WORDS else kind


def explanation(report_category: str | None, report_ref: str | None, overrides: Iterable[Override]) -> list[Said]:
    """The effective category, one line per step, as a supervisor reads it (each line a message)."""
    lines = [say("registry.explain.report", report=report_ref or "", category=report_category)] if report_category is not None \
        else [say("registry.explain.no_report")]
    category = report_category
    for override in ordered(o for o in overrides if o.active):
        before = category
        category = effective_category(before, [Override(override.kind, override.version, override.at, override.category, override.steps)])
        step = {"kind": kind_words(override.kind), "version": override.version, "before": before or "—", "after": category or "—"}
        lines.append(say("registry.explain.step_label", **step, label=override.label) if override.label else say("registry.explain.step", **step))
    lines.append(say("registry.explain.effective", category=category) if category else say("registry.explain.none"))
    return lines


def explain(report_category: str | None, report_ref: str | None, overrides: Iterable[Override], locale: str = i18n.DEFAULT_LOCALE) -> list[str]:
    """:func:`explanation` in ``locale`` (Chinese by default)."""
    return [line.text(locale) for line in explanation(report_category, report_ref, overrides)]


def to_clear(overrides: Iterable[Override]) -> list[Override]:
    """What a new basis (a newer current report, a new industry classification) clears: every active override."""
    return [o for o in overrides if o.active]


# --------------------------------------------------------------------------- disputes

DisputeStatus = Literal["disputed", "verified", "resubmission_requested"]
DISPUTE_CODES: dict[str | None, str] = {
    None: "registry.dispute.none",
    "disputed": "registry.dispute.disputed",
    "verified": "registry.dispute.verified",
    "resubmission_requested": "registry.dispute.resubmission_requested",
}


def dispute_label(status: str | None, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """A report's dispute state in words: 无异议, 有异议, 已现场核实, 已要求重新提交 (English on request)."""
    code = DISPUTE_CODES.get(status)
    return i18n.text(code, locale=locale) if code else str(status)


DISPUTE_LABELS: dict[str | None, str] = {status: dispute_label(status) for status in DISPUTE_CODES}  # in Chinese


class DisputeStateError(ValueError):
    """The step is not possible in the report's current dispute state. ``code`` and ``params`` say why
    (``text(locale)``); ``str()`` is the English text (logs)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.code, self.params = problem.code, problem.params

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        return i18n.text(self.code, self.params, locale)


def after_dispute(status: str | None, has_report: bool) -> str:
    if not has_report:
        raise DisputeStateError(Problem("registry.dispute.refused.no_report"))
    if status == "disputed":
        raise DisputeStateError(Problem("registry.dispute.refused.already_disputed"))
    if status == "resubmission_requested":
        raise DisputeStateError(Problem("registry.dispute.refused.resubmission_requested"))
    return "disputed"


def after_verification(status: str | None, resubmission_requested: bool) -> str:
    if status != "disputed":
        code = {"verified": "registry.dispute.refused.verified",
                "resubmission_requested": "registry.dispute.refused.resubmission_pending"}.get(status or "", "registry.dispute.refused.not_disputed")
        raise DisputeStateError(Problem(code))
    return "resubmission_requested" if resubmission_requested else "verified"
