"""The classification (综合风险分类): report (附件4) + rule set → 甲/乙/丙 with a readable trace.

1. 附件1: each hazard factor gets a nature (严重/一般), an exposure level (符合/不符合, 不符合 when
   its test result is missing or older than the legal interval) and a headcount band, hence a
   grade Ⅰ/Ⅱ/Ⅲ from 附表1-1; the employer's hazard grade aggregates them.
2. 附件2: the self-check score (stated, or computed from the checklist answers) gives the
   management grade A/B/C; an enabled veto item not fully earned caps it at C.
3. 附件3: the matrix cell (hazard grade, management grade) gives the category.

Pure: no I/O, no clock; every number comes from the :class:`RuleSet`.

Words (``shared.i18n``): every trace line is a message code and its parameters, ``detail`` its text
in Chinese (``entry.text("en")`` in English); ``rule`` cites the attachment, in Chinese only. A
rejection's reasons are codes too (:class:`Rejected` ``messages``, the field at fault in
``params["field"]``), ``reasons`` their Chinese texts.

Speed (docs/performance.md): whatever depends only on the rule set — the catalogue, the 附表1-1
cells, the band edges, the matrix, the rule-set line and the provisional notes with their Chinese
text — is worked out once per rule set (:class:`_Tables`) and each report only looks it up. A line's
Chinese text is compiled once per message (and per test window) through ``shared.i18n.text``
(:class:`_ChineseText`), and the lines whose values repeat across reports (factor natures, grades,
scores) are memoised; the result's models are built from values already checked (:func:`model_maker`).
The rule as first written is kept as ``classifier_reference.classify_reference`` (every line rendered
by ``shared.i18n.text``); the tests compare the two on random reports.
"""

from __future__ import annotations

import string
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from services.assessment.domain.checklist import (
    ChecklistScore,
    checklist_messages,
    score_checked_checklist,
    stated_score_message,
)
from services.assessment.domain.rules import (
    HAZARD_GRADES,
    MANAGEMENT_GRADES,
    TABLE_NAMES,
    ManagementBand,
    RuleSet,
)
from shared import i18n
from shared.contracts.assessment import reason_text
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

# the rule each trace line applies, cited as the scheme names it (in Chinese, never translated)
RULE_SET_RULE = "规则集"
NATURE_RULE = "附件1 危害因素性质"
VALIDITY_RULE = "附件1 检测周期"
GRADING_RULE = "附件1 附表1-1 职业病危害风险分级"
AGGREGATION_RULES = {"highest": "附件1 用人单位风险等级（取最高）"}
CHECKLIST_RULE = "附件2 自查表"
BANDS_RULE = "附件2 职业卫生管理状况分级"
VETO_RULE = "附件2 否决项"
MATRIX_RULE = "附件3 综合风险类别"
PROVISIONAL_RULE = "暂行规定"


def aggregation_rule(method: str) -> str:
    return AGGREGATION_RULES.get(method, f"附件1 用人单位风险等级（{method}）")


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
    reasons: list[str]  # in Chinese, each starting with the field at fault: the texts of ``messages``
    messages: list[i18n.Message] = field(default_factory=list)  # the reasons as codes and parameters


def rejected(messages: list[i18n.Message]) -> Rejected:
    return Rejected(reasons=[reason_text(message) for message in messages], messages=messages)


def factor_not_catalogued(index: int, factor: str, rules: RuleSet) -> i18n.Message:
    """A factor outside the catalogue, not settled by free silica, without a declared nature."""
    return i18n.Message(code="assessment.reject.factor_not_catalogued", params={
        "field": f"hazards[{index}].factor", "factor": factor, "jurisdiction": rules.jurisdiction, "version": rules.version,
        "nature_field": f"hazards[{index}].nature", "serious": "严重", "general": "一般",
    })


Outcome = Classified | Rejected


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


def exposure_test_status(tested_on: date | None, earliest: date | None) -> TestStatus:
    """A test taken on or after ``earliest`` is valid; ``earliest`` None: test validity is not checked."""
    if earliest is None:
        return "not_checked"
    if tested_on is None:
        return "missing"
    return "expired" if tested_on < earliest else "valid"


def band_range(band: ManagementBand, upper: float | None) -> tuple[float, float]:
    """(lowest, highest) score of a management band, one decimal: (70, 89.9); the best band ends at 100."""
    return band.min, 100 if upper is None else round(upper - 0.1, 1)


