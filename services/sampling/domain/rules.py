"""Sampling defaults per jurisdiction (ratios, minimum counts, full-coverage industries, 甲 non-site,
inspectors per task): versioned rule data, never code. Packaged files in services/sampling/rules/,
plus an agency's own in ``$OHS_RULES_DIR/sampling/`` (a subfolder, like deadlines/ and calendar/:
the top level of OHS_RULES_DIR is read as assessment rule sets). Files with another ``kind`` are
skipped."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from shared import rule_data
from shared.rule_data import read_all, read_json, rule_files, validate
from services.sampling.domain.draw import CATEGORIES, MIN_INSPECTORS_PER_TASK, ratio_text

PACKAGED_RULES = Path(__file__).resolve().parent.parent / "rules"
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

    @field_validator("ratios", mode="before")
    @classmethod
    def _ratios(cls, value: object) -> dict[str, str]:
        if not isinstance(value, dict) or set(value) != set(CATEGORIES):
            raise ValueError(f"ratios must give exactly {', '.join(CATEGORIES)}")
        return {c: ratio_text(value[c]) for c in CATEGORIES}

    def ref(self) -> dict[str, object]:
        return {"jurisdiction": self.jurisdiction, "version": self.version, "effective_from": self.effective_from.isoformat(),
                "provisional": self.provisional}


def _read(path: Path) -> SamplingDefaults | None:
    data = read_json(path, "sampling defaults file")
    if not isinstance(data, dict) or data.get("kind") != KIND:
        return None
    return validate(data, SamplingDefaults, path, "sampling defaults file")


class SamplingRules:
    def __init__(self, defaults: list[SamplingDefaults]):
        self.defaults = defaults

    @classmethod
    def load(cls, extra_dir: Path | None = None) -> "SamplingRules":
        agency = extra_dir / "sampling" if extra_dir is not None else None
        folders = [folder for folder in (PACKAGED_RULES, agency) if folder is not None and folder.is_dir()]
        paths = [path for folder in folders for path in rule_files(folder)]
        return cls(list(read_all(paths, _read, unique_by=("jurisdiction", "version"), what="sampling defaults file")))

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
