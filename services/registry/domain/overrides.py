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

from shared.contracts import CATEGORIES  # 综合风险类别, lowest risk first
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
    """None of the employer's industry codes is in the catalogue: no industry default can be given."""


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
    trace: tuple[tuple[str, str], ...]  # (rule, detail), as a classification trace

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
        raise NoIndustryMatch("no industry codes: an industry default needs the employer's GB/T 4754-2017 codes")
    label = f"{catalogue.jurisdiction} {catalogue.version}"
    matches, unmatched, trace = [], [], []
    for code in dict.fromkeys(industry_codes):  # in the order given, once each
        entry = match_industry(catalogue.entries, code)
        if entry is None:
            unmatched.append(code)
            trace.append(("industry catalogue", f"{code}: not in the industry catalogue {label}"))
            continue
        matches.append(IndustryMatch(code, entry))
        note = " (provisional)" if entry.provisional else ""
        trace.append(("industry catalogue", f"{code} → {entry.code} {entry.name}: {entry.nature}{note}"))
    if not matches:
        raise NoIndustryMatch(
            f"none of the industry codes {', '.join(industry_codes)} is in the industry catalogue {label}: "
            "no industry default can be given (the employer needs a report)"
        )
    decisive = max(matches, key=lambda m: NATURE_RANK[m.entry.nature])
    nature = decisive.entry.nature
    category = catalogue.category_for_nature[nature]
    if len(matches) > 1:
        trace.append(("highest industry wins", f"{len(matches)} industries: the highest is {nature} ({decisive.entry.code})"))
    trace.append(("industry default", f"{nature} industry → {category} (《建设项目职业病危害风险分类管理目录》, catalogue {label})"))
    if any(m.entry.provisional for m in matches):
        trace.append(("provisional", f"catalogue entries used are provisional: {', '.join(m.entry.code for m in matches if m.entry.provisional)}"))
    return IndustryDefault(category, nature, tuple(matches), tuple(unmatched), tuple(trace))


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


def explain(report_category: str | None, report_ref: str | None, overrides: Iterable[Override]) -> list[str]:
    """The effective category, one line per step, as a supervisor reads it."""
    lines = [f"report {report_ref} → {report_category}"] if report_category is not None else ["no report in the archive"]
    category = report_category
    for override in ordered(o for o in overrides if o.active):
        before = category
        category = effective_category(before, [Override(override.kind, override.version, override.at, override.category, override.steps)])
        lines.append(f"{override.kind} (archive version {override.version}) {before or '—'} → {category}{': ' + override.label if override.label else ''}")
    lines.append(f"effective category {category}" if category else "no category")
    return lines


def to_clear(overrides: Iterable[Override]) -> list[Override]:
    """What a new basis (a newer current report, a new industry classification) clears: every active override."""
    return [o for o in overrides if o.active]


# --------------------------------------------------------------------------- disputes

DisputeStatus = Literal["disputed", "verified", "resubmission_requested"]
DISPUTE_LABELS: dict[str | None, str] = {
    None: "not disputed",
    "disputed": "disputed",
    "verified": "verified on site",
    "resubmission_requested": "resubmission requested",
}


class DisputeStateError(ValueError):
    """The step is not possible in the report's current dispute state."""


def after_dispute(status: str | None, has_report: bool) -> str:
    if not has_report:
        raise DisputeStateError("there is no report to dispute: the archive holds an industry default only")
    if status == "disputed":
        raise DisputeStateError("the current report is already disputed: record the on-site verification first")
    if status == "resubmission_requested":
        raise DisputeStateError("a resubmission is already requested for the current report: wait for the new report")
    return "disputed"


def after_verification(status: str | None, resubmission_requested: bool) -> str:
    if status != "disputed":
        raise DisputeStateError(f"only a disputed report is verified on site (the current report is {DISPUTE_LABELS.get(status, status)})")
    return "resubmission_requested" if resubmission_requested else "verified"