def provisional_note(name: str, source: str | None) -> tuple[str, dict[str, Any]]:
    """The trace line saying a table the decision used is provisional: its code and parameters."""
    params: dict[str, Any] = {"table": name, "name": TABLE_NAMES.get(name, name)}
    if source:
        return "assessment.trace.provisional.with_source", {**params, "source": source}
    return "assessment.trace.provisional.plain", params


def _sign_kept(value: float) -> Any:
    """A float as a memo key: -0.0 equals 0.0 but is written "-0"."""
    return value if value else repr(value)


# --------------------------------------------------------------------------- Chinese texts, compiled once


def _write_list(value: Any) -> str:
    return "、".join(str(item) for item in (value if isinstance(value, (list, tuple)) else [value]))


def _write_number(value: Any) -> str:
    try:
        return format(value, "g")
    except (ValueError, TypeError):
        return str(value)


_DATES: dict[Any, str] = {}  # ISO day → 2023年6月1日: test days and assessment days repeat across reports


def _write_date(value: Any) -> str:
    found = _DATES.get(value)
    if found is None:
        if len(_DATES) >= 8192:
            _DATES.clear()
        found = _DATES[value] = i18n.local_date(value, i18n.ZH)
    return found


# how shared.i18n writes a value in Chinese, per format spec (``{x}``, ``{x:term}``, ``{x:date}``, ``{x:g}``, ``{x:list}``)
_WRITERS: dict[str, Callable[[Any], str]] = {
    "": str, "term": str, "g": _write_number, "list": _write_list, "terms": _write_list, "date": _write_date,
}


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("{", "{{").replace("}", "}}")
    if isinstance(value, list):
        return [_escaped(item) for item in value]
    return value


class _ChineseText:
    """One message's Chinese text, rendered by ``shared.i18n.text`` once with the values known in advance
    (``fixed``: a test window's interval and day) and every other value left as ``{name}``; :meth:`render`
    then writes those as ``shared.i18n`` writes them in Chinese (same spec, same functions). Whenever the
    text cannot be compiled so (a conversion, an unknown spec, a literal brace), it renders with
    ``shared.i18n.text`` each time. tests/unit/assessment/test_properties.py compares the result with the
    reference classifier's, which renders every line with ``shared.i18n.text``."""

    __slots__ = ("code", "fixed", "partial", "writers")

    def __init__(self, code: str, fixed: dict[str, Any] | None = None) -> None:
        self.code, self.fixed = code, dict(fixed or {})
        self.partial: str | None = None
        self.writers: list[tuple[str, Callable[[Any], str]]] = []
        template = i18n.catalogues()[i18n.ZH].get(code)
        if template is None:
            return
        try:
            fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template) if name is not None]
            free: dict[str, str] = {}
            for name, spec, conversion in fields:
                if conversion or spec not in _WRITERS or not name.isidentifier() or free.get(name, spec) != spec:
                    return
                if name not in self.fixed:
                    free[name] = spec
            partial = i18n.text(code, {key: _escaped(value) for key, value in self.fixed.items()})
            left = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(partial) if name is not None]
        except ValueError:  # a brace the formatter cannot read
            return
        if {name for name, _, _ in left} != set(free) or any(spec or conversion for _, spec, conversion in left):
            return
        self.partial = partial
        self.writers = [(name, _WRITERS[spec]) for name, spec in free.items()]

    def render(self, params: dict[str, Any]) -> str:
        """The text with ``params`` (every value it names; ``fixed`` ones are taken as compiled)."""
        if self.partial is None:
            return i18n.text(self.code, {**params, **self.fixed})
        return self.partial.format_map({name: write(params[name]) for name, write in self.writers})


_CHINESE: dict[str, _ChineseText] = {}


def _chinese(code: str) -> _ChineseText:
    found = _CHINESE.get(code)
    if found is None:
        found = _CHINESE[code] = _ChineseText(code)
    return found


# --------------------------------------------------------------------------- what depends on the rule set alone


