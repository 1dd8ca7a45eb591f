"""The sampling service's commands: the HTTP request bodies (and the roster file's shape), parsed and
checked by pydantic, handed to the use cases as they are."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator

from services.sampling.domain.draw import MIN_INSPECTORS_PER_TASK, ratio_text
from services.sampling.service_layer.errors import Problem
from shared.contracts import (
    CATEGORIES,
    NAME_LENGTH,
    TEXT_LENGTH,
    FreeText,
    Harm,
    Name,
    RequestModel,
    SaneDate,
)
from shared.identifiers import credit_code_problem, region_problem

# a period of the years the platform can hold (1949 … 2100): 2026 or 2026Q1
PERIOD_PATTERN = r"^(19(49|[5-9]\d)|20\d{2}|2100)(Q[1-4])?$"
MAX_POOL = 200_000  # employers in one pool (a province's): the most a plan or a publication holds
MAX_ROSTER = 10_000  # inspectors in one roster
MAX_PER_TASK = 20  # inspectors per task
MAX_EXCLUSIONS = 10_000
MAX_VIOLATIONS = 100
MAX_CONFLICTS = 1_000  # declared conflicts of one inspector
CreditCode = Annotated[str, Field(min_length=1, max_length=18, description="统一社会信用代码")]
InspectorId = Annotated[str, Field(min_length=1, max_length=64)]
ITEM_CODE_PATTERN = r"^\d{2,3}-\d+[a-z]?$"  # 职业病防治法 article - item, as penalty's 附件5 list
OUTCOME = {"compliant": "符合", "violations": "发现违法", "not_inspected": "未检查"}  # an inspection's outcome, named as a term


def _credit_code(value: str) -> str:
    if problem := credit_code_problem(value):
        raise ValueError(problem)
    return value


class Exclusion(RequestModel):
    credit_code: CreditCode
    reason: str = Field(min_length=1, max_length=TEXT_LENGTH, description="e.g. 注销, 停产, 免检")

    _code = field_validator("credit_code")(_credit_code)


class PlanIn(RequestModel):
    region_code: str = Field(max_length=6, description="the agency's GB/T 2260 code: a county, or a city / province (with hand_down)")
    period: str = Field(pattern=PERIOD_PATTERN, max_length=6, description="2026 or 2026Q1 (a year 1949 … 2100)")
    ratios: dict[str, float | Annotated[str, Field(max_length=32)]] | None = Field(
        default=None, max_length=3, description="per category 甲/乙/丙, a finite number 0–1; default: the rule file's")
    minimums: dict[str, Annotated[int, Field(ge=0, le=MAX_POOL)]] | None = Field(
        default=None, max_length=3, description="minimum count per category; default: the rule file's")
    full_coverage_industries: list[Annotated[str, Field(min_length=1, max_length=5)]] | None = Field(
        default=None, max_length=100, description="GB/T 4754-2017 code prefixes taken in full")
    exclusions: list[Exclusion] = Field(default_factory=list, max_length=MAX_EXCLUSIONS, description="employers left out (closed 注销, 停产 …)")
    jia_non_site: bool | None = Field(default=None, description="甲 targets are checked non-site (非现场)")
    inspectors_per_task: int | None = Field(default=None, ge=MIN_INSPECTORS_PER_TASK, le=MAX_PER_TASK)
    hand_down: bool = Field(default=False, description="a province / city plan handed down: one plan per county with employers")

    @field_validator("region_code")
    @classmethod
    def _region(cls, value: str) -> str:
        if problem := region_problem(value):
            raise ValueError(problem)
        return value

    @field_validator("ratios")
    @classmethod
    def _ratios(cls, value: dict[str, Any] | None) -> dict[str, str] | None:
        if value is None:
            return None
        unknown = set(value) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"unknown categories {', '.join(sorted(unknown))}: use 甲, 乙, 丙")
        out = {}
        for category, ratio in value.items():
            try:
                out[category] = ratio_text(ratio)
            except ValueError as exc:
                raise ValueError(f"{category}: {exc}") from exc
        return out

    @field_validator("minimums")
    @classmethod
    def _minimums(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        if value is None:
            return None
        if set(value) - set(CATEGORIES):
            raise ValueError("use the categories 甲, 乙, 丙")
        if any(v < 0 for v in value.values()):
            raise ValueError("minimum counts cannot be negative")
        return value


class ViolationItem(RequestModel):
    item_code: str = Field(pattern=ITEM_CODE_PATTERN, max_length=16, description="§7 item code, e.g. 70-4")
    harm: Harm = Field(description="none | minor | serious")
    description: str | None = Field(default=None, max_length=TEXT_LENGTH)
    corrected_on: SaneDate | None = None
    rectification_deadline: SaneDate | None = None
    major: bool = Field(default=False, description="the inspectors' finding that it is a major violation (重大违法)")


class ResultIn(RequestModel):
    outcome: str = Field(pattern=r"^(compliant|violations|not_inspected)$", max_length=16, description="compliant | violations | not_inspected")
    inspected_on: SaneDate | None = None
    violations: list[ViolationItem] = Field(default_factory=list, max_length=MAX_VIOLATIONS)
    reason: str | None = Field(default=None, max_length=TEXT_LENGTH, description="why not inspected")

    def problems(self, today: date) -> list[Problem]:
        """What is wrong with the result as a whole (each field's problem as a message code)."""
        errors: list[Problem] = []

        def add(field: str, code: str, **params: Any) -> None:
            errors.append(Problem(field, code, params))

        outcome = OUTCOME.get(self.outcome, self.outcome)
        if self.outcome in ("compliant", "violations"):
            if self.inspected_on is None:
                add("inspected_on", "sampling.error.inspected_on_required", outcome=outcome)
            elif self.inspected_on > today:
                add("inspected_on", "sampling.error.day_in_future", day=self.inspected_on.isoformat(), today=today.isoformat())
        if self.outcome == "violations" and not self.violations:
            add("violations", "sampling.error.violations_required")
        if self.outcome != "violations" and self.violations:
            add("violations", "sampling.error.violations_not_allowed", outcome=outcome)
        if self.outcome == "not_inspected" and not (self.reason or "").strip():
            add("reason", "sampling.error.reason_required")
        seen: set[str] = set()
        for index, v in enumerate(self.violations):
            if v.item_code in seen:
                add(f"violations[{index}].item_code", "sampling.error.item_twice", item=v.item_code)
            seen.add(v.item_code)
            for name in ("corrected_on", "rectification_deadline"):
                day = getattr(v, name)
                if day is not None and self.inspected_on is not None and day < self.inspected_on:
                    add(f"violations[{index}].{name}", "sampling.error.day_before_inspection", day=day.isoformat(),
                        inspected_on=self.inspected_on.isoformat())
        return errors


class ConflictIn(RequestModel):
    inspector_id: InspectorId
    credit_code: CreditCode
    reason: FreeText

    _code = field_validator("credit_code")(_credit_code)


class RosterConflict(RequestModel):
    credit_code: CreditCode
    reason: FreeText

    _code = field_validator("credit_code")(_credit_code)


class InspectorIn(RequestModel):
    id: InspectorId
    name: Name
    active: bool = True
    conflicts: list[RosterConflict] = Field(default_factory=list, max_length=MAX_CONFLICTS)


class RosterIn(RequestModel):
    inspectors: list[InspectorIn] = Field(max_length=MAX_ROSTER, description="at most 10,000 inspectors")

    @field_validator("inspectors")
    @classmethod
    def _unique(cls, value: list[InspectorIn]) -> list[InspectorIn]:
        seen: set[str] = set()
        twice = sorted({i.id for i in value if i.id in seen or seen.add(i.id)})  # type: ignore[func-returns-value]
        if twice:
            raise ValueError(f"inspector ids listed twice: {', '.join(twice)}")
        return value


# --------------------------------------------------------------------------- a publication to verify (POST /verify, public)
# Shapes and sizes only: every difference from the recomputed draw is the verification's to name. Fields
# this code does not read (results, status, …) pass through.


class _Published(RequestModel):
    model_config = ConfigDict(extra="allow")


class PublishedPlan(_Published):
    ratios: dict[Annotated[str, Field(max_length=8)], Annotated[float, Field(allow_inf_nan=False)] | Annotated[str, Field(max_length=32)]] = Field(
        max_length=8)
    minimums: dict[Annotated[str, Field(max_length=8)], Annotated[int, Field(ge=0, le=MAX_POOL)]] = Field(default_factory=dict, max_length=8)
    inspectors_per_task: int = Field(ge=0, le=MAX_PER_TASK)
    jia_non_site: bool


class PublishedMember(_Published):
    credit_code: CreditCode
    category: str = Field(max_length=8)
    full_coverage: bool = False


class PublishedInspector(_Published):
    id: InspectorId
    name: str = Field(default="", max_length=NAME_LENGTH)
    conflicts: list[CreditCode] = Field(default_factory=list, max_length=MAX_POOL)


class PublishedInspectorRef(_Published):
    id: InspectorId
    name: str | None = Field(default=None, max_length=NAME_LENGTH)


class PublishedTarget(_Published):
    credit_code: CreditCode
    category: str = Field(max_length=8)
    selection: str = Field(max_length=32)
    on_site: bool
    inspectors: list[InspectorId | PublishedInspectorRef] = Field(max_length=MAX_PER_TASK)


class PublishedDraw(_Published):
    seed: str = Field(max_length=128)
    pool_hash: str | None = Field(default=None, max_length=64)
    pool: list[PublishedMember] = Field(max_length=MAX_POOL, description="at most 200,000 employers")
    roster: list[PublishedInspector] = Field(max_length=MAX_ROSTER, description="at most 10,000 inspectors")
    targets: list[PublishedTarget] = Field(max_length=MAX_POOL)


class PublicationIn(_Published):
    """A publication as ``GET /plans/{id}/publication`` returns it, with the sizes the service ever publishes."""

    algorithm_version: str | None = Field(default=None, max_length=64)
    commitment: str | None = Field(default=None, max_length=64)
    plan: PublishedPlan
    draw: PublishedDraw | None = None


def parse_publication(body: bytes) -> dict[str, Any]:
    """The request body as a publication of bounded size (``pydantic.ValidationError`` or ``ValueError`` otherwise),
    as the client sent it (fields unset stay unset)."""
    document = json.loads(body)
    return PublicationIn.model_validate(document).model_dump(mode="json", exclude_unset=True)


def publication_schema() -> dict[str, Any]:
    """:class:`PublicationIn`'s JSON schema with its definitions inlined (for the route's OpenAPI)."""
    schema = PublicationIn.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    return inline(schema)
