"""The sampling service's commands: the HTTP request bodies (and the roster file's shape), parsed and
checked by pydantic, handed to the use cases as they are."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field, field_validator

from services.sampling.domain.draw import MIN_INSPECTORS_PER_TASK, ratio_text
from shared.contracts import CATEGORIES, Harm
from shared.identifiers import credit_code_problem, region_problem

PERIOD_PATTERN = r"^\d{4}(Q[1-4])?$"
ITEM_CODE_PATTERN = r"^\d{2,3}-\d+[a-z]?$"  # 职业病防治法 article - item, as penalty's 附件5 list


def _credit_code(value: str) -> str:
    if problem := credit_code_problem(value):
        raise ValueError(problem)
    return value


class Exclusion(BaseModel):
    credit_code: str
    reason: str = Field(min_length=1, description="e.g. 注销, 停产, 免检")

    _code = field_validator("credit_code")(_credit_code)


class PlanIn(BaseModel):
    region_code: str = Field(description="the agency's GB/T 2260 code: a county, or a city / province (with hand_down)")
    period: str = Field(pattern=PERIOD_PATTERN, description="2026 or 2026Q1")
    ratios: dict[str, float | str] | None = Field(default=None, description="per category 甲/乙/丙, 0–1; default: the rule file's")
    minimums: dict[str, int] | None = Field(default=None, description="minimum count per category; default: the rule file's")
    full_coverage_industries: list[str] | None = Field(default=None, description="GB/T 4754-2017 code prefixes taken in full")
    exclusions: list[Exclusion] = Field(default_factory=list, description="employers left out (closed 注销, 停产 …)")
    jia_non_site: bool | None = Field(default=None, description="甲 targets are checked non-site (非现场)")
    inspectors_per_task: int | None = Field(default=None, ge=MIN_INSPECTORS_PER_TASK)
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


class ViolationItem(BaseModel):
    item_code: str = Field(pattern=ITEM_CODE_PATTERN, description="§7 item code, e.g. 70-4")
    harm: Harm = Field(description="none | minor | serious")
    description: str | None = None
    corrected_on: date | None = None
    rectification_deadline: date | None = None
    major: bool = Field(default=False, description="the inspectors' finding that it is a major violation (重大违法)")


class ResultIn(BaseModel):
    outcome: str = Field(pattern=r"^(compliant|violations|not_inspected)$", description="compliant | violations | not_inspected")
    inspected_on: date | None = None
    violations: list[ViolationItem] = Field(default_factory=list)
    reason: str | None = Field(default=None, description="why not inspected")

    def problems(self, today: date) -> list[dict[str, str]]:
        errors: list[dict[str, str]] = []

        def add(field: str, message: str) -> None:
            errors.append({"field": field, "message": message})

        if self.outcome in ("compliant", "violations"):
            if self.inspected_on is None:
                add("inspected_on", f"required when the outcome is {self.outcome}")
            elif self.inspected_on > today:
                add("inspected_on", f"{self.inspected_on} is in the future (today is {today} in China)")
        if self.outcome == "violations" and not self.violations:
            add("violations", "at least one violation is required when the outcome is violations")
        if self.outcome != "violations" and self.violations:
            add("violations", f"no violations with the outcome {self.outcome}")
        if self.outcome == "not_inspected" and not (self.reason or "").strip():
            add("reason", "required when the outcome is not_inspected")
        seen: set[str] = set()
        for index, v in enumerate(self.violations):
            if v.item_code in seen:
                add(f"violations[{index}].item_code", f"{v.item_code} is listed twice")
            seen.add(v.item_code)
            for name in ("corrected_on", "rectification_deadline"):
                day = getattr(v, name)
                if day is not None and self.inspected_on is not None and day < self.inspected_on:
                    add(f"violations[{index}].{name}", f"{day} is before the inspection ({self.inspected_on})")
        return errors


class ConflictIn(BaseModel):
    inspector_id: str = Field(min_length=1, max_length=64)
    credit_code: str
    reason: str = Field(min_length=1)

    _code = field_validator("credit_code")(_credit_code)


class RosterConflict(BaseModel):
    credit_code: str
    reason: str = Field(min_length=1)

    _code = field_validator("credit_code")(_credit_code)


class InspectorIn(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1)
    active: bool = True
    conflicts: list[RosterConflict] = Field(default_factory=list)


class RosterIn(BaseModel):
    inspectors: list[InspectorIn]

    @field_validator("inspectors")
    @classmethod
    def _unique(cls, value: list[InspectorIn]) -> list[InspectorIn]:
        ids = [i.id for i in value]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"inspector ids listed twice: {', '.join(twice)}")
        return value
