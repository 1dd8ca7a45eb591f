"""Versioned rule data for the classification (国疾控综监督二函〔2022〕50号 附件1–3).

Every table the classification uses lives in a JSON rule-set file, never in code, so that an
agency can drop the official tables into its rules folder (``OHS_RULES_DIR``) without a release.
One file is one rule set for one jurisdiction (GB/T 2260 code, or ``CN`` for national) from one
effective date; :class:`RuleBook` picks the one that applies to a region on a day. The files are
read by ``services.assessment.adapters.rules``; this module only describes and uses them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared import i18n
from shared.contracts import CATEGORIES, Category, HazardGrade, ManagementGrade, Nature, RuleSetRef
from shared.identifiers import region_problem
from shared.jurisdiction import NATIONAL, jurisdiction_covers
from shared.rules_in_force import FromRuleFile, NoApplicableRules, RuleDataError, in_force  # noqa: F401  (errors re-exported)

Exposure = Literal["符合", "不符合"]  # 接触水平: within / over the occupational exposure limit

HAZARD_GRADES: tuple[HazardGrade, ...] = ("Ⅰ", "Ⅱ", "Ⅲ")  # ascending risk
MANAGEMENT_GRADES: tuple[ManagementGrade, ...] = ("A", "B", "C")  # best to worst
NATURES: tuple[Nature, ...] = ("一般", "严重")
EXPOSURES: tuple[Exposure, ...] = ("符合", "不符合")
TABLE_NAMES: dict[str, str] = {  # each table of a rule set by its name in Chinese (a term of shared/i18n terms.po)
    "hazard_grading": "职业病危害风险分级表",
    "aggregation": "风险等级汇总方法",
    "factor_catalogue": "危害因素目录",
    "test_validity": "检测周期",
    "management_bands": "管理状况分级",
    "self_check_checklist": "自查表",
    "category_matrix": "综合风险类别矩阵",
}


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provisional: bool
    source: str | None = None


# --------------------------------------------------------------------------- 附件1 附表1-1


class HeadcountBand(BaseModel):
    """接触人数 band, inclusive at both ends; ``max`` None means unbounded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=1)
    min: int = Field(ge=0)
    max: int | None = None

    def contains(self, headcount: int) -> bool:
        return headcount >= self.min and (self.max is None or headcount <= self.max)


class GradingRow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nature: Nature
    exposure: Exposure
    grades: dict[str, HazardGrade]  # headcount band label -> grade


