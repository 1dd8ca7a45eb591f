"""Organisations' filings and their star rating (星级评定, RULES §10): pure rules, no I/O.

A technical service organisation (技术服务机构) files test reports (检测报告), an examination institution
(职业健康检查机构) files examination summaries; each kind files only its own (:func:`filing_kind_problem`).
Its star rating comes from versioned rule data (``services/penalty/rules/org-rating-*.json``, kind
``org_rating``, provisional): start points, minus points per false-report finding by severity, minus the
late share of its filings (days from tested_on / examined_on to filed_on over the rule's limit) and the
incomplete share (a test report without post or result), minus the share of employers it served (an assessment
report naming it as assessor) that it filed no test report for (the rules' optional ``served``), plus or minus its
public-credit level; the
points fall in a band of 1–5 stars. A disqualification in force is 0 stars whatever the points.
:func:`rating` answers the stars and the trace, each line naming the rule version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from shared import i18n
from shared import rules_in_force as rule_data
from shared.contracts import RuleSetRef, TraceEntry
from shared.rules_in_force import FromRuleFile

KIND = "org_rating"
OrgKind = Literal["technical_service", "examination"]
FilingKind = Literal["test_report", "exam_summary"]
PublicCreditLevel = Literal["A", "B", "C", "D"]  # 公共信用评价 levels (A best)
FILED_BY: dict[str, OrgKind] = {"test_report": "technical_service", "exam_summary": "examination"}
WORD = {"technical_service": "技术服务机构", "examination": "职业健康检查机构", "test_report": "检测报告", "exam_summary": "体检汇总"}  # as terms


class RatingBand(BaseModel):
    min_points: float = Field(description="the lowest points of the band (included)")
    stars: int = Field(ge=1, le=5)


class ServedRule(BaseModel):
    """Completeness by employers served: an employer whose assessment report names the organisation as its assessor,
    assessed within ``lookback_days`` and at least ``timely_days.test_report`` days ago (time to file), counts as filed
    for when the organisation filed a test report for it tested within ``window_days`` up to the assessment day."""

    points: float = Field(ge=0, le=1000, description="points lost when no employer served was filed for (pro rata)")
    lookback_days: int = Field(ge=1, le=3660)
    window_days: int = Field(ge=1, le=3660)


class OrgRatingRules(FromRuleFile):
    """One version of the star-rating rules of a jurisdiction."""

    kind: str = KIND
    jurisdiction: str
    version: str
    effective_from: date
    provisional: bool
    source: str = ""
    start_points: float = Field(gt=0, le=1000)
    finding_points: dict[Literal["minor", "serious"], float] = Field(description="points lost per finding, by severity")
    finding_years: int = Field(default=3, ge=1, le=10, description="findings older than this (by found_on) no longer count")
    timely_days: dict[FilingKind, int] = Field(description="a filing later than this after tested_on / examined_on is late")
    late_points: float = Field(ge=0, description="points lost when every filing is late (pro rata of the late share)")
    incomplete_points: float = Field(ge=0, description="points lost when every filing is incomplete (pro rata)")
    public_credit_points: dict[PublicCreditLevel, float] = Field(description="points added (or lost) per public-credit level")
    served: ServedRule | None = Field(default=None, description="completeness by employers served (absent: not counted)")
    bands: list[RatingBand] = Field(min_length=1, max_length=5)

    @model_validator(mode="after")
    def _bands(self) -> "OrgRatingRules":
        if set(self.finding_points) != {"minor", "serious"} or set(self.timely_days) != {"test_report", "exam_summary"}:
            raise ValueError("finding_points needs minor and serious; timely_days needs test_report and exam_summary")
        if set(self.public_credit_points) != {"A", "B", "C", "D"}:
            raise ValueError("public_credit_points needs A, B, C and D")
        stars = [b.stars for b in sorted(self.bands, key=lambda b: -b.min_points)]
        if stars != sorted(stars, reverse=True) or len(set(stars)) != len(stars):
            raise ValueError("bands: more points, more stars (each star count once)")
        return self

    def ref(self) -> RuleSetRef:
        return RuleSetRef(jurisdiction=self.jurisdiction, version=self.version, effective_from=self.effective_from,
                          provisional=self.provisional)

    @property
    def label(self) -> str:
        return f"星级评定 {self.jurisdiction} {self.version}"


class OrgRatingRuleBook:
    """Every version loaded; :meth:`in_force` picks the one for the organisation's region on a day."""

    def __init__(self, versions: list[OrgRatingRules]):
        self.versions = versions

    def in_force(self, region_code: str, on: date) -> OrgRatingRules:
        return rule_data.in_force(self.versions, region_code, on, "star-rating rules in force for", "org rating rules",
                                  check_region=False)


@dataclass(frozen=True)
class FindingFact:
    severity: str
    found_on: date


@dataclass(frozen=True)
class FilingFact:
    kind: str  # test_report | exam_summary
    done_on: date  # tested_on / examined_on
    filed_on: date
    complete: bool
    employer: str = ""  # the employer's credit code