class _Tables:
    """One rule set's tables as the classifier looks them up, with the Chinese text of the lines that depend on
    the rule set alone; built once per rule set. ``texts`` memoises the Chinese text of the other lines."""

    WINDOWS_KEPT = 4096  # (assessed_on, employer nature) → test window: a few years of assessment days
    TEXTS_KEPT = 16384  # (code, values…) → the Chinese text

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        code, params = rules.description()
        self.rule_set_line = (code, params, i18n.text(code, params))
        self.silica = rules.silica_threshold_percent
        self.catalogue: dict[str, Nature] = dict(rules.factor_catalogue.factors)  # names are stripped (validated)
        grading = rules.hazard_grading
        bands = grading.headcount_bands  # sorted by min, from 0, contiguous, the last one open (validated)
        self.band_mins = [band.min for band in bands]
        self.band_labels = [band.label for band in bands]
        self.cells: dict[tuple[str, str, str], HazardGrade] = {}
        for row in reversed(grading.table):  # the first row for (nature, exposure) wins, as in HazardGrading.grade
            for label, grade in row.grades.items():
                self.cells[(row.nature, row.exposure, label)] = grade
        self.aggregation_rule = aggregation_rule(rules.aggregation.method)
        validity = rules.test_validity
        self.validity_enabled = validity.enabled
        self.not_checked = i18n.text("assessment.trace.validity.not_checked")
        self.months = {"严重": validity.interval_months(any_serious=True), "一般": validity.interval_months(any_serious=False)}
        self.windows: dict[tuple[date, str], _Window] = {}
        self.vetoes = [item.id for item in rules.self_check_checklist.items() if item.veto]
        management = rules.management_bands
        self.bands = [(band.min, band.grade, *band_range(band, management.upper_bound(band))) for band in management.bands]
        self.categories: dict[tuple[str, str], tuple[Category, dict[str, Any], str]] = {}
        for hazard, row in rules.category_matrix.cells.items():
            for grade, category in row.items():
                cell = {"hazard": hazard, "management": grade, "category": category}
                self.categories[(hazard, grade)] = (category, cell, i18n.text("assessment.trace.matrix", cell))
        self.ref = rules.ref().model_dump()
        self.notes = {
            (catalogue_used, computed): tuple(
                (code, params, i18n.text(code, params))
                for code, params in (
                    provisional_note(name, table.source)
                    for name, table in rules.tables().items()
                    if table.provisional
                    and (catalogue_used or name != "factor_catalogue")
                    and (computed or name != "self_check_checklist")
                )
            )
            for catalogue_used in (False, True)
            for computed in (False, True)
        }
        self.texts: dict[tuple[Any, ...], str] = {}

    def zh(self, key: tuple[Any, ...], code: str, params: dict[str, Any]) -> str:
        """The Chinese text of ``code`` with ``params``; ``key`` (the code and every value) finds it when rendered before."""
        texts = self.texts
        found = texts.get(key)
        if found is None:
            found = _chinese(code).render(params)
            if len(texts) >= self.TEXTS_KEPT:
                texts.clear()
            texts[key] = found
        return found

    def window(self, assessed_on: date, employer_nature: str) -> _Window:
        """The test window of reports assessed on ``assessed_on`` by an employer of ``employer_nature``."""
        key = (assessed_on, employer_nature)
        found = self.windows.get(key)
        if found is None:
            found = _Window(assessed_on, employer_nature, self.months[employer_nature])
            if len(self.windows) >= self.WINDOWS_KEPT:
                self.windows.clear()
            self.windows[key] = found
        return found


