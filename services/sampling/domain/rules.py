"""Sampling defaults per jurisdiction (ratios, minimum counts, full-coverage industries, 甲 non-site,
inspectors per task): versioned rule data, never code. The files are read by
``services/sampling/adapters/rules.py``; this module holds their shape and picks the defaults in
force, from the parsed files it is given."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator

from services.sampling.domain.draw import MIN_INSPECTORS_PER_TASK, ratio_text
from services.sampling.domain.non_site import NonSiteRule
from shared import rules_in_force as rule_data
from shared.contracts import CATEGORIES
from shared.working_calendar import WorkingCalendar

KIND = "sampling_defaults"


class FullCoverageIndustry(BaseModel):
    code_prefix: str = Field(min_length=1, description="GB/T 4754-2017 code prefix, e.g. C30")
    name: str = ""


class SamplingDefaults(BaseModel):
    kind: str = KIND
    jurisdiction: str
    version: str
    effective_from: date
    provisional: bool
    source: str = ""
    ratios: dict[str, str]
    minimums: dict[str, int] = Field(default_factory=dict)
    full_coverage_industries: list[FullCoverageIndustry] = Field(default_factory=list)
    jia_non_site: bool = True
    inspectors_per_task: int = Field(default=MIN_INSPECTORS_PER_TASK, ge=MIN_INSPECTORS_PER_TASK)
    verification_deadline_working_days: int = Field(default=5, ge=1, le=60,
                                                    description="a verification task's deadline (核查处置): working days after the episode began")
    non_site: NonSiteRule | None = Field(default=None, description="non-site supervision in the draw (RULES §10); absent: none")

    @field_validator("ratios", mode="before")
    @classmethod
    def _ratios(cls, value: object) -> dict[str, str]:
        if not isinstance(value, dict) or set(value) != set(CATEGORIES):
            raise ValueError(f"ratios must give exactly {', '.join(CATEGORIES)}")
        return {c: ratio_text(value[c]) for c in CATEGORIES}

    def ref(self) -> dict[str, object]:
        return {"jurisdiction": self.jurisdiction, "version": self.version, "effective_from": self.effective_from.isoformat(),
                "provisional": self.provisional}


class SamplingRules:
    """The sampling defaults loaded (every jurisdiction and version)."""

    def __init__(self, defaults: list[SamplingDefaults], calendar: WorkingCalendar | None = None):
        self.defaults = defaults
        self.calendar = calendar or WorkingCalendar()  # working days (a verification task's deadline)

    def in_force(self, region_code: str, on: date) -> SamplingDefaults:
        return rule_data.in_force(self.defaults, region_code, on, "sampling defaults in force for", "sampling defaults", check_region=False)


def industry_matches(industry_codes: list[str], prefixes: list[str]) -> bool:
    """A code matches a prefix as written (C3011 / C30) or without the section letter (3011 / C30)."""
    for code in industry_codes:
        code = code.strip().upper()
        for prefix in prefixes:
            prefix = prefix.strip().upper()
            if code.startswith(prefix):
                return True
            if prefix[:1].isalpha() and code[:1].isdigit() and code.startswith(prefix[1:]):
                return True
    return False
