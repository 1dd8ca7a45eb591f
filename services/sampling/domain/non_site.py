"""Non-site supervision in the draw (非现场监管, RULES §6 and §10 浙江): where online monitoring covers an
employer's hazards well enough, inspection is exempted or done non-site. Pure: the rule (a jurisdiction's
sampling defaults, ``non_site``) and the monitoring facts (``MonitoringCoverage``, as the monitoring
service announced them) are given; the answer carries a trace naming the rule version and each check.

The checks, all of which must hold:

- facts at all, and fresh: the period they cover ends no more than ``max_facts_age_days`` before the day of
  the draw;
- ``every_hazard_monitored``: every hazard factor the employer's latest classified report declares has at
  least one device;
- ``min_reporting_ratio``: the devices that reported as often as the rules ask, over all devices (exact);
- ``no_exceedance_days``: the period covers at least that many days, and no exceedance episode in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from services.sampling.domain.draw import ratio_text
from shared import i18n


class NonSiteRule(BaseModel):
    """A jurisdiction's non-site rule (rule data, ``non_site`` in the sampling defaults; absent: none)."""

    every_hazard_monitored: bool = True
    min_reporting_ratio: str = Field(default="0.9", description="devices reporting / devices, 0–1 (an exact decimal)")
    no_exceedance_days: int = Field(default=30, ge=1, le=366)
    max_facts_age_days: int = Field(default=7, ge=0, le=366, description="how old the facts' period end may be on the day of the draw")
    treatment: Literal["exempt", "non_site"] = Field(description="exempt: left out of the draw; non_site: drawn, inspected non-site")

    @field_validator("min_reporting_ratio", mode="before")
    @classmethod
    def _ratio(cls, value: object) -> str:
        return ratio_text(value)


@dataclass(frozen=True)
class FactorFacts:
    factor: str
    devices: int
    reporting: int
    exceedances: int


@dataclass(frozen=True)
class CoverageFacts:
    """An employer's monitoring coverage over a period (``MonitoringCoverage``)."""

    period_start: date
    period_end: date
    hazards: tuple[str, ...]
    factors: tuple[FactorFacts, ...]

    def public(self) -> dict[str, Any]:
        return {"period_start": self.period_start.isoformat(), "period_end": self.period_end.isoformat(), "hazards": list(self.hazards),
                "factors": [{"factor": f.factor, "devices": f.devices, "reporting": f.reporting, "exceedances": f.exceedances}
                            for f in self.factors]}


@dataclass
class Assessment:
    """Whether the employer qualifies, and why (each check a trace entry: rule, code, params)."""

    qualifies: bool
    trace: list[dict[str, Any]] = field(default_factory=list)


def _entry(label: str, code: str, ok: bool, **params: Any) -> dict[str, Any]:
    """A trace entry (as ``shared.contracts.TraceEntry``: rule, code, params, detail in Chinese) and whether the check passed."""
    return {"rule": label, "code": code, "params": params, "detail": i18n.text(code, params), "passed": ok}


def label_of(jurisdiction: str, version: str) -> str:
    """How a trace names the rule: the sampling defaults file's jurisdiction and version, and the rule in it."""
    return f"sampling_defaults {jurisdiction} {version} non_site"


def assess(facts: CoverageFacts | None, rule: NonSiteRule, on: date, label: str) -> Assessment:
    """Does the monitoring of an employer cover its hazards well enough on ``on`` (the day of the draw)? ``label``:
    the rule as the trace names it (:func:`label_of`)."""
    if facts is None:
        return Assessment(False, [_entry(label, "sampling.non_site.no_facts", False)])
    trace = []
    age = (on - facts.period_end).days
    trace.append(_entry(label, "sampling.non_site.fresh", age <= rule.max_facts_age_days, period_end=facts.period_end.isoformat(),
                        max_age_days=rule.max_facts_age_days))
    monitored = {f.factor for f in facts.factors if f.devices > 0}
    if rule.every_hazard_monitored:
        missing = sorted(set(facts.hazards) - monitored)
        trace.append(_entry(label, "sampling.non_site.every_hazard", not missing and bool(facts.hazards),
                            hazards=", ".join(facts.hazards) or "—", missing=", ".join(missing) or "—"))
    devices = sum(f.devices for f in facts.factors)
    reporting = sum(min(f.reporting, f.devices) for f in facts.factors)
    ratio_ok = devices > 0 and Fraction(reporting, devices) >= Fraction(Decimal(rule.min_reporting_ratio))
    trace.append(_entry(label, "sampling.non_site.reporting", ratio_ok, reporting=reporting, devices=devices, minimum=rule.min_reporting_ratio))
    days = (facts.period_end - facts.period_start).days + 1
    exceedances = sum(f.exceedances for f in facts.factors)
    trace.append(_entry(label, "sampling.non_site.no_exceedance", days >= rule.no_exceedance_days and exceedances == 0,
                        days=days, needed=rule.no_exceedance_days, exceedances=exceedances))
    return Assessment(all(t["passed"] for t in trace), trace)