class HazardGrading(_Table):
    """附件1 附表1-1: nature × exposure × headcount band → Ⅰ/Ⅱ/Ⅲ."""

    headcount_bands: list[HeadcountBand]
    table: list[GradingRow]

    @field_validator("headcount_bands")
    @classmethod
    def _bands_partition_headcounts(cls, bands: list[HeadcountBand]) -> list[HeadcountBand]:
        if not bands:
            raise ValueError("at least one headcount band is required")
        labels = [band.label for band in bands]
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise ValueError(f"duplicate headcount band labels: {', '.join(duplicates)}")
        ordered = sorted(bands, key=lambda band: band.min)
        for band in ordered:
            if band.max is not None and band.max < band.min:
                raise ValueError(f"band {band.label!r} ends ({band.max}) before it starts ({band.min})")
        if ordered[0].min != 0:
            raise ValueError(f"headcounts 0–{ordered[0].min - 1} fall in no band: the lowest band {ordered[0].label!r} starts at {ordered[0].min}")
        for lower, upper in zip(ordered, ordered[1:]):
            if lower.max is None or upper.min <= lower.max:
                raise ValueError(f"bands overlap: {upper.label!r} starts at {upper.min} but {lower.label!r} ends at {lower.max if lower.max is not None else 'no upper bound'}")
            if upper.min > lower.max + 1:
                raise ValueError(f"headcounts {lower.max + 1}–{upper.min - 1} fall in no band (gap between {lower.label!r} and {upper.label!r})")
        if ordered[-1].max is not None:
            raise ValueError(f"headcounts above {ordered[-1].max} fall in no band: the highest band {ordered[-1].label!r} must have no max")
        return ordered

    @model_validator(mode="after")
    def _table_complete(self) -> "HazardGrading":
        labels = {band.label for band in self.headcount_bands}
        seen: set[tuple[str, str]] = set()
        for row in self.table:
            cell = (row.nature, row.exposure)
            if cell in seen:
                raise ValueError(f"table has row {row.nature} × {row.exposure} twice")
            seen.add(cell)
            missing = [label for label in (b.label for b in self.headcount_bands) if label not in row.grades]
            if missing:
                raise ValueError(f"table row {row.nature} × {row.exposure} misses band(s) {', '.join(missing)}")
            unknown = sorted(set(row.grades) - labels)
            if unknown:
                raise ValueError(f"table row {row.nature} × {row.exposure} names unknown band(s) {', '.join(unknown)}")
        for nature in NATURES:
            for exposure in EXPOSURES:
                if (nature, exposure) not in seen:
                    raise ValueError(f"table misses row {nature} × {exposure}")
        return self

    def band_for(self, headcount: int) -> HeadcountBand:
        return next(band for band in self.headcount_bands if band.contains(headcount))

    def grade(self, nature: Nature, exposure: Exposure, band: HeadcountBand) -> HazardGrade:
        row = next(row for row in self.table if row.nature == nature and row.exposure == exposure)
        return row.grades[band.label]


class Aggregation(_Table):
    """How factor grades combine into the employer's grade (provisional: the highest)."""

    method: Literal["highest"]


class FactorCatalogue(_Table):
    """Factor name → nature (高毒物品目录, GBZ 2.1 G1, dust rule); a partial list until the official one is loaded."""

    factors: dict[str, Nature]

    @field_validator("factors")
    @classmethod
    def _names_trimmed(cls, factors: dict[str, Nature]) -> dict[str, Nature]:
        for name in factors:
            if not name.strip() or name != name.strip():
                raise ValueError(f"factor name {name!r} is empty or has surrounding spaces")
        return factors

    def nature_of(self, factor: str) -> Nature | None:
        return self.factors.get(factor.strip())


# --------------------------------------------------------------------------- 附件2


class ManagementBand(BaseModel):
    """A grade applies from ``min`` (inclusive) up to the next better grade's ``min``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grade: ManagementGrade
    min: float = Field(ge=0, le=100)


class ManagementBands(_Table):
    """附件2: self-check score (0–100) → A/B/C."""

    bands: list[ManagementBand]

    @field_validator("bands")
    @classmethod
    def _one_band_per_grade(cls, bands: list[ManagementBand]) -> list[ManagementBand]:
        grades = [band.grade for band in bands]
        for grade in MANAGEMENT_GRADES:
            if grades.count(grade) != 1:
                raise ValueError(f"grade {grade} must have exactly one band, found {grades.count(grade)}")
        ordered = sorted(bands, key=lambda band: MANAGEMENT_GRADES.index(band.grade))
        for better, worse in zip(ordered, ordered[1:]):
            if worse.min >= better.min:
                raise ValueError(f"bands overlap: {worse.grade} starts at {worse.min:g}, not below {better.grade}'s {better.min:g}")
        if ordered[-1].min != 0:
            raise ValueError(f"scores 0–{ordered[-1].min:g} fall in no band: the lowest band {ordered[-1].grade} must start at 0")
        return ordered

    def band_for(self, score: float) -> ManagementBand:
        return next(band for band in self.bands if score >= band.min)

    def upper_bound(self, band: ManagementBand) -> float | None:
        """The ``min`` of the next better band (exclusive upper bound), None for the best band."""
        index = self.bands.index(band)
        return self.bands[index - 1].min if index > 0 else None


class ChecklistItem(BaseModel):
    """One item of the 附件2 self-check checklist (自查表); ``veto`` items cap the management grade at C when not fully earned."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="item id, e.g. 2.1")
    title: str = Field(min_length=1)
    points: float = Field(gt=0, description="分值: full points of the item")
    veto: bool = False  # 否决项: none confirmed, ship none enabled


class ChecklistSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    items: list[ChecklistItem] = Field(min_length=1)


CHECKLIST_TOTAL = Decimal(100)  # 附件2: the checklist is worth 100 points (confirmed)


class SelfCheckChecklist(_Table):
    """附件2 职业卫生管理状况自查表: sections of items whose points sum to exactly 100."""

    sections: list[ChecklistSection] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids_unique_and_total_100(self) -> "SelfCheckChecklist":
        for kind, ids in (("section", [s.id for s in self.sections]), ("item", [i.id for i in self.items()])):
            duplicates = sorted({one for one in ids if ids.count(one) > 1})
            if duplicates:
                raise ValueError(f"duplicate {kind} id(s) {', '.join(duplicates)}")
        total = sum((Decimal(str(item.points)) for item in self.items()), Decimal(0))
        if total != CHECKLIST_TOTAL:
            raise ValueError(f"item points sum to {total.normalize():f}, must be exactly {CHECKLIST_TOTAL:f}")
        return self

    def items(self) -> list[ChecklistItem]:
        """Every item, in checklist order."""
        return [item for section in self.sections for item in section.items]

    def item(self, item_id: str) -> ChecklistItem | None:
        return next((item for item in self.items() if item.id == item_id), None)


# --------------------------------------------------------------------------- 附件1: test validity


class ExposureTestValidity(_Table):
    """附件1: a factor needs a test result within the legal interval (检测周期), else it counts as 不符合.

    The interval is the serious one when the employer has any 严重 factor (yearly), the general one otherwise."""

    enabled: bool
    serious_interval_months: int = Field(gt=0, description="严重 employer: testing at least yearly")
    general_interval_months: int = Field(gt=0, description="一般 employer: testing at least every 3 years")

    @model_validator(mode="after")
    def _serious_not_longer(self) -> "ExposureTestValidity":
        if self.serious_interval_months > self.general_interval_months:
            raise ValueError(
                f"serious_interval_months ({self.serious_interval_months}) is longer than general_interval_months "
                f"({self.general_interval_months}): a 严重 employer cannot be tested less often"
            )
        return self

    def interval_months(self, any_serious: bool) -> int:
        return self.serious_interval_months if any_serious else self.general_interval_months


# --------------------------------------------------------------------------- 附件3


class CategoryMatrix(_Table):
    """附件3: hazard grade × management grade → 甲/乙/丙."""

    cells: dict[HazardGrade, dict[ManagementGrade, Category]]

    @field_validator("cells")
    @classmethod
    def _complete_and_monotone(cls, cells: dict[HazardGrade, dict[ManagementGrade, Category]]) -> dict:
        missing = [f"{h} × {m}" for h in HAZARD_GRADES for m in MANAGEMENT_GRADES if m not in cells.get(h, {})]
        if missing:
            raise ValueError(f"matrix misses cell(s) {', '.join(missing)}")
        rank = CATEGORIES.index
        for h_index, hazard in enumerate(HAZARD_GRADES):
            for m_index, management in enumerate(MANAGEMENT_GRADES):
                here = cells[hazard][management]
                if m_index and rank(here) < rank(cells[hazard][MANAGEMENT_GRADES[m_index - 1]]):
                    raise ValueError(f"matrix is not monotone towards 丙: {hazard} × {management} → {here} is lower than {hazard} × {MANAGEMENT_GRADES[m_index - 1]}")
                if h_index and rank(here) < rank(cells[HAZARD_GRADES[h_index - 1]][management]):
                    raise ValueError(f"matrix is not monotone towards 丙: {hazard} × {management} → {here} is lower than {HAZARD_GRADES[h_index - 1]} × {management}")
        return cells

    def category(self, hazard: HazardGrade, management: ManagementGrade) -> Category:
        return self.cells[hazard][management]


