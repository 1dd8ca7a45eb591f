"""Contracts owned by the assessment service: the report (附件4) it accepts and the events it
produces (submitted, rejected, classified). The report model checks shape and format only; its
business rules across fields (dates in the future, publicity after the assessment, exposed within
employees, the stated against the computed self-check score) are the assessment's and live in
``services/assessment/domain`` (``report_rules.report_problems``, ``checklist``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared import i18n, topics
from shared.problems import refusal
from shared.contracts.envelope import (
    RequestModel,
    NAME_LENGTH, REF_LENGTH, Category, Event, Headcount, HazardGrade, ManagementGrade, Nature, RuleSetRef, SaneDate, TraceEntry,
    validate_county_code, validate_credit_code,
)

MAX_INDUSTRY_CODES = 20
MAX_HAZARDS = 200
MAX_CHECKLIST_ITEMS = 100

# --------------------------------------------------------------------------- the report (附件4)


class Enterprise(RequestModel):
    """用人单位: the employer the report is about."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    credit_code: str = Field(max_length=18, description="统一社会信用代码, 18 characters with GB 32100 check character")
    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    region_code: str = Field(max_length=6, description="county-level GB/T 2260 code, e.g. 141029 乡宁县")
    industry_codes: list[Annotated[str, Field(max_length=5)]] = Field(
        default_factory=list, max_length=MAX_INDUSTRY_CODES, description="GB/T 4754-2017 industry codes"
    )
    employees: Headcount = Field(description="职工总数, 0 … 1,000,000")
    production_started_on: SaneDate | None = None

    _credit = field_validator("credit_code")(validate_credit_code)
    _region = field_validator("region_code")(validate_county_code)

    @field_validator("industry_codes")
    @classmethod
    def _industry_codes(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if not (1 <= len(code) <= 5 and code[0].isalpha() and code[0].isupper() and code[1:].isdigit()):
                raise refusal("errors.field.industry_code", value=repr(code))
        return codes


class Assessor(RequestModel):
    """Who ran the assessment: the employer itself, or a 职业卫生技术服务机构."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: Literal["self", "organisation"]
    org_id: str | None = Field(
        default=None, max_length=18, description="the technical service organisation's 统一社会信用代码, when type is organisation"
    )
    org_name: str | None = Field(default=None, max_length=NAME_LENGTH)

    @model_validator(mode="after")
    def _org_named(self) -> "Assessor":
        if self.type == "organisation":
            if not self.org_id:
                raise refusal("errors.assessor.org_id_required")
            validate_credit_code(self.org_id)
        elif self.org_id:
            raise refusal("errors.assessor.org_id_unexpected")
        return self


class Hazard(RequestModel):
    """One occupational-disease hazard factor the workers are exposed to."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    factor: str = Field(min_length=1, max_length=NAME_LENGTH, description="factor name as in the catalogue, e.g. 矽尘, 噪声")
    exposed: Headcount = Field(description="接触人数: distinct workers exposed to this factor, 0 … 1,000,000")
    compliant: bool = Field(description="接触水平: true when within the occupational exposure limit (符合)")
    tested_on: SaneDate | None = None
    test_report_no: str | None = Field(default=None, max_length=REF_LENGTH)
    nature: Nature | None = Field(default=None, description="required for a factor not in the catalogue")
    free_silica_percent: float | None = Field(
        default=None, ge=0, le=100, allow_inf_nan=False, description="游离二氧化硅含量 for a dust, a finite percentage"
    )


class Publicity(RequestModel):
    """公示: the posting on the bulletin board."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    start: SaneDate
    end: SaneDate

    @model_validator(mode="after")
    def _in_order(self) -> "Publicity":
        if self.end < self.start:
            raise refusal("errors.publicity.ends_before_start", start=self.start.isoformat(), end=self.end.isoformat())
        return self


class SelfCheck(RequestModel):
    """附件2 self-check result: the stated score, the item-by-item answers, or both."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    score: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False, description="self-check score out of 100")
    items: dict[
        Annotated[str, Field(max_length=32)], Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] | Literal["n/a"]
    ] | None = Field(
        default=None,
        max_length=MAX_CHECKLIST_ITEMS,
        description='checklist item id → points earned (finite, 0 … 100), or "n/a" (不适用); the service computes the score '
        "from them; at most 100 items",
    )

    @model_validator(mode="after")
    def _score_or_items(self) -> "SelfCheck":
        if self.score is None and not self.items:
            raise refusal("errors.self_check.score_or_items")
        for item, earned in (self.items or {}).items():
            if earned != "n/a" and earned < 0:  # type: ignore[operator]
                raise refusal("errors.self_check.negative_points", item=item)
        return self