@dataclass(frozen=True)
class ServedFact:
    """An assessment report naming the organisation as its assessor."""

    employer: str
    assessed_on: date


@dataclass(frozen=True)
class PublicCredit:
    level: str
    source: str
    as_of: date


@dataclass(frozen=True)
class RatingInputs:
    org_id: str
    findings: list[FindingFact] = field(default_factory=list)
    disqualified: str | None = None  # the decision number of a disqualification in force, if any
    filings: list[FilingFact] = field(default_factory=list)
    public_credit: PublicCredit | None = None
    served: list[ServedFact] = field(default_factory=list)


@dataclass(frozen=True)
class Rating:
    stars: int
    points: float
    trace: list[TraceEntry]


def _line(rules: OrgRatingRules, code: str, **params: object) -> TraceEntry:
    return TraceEntry(rule=rules.label, code=code, params=dict(params), detail=i18n.text(code, dict(params)))


def rating(inputs: RatingInputs, rules: OrgRatingRules, today: date) -> Rating:
    """The organisation's stars (0–5) and how they were reached."""
    points = rules.start_points
    trace = [_line(rules, "penalty.rating.start" + ("_provisional" if rules.provisional else ""), points=points, version=rules.version)]
    horizon = _years_before(today, rules.finding_years)
    counted = [f for f in inputs.findings if f.found_on >= horizon]
    for severity in ("serious", "minor"):
        n = sum(1 for f in counted if f.severity == severity)
        if n:
            lost = n * rules.finding_points[severity]  # type: ignore[index]
            points -= lost
            trace.append(_line(rules, f"penalty.rating.findings_{severity}", count=n, lost=lost, years=rules.finding_years))
    if inputs.filings:
        late = sum(1 for f in inputs.filings if (f.filed_on - f.done_on).days > rules.timely_days[f.kind])  # type: ignore[index]
        incomplete = sum(1 for f in inputs.filings if not f.complete)
        total = len(inputs.filings)
        lost_late = round(rules.late_points * late / total, 2)
        lost_incomplete = round(rules.incomplete_points * incomplete / total, 2)
        points -= lost_late + lost_incomplete
        trace.append(_line(rules, "penalty.rating.timeliness", late=late, total=total, lost=lost_late,
                           test_days=rules.timely_days["test_report"], exam_days=rules.timely_days["exam_summary"]))
        trace.append(_line(rules, "penalty.rating.completeness", incomplete=incomplete, total=total, lost=lost_incomplete))
    else:
        trace.append(_line(rules, "penalty.rating.no_filings"))
    if rules.served is not None:
        points -= _served(inputs, rules, rules.served, today, trace)
    if inputs.public_credit is not None:
        added = rules.public_credit_points[inputs.public_credit.level]  # type: ignore[index]
        points += added
        trace.append(_line(rules, "penalty.rating.public_credit", level=inputs.public_credit.level, source=inputs.public_credit.source,
                           as_of=inputs.public_credit.as_of.isoformat(), added=added))
    points = round(points, 2)
    if inputs.disqualified is not None:
        trace.append(_line(rules, "penalty.rating.disqualified", decision_no=inputs.disqualified))
        return Rating(0, points, trace)
    bands = sorted(rules.bands, key=lambda b: -b.min_points)
    stars = next((b.stars for b in bands if points >= b.min_points), 1)
    trace.append(_line(rules, "penalty.rating.band", points=points, stars=stars))
    return Rating(stars, points, trace)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _served(inputs: RatingInputs, rules: OrgRatingRules, rule: ServedRule, today: date, trace: list[TraceEntry]) -> float:
    """Points lost for the employers served (in the lookback, past the filing time) with no test report filed for them."""
    settled = [s for s in inputs.served if rule.lookback_days >= (today - s.assessed_on).days >= rules.timely_days["test_report"]]
    employers: dict[str, bool] = {}
    for s in settled:
        filed = any(f.kind == "test_report" and f.employer == s.employer and 0 <= (s.assessed_on - f.done_on).days <= rule.window_days
                    for f in inputs.filings)
        employers[s.employer] = employers.get(s.employer, False) or filed
    if not employers:
        return 0.0
    unfiled = [e for e, filed in employers.items() if not filed]
    lost = round(rule.points * len(unfiled) / len(employers), 2)
    trace.append(_line(rules, "penalty.rating.served", served=len(employers), unfiled=len(unfiled), lost=lost,  # counts only: the
                       days=rule.lookback_days, window=rule.window_days))  # trace goes to the public credit feed
    return lost


def filing_kind_problem(org_kind: str | None, filing: str) -> str | None:
    """The code of why an organisation of ``org_kind`` may not file ``filing``, or None (an unknown kind: declared by it)."""
    if org_kind is not None and FILED_BY[filing] != org_kind:
        return "penalty.error.org.wrong_kind"
    return None


def report_complete(post: str, result: str) -> bool:
    """A test report is complete when it names the post and states the result (the other fields are required)."""
    return bool(post.strip()) and bool(result.strip())
