"""The classification as first written (one helper per step, pydantic models built with validation):
the reference :func:`services.assessment.domain.classifier.classify` must agree with, outcome for
outcome, trace line for trace line (tests/unit/assessment/test_properties.py compares them on random
reports and rule sets). Not used by the service; kept, like ``assign_inspectors_reference`` in the
sampling draw, so that the fast path can be checked against the rule as written.

Pure: no I/O, no clock; every number comes from the :class:`RuleSet`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from services.assessment.domain.checklist import (
    ChecklistScore,
    checklist_problems,
    score_checklist,
    stated_score_problem,
)
from services.assessment.domain.classifier import (
    CHECKLIST_RULE,
    VALIDITY_RULE,
    Classified,
    NatureSource,
    Outcome,
    Rejected,
    ScoreSource,
    TestStatus,
    exposure_test_status,
    months_before,
)
from services.assessment.domain.rules import (
    HAZARD_GRADES,
    MANAGEMENT_GRADES,
    ChecklistItem,
    Exposure,
    ManagementBand,
    RuleSet,
)
from shared.contracts import (
    FactorGrade,
    Hazard,
    HazardGrade,
    LostPoints,
    ManagementGrade,
    Nature,
    Report,
    SelfCheck,
    TraceEntry,
)


@dataclass
class _Trace:
    entries: list[TraceEntry] = field(default_factory=list)

    def add(self, rule: str, detail: str) -> None:
        self.entries.append(TraceEntry(rule=rule, detail=detail))


@dataclass(frozen=True)
class _TestWindow:
    """A test result counts when taken on or after ``earliest`` (assessed_on minus the interval)."""

    assessed_on: date
    months: int
    earliest: date
    employer_nature: Nature  # 严重 when the employer has any 严重 factor


@dataclass(frozen=True)
class _Score:
    value: float
    source: ScoreSource
    lost: list[LostPoints]
    vetoed: list[ChecklistItem]  # enabled 否决项 that lost points


def classify_reference(report: Report, rules: RuleSet) -> Outcome:
    """Classify one report under one rule set, as first written; Rejected lists every reason the report cannot be classified."""
    reasons = _missing_natures(report, rules) + _self_check_problems(report.self_check, rules)
    if reasons:
        return Rejected(reasons=reasons)

    trace = _Trace()
    trace.add("rule set", f"{rules.describe()}; source: {rules.source}")
    natures = [_nature(hazard, rules, trace) for hazard in report.hazards]
    window = _test_window([nature for nature, _ in natures], report.assessed_on, rules, trace)
    factors = [_grade_factor(hazard, nature, window, rules, trace) for hazard, nature in zip(report.hazards, natures)]
    hazard_grade = _aggregate(factors, rules, trace)
    score = _self_check_score(report.self_check, rules, trace)
    management_grade = _management_grade(score, rules, trace)
    category = rules.category_matrix.category(hazard_grade, management_grade)
    trace.add("附件3 综合风险类别 category matrix", f"{hazard_grade} × {management_grade} → {category}")
    _provisional_notes(factors, score.source, rules, trace)
    return Classified(
        hazard_grade=hazard_grade,
        management_grade=management_grade,
        score=score.value,
        category=category,
        factors=factors,
        trace=trace.entries,
        rule_set=rules.ref(),
        score_source=score.source,
        lost_points=score.lost,
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


def _nature(hazard: Hazard, rules: RuleSet, trace: _Trace) -> tuple[Nature, NatureSource]:
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




def _cadence(months: int) -> str:
    if months % 12:
        return f"every {months} months"
    return "yearly" if months == 12 else f"every {months // 12} years"


def _test_window(natures: list[Nature], assessed_on: date, rules: RuleSet, trace: _Trace) -> _TestWindow | None:
    """The legal testing interval: the serious one when the employer has any 严重 factor; None when not checked."""
    validity = rules.test_validity
    if not validity.enabled:
        trace.add(VALIDITY_RULE, "test dates not checked (disabled in the rule set): exposure levels as declared")
        return None
    employer_nature: Nature = "严重" if "严重" in natures else "一般"
    months = validity.interval_months(any_serious=employer_nature == "严重")
    window = _TestWindow(assessed_on, months, months_before(assessed_on, months), employer_nature)
    trace.add(
        VALIDITY_RULE,
        f"{employer_nature} employer ({'has a' if employer_nature == '严重' else 'no'} 严重 factor): a test counts when taken "
        f"within {months} months before {assessed_on.isoformat()}, on or after {window.earliest.isoformat()} ({_cadence(months)})",
    )
    return window




def _exposure(hazard: Hazard, status: TestStatus, window: _TestWindow | None, trace: _Trace) -> Exposure:
    """接触水平 as graded: 不符合 without a valid test, else as declared."""
    declared: Exposure = "符合" if hazard.compliant else "不符合"
    if window is None or status == "not_checked":
        return declared
    cadence = f"({window.employer_nature} employer: {_cadence(window.months)})"
    if status == "missing":
        trace.add(VALIDITY_RULE, f"{hazard.factor}: no test result (tested_on missing) → graded 不符合 (declared {declared})")
        return "不符合"
    if status == "expired":
        trace.add(
            VALIDITY_RULE,
            f"{hazard.factor}: test {hazard.tested_on} is older than {window.months} months before {window.assessed_on} "
            f"{cadence} → graded 不符合 (declared {declared})",
        )
        return "不符合"
    trace.add(
        VALIDITY_RULE,
        f"{hazard.factor}: test {hazard.tested_on} is within {window.months} months before {window.assessed_on} {cadence} → exposure as declared ({declared})",
    )
    return declared


def _grade_factor(
    hazard: Hazard, nature: tuple[Nature, NatureSource], window: _TestWindow | None, rules: RuleSet, trace: _Trace
) -> FactorGrade:
    status = exposure_test_status(hazard.tested_on, window.earliest if window else None)
    exposure = _exposure(hazard, status, window, trace)
    grading = rules.hazard_grading
    band = grading.band_for(hazard.exposed)
    grade = grading.grade(nature[0], exposure, band)
    trace.add(
        "附件1 附表1-1 职业病危害风险分级",
        f"{hazard.factor}: exposure {exposure}, {hazard.exposed} exposed (band {band.label}); {nature[0]} × {exposure} × {band.label} → {grade}",
    )
    return FactorGrade(
        factor=hazard.factor,
        nature=nature[0],
        nature_source=nature[1],
        compliant=exposure == "符合",
        declared_compliant=hazard.compliant,
        test_status=status,
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


# --------------------------------------------------------------------------- 附件2


def _self_check_problems(self_check: SelfCheck, rules: RuleSet) -> list[str]:
    """Checklist answers that cannot be scored, or a stated score that misstates the computed one."""
    if not self_check.items:
        return []
    problems = checklist_problems(self_check.items, rules.self_check_checklist)
    if problems or self_check.score is None:
        return problems
    problem = stated_score_problem(self_check.score, score_checklist(self_check.items, rules.self_check_checklist).score)
    return [problem] if problem else []


def _self_check_score(self_check: SelfCheck, rules: RuleSet, trace: _Trace) -> _Score:
    """The computed score when the items are given (checked against a stated one), else the stated score."""
    checklist = rules.self_check_checklist
    if not self_check.items:
        assert self_check.score is not None  # guaranteed by SelfCheck
        vetoes = [item.id for item in checklist.items() if item.veto]
        unchecked = f"; veto item(s) {', '.join(vetoes)} cannot be checked without the items" if vetoes else ""
        trace.add(CHECKLIST_RULE, f"self-check score {self_check.score:g} as stated (score_source stated); no item-by-item answers{unchecked}")
        return _Score(self_check.score, "stated", [], [])
    result = score_checklist(self_check.items, checklist)
    _trace_checklist(result, self_check.score, trace)
    return _Score(float(result.score), "computed", result.lost, result.vetoed)


def _num(value: Decimal) -> str:
    return f"{value.normalize():f}"  # 89.0 → 89, 87.25 → 87.25


def _trace_checklist(result: ChecklistScore, stated: float | None, trace: _Trace) -> None:
    for lost in result.lost:
        trace.add(CHECKLIST_RULE, f"{lost.item} {lost.title}: earned {lost.earned:g}/{lost.points:g}, lost {lost.points - lost.earned:g}")
    for item in result.not_applicable:
        trace.add(CHECKLIST_RULE, f"{item.id} {item.title}: n/a (不适用), {item.points:g} points removed from both sides")
    if not result.lost:
        trace.add(CHECKLIST_RULE, "every applicable item earned its full points")
    trace.add(
        CHECKLIST_RULE,
        f"applicable total {_num(result.applicable)}, earned {_num(result.earned)} → score {_num(result.earned)}/{_num(result.applicable)} × 100 "
        f"= {result.score:f} (one decimal, half-up; score_source computed)",
    )
    if stated is not None:
        trace.add(CHECKLIST_RULE, f"stated score {stated:g} agrees with the computed {result.score:f} (within 0.05); the computed score applies")


def _band_range(band: ManagementBand, upper: float | None) -> str:
    top = "100" if upper is None else f"{round(upper - 0.1, 1):g}"
    return f"{band.min:g}–{top}"


def _management_grade(score: _Score, rules: RuleSet, trace: _Trace) -> ManagementGrade:
    bands = rules.management_bands
    band = bands.band_for(score.value)
    trace.add(
        "附件2 职业卫生管理状况分级 management bands",
        f"self-check score {score.value:g} in {band.grade} band {_band_range(band, bands.upper_bound(band))} → {band.grade}",
    )
    return _veto_cap(band.grade, score.vetoed, trace)


def _veto_cap(grade: ManagementGrade, vetoed: list[ChecklistItem], trace: _Trace) -> ManagementGrade:
    """An enabled veto item (否决项) that lost points caps the management grade at the worst grade (C)."""
    if not vetoed:
        return grade
    worst = MANAGEMENT_GRADES[-1]
    items = ", ".join(f"{item.id} {item.title}" for item in vetoed)
    outcome = f"management grade capped at {worst} (was {grade})" if grade != worst else f"management grade stays {worst}"
    trace.add("附件2 否决项 veto", f"veto item(s) {items} did not earn full points → {outcome}")
    return worst


# --------------------------------------------------------------------------- provisional notes


def _provisional_notes(factors: list[FactorGrade], score_source: ScoreSource, rules: RuleSet, trace: _Trace) -> None:
    """One note per provisional table the decision used."""
    used = {
        "hazard_grading": True,
        "aggregation": True,
        "factor_catalogue": any(f.nature_source != "free_silica" for f in factors),
        "test_validity": True,
        "management_bands": True,
        "self_check_checklist": score_source == "computed",
        "category_matrix": True,
    }
    for name, table in rules.tables().items():
        if used[name] and table.provisional:
            source = f" ({table.source})" if table.source else ""
            trace.add("provisional", f"{name}{source} is provisional: it awaits the official attachment and may change")