class Report(RequestModel):
    """《用人单位职业病危害综合风险评估报告》 as submitted."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    submission_id: UUID = Field(strict=False, default_factory=uuid4)
    enterprise: Enterprise
    assessor: Assessor
    assessed_on: SaneDate
    hazards: list[Hazard] = Field(max_length=MAX_HAZARDS, description="at least one hazard factor (at most 200); none means outside the scheme")
    self_check: SelfCheck
    publicity: Publicity
    signed_by: str = Field(min_length=1, max_length=NAME_LENGTH, description="legal representative or principal who signed")
    sealed: bool

    @field_validator("hazards")
    @classmethod
    def _some_hazard(cls, hazards: list[Hazard]) -> list[Hazard]:
        if not hazards:
            raise refusal("errors.report.no_hazard")
        return hazards

    @field_validator("sealed")
    @classmethod
    def _sealed(cls, sealed: bool) -> bool:
        if not sealed:
            raise refusal("errors.report.not_sealed")
        return sealed


class ReportSubmitted(Event):
    topic: ClassVar[str] = topics.REPORTS_SUBMITTED

    submission_id: UUID
    received_at: datetime
    report: Report


def reason_text(message: i18n.Message, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """A reason the report cannot be classified, in words: the field it names (``params["field"]``), then the text
    (``hazards[1].factor：危害因素“某新型溶剂”不在…`` in Chinese, ``hazards[1].factor: …`` in English)."""
    text = message.text(locale)
    field = message.params.get("field")
    if not field:
        return text
    return f"{field}：{text}" if locale == i18n.ZH else f"{field}: {text}"


class ReportRejected(Event):
    topic: ClassVar[str] = topics.REPORTS_REJECTED

    submission_id: UUID
    reasons: list[str]  # in Chinese, each naming its field first; the texts of ``messages`` when there are any
    messages: list[i18n.Message] = Field(
        default_factory=list,
        description="the reasons as message codes and parameters (the field at fault in params.field), one per reason in the same "
        "order; empty for events published before codes existed",
    )

    def reason_texts(self, locale: str = i18n.DEFAULT_LOCALE) -> list[str]:
        """The reasons in ``locale``; as written (``reasons``) for an event without codes."""
        if len(self.messages) != len(self.reasons):
            return list(self.reasons)
        return [reason_text(message, locale) for message in self.messages]


class FactorGrade(BaseModel):
    factor: str
    nature: Nature
    nature_source: Literal["catalogue", "declared", "free_silica"]
    compliant: bool  # the exposure level as graded (不符合 when the test is missing or expired)
    declared_compliant: bool | None = None  # as the report stated it
    test_status: Literal["valid", "missing", "expired", "not_checked"] = "not_checked"
    exposed: int
    headcount_band: str
    grade: HazardGrade


class LostPoints(BaseModel):
    """A self-check item (附件2) that did not earn its full points."""

    item: str
    title: str
    earned: float
    points: float


class Flag(BaseModel):
    """Something a supervisor should see about an accepted report (late, short publicity, …)."""

    code: str  # e.g. publicity_short, submission_late, first_assessment_late, calendar_unpublished
    message: str  # the text in Chinese as written when the report was accepted
    params: dict[str, Any] = Field(default_factory=dict, description="the values of the text (its message code is assessment.flag.<code>)")

    def text(self, locale: str = "zh_CN") -> str:
        """The flag in ``locale``; as written (``message``) for a flag of an earlier event without parameters."""
        return i18n.text_or(f"assessment.flag.{self.code}", self.params, self.message, locale)


ShortcomingKind = Literal["checklist", "test_missing", "test_expired", "exposure_over_limit", "publicity_short", "submission_late",
                         "first_assessment_late"]
SHORTCOMING_FLAGS: tuple[str, ...] = ("publicity_short", "submission_late", "first_assessment_late")  # the flags that are shortcomings


class Shortcoming(BaseModel):
    """Something a classified report discloses that the employer should put right (RULES §7, 浙江's
    画像—整改 loop): a self-check item that lost points, a hazard whose test is missing or out of
    date, exposure over the limit, a short 公示, a late submission.

    ``code`` is stable for the same shortcoming across an employer's reports (``checklist:4.3``,
    ``test_expired:矽尘``, ``publicity_short``): a later report disclosing it again continues the same
    rectification item. ``rule_key`` is what rule data maps to a duty (``checklist:4.3``,
    ``test_expired``, ``publicity_short``). Whether it is a violation at all is the rule data's
    call (penalty's screening), not this model's."""

    code: str = Field(max_length=300)
    kind: ShortcomingKind
    subject: str | None = Field(default=None, max_length=NAME_LENGTH, description="the self-check item id or the hazard factor")
    text: str = Field(max_length=2000, description="what the report shows, in Chinese, as written when the report was classified")
    params: dict[str, Any] = Field(
        default_factory=dict, max_length=i18n.PARAMS_MAX,
        description="the values of the text (message code assessment.shortcoming.<kind>, or assessment.flag.<kind> for a flag)",
    )

    @property
    def rule_key(self) -> str:
        return f"checklist:{self.subject}" if self.kind == "checklist" else self.kind

    @property
    def message_code(self) -> str:
        return SHORTCOMING_MESSAGES[self.kind]

    def text_in(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        """The shortcoming in ``locale``; as written (``text``) for one of an earlier event without parameters."""
        return i18n.text_or(self.message_code, self.params, self.text, locale)


SHORTCOMING_MESSAGES: dict[str, str] = {  # kind → the message code of its text
    "checklist": "assessment.shortcoming.checklist",
    "test_missing": "assessment.shortcoming.test_missing",
    "test_expired": "assessment.shortcoming.test_expired",
    "exposure_over_limit": "assessment.shortcoming.exposure_over_limit",
    "publicity_short": "assessment.flag.publicity_short",
    "submission_late": "assessment.flag.submission_late",
    "first_assessment_late": "assessment.flag.first_assessment_late",
}


def _shortcoming(code: str, kind: str, subject: str | None, params: dict[str, Any]) -> Shortcoming:
    return Shortcoming(code=code, kind=kind, subject=subject, text=i18n.text(SHORTCOMING_MESSAGES[kind], params), params=params)  # type: ignore[arg-type]


def disclosed_shortcomings(factors: list["FactorGrade"], lost_points: list["LostPoints"], flags: list["Flag"]) -> list[Shortcoming]:
    """The shortcomings a classified report discloses, in a fixed order (checklist items as the
    report lists them, then each factor's test and exposure, then the flags): pure, so every
    consumer that derives them from the same event derives the same list."""
    found: list[Shortcoming] = []
    for lost in lost_points:
        found.append(_shortcoming(f"checklist:{lost.item}", "checklist", lost.item,
                                  {"item": lost.item, "title": lost.title, "earned": lost.earned, "points": lost.points}))
    for factor in factors:
        about = {"factor": factor.factor, "nature": factor.nature, "exposed": factor.exposed}
        if factor.test_status in ("missing", "expired"):
            kind = f"test_{factor.test_status}"
            found.append(_shortcoming(f"{kind}:{factor.factor}", kind, factor.factor, dict(about)))
        if factor.declared_compliant is False or (factor.declared_compliant is None and not factor.compliant and factor.test_status == "valid"):
            found.append(_shortcoming(f"exposure_over_limit:{factor.factor}", "exposure_over_limit", factor.factor, dict(about)))
    for flag in flags:
        if flag.code in SHORTCOMING_FLAGS:  # the flag's text as written when the report was accepted, and its values
            found.append(Shortcoming(code=flag.code, kind=flag.code, text=flag.message, params=dict(flag.params)))  # type: ignore[arg-type]
    unique: dict[str, Shortcoming] = {}
    for shortcoming in found:  # a factor listed twice discloses its shortcoming once
        unique.setdefault(shortcoming.code, shortcoming)
    return list(unique.values())


class AssessmentClassified(Event):
    topic: ClassVar[str] = topics.ASSESSMENTS_CLASSIFIED

    submission_id: UUID
    enterprise_name: str
    region_code: str
    industry_codes: list[str] = Field(default_factory=list)
    employees: int
    assessed_on: date
    hazard_grade: HazardGrade
    management_grade: ManagementGrade
    score: float
    score_source: Literal["stated", "computed"] = "stated"
    category: Category  # 综合风险类别 甲/乙/丙
    factors: list[FactorGrade]
    lost_points: list[LostPoints] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    next_assessment_due: date | None = None  # 3 years after this assessment, unless something changes earlier
    production_started_on: date | None = None  # the report's; a new employer's first assessment is due 2 months after
    assessor: Assessor | None = None
    rule_set: RuleSetRef
    trace: list[TraceEntry]
    shortcomings: list[Shortcoming] = Field(
        default_factory=list,
        description="what the report discloses that the employer should put right (derived from factors, lost_points and flags; "
        "filled from them for events published before the field existed)",
    )

    _region = field_validator("region_code")(validate_county_code)

    @model_validator(mode="after")
    def _shortcomings(self) -> "AssessmentClassified":
        if not self.shortcomings:
            self.shortcomings = disclosed_shortcomings(self.factors, self.lost_points, self.flags)
        return self