class _Window:
    """A test window (附件1 检测周期): its line, and the Chinese texts of its per-factor lines compiled with its values."""

    __slots__ = ("earliest", "months", "assessed_on", "code", "params", "text", "valid", "expired")

    def __init__(self, assessed_on: date, employer_nature: str, months: int) -> None:
        self.earliest = months_before(assessed_on, months)
        self.months = months
        self.assessed_on = assessed_on.isoformat()
        serious = employer_nature == "严重"
        self.code = "assessment.trace.validity.window_serious" if serious else "assessment.trace.validity.window_general"
        self.params = {"nature": employer_nature, "months": months, "assessed_on": self.assessed_on, "earliest": self.earliest.isoformat()}
        self.text = i18n.text(self.code, self.params)
        fixed = {"months": months, "assessed_on": self.assessed_on, "nature": employer_nature}
        self.valid = _ChineseText("assessment.trace.validity.valid", fixed)
        self.expired = _ChineseText("assessment.trace.validity.expired", fixed)


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
    zh = tables.zh
    hazards = report.hazards

    # 附件1 nature of each factor: free silica ≥ threshold, else the catalogue, else the declared nature
    catalogue, silica = tables.catalogue, tables.silica
    natures: list[tuple[Nature, NatureSource]] = []
    nature_lines: list[tuple[str, dict[str, Any], str]] = []
    missing: list[i18n.Message] = []
    any_serious = catalogue_used = False
    for i, hazard in enumerate(hazards):
        factor = hazard.factor
        free_silica = hazard.free_silica_percent
        if free_silica is not None and free_silica >= silica:
            natures.append(("严重", "free_silica"))
            code = "assessment.trace.nature.free_silica"
            params: dict[str, Any] = {"factor": factor, "percent": free_silica, "threshold": silica, "nature": "严重"}
            nature_lines.append((code, params, zh((code, factor, free_silica, silica), code, params)))
            any_serious = True
            continue
        catalogue_used = True
        catalogued = catalogue.get(factor)
        if catalogued is None:
            catalogued = catalogue.get(factor.strip())
        declared = hazard.nature
        if catalogued is not None:
            if declared is not None and declared != catalogued:
                code = "assessment.trace.nature.conflict"
                params = {"factor": factor, "declared": declared, "catalogued": catalogued}
                nature_lines.append((code, params, zh((code, factor, declared, catalogued), code, params)))
            code = "assessment.trace.nature.catalogue"
            params = {"factor": factor, "nature": catalogued}
            nature_lines.append((code, params, zh((code, factor, catalogued), code, params)))
            natures.append((catalogued, "catalogue"))
            any_serious = any_serious or catalogued == "严重"
        elif declared is not None:
            code = "assessment.trace.nature.declared"
            params = {"factor": factor, "nature": declared}
            nature_lines.append((code, params, zh((code, factor, declared), code, params)))
            natures.append((declared, "declared"))
            any_serious = any_serious or declared == "严重"
        else:
            missing.append(factor_not_catalogued(i, factor, rules))

    # 附件2 the checklist answers, when given: checked (and scored) once
    self_check = report.self_check
    checklist = rules.self_check_checklist
    scored: ChecklistScore | None = None
    problems: list[i18n.Message] = []
    if self_check.items:
        problems = checklist_messages(self_check.items, checklist)
        if not problems:
            scored = score_checked_checklist(self_check.items, checklist)
            if self_check.score is not None and (problem := stated_score_message(self_check.score, scored.score)):
                problems = [problem]
    if missing or problems:
        return rejected(missing + problems)

    entry = _trace_entry
    code, params, text = tables.rule_set_line
    trace = [entry({"rule": RULE_SET_RULE, "detail": text, "code": code, "params": dict(params)})]
    add = trace.append
    for code, params, text in nature_lines:
        add(entry({"rule": NATURE_RULE, "detail": text, "code": code, "params": params}))

    # 附件1 test validity: the serious interval when the employer has any 严重 factor
    earliest: date | None = None
    employer_nature = "严重" if any_serious else "一般"
    if tables.validity_enabled:
        window = tables.window(report.assessed_on, employer_nature)
        earliest, months, assessed_on = window.earliest, window.months, window.assessed_on
        add(entry({"rule": VALIDITY_RULE, "detail": window.text, "code": window.code, "params": dict(window.params)}))
    else:
        add(entry({"rule": VALIDITY_RULE, "detail": tables.not_checked, "code": "assessment.trace.validity.not_checked", "params": {}}))

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
                code = "assessment.trace.validity.missing"
                params = {"factor": factor, "exposure": exposure, "declared": declared_exposure}
                text = zh((code, factor, declared_exposure), code, params)
            elif tested_on < earliest:  # tested too long ago: each line differs (the test day), none is memoised
                status, exposure = "expired", "不符合"
                code = "assessment.trace.validity.expired"
                params = {"factor": factor, "tested_on": tested_on.isoformat(), "months": months, "assessed_on": assessed_on,
                          "nature": employer_nature, "exposure": exposure, "declared": declared_exposure}
                text = window.expired.render(params)
            else:
                status, exposure = "valid", declared_exposure
                code = "assessment.trace.validity.valid"
                params = {"factor": factor, "tested_on": tested_on.isoformat(), "months": months, "assessed_on": assessed_on,
                          "nature": employer_nature, "declared": declared_exposure}
                text = window.valid.render(params)
            add(entry({"rule": VALIDITY_RULE, "detail": text, "code": code, "params": params}))
        exposed = hazard.exposed
        if exposed >= lowest:
            label = band_labels[bisect_right(band_mins, exposed) - 1]
        else:  # below every band: what the rule as written does with it
            label = rules.hazard_grading.band_for(exposed).label
        grade = cells[(nature, exposure, label)]
        code = "assessment.trace.grading.factor"
        params = {"factor": factor, "exposure": exposure, "exposed": exposed, "band": label, "nature": nature, "grade": grade}
        text = zh((code, factor, exposure, exposed, label, nature, grade), code, params)
        add(entry({"rule": GRADING_RULE, "detail": text, "code": code, "params": params}))
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
    code = "assessment.trace.aggregation.highest"
    params = {"grade": hazard_grade, "factor": deciding.factor, "index": deciding_index}
    text = zh((code, hazard_grade, deciding.factor, deciding_index), code, params)
    add(entry({"rule": tables.aggregation_rule, "detail": text, "code": code, "params": params}))

    # 附件2 the self-check score: computed from the items when given, else as stated
    if scored is None:
        score: float = self_check.score  # type: ignore[assignment]  # SelfCheck: a score when there are no items
        if tables.vetoes:
            code = "assessment.trace.checklist.stated_veto_unchecked"
            params = {"score": score, "vetoes": list(tables.vetoes)}
        else:
            code = "assessment.trace.checklist.stated"
            params = {"score": score}
        add(entry({"rule": CHECKLIST_RULE, "detail": zh((code, _sign_kept(score)), code, params), "code": code, "params": params}))
        score_source: ScoreSource = "stated"
        lost: list[LostPoints] = []
    else:
        _trace_checklist(scored, self_check.score, add)
        score, score_source, lost = float(scored.score), "computed", scored.lost
    for band_min, band_grade, low, high in tables.bands:
        if score >= band_min:
            break
    else:  # no band: what the rule as written does
        band = rules.management_bands.band_for(score)
        band_grade, (low, high) = band.grade, band_range(band, rules.management_bands.upper_bound(band))
    code = "assessment.trace.bands"
    params = {"score": score, "grade": band_grade, "low": low, "high": high}
    add(entry({"rule": BANDS_RULE, "detail": zh((code, _sign_kept(score), band_grade, low, high), code, params), "code": code, "params": params}))
    management_grade: ManagementGrade = band_grade
    if scored is not None and scored.vetoed:  # an enabled 否决项 that lost points caps the grade at the worst (C)
        worst = MANAGEMENT_GRADES[-1]
        code, params = veto_line([f"{item.id} {item.title}" for item in scored.vetoed], band_grade, worst)
        add(entry({"rule": VETO_RULE, "detail": _chinese(code).render(params), "code": code, "params": params}))
        management_grade = worst

    # 附件3, then one note per provisional table the decision used
    category, params, text = tables.categories[(hazard_grade, management_grade)]
    add(entry({"rule": MATRIX_RULE, "detail": text, "code": "assessment.trace.matrix", "params": dict(params)}))
    for code, params, text in tables.notes[(catalogue_used, scored is not None)]:
        add(entry({"rule": PROVISIONAL_RULE, "detail": text, "code": code, "params": dict(params)}))
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


