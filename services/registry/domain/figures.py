"""The agency's figures (统计指标) per county and period: what each counts, in words, and how the rates
are made from the counts. Pure: the counts come from the registry's projection and archive.

A period is two China dates, both included, ``from`` ≤ ``to``, at most :data:`MAX_PERIOD_YEARS`
long; by default this year so far. The titles and definitions are in Chinese unless a reader asks for English
(:func:`definitions`, :func:`title`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared import i18n
from shared.dates import add_months

MAX_PERIOD_YEARS = 10
OUTCOMES: tuple[str, ...] = ("eligible_if_corrected", "not_eligible", "no_violation")
RATE_DIGITS = 4  # 0.5384 = 53.84 %

# (key, title in the workbook, what it counts in Chinese) in the order of a row; in another language:
# :func:`definitions` (the codes ``registry.figures.definition.<key>``)
FIGURE_KEYS: tuple[str, ...] = (
    "employers_known", "employers_classified", "classification_coverage", "shortcomings_raised", "shortcomings_cleared",
    "shortcomings_overdue", "risk_resolution_rate", "screenings.eligible_if_corrected", "screenings.not_eligible",
    "screenings.no_violation", "no_penalty_decisions", "penalty_decisions",
)
TITLE_CODES: dict[str, str] = {
    "employers_known": "registry.figures.title.employers_known",
    "employers_classified": "registry.figures.title.employers_classified",
    "classification_coverage": "registry.figures.title.classification_coverage",
    "shortcomings_raised": "registry.figures.title.shortcomings_raised",
    "shortcomings_cleared": "registry.figures.title.shortcomings_cleared",
    "shortcomings_overdue": "registry.figures.title.shortcomings_overdue",
    "risk_resolution_rate": "registry.figures.title.risk_resolution_rate",
    "screenings.eligible_if_corrected": "registry.figures.title.screenings.eligible_if_corrected",
    "screenings.not_eligible": "registry.figures.title.screenings.not_eligible",
    "screenings.no_violation": "registry.figures.title.screenings.no_violation",
    "no_penalty_decisions": "registry.figures.title.no_penalty_decisions",
    "penalty_decisions": "registry.figures.title.penalty_decisions",
}
DEFINITION_CODES: dict[str, str] = {
    "period": "registry.figures.definition.period",
    "region": "registry.figures.definition.region",
    "employers_known": "registry.figures.definition.employers_known",
    "employers_classified": "registry.figures.definition.employers_classified",
    "classification_coverage": "registry.figures.definition.classification_coverage",
    "shortcomings_raised": "registry.figures.definition.shortcomings_raised",
    "shortcomings_cleared": "registry.figures.definition.shortcomings_cleared",
    "shortcomings_overdue": "registry.figures.definition.shortcomings_overdue",
    "risk_resolution_rate": "registry.figures.definition.risk_resolution_rate",
    "screenings.eligible_if_corrected": "registry.figures.definition.screenings.eligible_if_corrected",
    "screenings.not_eligible": "registry.figures.definition.screenings.not_eligible",
    "screenings.no_violation": "registry.figures.definition.screenings.no_violation",
    "no_penalty_decisions": "registry.figures.definition.no_penalty_decisions",
    "penalty_decisions": "registry.figures.definition.penalty_decisions",
}


def title(key: str, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """A figure's title (用人单位数 …), English on request."""
    return i18n.text(TITLE_CODES[key], locale=locale)


def definitions(locale: str = i18n.DEFAULT_LOCALE) -> dict[str, str]:
    """What the period, the rows and each figure count, in ``locale`` (Chinese by default): the ``definitions``
    of the figures' answer."""
    return {key: i18n.text(code, locale=locale) for key, code in DEFINITION_CODES.items()}


FIGURES: tuple[tuple[str, str, str], ...] = tuple((key, title(key), i18n.text(DEFINITION_CODES[key])) for key in FIGURE_KEYS)
DEFINITIONS: dict[str, str] = definitions()  # in Chinese


class PeriodProblem(ValueError):
    """A period that cannot be counted; ``field`` names the query parameter (from, to)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def view(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def period(start: date | None, end: date | None, today: date) -> Period:
    """The period asked for, with the defaults (this year so far); :class:`PeriodProblem` when it cannot be counted."""
    end = end or (today if start is None or start <= today else None)
    if end is None:
        raise PeriodProblem("from", f"{start.isoformat()} is after today ({today.isoformat()}): give to as well")  # type: ignore[union-attr]
    start = start or date(end.year, 1, 1)
    if start > end:
        raise PeriodProblem("from", f"{start.isoformat()} is after to ({end.isoformat()})")
    if end >= add_months(start, 12 * MAX_PERIOD_YEARS):
        raise PeriodProblem("to", f"the period {start.isoformat()} – {end.isoformat()} is longer than {MAX_PERIOD_YEARS} years")
    return Period(start, end)


def ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, RATE_DIGITS) if denominator else None


@dataclass(frozen=True)
class CountyCounts:
    employers_known: int = 0
    employers_classified: int = 0
    shortcomings_raised: int = 0
    shortcomings_cleared: int = 0
    shortcomings_overdue: int = 0
    screenings: Mapping[str, int] | None = None
    decisions: Mapping[str, int] | None = None


def row(region_code: str, region_name: str | None, counts: CountyCounts, listed: bool = True) -> dict[str, Any]:
    """One county's figures, as the API answers them."""
    screenings = counts.screenings or {}
    decisions = counts.decisions or {}
    return {
        "region_code": region_code,
        "region_name": region_name,
        "listed": listed,
        "employers_known": counts.employers_known,
        "employers_classified": counts.employers_classified,
        "classification_coverage": ratio(counts.employers_classified, counts.employers_known),
        "shortcomings_raised": counts.shortcomings_raised,
        "shortcomings_cleared": counts.shortcomings_cleared,
        "shortcomings_overdue": counts.shortcomings_overdue,
        "risk_resolution_rate": ratio(counts.shortcomings_cleared, counts.shortcomings_raised),
        "screenings": {outcome: int(screenings.get(outcome, 0)) for outcome in OUTCOMES},
        "no_penalty_decisions": int(decisions.get("no_penalty", 0)),
        "penalty_decisions": int(decisions.get("penalty", 0)),
    }


def totals(region_code: str, region_name: str | None, rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The sum of ``rows``, the rates made from the sums."""
    rows = list(rows)
    counts = CountyCounts(
        employers_known=sum(r["employers_known"] for r in rows),
        employers_classified=sum(r["employers_classified"] for r in rows),
        shortcomings_raised=sum(r["shortcomings_raised"] for r in rows),
        shortcomings_cleared=sum(r["shortcomings_cleared"] for r in rows),
        shortcomings_overdue=sum(r["shortcomings_overdue"] for r in rows),
        screenings={o: sum(r["screenings"][o] for r in rows) for o in OUTCOMES},
        decisions={"no_penalty": sum(r["no_penalty_decisions"] for r in rows), "penalty": sum(r["penalty_decisions"] for r in rows)},
    )
    return {key: value for key, value in row(region_code, region_name, counts).items() if key != "listed"}


def value_of(figures_row: dict[str, Any], key: str) -> Any:
    """A figure of a row by its key in :data:`FIGURES` (``screenings.no_violation`` reads the nested count)."""
    if key.startswith("screenings."):
        return figures_row["screenings"][key.removeprefix("screenings.")]
    return figures_row[key]
