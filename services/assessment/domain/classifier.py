"""The classification (综合风险分类): report (附件4) + rule set → 甲/乙/丙 with a readable trace.

1. 附件1: each hazard factor gets a nature (严重/一般), an exposure level (符合/不符合) and a
   headcount band, hence a grade Ⅰ/Ⅱ/Ⅲ from 附表1-1; the employer's hazard grade aggregates them.
2. 附件2: the self-check score gives the management grade A/B/C.
3. 附件3: the matrix cell (hazard grade, management grade) gives the category.

Pure: no I/O, no clock; every number comes from the :class:`RuleSet`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.contracts import (
    Category,
    FactorGrade,
    Hazard,
    HazardGrade,
    ManagementGrade,
    Nature,
    Report,
    RuleSetRef,
    TraceEntry,
)
from services.assessment.domain.rules import HAZARD_GRADES, Exposure, ManagementBand, RuleSet


@dataclass(frozen=True)
class Classified:
    hazard_grade: HazardGrade  # 职业病危害风险等级
    management_grade: ManagementGrade  # 职业卫生管理状况等级
    score: float
    category: Category  # 综合风险类别
    factors: list[FactorGrade]
    trace: list[TraceEntry]
    rule_set: RuleSetRef


@dataclass(frozen=True)
class Rejected:
    reasons: list[str]


Outcome = Classified | Rejected


@dataclass
class _Trace:
    entries: list[TraceEntry] = field(default_factory=list)

    def add(self, rule: str, detail: str) -> None:
        self.entries.append(TraceEntry(rule=rule, detail=detail))


def classify(report: Report, rules: RuleSet) -> Outcome:
    """Classify one report under one rule set; Rejected lists every reason the report cannot be classified."""
    reasons = _missing_natures(report, rules)
    if reasons:
        return Rejected(reasons=reasons)

    trace = _Trace()
    trace.add("rule set", f"{rules.describe()}; source: {rules.source}")
    factors = [_grade_factor(hazard, rules, trace) for hazard in report.hazards]
    hazard_grade = _aggregate(factors, rules, trace)
    score = report.self_check.score
    management_grade = _management_grade(score, rules, trace)
    category = rules.category_matrix.category(hazard_grade, management_grade)
    trace.add("附件3 综合风险类别 category matrix", f"{hazard_grade} × {management_grade} → {category}")
    _provisional_notes(factors, rules, trace)
    return Classified(
        hazard_grade=hazard_grade,
        management_grade=management_grade,
        score=score,
        category=category,
        factors=factors,
        trace=trace.entries,
        rule_set=rules.ref(),
    )


# --------------------------------------------------------------------------- 附件1: per factor


def _missing_natures(report: Report, rules: RuleSet) -> list[str]:
    """A factor outside the catalogue (and not settled by free silica) needs a declared nature."""
    return [
        f"hazards[{i}].factor: {hazard.factor!r} is not in the factor catalogue of rule set "
        f"{rules.jurisdiction} {rules.version}; hazards[{i}].nature must be declared (严重 or 一般)"
        for i, hazard in enumerate(report.hazards)
        if not _silica_serious(hazard, rules) and rules.factor_catalogue.nature_of(hazard.factor) is None and hazard.nature is None
    ]


def _silica_serious(hazard: Hazard, rules: RuleSet) -> bool:
    return hazard.free_silica_percent is not None and hazard.free_silica_percent >= rules.silica_threshold_percent


def _nature(hazard: Hazard, rules: RuleSet, trace: _Trace) -> tuple[Nature, str]:
    """(nature, nature_source): free silica ≥ threshold, else the catalogue, else the declared nature."""
    rule = "附件1 危害因素性质 nature"
    if _silica_serious(hazard, rules):
        trace.add(rule, f"{hazard.factor}: free silica {hazard.free_silica_percent:g}% ≥ {rules.silica_threshold_percent:g}% → 严重 (source: free_silica)")
        return "严重", "free_silica"
    catalogued = rules.factor_catalogue.nature_of(hazard.factor)
    if catalogued is not None:
        if hazard.nature is not None and hazard.nature != catalogued:
            trace.add(rule, f"{hazard.factor}: declared {hazard.nature}, catalogue says {catalogued}; catalogue applies")
        trace.add(rule, f"{hazard.factor}: {catalogued} (source: catalogue)")
        return catalogued, "catalogue"
    assert hazard.nature is not None  # guaranteed by _missing_natures
    trace.add(rule, f"{hazard.factor}: not in the catalogue; declared {hazard.nature} applies (source: declared)")
    return hazard.nature, "declared"


def _grade_factor(hazard: Hazard, rules: RuleSet, trace: _Trace) -> FactorGrade:
    nature, source = _nature(hazard, rules, trace)
    exposure: Exposure = "符合" if hazard.compliant else "不符合"
    grading = rules.hazard_grading
    band = grading.band_for(hazard.exposed)
    grade = grading.grade(nature, exposure, band)
    trace.add(
        "附件1 附表1-1 职业病危害风险分级",
        f"{hazard.factor}: exposure {exposure}, {hazard.exposed} exposed (band {band.label}); {nature} × {exposure} × {band.label} → {grade}",
    )
    return FactorGrade(
        factor=hazard.factor,
        nature=nature,
        nature_source=source,
        compliant=hazard.compliant,
        exposed=hazard.exposed,
        headcount_band=band.label,
        grade=grade,
    )


def _aggregate(factors: list[FactorGrade], rules: RuleSet, trace: _Trace) -> HazardGrade:
    """method "highest": the employer takes the highest factor grade; on a tie the first listed factor decides."""
    deciding_index, deciding = max(enumerate(factors), key=lambda pair: (HAZARD_GRADES.index(pair[1].grade), -pair[0]))
    trace.add(
        f"附件1 aggregation ({rules.aggregation.method})",
        f"employer hazard grade {deciding.grade} (Ⅲ > Ⅱ > Ⅰ), deciding factor {deciding.factor} (hazards[{deciding_index}]); "
        "on a tie the first listed factor with the highest grade decides",
    )
    return deciding.grade


# --------------------------------------------------------------------------- 附件2, provisional notes


def _band_range(band: ManagementBand, upper: float | None) -> str:
    top = "100" if upper is None else f"{round(upper - 0.1, 1):g}"
    return f"{band.min:g}–{top}"


def _management_grade(score: float, rules: RuleSet, trace: _Trace) -> ManagementGrade:
    bands = rules.management_bands
    band = bands.band_for(score)
    trace.add(
        "附件2 职业卫生管理状况分级 management bands",
        f"self-check score {score:g} in {band.grade} band {_band_range(band, bands.upper_bound(band))} → {band.grade}",
    )
    return band.grade


def _provisional_notes(factors: list[FactorGrade], rules: RuleSet, trace: _Trace) -> None:
    """One note per provisional table the decision used."""
    used = {
        "hazard_grading": True,
        "aggregation": True,
        "factor_catalogue": any(f.nature_source != "free_silica" for f in factors),
        "management_bands": True,
        "category_matrix": True,
    }
    for name, table in rules.tables().items():
        if used[name] and table.provisional:
            source = f" ({table.source})" if table.source else ""
            trace.add("provisional", f"{name}{source} is provisional: it awaits the official attachment and may change")
