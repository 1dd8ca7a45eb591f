"""The agency's figures (统计指标) per county and period: what each counts, in words, and how the rates
are made from the counts. Pure: the counts come from the registry's projection and archive.

A period is two China dates, both included, ``from`` ≤ ``to``, at most :data:`MAX_PERIOD_YEARS`
long; by default this year so far.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.dates import add_months

MAX_PERIOD_YEARS = 10
OUTCOMES: tuple[str, ...] = ("eligible_if_corrected", "not_eligible", "no_violation")
RATE_DIGITS = 4  # 0.5384 = 53.84 %

# (key, title in the workbook, what it counts) in the order of a row
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("employers_known", "用人单位数",
     "Employers the archive knew at the end of the period: a classified report archived, or an industry default recorded, "
     "on or before the last day. Counted in the county where the archive has the employer today."),
    ("employers_classified", "已分类（报告）用人单位数",
     "Of those, the employers with a classified report (综合风险评估报告) archived on or before the last day of the period "
     "(an industry default alone does not count)."),
    ("classification_coverage", "分类覆盖率",
     "employers_classified ÷ employers_known, at the end of the period (null when no employer is known); a fraction, 0.91 = 91 %."),
    ("shortcomings_raised", "整改事项（新增）",
     "Rectification items raised within the period (the day of their 'raised' step): each shortcoming a report disclosed "
     "that became an item for the employer. Counted in the item's county."),
    ("shortcomings_cleared", "整改事项（解除）",
     "Rectification items cleared (解除: staff accepted the correction) within the period, whenever they were raised."),
    ("shortcomings_overdue", "整改事项（逾期未解除）",
     "Rectification items listed overdue (their deadline passed uncorrected: the 'overdue' step) on or before the last day "
     "of the period and not cleared by then."),
    ("risk_resolution_rate", "风险化解率",
     "shortcomings_cleared ÷ shortcomings_raised within the period (null when none was raised). Items raised before the "
     "period and cleared in it count as cleared, so a period that clears a backlog can exceed 1."),
    ("screenings.eligible_if_corrected", "筛查：改正后可不予处罚",
     "Shortcomings screened against 附件5 within the period (the screening day) whose outcome is 'eligible for no penalty "
     "if corrected by the deadline'. A shortcoming of a report screened again counts once, with its latest screening."),
    ("screenings.not_eligible", "筛查：不适用不予处罚",
     "… whose outcome is 'not eligible' (not on the list, a repeat, harm, major)."),
    ("screenings.no_violation", "筛查：不构成违法",
     "… whose outcome is 'no violation' (a recommendation only)."),
    ("no_penalty_decisions", "不予处罚决定",
     "Cases decided 不予处罚 (no penalty: first-time minor violation corrected) within the period, by the day of the "
     "decision (China time), in the case's county."),
    ("penalty_decisions", "行政处罚决定",
     "Cases decided with a penalty within the period, counted the same way."),
)
DEFINITIONS: dict[str, str] = {
    "period": "from and to are China dates (UTC+8), both included; at most 10 years; by default 1 January of this year to today.",
    "region": "One row per county: the county asked for, or every county of the city or province asked for (zeros included), "
              "plus any county outside the region tree that has data; totals add the counts and make the rates from the sums.",
    **{key: text for key, _, text in FIGURES},
}


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
