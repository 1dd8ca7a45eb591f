"""The classification (综合风险分类): report (附件4) + rule set → 甲/乙/丙 with a readable trace.

1. 附件1: each hazard factor gets a nature (严重/一般), an exposure level (符合/不符合, 不符合 when
   its test result is missing or older than the legal interval) and a headcount band, hence a
   grade Ⅰ/Ⅱ/Ⅲ from 附表1-1; the employer's hazard grade aggregates them.
2. 附件2: the self-check score (stated, or computed from the checklist answers) gives the
   management grade A/B/C; an enabled veto item not fully earned caps it at C.
3. 附件3: the matrix cell (hazard grade, management grade) gives the category.

Pure: no I/O, no clock; every number comes from the :class:`RuleSet`.

Speed (docs/performance.md): whatever depends only on the rule set — the catalogue, the 附表1-1
cells with their trace text, the band edges, the matrix, the provisional notes — is worked out once
per rule set (:class:`_Tables`) and each report only looks it up; the result's models are built
from values already checked (:func:`model_maker`). The rule as first written is kept as
``classifier_reference.classify_reference``; the tests compare the two on random reports.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from services.assessment.domain.checklist import (
    ChecklistScore,
    checklist_problems,
    score_checked_checklist,
    stated_score_problem,
)
from services.assessment.domain.rules import (
    HAZARD_GRADES,
    MANAGEMENT_GRADES,
    ManagementBand,
    RuleSet,
)
from shared.dates import add_months
from shared.contracts import (
    Category,
    FactorGrade,
    HazardGrade,
    LostPoints,
    ManagementGrade,
    Nature,
    Report,
    RuleSetRef,
    TraceEntry,
)

ScoreSource = Literal["stated", "computed"]  # 自查得分: as stated in the report, or computed from the items
TestStatus = Literal["valid", "missing", "expired", "not_checked"]  # 检测结果有效性
NatureSource = Literal["catalogue", "declared", "free_silica"]

CHECKLIST_RULE = "附件2 自查表 self-check checklist"
VALIDITY_RULE = "附件1 检测周期 test validity"


@dataclass(frozen=True)
class Classified:
    hazard_grade: HazardGrade  # 职业病危害风险等级
    management_grade: ManagementGrade  # 职业卫生管理状况等级
    score: float  # 自查得分 out of 100
    category: Category  # 综合风险类别
    factors: list[FactorGrade]
    trace: list[TraceEntry]
    rule_set: RuleSetRef
    score_source: ScoreSource
    lost_points: list[LostPoints]  # checklist items that earned less than their points (失分项); n/a is not lost


@dataclass(frozen=True)
class Rejected:
    reasons: list[str]


Outcome = Classified | Rejected


NATURE_RULE = "附件1 危害因素性质 nature"
GRADING_RULE = "附件1 附表1-1 职业病危害风险分级"
BANDS_RULE = "附件2 职业卫生管理状况分级 management bands"
MATRIX_RULE = "附件3 综合风险类别 category matrix"
VETO_RULE = "附件2 否决项 veto"
NOT_CHECKED = "test dates not checked (disabled in the rule set): exposure levels as declared"
_GRADE_RANK = {grade: rank for rank, grade in enumerate(HAZARD_GRADES)}

M = TypeVar("M", bound=BaseModel)


def model_maker(model: type[M]) -> Callable[[dict[str, Any]], M]:
    """Build ``model`` instances from a dict of every field's value, already of the field's type.

    What ``model.model_construct(**values)`` gives when every field is given (no validation, the dict
    becomes the instance's ``__dict__``), without its per-call bookkeeping: the classifier builds
    some twenty models per report from values it has checked already. Only for models without
    private attributes or extra fields; tests/unit/assessment/test_classifier.py checks the instances
    equal, dump and print like the validated ones."""
    if model.__private_attributes__ or model.model_config.get("extra") == "allow":
        raise TypeError(f"{model.__name__}: model_maker is for plain models (no private attributes, no extra fields)")
    every_field = set(model.model_fields)  # shared: it already holds every field, pydantic only ever adds to it
    new, set_attribute = object.__new__, object.__setattr__

    def make(values: dict[str, Any]) -> M:
        instance = new(model)
        set_attribute(instance, "__dict__", values)
        set_attribute(instance, "__pydantic_fields_set__", every_field)
        set_attribute(instance, "__pydantic_extra__", None)
        set_attribute(instance, "__pydantic_private__", None)
        return instance

    return make


_trace_entry = model_maker(TraceEntry)
_factor_grade = model_maker(FactorGrade)
_rule_set_ref = model_maker(RuleSetRef)


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier, clamped to month end (2024-02-29 − 12 → 2023-02-28)."""
    return add_months(day, -months)


def _cadence(months: int) -> str:
    if months % 12:
        return f"every {months} months"
    return "yearly" if months == 12 else f"every {months // 12} years"


def exposure_test_status(tested_on: date | None, earliest: date | None) -> TestStatus:
    """A test taken on or after ``earliest`` is valid; ``earliest`` None: test validity is not checked."""
    if earliest is None:
        return "not_checked"
    if tested_on is None:
        return "missing"
    return "expired" if tested_on < earliest else "valid"


def _band_range(band: ManagementBand, upper: float | None) -> str:
    top = "100" if upper is None else f"{round(upper - 0.1, 1):g}"
    return f"{band.min:g}–{top}"


# --------------------------------------------------------------------------- what depends on the rule set alone


class _Tables:
    """One rule set's tables as the classifier looks them up, trace text included; built once per rule set."""

    WINDOWS_KEPT = 4096  # (assessed_on, employer nature) → test window: a few years of assessment days

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.rule_set_detail = f"{rules.describe()}; source: {rules.source}"
        self.rule_set_name = f"{rules.jurisdiction} {rules.version}"
        self.silica = rules.silica_threshold_percent
        self.silica_text = f"{rules.silica_threshold_percent:g}"
        self.catalogue: dict[str, Nature] = dict(rules.factor_catalogue.factors)  # names are stripped (validated)
        grading = rules.hazard_grading
        bands = grading.headcount_bands  # sorted by min, from 0, contiguous, the last one open (validated)
        self.band_mins = [band.min for band in bands]
        self.band_labels = [band.label for band in bands]
        self.cells: dict[tuple[str, str, str], tuple[HazardGrade, str]] = {}
        for row in reversed(grading.table):  # the first row for (nature, exposure) wins, as in HazardGrading.grade
            for label, grade in row.grades.items():
                self.cells[(row.nature, row.exposure, label)] = (grade, f"; {row.nature} × {row.exposure} × {label} → {grade}")
        self.aggregation_rule = f"附件1 aggregation ({rules.aggregation.method})"
        validity = rules.test_validity
        self.validity_enabled = validity.enabled
        self.months = {"严重": validity.interval_months(any_serious=True), "一般": validity.interval_months(any_serious=False)}
        self.windows: dict[tuple[date, str], tuple[date, str, str]] = {}
        vetoes = [item.id for item in rules.self_check_checklist.items() if item.veto]
        self.unchecked = f"; veto item(s) {', '.join(vetoes)} cannot be checked without the items" if vetoes else ""
        management = rules.management_bands
        self.bands = [
            (band.min, band.grade, f"{band.grade} band {_band_range(band, management.upper_bound(band))} → {band.grade}")
            for band in management.bands
        ]
        self.categories = {
            (hazard, grade): (category, f"{hazard} × {grade} → {category}")
            for hazard, row in rules.category_matrix.cells.items()
            for grade, category in row.items()
        }
        self.ref = rules.ref().model_dump()
        self.notes = {
            (catalogue_used, computed): tuple(
                f"{name}{f' ({table.source})' if table.source else ''} is provisional: it awaits the official attachment and may change"
                for name, table in rules.tables().items()
                if table.provisional
                and (catalogue_used or name != "factor_catalogue")
                and (computed or name != "self_check_checklist")
            )
            for catalogue_used in (False, True)
            for computed in (False, True)
        }

    def window(self, assessed_on: date, employer_nature: str) -> tuple[date, str, str]:
        """(earliest valid test day, the window's trace line, "N months before <day> (<nature> employer: <cadence>)")."""
        key = (assessed_on, employer_nature)
        found = self.windows.get(key)
        if found is None:
            months = self.months[employer_nature]
            earliest = months_before(assessed_on, months)
            detail = (
                f"{employer_nature} employer ({'has a' if employer_nature == '严重' else 'no'} 严重 factor): a test counts when taken "
                f"within {months} months before {assessed_on.isoformat()}, on or after {earliest.isoformat()} ({_cadence(months)})"
            )
            found = (earliest, detail, f"{months} months before {assessed_on} ({employer_nature} employer: {_cadence(months)})")
            if len(self.windows) >= self.WINDOWS_KEPT:
                self.windows.clear()
            self.windows[key] = found
        return found


_TABLES: dict[int, tuple[RuleSet, _Tables]] = {}
_TABLES_KEPT = 64  # rule sets whose tables are kept (a rule book holds a handful)


def _tables(rules: RuleSet) -> _Tables:
    held = _TABLES.get(id(rules))
    if held is not None and held[0] is rules:
        return held[1]
    tables = _Tables(rules)
    if len(_TABLES) >= _TABLES_KEPT:
        _TABLES.pop(next(iter(_TABLES)))
    _TABLES[id(rules)] = (rules, tables)  # the rule set is held too: its id is not reused while it is here
    return tables


# --------------------------------------------------------------------------- the classification


def classify(report: Report, rules: RuleSet) -> Outcome:
    """Classify one report under one rule set; Rejected lists every reason the report cannot be classified."""
    tables = _tables(rules)
    hazards = report.hazards

    # 附件1 nature of each factor: free silica ≥ threshold, else the catalogue, else the declared nature
    catalogue, silica = tables.catalogue, tables.silica
    natures: list[tuple[Nature, NatureSource]] = []
    nature_details: list[str] = []
    missing: list[str] = []
    any_serious = catalogue_used = False
    for i, hazard in enumerate(hazards):
        factor = hazard.factor
        free_silica = hazard.free_silica_percent
        if free_silica is not None and free_silica >= silica:
            natures.append(("严重", "free_silica"))
            nature_details.append(f"{factor}: free silica {free_silica:g}% ≥ {tables.silica_text}% → 严重 (source: free_silica)")
            any_serious = True
            continue
        catalogue_used = True
        catalogued = catalogue.get(factor)
        if catalogued is None:
            catalogued = catalogue.get(factor.strip())
        declared = hazard.nature
        if catalogued is not None:
            if declared is not None and declared != catalogued:
                nature_details.append(f"{factor}: declared {declared}, catalogue says {catalogued}; catalogue applies")
            nature_details.append(f"{factor}: {catalogued} (source: catalogue)")
            natures.append((catalogued, "catalogue"))
            any_serious = any_serious or catalogued == "严重"
        elif declared is not None:
            nature_details.append(f"{factor}: not in the catalogue; declared {declared} applies (source: declared)")
            natures.append((declared, "declared"))
            any_serious = any_serious or declared == "严重"
        else:
            missing.append(
                f"hazards[{i}].factor: {factor!r} is not in the factor catalogue of rule set {tables.rule_set_name}; "
                f"hazards[{i}].nature must be declared (严重 or 一般)"
            )

    # 附件2 the checklist answers, when given: checked (and scored) once
    self_check = report.self_check
    checklist = rules.self_check_checklist
    scored: ChecklistScore | None = None
    problems: list[str] = []
    if self_check.items:
        problems = checklist_problems(self_check.items, checklist)
        if not problems:
            scored = score_checked_checklist(self_check.items, checklist)
            if self_check.score is not None and (problem := stated_score_problem(self_check.score, scored.score)):
                problems = [problem]
    if missing or problems:
        return Rejected(reasons=missing + problems)

    entry = _trace_entry
    trace = [entry({"rule": "rule set", "detail": tables.rule_set_detail})]
    add = trace.append
    for detail in nature_details:
        add(entry({"rule": NATURE_RULE, "detail": detail}))

    # 附件1 test validity: the serious interval when the employer has any 严重 factor
    earliest: date | None = None
    tail = ""
    if tables.validity_enabled:
        earliest, window_detail, tail = tables.window(report.assessed_on, "严重" if any_serious else "一般")
        add(entry({"rule": VALIDITY_RULE, "detail": window_detail}))
    else:
        add(entry({"rule": VALIDITY_RULE, "detail": NOT_CHECKED}))

    # 附件1 附表1-1 per factor, and the employer's grade (the highest; the first listed on a tie)
    band_mins, band_labels, cells = tables.band_mins, tables.band_labels, tables.cells
    lowest = band_mins[0]
    factors: list[FactorGrade] = []
    best_rank, deciding_index = -1, 0
    for i, hazard in enumerate(hazards):
        nature, source = natures[i]
        factor = hazard.factor
        compliant = hazard.compliant
        declared_exposure = "符合" if compliant else "不符合"
        if earliest is None:
            status, exposure = "not_checked", declared_exposure
        else:
            tested_on = hazard.tested_on
            if tested_on is None:
                status, exposure = "missing", "不符合"
                detail = f"{factor}: no test result (tested_on missing) → graded 不符合 (declared {declared_exposure})"
            elif tested_on < earliest:
                status, exposure = "expired", "不符合"
                detail = f"{factor}: test {tested_on} is older than {tail} → graded 不符合 (declared {declared_exposure})"
            else:
                status, exposure = "valid", declared_exposure
                detail = f"{factor}: test {tested_on} is within {tail} → exposure as declared ({declared_exposure})"
            add(entry({"rule": VALIDITY_RULE, "detail": detail}))
        exposed = hazard.exposed
        if exposed >= lowest:
            label = band_labels[bisect_right(band_mins, exposed) - 1]
        else:  # below every band: what the rule as written does with it
            label = rules.hazard_grading.band_for(exposed).label
        grade, cell = cells[(nature, exposure, label)]
        add(entry({"rule": GRADING_RULE, "detail": f"{factor}: exposure {exposure}, {exposed} exposed (band {label}){cell}"}))
        factors.append(_factor_grade({
            "factor": factor, "nature": nature, "nature_source": source, "compliant": exposure == "符合",
            "declared_compliant": compliant, "test_status": status, "exposed": exposed, "headcount_band": label, "grade": grade,
        }))
        rank = _GRADE_RANK[grade]
        if rank > best_rank:
            best_rank, deciding_index = rank, i
    if not factors:  # a report always lists a hazard; what the rule as written does without one
        raise ValueError("max() arg is an empty sequence")
    deciding = factors[deciding_index]
    hazard_grade = deciding.grade
    add(entry({
        "rule": tables.aggregation_rule,
        "detail": f"employer hazard grade {hazard_grade} (Ⅲ > Ⅱ > Ⅰ), deciding factor {deciding.factor} (hazards[{deciding_index}]); "
        "on a tie the first listed factor with the highest grade decides",
    }))

    # 附件2 the self-check score: computed from the items when given, else as stated
    if scored is None:
        score: float = self_check.score  # type: ignore[assignment]  # SelfCheck: a score when there are no items
        add(entry({"rule": CHECKLIST_RULE,
                   "detail": f"self-check score {score:g} as stated (score_source stated); no item-by-item answers{tables.unchecked}"}))
        score_source: ScoreSource = "stated"
        lost: list[LostPoints] = []
    else:
        _trace_checklist(scored, self_check.score, add)
        score, score_source, lost = float(scored.score), "computed", scored.lost
    for band_min, band_grade, band_text in tables.bands:
        if score >= band_min:
            break
    else:
        band_grade = rules.management_bands.band_for(score).grade  # no band: what the rule as written does
    add(entry({"rule": BANDS_RULE, "detail": f"self-check score {score:g} in {band_text}"}))
    management_grade: ManagementGrade = band_grade
    if scored is not None and scored.vetoed:  # an enabled 否决项 that lost points caps the grade at the worst (C)
        worst = MANAGEMENT_GRADES[-1]
        items = ", ".join(f"{item.id} {item.title}" for item in scored.vetoed)
        outcome = f"management grade capped at {worst} (was {band_grade})" if band_grade != worst else f"management grade stays {worst}"
        add(entry({"rule": VETO_RULE, "detail": f"veto item(s) {items} did not earn full points → {outcome}"}))
        management_grade = worst

    # 附件3, then one note per provisional table the decision used
    category, cell_detail = tables.categories[(hazard_grade, management_grade)]
    add(entry({"rule": MATRIX_RULE, "detail": cell_detail}))
    for note in tables.notes[(catalogue_used, scored is not None)]:
        add(entry({"rule": "provisional", "detail": note}))
    return Classified(
        hazard_grade=hazard_grade,
        management_grade=management_grade,
        score=score,
        category=category,
        factors=factors,
        trace=trace,
        rule_set=_rule_set_ref(dict(tables.ref)),
        score_source=score_source,
        lost_points=lost,
    )


def _num(value: Decimal) -> str:
    return f"{value.normalize():f}"  # 89.0 → 89, 87.25 → 87.25


def _trace_checklist(result: ChecklistScore, stated: float | None, add: Callable[[TraceEntry], None]) -> None:
    entry = _trace_entry
    for lost in result.lost:
        add(entry({"rule": CHECKLIST_RULE,
                   "detail": f"{lost.item} {lost.title}: earned {lost.earned:g}/{lost.points:g}, lost {lost.points - lost.earned:g}"}))
    for item in result.not_applicable:
        add(entry({"rule": CHECKLIST_RULE, "detail": f"{item.id} {item.title}: n/a (不适用), {item.points:g} points removed from both sides"}))
    if not result.lost:
        add(entry({"rule": CHECKLIST_RULE, "detail": "every applicable item earned its full points"}))
    add(entry({
        "rule": CHECKLIST_RULE,
        "detail": f"applicable total {_num(result.applicable)}, earned {_num(result.earned)} → score {_num(result.earned)}/{_num(result.applicable)} × 100 "
        f"= {result.score:f} (one decimal, half-up; score_source computed)",
    }))
    if stated is not None:
        add(entry({"rule": CHECKLIST_RULE,
                   "detail": f"stated score {stated:g} agrees with the computed {result.score:f} (within 0.05); the computed score applies"}))
