"""Occupational exposure limits for online monitoring (GBZ 2.1 chemical and dust, GBZ 2.2 physical factors) as
versioned rule data: per hazard factor its kind, unit, PC-TWA over a shift, STEL (15-minute average) where it has
one, a peak, and the physical range a reading must lie in; the shift(s) the limits are judged over and how long a
device may stay silent. The files are read by ``services/monitoring/adapters/rules.py``; this module holds their
shape and picks the limits in force from the parsed files it is given (no I/O)."""

from __future__ import annotations

import math
from datetime import date, time
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from shared import rules_in_force as rule_data
from shared.rules_in_force import FromRuleFile
from shared.contracts.monitoring import HazardKind

KIND = "monitoring_limits"


class PhysicalRange(BaseModel):
    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> "PhysicalRange":
        if not (math.isfinite(self.min) and math.isfinite(self.max) and self.min < self.max):
            raise ValueError("min below max, both finite")
        return self


class FactorLimit(BaseModel):
    """One hazard factor's limits, in the unit the devices measure it in."""

    factor: str = Field(min_length=1, max_length=64, description="as the report and the catalogue write it, e.g. 矽尘")
    kind: HazardKind
    unit: str = Field(min_length=1, max_length=16)
    averaging: Literal["arithmetic", "energy"] = Field(
        default="arithmetic", description="energy: a level in dB, averaged as 10·log10(mean(10^(L/10))) (noise L_EX,8h)")
    twa: float | None = Field(default=None, gt=0, description="PC-TWA over the shift (noise: L_EX,8h)")
    stel: float | None = Field(default=None, gt=0, description="PC-STEL, the 15-minute average")
    peak: float | None = Field(default=None, gt=0, description="no single reading above it (MAC, excursion limit, noise peak)")
    range: PhysicalRange = Field(description="a reading outside it is refused: no instrument reads it")
    row: str = Field(min_length=1, max_length=100, description="where the value comes from, e.g. GBZ 2.1-2019 表2 序号…")
    provisional: bool = False

    @model_validator(mode="after")
    def _some_limit(self) -> "FactorLimit":
        if self.twa is None and self.stel is None and self.peak is None:
            raise ValueError(f"{self.factor}: give at least one of twa, stel, peak")
        return self

    def dose(self, value: float) -> float:
        """What a reading adds per second to the shift's exposure (its energy for a level in dB)."""
        return 10 ** (value / 10) if self.averaging == "energy" else value

    def level(self, dose_per_second: float) -> float:
        """The average a mean dose rate stands for (back to dB for a level)."""
        if self.averaging == "energy":
            return 10 * math.log10(dose_per_second) if dose_per_second > 0 else float("-inf")
        return dose_per_second


class ShiftDefinition(BaseModel):
    start: time = Field(description="China time, e.g. 08:00")
    hours: float = Field(gt=0, le=24)


class MonitoringLimits(FromRuleFile):
    kind: str = KIND
    jurisdiction: str
    version: str
    effective_from: date
    provisional: bool
    source: str = ""
    shifts: list[ShiftDefinition] = Field(min_length=1, max_length=4, description="the shifts of a day, China time, not overlapping")
    stel_minutes: int = Field(default=15, ge=1, le=60)
    silent_after_minutes: int = Field(ge=1, le=24 * 60, description="a gap longer than this within a shift: the device was silent")
    late_allowance_minutes: int = Field(
        default=15, ge=0, le=24 * 60,
        description="how late a gateway may deliver a reading: the timer judges a device silent from \"now\" only once its gap is "
        "longer than silent_after_minutes plus this, and closes a shift this long after its end (a reading delivered within it "
        "gives the episodes a back-fill of the same readings gives)")
    coverage_period_days: int = Field(default=30, ge=1, le=366)
    factors: list[FactorLimit] = Field(min_length=1, max_length=500)

    @field_validator("factors")
    @classmethod
    def _unique(cls, factors: list[FactorLimit]) -> list[FactorLimit]:
        names = [f.factor for f in factors]
        if len(set(names)) != len(names):
            raise ValueError("each factor once")
        return factors

    def factor(self, name: str) -> FactorLimit | None:
        return next((f for f in self.factors if f.factor == name), None)

    def label(self) -> str:
        return f"{self.jurisdiction} {self.version}"

    def ref(self) -> dict[str, object]:
        return {"jurisdiction": self.jurisdiction, "version": self.version, "effective_from": self.effective_from.isoformat(),
                "provisional": self.provisional}


class LimitBook:
    """The monitoring limits loaded (every jurisdiction and version)."""

    def __init__(self, limits: list[MonitoringLimits]):
        self.limits = limits

    def in_force(self, region_code: str, on: date) -> MonitoringLimits:
        return rule_data.in_force(self.limits, region_code, on, "monitoring limits in force for", "monitoring limits", check_region=False)

    def known_factors(self) -> set[str]:
        return {f.factor for item in self.limits for f in item.factors}
