"""裁量基准 (discretion baseline, RULES §8): like cases get like penalties. Pure rules, no I/O.

Per penalty provision (职业病防治法 §70, §71, §72) the baseline gives a fine range in yuan for each
circumstance: ``first_overdue`` (first time, deadline passed without correction), ``repeated``
(not the first time), ``harm_caused`` (harm other than none). A penalty case proposes the range of
its provision and circumstance; a fine outside it needs a recorded reason (a departure).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from services.penalty.domain import words
from services.penalty.domain.words import Problem
from shared import i18n
from shared import rules_in_force as rule_data

Circumstance = Literal["first_overdue", "repeated", "harm_caused"]
CIRCUMSTANCES: tuple[str, ...] = ("first_overdue", "repeated", "harm_caused")


class ProvisionBaseline(BaseModel):
    article: str = Field(pattern=r"^\d{2,3}$")  # 70 for items 70-1 … 70-5
    provision: str
    statutory: str = ""
    statutory_min_yuan: int = Field(ge=0)
    statutory_max_yuan: int = Field(ge=0)
    ranges: dict[Circumstance, tuple[int, int]]

    @model_validator(mode="after")
    def _within_the_law(self) -> "ProvisionBaseline":
        if self.statutory_min_yuan > self.statutory_max_yuan:
            raise ValueError(f"§{self.article}: statutory_min_yuan > statutory_max_yuan")
        for circumstance, (low, high) in self.ranges.items():
            if low > high:
                raise ValueError(f"§{self.article} {circumstance}: {low} > {high}")
            if low < self.statutory_min_yuan or high > self.statutory_max_yuan:
                raise ValueError(f"§{self.article} {circumstance}: [{low}, {high}] outside the statutory "
                                 f"[{self.statutory_min_yuan}, {self.statutory_max_yuan}]")
        return self


class DiscretionBaseline(BaseModel):
    kind: Literal["discretion_baseline"] = "discretion_baseline"
    jurisdiction: str
    version: str
    effective_from: date
    provisional: bool
    source: str = ""
    provisions: list[ProvisionBaseline]

    def provision_for(self, item_code: str) -> ProvisionBaseline | None:
        article = article_of(item_code)
        return next((p for p in self.provisions if p.article == article), None)

    def label(self) -> str:
        flag = ", provisional" if self.provisional else ""
        return f"discretion baseline {self.jurisdiction} v{self.version} (effective {self.effective_from}{flag})"


def article_of(item_code: str) -> str:
    """70-2a → 70: the article of 职业病防治法 the item's penalty rests on."""
    return item_code.split("-", 1)[0]


def circumstance_for(first_time: bool, harm: str) -> Circumstance:
    """harm_caused when there was harm, else repeated when not the first time, else first_overdue."""
    if harm != "none":
        return "harm_caused"
    return "first_overdue" if first_time else "repeated"


@dataclass(frozen=True)
class Proposal:
    provision: str
    circumstance: str
    min_yuan: int
    max_yuan: int
    statutory_max_yuan: int
    baseline: str  # the label of the rule data

    def message(self) -> tuple[str, dict[str, Any]]:
        """The proposed range as a message code and its parameters (``shared.i18n``)."""
        return "penalty.trace.discretion", {"provision": self.provision, "circumstance": words.named(words.CIRCUMSTANCE, self.circumstance),
                                            "min_yuan": self.min_yuan, "max_yuan": self.max_yuan, "baseline": _versions(self.baseline)}

    def detail(self) -> str:
        return i18n.text(*self.message())


def _versions(label: str) -> str:
    """``CN v2021.1`` of a baseline's label ``discretion baseline CN v2021.1 (effective …)`` (kept on cases as written)."""
    return label.removeprefix("discretion baseline ").split(" (")[0]


def propose(baseline: DiscretionBaseline | None, item_code: str, circumstance: str) -> Proposal | None:
    """The range for the item's provision and circumstance; None when the baseline has no such provision."""
    if baseline is None:
        return None
    provision = baseline.provision_for(item_code)
    if provision is None or circumstance not in provision.ranges:
        return None
    low, high = provision.ranges[circumstance]  # type: ignore[index]
    return Proposal(provision.provision, circumstance, low, high, provision.statutory_max_yuan, baseline.label())


def fine_problems(fine_yuan: int, proposal: Proposal | None, departure_reason: str | None) -> list[Problem]:
    """What is wrong with a fine that cannot be recorded as given (field, code, params)."""
    if proposal is None:
        return []
    if fine_yuan > proposal.statutory_max_yuan:
        return [Problem("fine_yuan", "penalty.error.fine_over_statutory", {
            "fine_yuan": fine_yuan, "statutory_max_yuan": proposal.statutory_max_yuan, "provision": proposal.provision})]
    if not proposal.min_yuan <= fine_yuan <= proposal.max_yuan and not (departure_reason or "").strip():
        return [Problem("departure_reason", "penalty.error.fine_outside_baseline", {
            "fine_yuan": fine_yuan, "min_yuan": proposal.min_yuan, "max_yuan": proposal.max_yuan,
            "circumstance": words.named(words.CIRCUMSTANCE, proposal.circumstance)})]
    return []


def departs(fine_yuan: int, proposal: Proposal | None) -> bool:
    return proposal is not None and not proposal.min_yuan <= fine_yuan <= proposal.max_yuan


class DiscretionBaselines:
    """Every loaded baseline (parsed by ``services.penalty.adapters.rules``); picks the one in force."""

    def __init__(self, baselines: list[DiscretionBaseline]):
        self.baselines = baselines

    def in_force(self, region_code: str, on: date) -> DiscretionBaseline | None:
        try:
            return rule_data.in_force(self.baselines, region_code, on, "discretion baseline in force for", "baselines", check_region=False)
        except rule_data.NoApplicableRules:
            return None