def veto_line(items: list[str], grade: ManagementGrade, worst: ManagementGrade) -> tuple[str, dict[str, Any]]:
    """The veto line: the items ("4.1 定期检测…") that did not earn full points, and the grade they cap."""
    if grade != worst:
        return "assessment.trace.veto.capped", {"items": items, "grade": worst, "was": grade}
    return "assessment.trace.veto.stays", {"items": items, "grade": worst}


def num(value: Decimal) -> str:
    return f"{value.normalize():f}"  # 89.0 → 89, 87.25 → 87.25


def checklist_lines(result: ChecklistScore, stated: float | None) -> list[tuple[str, dict[str, Any]]]:
    """The lines of a checklist scored item by item: each item that lost points, each n/a item, the sum, the stated score."""
    lines: list[tuple[str, dict[str, Any]]] = []
    for lost in result.lost:
        lines.append(("assessment.trace.checklist.lost", {
            "item": lost.item, "title": lost.title, "earned": lost.earned, "points": lost.points, "lost": lost.points - lost.earned}))
    for item in result.not_applicable:
        lines.append(("assessment.trace.checklist.not_applicable", {"item": item.id, "title": item.title, "points": item.points}))
    if not result.lost:
        lines.append(("assessment.trace.checklist.full", {}))
    lines.append(("assessment.trace.checklist.score",
                  {"applicable": num(result.applicable), "earned": num(result.earned), "score": f"{result.score:f}"}))
    if stated is not None:
        lines.append(("assessment.trace.checklist.stated_agrees", {"stated": stated, "score": f"{result.score:f}"}))
    return lines


def _trace_checklist(result: ChecklistScore, stated: float | None, add: Callable[[TraceEntry], None]) -> None:
    entry = _trace_entry
    for code, params in checklist_lines(result, stated):
        add(entry({"rule": CHECKLIST_RULE, "detail": _chinese(code).render(params), "code": code, "params": params}))