# --------------------------------------------------------------------------- the rule set


class RuleSet(FromRuleFile):
    """One versioned rule set: every table the classification needs, for one jurisdiction."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jurisdiction: str = Field(description="GB/T 2260 code (province / city / county) or CN for national")
    version: str = Field(min_length=1)
    effective_from: date
    provisional: bool = Field(description="true when any table in it is provisional")
    source: str = Field(min_length=1)
    hazard_grading: HazardGrading
    aggregation: Aggregation
    silica_threshold_percent: float = Field(gt=0, le=100, description="dust with free silica ≥ this is 严重")
    factor_catalogue: FactorCatalogue
    test_validity: ExposureTestValidity
    management_bands: ManagementBands
    self_check_checklist: SelfCheckChecklist
    category_matrix: CategoryMatrix

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction(cls, value: str) -> str:
        if value != NATIONAL and (problem := region_problem(value)):
            raise ValueError(f"jurisdiction must be {NATIONAL} or a GB/T 2260 code: {problem}")
        return value

    @model_validator(mode="after")
    def _provisional_flag_consistent(self) -> "RuleSet":
        provisional = self.provisional_tables()
        if self.provisional != bool(provisional):
            tables = ", ".join(provisional) or "none"
            raise ValueError(f"provisional is {str(self.provisional).lower()} but the provisional tables are: {tables}")
        return self

    def tables(self) -> dict[str, _Table]:
        return {
            "hazard_grading": self.hazard_grading,
            "aggregation": self.aggregation,
            "factor_catalogue": self.factor_catalogue,
            "test_validity": self.test_validity,
            "management_bands": self.management_bands,
            "self_check_checklist": self.self_check_checklist,
            "category_matrix": self.category_matrix,
        }

    def provisional_tables(self) -> list[str]:
        return [name for name, table in self.tables().items() if table.provisional]

    def covers(self, region_code: str) -> bool:
        return jurisdiction_covers(self.jurisdiction, region_code)

    def ref(self) -> RuleSetRef:
        return RuleSetRef(
            jurisdiction=self.jurisdiction,
            version=self.version,
            effective_from=self.effective_from,
            provisional=self.provisional,
        )

    def description(self) -> tuple[str, dict[str, Any]]:
        """The rule set as a trace says it: message code and parameters (``shared.i18n``), its source included."""
        params: dict[str, Any] = {
            "jurisdiction": self.jurisdiction, "version": self.version, "effective_from": self.effective_from.isoformat(), "source": self.source,
        }
        provisional = self.provisional_tables()
        if not provisional:
            return "assessment.trace.rule_set.confirmed", params
        return "assessment.trace.rule_set.provisional", {**params, "tables": provisional, "names": [TABLE_NAMES[name] for name in provisional]}

    def describe(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        """The rule set in words (Chinese unless ``locale`` says otherwise)."""
        code, params = self.description()
        return i18n.text(code, params, locale)


# --------------------------------------------------------------------------- the rule book


class RuleBook:
    """Every rule set loaded (the packaged ones and an agency's, see ``adapters.rules.load_rule_book``)."""

    def __init__(self, rule_sets: Iterable[RuleSet]) -> None:
        self._rule_sets = tuple(rule_sets)

    @property
    def rule_sets(self) -> tuple[RuleSet, ...]:
        return self._rule_sets

    def for_region(self, region_code: str, on: date) -> RuleSet:
        """The rule set for ``region_code`` on day ``on``: most specific jurisdiction, then latest effective_from, then highest version."""
        return in_force(self._rule_sets, region_code, on, "rule set covers", "rule sets")
