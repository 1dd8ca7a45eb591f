"""The classification as first written (one helper per step, pydantic models built with validation):
the reference :func:`services.assessment.domain.classifier.classify` must agree with, outcome for
outcome, trace line for trace line (tests/unit/assessment/test_properties.py compares them on random
reports and rule sets). Not used by the service; kept, like ``assign_inspectors_reference`` in the
sampling draw, so that the fast path can be checked against the rule as written.

Pure: no I/O, no clock; every number comes from the :class:`RuleSet`. Every line is written from its
message code and parameters by :meth:`TraceEntry.of` (``detail`` rendered by ``shared.i18n.text``), each
parameter worked out here again rather than taken from the fast path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from services.assessment.domain.checklist import (
    ChecklistScore,
    checklist_messages,
    score_checklist,
    stated_score_message,
)
from services.assessment.domain.classifier import (
    BANDS_RULE,
    CHECKLIST_RULE,
    GRADING_RULE,
    MATRIX_RULE,
    NATURE_RULE,
    PROVISIONAL_RULE,
    RULE_SET_RULE,
    VALIDITY_RULE,
    VETO_RULE,
    Classified,
    NatureSource,
    Outcome,
    ScoreSource,
    TestStatus,
    aggregation_rule,
    exposure_test_status,
    months_before,
    rejected,
)
from services.assessment.domain.rules import (
    HAZARD_GRADES,
    MANAGEMENT_GRADES,
    TABLE_NAMES,
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
from shared.i18n import Message


@dataclass
class _Trace:
    entries: list[TraceEntry] = field(default_factory=list)

    def add(self, rule: str, code: str, **params: Any) -> None:
        self.entries.append(TraceEntry.of(rule, code, **params))


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
        return rejected(reasons)

    trace = _Trace()
    _rule_set_line(rules, trace)
    natures = [_nature(hazard, rules, trace) for hazard in report.hazards]
    window = _test_window([nature for nature, _ in natures], report.assessed_on, rules, trace)
    factors = [_grade_factor(hazard, nature, window, rules, trace) for hazard, nature in zip(report.hazards, natures)]
    hazard_grade = _aggregate(factors, rules, trace)
    score = _self_check_score(report.self_check, rules, trace)
    management_grade = _management_grade(score, rules, trace)
    category = rules.category_matrix.category(hazard_grade, management_grade)
    trace.add(MATRIX_RULE, "assessment.trace.matrix", hazard=hazard_grade, management=management_grade, category=category)
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


def _rule_set_line(rules: RuleSet, trace: _Trace) -> None:
    values: dict[str, Any] = {"jurisdiction": rules.jurisdiction, "version": rules.version,
                              "effective_from": rules.effective_from.isoformat(), "source": rules.source}
    provisional = [name for name, table in rules.tables().items() if table.provisional]
    if provisional:
        trace.add(RULE_SET_RULE, "assessment.trace.rule_set.provisional", **values, tables=provisional,
                  names=[TABLE_NAMES[name] for name in provisional])
    else:
        trace.add(RULE_SET_RULE, "assessment.trace.rule_set.confirmed", **values)


def _missing_natures(report: Report, rules: RuleSet) -> list[Message]:
    """A factor outside the catalogue (and not settled by free silica) needs a declared nature."""
    return [
        Message(code="assessment.reject.factor_not_catalogued", params={
            "field": f"hazards[{i}].factor", "factor": hazard.factor, "jurisdiction": rules.jurisdiction, "version": rules.version,
            "nature_field": f"hazards[{i}].nature", "serious": "严重", "general": "一般"})
        for i, hazard in enumerate(report.hazards)
        if not _silica_serious(hazard, rules) and rules.factor_catalogue.nature_of(hazard.factor) is None and hazard.nature is None
    ]


def _silica_serious(hazard: Hazard, rules: RuleSet) -> bool:
    return hazard.free_silica_percent is not None and hazard.free_silica_percent >= rules.silica_threshold_percent


def _nature(hazard: Hazard, rules: RuleSet, trace: _Trace) -> tuple[Nature, NatureSource]:
    """(nature, nature_source): free silica ≥ threshold, else the catalogue, else the declared nature."""
    factor = hazard.factor
    if _silica_serious(hazard, rules):
        trace.add(NATURE_RULE, "assessment.trace.nature.free_silica", factor=factor, percent=hazard.free_silica_percent,
                  threshold=rules.silica_threshold_percent, nature="严重")
        return "严重", "free_silica"
    catalogued = rules.factor_catalogue.nature_of(factor)
    if catalogued is not None:
        if hazard.nature is not None and hazard.nature != catalogued:
            trace.add(NATURE_RULE, "assessment.trace.nature.conflict", factor=factor, declared=hazard.nature, catalogued=catalogued)
        trace.add(NATURE_RULE, "assessment.trace.nature.catalogue", factor=factor, nature=catalogued)
        return catalogued, "catalogue"
    assert hazard.nature is not None  # guaranteed by _missing_natures
    trace.add(NATURE_RULE, "assessment.trace.nature.declared", factor=factor, nature=hazard.nature)
    return hazard.nature, "declared"


def _test_window(natures: list[Nature], assessed_on: date, rules: RuleSet, trace: _Trace) -> _TestWindow | None:
    """The legal testing interval: the serious one when the employer has any 严重 factor; None when not checked."""
    validity = rules.test_validity
    if not validity.enabled:
        trace.add(VALIDITY_RULE, "assessment.trace.validity.not_checked")
        return None
    employer_nature: Nature = "严重" if "严重" in natures else "一般"
    months = validity.interval_months(any_serious=employer_nature == "严重")
    window = _TestWindow(assessed_on, months, months_before(assessed_on, months), employer_nature)
    code = "assessment.trace.validity.window_serious" if employer_nature == "严重" else "assessment.trace.validity.window_general"
    trace.add(VALIDITY_RULE, code, nature=employer_nature, months=months, assessed_on=assessed_on.isoformat(), earliest=window.earliest.isoformat())
    return window




def _exposure(hazard: Hazard, status: TestStatus, window: _TestWindow | None, trace: _Trace) -> Exposure:
    """接触水平 as graded: 不符合 without a valid test, else as declared."""
    declared: Exposure = "符合" if hazard.compliant else "不符合"
    if window is None or status == "not_checked":
        return declared
    if status == "missing":
        trace.add(VALIDITY_RULE, "assessment.trace.validity.missing", factor=hazard.factor, exposure="不符合", declared=declared)
        return "不符合"
    assert hazard.tested_on is not None
    test = {"factor": hazard.factor, "tested_on": hazard.tested_on.isoformat(), "months": window.months,
            "assessed_on": window.assessed_on.isoformat(), "nature": window.employer_nature}
    if status == "expired":
        trace.add(VALIDITY_RULE, "assessment.trace.validity.expired", **test, exposure="不符合", declared=declared)
        return "不符合"
    trace.add(VALIDITY_RULE, "assessment.trace.validity.valid", **test, declared=declared)
    return declared


def _grade_factor(
    hazard: Hazard, nature: tuple[Nature, NatureSource], window: _TestWindow | None, rules: RuleSet, trace: _Trace
) -> FactorGrade:
    status = exposure_test_status(hazard.tested_on, window.earliest if window else None)
    exposure = _exposure(hazard, status, window, trace)
    grading = rules.hazard_grading
    band = grading.band_for(hazard.exposed)
    grade = grading.grade(nature[0], exposure, band)
    trace.add(GRADING_RULE, "assessment.trace.grading.factor", factor=hazard.factor, exposure=exposure, exposed=hazard.exposed,
              band=band.label, nature=nature[0], grade=grade)
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
    trace.add(aggregation_rule(rules.aggregation.method), "assessment.trace.aggregation.highest", grade=deciding.grade,
              factor=deciding.factor, index=deciding_index)
    return deciding.grade


# --------------------------------------------------------------------------- 附件2


def _self_check_problems(self_check: SelfCheck, rules: RuleSet) -> list[Message]:
    """Checklist answers that cannot be scored, or a stated score that misstates the computed one."""
    if not self_check.items:
        return []
    problems = checklist_messages(self_check.items, rules.self_check_checklist)
    if problems or self_check.score is None:
        return problems
    problem = stated_score_message(self_check.score, score_checklist(self_check.items, rules.self_check_checklist).score)
    return [problem] if problem else []


def _self_check_score(self_check: SelfCheck, rules: RuleSet, trace: _Trace) -> _Score:
    """The computed score when the items are given (checked against a stated one), else the stated score."""
    checklist = rules.self_check_checklist
    if not self_check.items:
        assert self_check.score is not None  # guaranteed by SelfCheck
        vetoes = [item.id for item in checklist.items() if item.veto]
        if vetoes:
            trace.add(CHECKLIST_RULE, "assessment.trace.checklist.stated_veto_unchecked", score=self_check.score, vetoes=vetoes)
        else:
            trace.add(CHECKLIST_RULE, "assessment.trace.checklist.stated", score=self_check.score)
        return _Score(self_check.score, "stated", [], [])
    result = score_checklist(self_check.items, checklist)
    _trace_checklist(result, self_check.score, trace)
    return _Score(float(result.score), "computed", result.lost, result.vetoed)


def _num(value: Decimal) -> str:
    return f"{value.normalize():f}"  # 89.0 → 89, 87.25 → 87.25


def _trace_checklist(result: ChecklistScore, stated: float | None, trace: _Trace) -> None:
    for lost in result.lost:
        trace.add(CHECKLIST_RULE, "assessment.trace.checklist.lost", item=lost.item, title=lost.title, earned=lost.earned,
                  points=lost.points, lost=lost.points - lost.earned)
    for item in result.not_applicable:
        trace.add(CHECKLIST_RULE, "assessment.trace.checklist.not_applicable", item=item.id, title=item.title, points=item.points)
    if not result.lost:
        trace.add(CHECKLIST_RULE, "assessment.trace.checklist.full")
    trace.add(CHECKLIST_RULE, "assessment.trace.checklist.score", applicable=_num(result.applicable), earned=_num(result.earned),
              score=f"{result.score:f}")
    if stated is not None:
        trace.add(CHECKLIST_RULE, "assessment.trace.checklist.stated_agrees", stated=stated, score=f"{result.score:f}")


def _band_range(band: ManagementBand, upper: float | None) -> tuple[float, float]:
    return band.min, 100 if upper is None else round(upper - 0.1, 1)


def _management_grade(score: _Score, rules: RuleSet, trace: _Trace) -> ManagementGrade:
    bands = rules.management_bands
    band = bands.band_for(score.value)
    low, high = _band_range(band, bands.upper_bound(band))
    trace.add(BANDS_RULE, "assessment.trace.bands", score=score.value, grade=band.grade, low=low, high=high)
    return _veto_cap(band.grade, score.vetoed, trace)


def _veto_cap(grade: ManagementGrade, vetoed: list[ChecklistItem], trace: _Trace) -> ManagementGrade:
    """An enabled veto item (否决项) that lost points caps the management grade at the worst grade (C)."""
    if not vetoed:
        return grade
    worst = MANAGEMENT_GRADES[-1]
    items = [f"{item.id} {item.title}" for item in vetoed]
    if grade != worst:
        trace.add(VETO_RULE, "assessment.trace.veto.capped", items=items, grade=worst, was=grade)
    else:
        trace.add(VETO_RULE, "assessment.trace.veto.stays", items=items, grade=worst)
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
            if table.source:
                trace.add(PROVISIONAL_RULE, "assessment.trace.provisional.with_source", table=name, name=TABLE_NAMES[name], source=table.source)
            else:
                trace.add(PROVISIONAL_RULE, "assessment.trace.provisional.plain", table=name, name=TABLE_NAMES[name])
