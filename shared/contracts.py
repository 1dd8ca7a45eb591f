"""Event contracts: the only thing services share about each other.

Every event carries ``event_id`` (UUID, the idempotency key), ``schema_version``,
``occurred_at``, ``producer`` and the employer's ``credit_code``, which is also the Kafka key.
Consumers ignore fields they do not know (forward compatible); a payload that does not fit its
model is dead-lettered with the validation error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Annotated, ClassVar, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared import topics
from shared.dates import china_today
from shared.identifiers import county_region_problem, credit_code_problem, region_problem

Category = Literal["甲", "乙", "丙"]  # 综合风险类别: 甲 lowest risk, 丙 highest (2022 scheme)
HazardGrade = Literal["Ⅰ", "Ⅱ", "Ⅲ"]  # 职业病危害风险等级
ManagementGrade = Literal["A", "B", "C"]  # 职业卫生管理状况等级
Nature = Literal["严重", "一般"]  # hazard factor nature
Harm = Literal["none", "minor", "serious"]
Decision = Literal["no_penalty", "penalty"]

NonNegativeInt = Annotated[int, Field(ge=0)]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class CreditCode(str):
    """Marker for documentation; validation lives in ``validate_credit_code``."""


def validate_credit_code(value: str) -> str:
    value = value.strip()
    problem = credit_code_problem(value)
    if problem:
        raise ValueError(f"统一社会信用代码 {problem}")
    return value


def validate_county_code(value: str) -> str:
    problem = county_region_problem(value)
    if problem:
        raise ValueError(f"region code {problem}")
    return value


# --------------------------------------------------------------------------- the report (附件4)


@dataclass(frozen=True)
class FieldProblem:
    field: str  # dotted path, e.g. enterprise.credit_code or hazards[0].exposed
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"



class Enterprise(BaseModel):
    """用人单位: the employer the report is about."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    credit_code: str = Field(description="统一社会信用代码, 18 characters with GB 32100 check character")
    name: str = Field(min_length=1, max_length=200)
    region_code: str = Field(description="county-level GB/T 2260 code, e.g. 141029 乡宁县")
    industry_codes: list[str] = Field(default_factory=list, description="GB/T 4754-2017 industry codes")
    employees: NonNegativeInt
    production_started_on: date | None = None

    _credit = field_validator("credit_code")(validate_credit_code)
    _region = field_validator("region_code")(validate_county_code)

    @field_validator("industry_codes")
    @classmethod
    def _industry_codes(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if not (1 <= len(code) <= 5 and code[0].isalpha() and code[0].isupper() and code[1:].isdigit()):
                raise ValueError(f"{code!r} is not a GB/T 4754-2017 industry code (a letter then up to 4 digits, e.g. C3011)")
        return codes


class Assessor(BaseModel):
    """Who ran the assessment: the employer itself, or a 职业卫生技术服务机构."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: Literal["self", "organisation"]
    org_id: str | None = Field(
        default=None, description="the technical service organisation's 统一社会信用代码, when type is organisation"
    )
    org_name: str | None = None

    @model_validator(mode="after")
    def _org_named(self) -> "Assessor":
        if self.type == "organisation":
            if not self.org_id:
                raise ValueError("org_id is required when the assessor is an organisation")
            validate_credit_code(self.org_id)
        elif self.org_id:
            raise ValueError("org_id is only for an organisation assessor (type organisation)")
        return self


class Hazard(BaseModel):
    """One occupational-disease hazard factor the workers are exposed to."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    factor: str = Field(min_length=1, description="factor name as in the catalogue, e.g. 矽尘, 噪声")
    exposed: NonNegativeInt = Field(description="接触人数: distinct workers exposed to this factor")
    compliant: bool = Field(description="接触水平: true when within the occupational exposure limit (符合)")
    tested_on: date | None = None
    test_report_no: str | None = None
    nature: Nature | None = Field(default=None, description="required for a factor not in the catalogue")
    free_silica_percent: float | None = Field(default=None, ge=0, le=100, description="游离二氧化硅含量 for a dust")


class Publicity(BaseModel):
    """公示: the posting on the bulletin board."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    start: date
    end: date

    @model_validator(mode="after")
    def _in_order(self) -> "Publicity":
        if self.end < self.start:
            raise ValueError(f"publicity ends ({self.end}) before it starts ({self.start})")
        return self


class SelfCheck(BaseModel):
    """附件2 self-check result: the stated score, the item-by-item answers, or both."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    score: float | None = Field(default=None, ge=0, le=100, description="self-check score out of 100")
    items: dict[str, float | Literal["n/a"]] | None = Field(
        default=None,
        description='checklist item id → points earned, or "n/a" (不适用); the service computes the score from them',
    )

    @model_validator(mode="after")
    def _score_or_items(self) -> "SelfCheck":
        if self.score is None and not self.items:
            raise ValueError("give the self-check score, the item-by-item answers (items), or both")
        for item, earned in (self.items or {}).items():
            if earned != "n/a" and earned < 0:  # type: ignore[operator]
                raise ValueError(f"items.{item}: points earned cannot be negative")
        return self


class Report(BaseModel):
    """《用人单位职业病危害综合风险评估报告》 as submitted."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    submission_id: UUID = Field(default_factory=uuid4)
    enterprise: Enterprise
    assessor: Assessor
    assessed_on: date
    hazards: list[Hazard] = Field(description="at least one hazard factor; none means outside the scheme")
    self_check: SelfCheck
    publicity: Publicity
    signed_by: str = Field(min_length=1, description="legal representative or principal who signed")
    sealed: bool

    @field_validator("hazards")
    @classmethod
    def _some_hazard(cls, hazards: list[Hazard]) -> list[Hazard]:
        if not hazards:
            raise ValueError("at least one hazard factor is required: an employer with no occupational-disease hazard is outside the classification scheme")
        return hazards

    @field_validator("sealed")
    @classmethod
    def _sealed(cls, sealed: bool) -> bool:
        if not sealed:
            raise ValueError("the report must carry the employer's seal (盖章)")
        return sealed

    def consistency_problems(self, today: date | None = None) -> list[FieldProblem]:
        """Checks across fields, each naming the field at fault. Empty when the report is coherent."""
        today = today or china_today()
        problems: list[FieldProblem] = []
        if self.assessed_on > today:
            problems.append(FieldProblem("assessed_on", f"{self.assessed_on} is in the future"))
        started = self.enterprise.production_started_on
        if started and started > self.assessed_on:
            problems.append(FieldProblem("enterprise.production_started_on", f"{started} is after assessed_on {self.assessed_on}"))
        if self.publicity.start < self.assessed_on:
            problems.append(FieldProblem("publicity.start", f"{self.publicity.start} is before assessed_on {self.assessed_on}: the result is posted after the assessment"))
        if self.publicity.start > today:
            problems.append(FieldProblem("publicity.start", f"{self.publicity.start} is in the future"))
        for i, hazard in enumerate(self.hazards):
            if hazard.tested_on and hazard.tested_on > self.assessed_on:
                problems.append(FieldProblem(f"hazards[{i}].tested_on", f"{hazard.tested_on} is after assessed_on {self.assessed_on}"))
            if hazard.exposed > self.enterprise.employees:
                problems.append(FieldProblem(f"hazards[{i}].exposed", f"{hazard.exposed} exceeds enterprise.employees {self.enterprise.employees}"))
        return problems


# --------------------------------------------------------------------------- events


class Envelope(BaseModel):
    """Envelope fields every event carries; ``partition_key`` is its Kafka key."""

    model_config = ConfigDict(extra="ignore")

    topic: ClassVar[str]
    key_description: ClassVar[str] = "统一社会信用代码 of the employer"

    event_id: UUID = Field(default_factory=uuid4)
    schema_version: int = 1
    occurred_at: datetime = Field(default_factory=utc_now)
    producer: str

    @property
    def partition_key(self) -> str:
        raise NotImplementedError

    @property
    def key(self) -> bytes:
        return self.partition_key.encode()


class Event(Envelope):
    """An event about one employer (or organisation): keyed by its 统一社会信用代码, so one
    employer's events stay in order on one partition."""

    credit_code: str

    _credit = field_validator("credit_code")(validate_credit_code)

    @property
    def partition_key(self) -> str:
        return self.credit_code


class AgencyEvent(Envelope):
    """An event about an agency's work rather than one employer (a sampling plan, a draw): keyed
    by the agency's GB/T 2260 region code."""

    key_description: ClassVar[str] = "GB/T 2260 region code of the agency"

    region_code: str

    @field_validator("region_code")
    @classmethod
    def _agency_region(cls, value: str) -> str:
        problem = region_problem(value)
        if problem:
            raise ValueError(f"region code {problem}")
        return value

    @property
    def partition_key(self) -> str:
        return self.region_code


class TraceEntry(BaseModel):
    """One line of a decision's trace: which rule, and what it decided, in words a supervisor reads."""

    rule: str
    detail: str


class RuleSetRef(BaseModel):
    """Which versioned rule data a decision used."""

    jurisdiction: str
    version: str
    effective_from: date
    provisional: bool


class ReportSubmitted(Event):
    topic: ClassVar[str] = topics.REPORTS_SUBMITTED

    submission_id: UUID
    received_at: datetime
    report: Report


class ReportRejected(Event):
    topic: ClassVar[str] = topics.REPORTS_REJECTED

    submission_id: UUID
    reasons: list[str]


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
    message: str


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

    _region = field_validator("region_code")(validate_county_code)


class OrgDisqualified(Event):
    """A technical service organisation may no longer do comprehensive risk assessments.

    ``credit_code`` (the key) is the organisation's own 统一社会信用代码."""

    topic: ClassVar[str] = topics.ORGS_DISQUALIFIED

    org_name: str
    decision_no: str  # the deciding document, e.g. 晋卫监罚〔2026〕12号
    decided_on: date
    until: date | None = None  # None: until lifted
    reason: str


class ClassificationChanged(Event):
    topic: ClassVar[str] = topics.CLASSIFICATION_CHANGED

    enterprise_name: str
    region_code: str
    archive_version: int = Field(ge=1, description="the archive version this change produced; consumers keep the highest")
    previous_category: Category | None
    category: Category  # the effective category: the report's result, or the industry default, after overrides
    hazard_grade: HazardGrade | None = Field(description="the current report's; null for an industry default (no report)")
    management_grade: ManagementGrade | None = Field(description="the current report's; null for an industry default (no report)")
    submission_id: UUID | None
    reason: str
    industry_codes: list[str] = Field(default_factory=list, description="GB/T 4754-2017 codes of the employer (sampling's full-coverage industries)")

    _region = field_validator("region_code")(validate_county_code)


class ExemptionChanged(Event):
    """An employer's 免检 came into force (``exempt`` true) or ended (false: revoked or expired).

    ``valid_from`` / ``valid_until`` are China dates, both included. An employer holds at most one
    exemption at a time; an end names the exemption it ends."""

    topic: ClassVar[str] = topics.EXEMPTION_CHANGED

    exemption_id: UUID
    region_code: str
    exempt: bool
    valid_from: date
    valid_until: date
    reason: str

    _region = field_validator("region_code")(validate_county_code)


ReminderKind = Literal["reassessment_due_soon", "reassessment_overdue", "first_assessment_overdue"]


class ReminderDue(Event):
    """A deadline of RULES §1 that supervision staff should chase, from the registry's daily sweep.

    ``reassessment_due_soon``: the re-assessment (every 3 years) is due on ``due_on``, ``days`` from
    now (0: today). ``reassessment_overdue``: ``due_on`` has passed, ``days`` ago.
    ``first_assessment_overdue``: an employer without a report whose first assessment was due 2
    months after it started production, on ``due_on``, ``days`` ago. Sent once per employer, kind
    and ``due_on``."""

    topic: ClassVar[str] = topics.REMINDER_DUE

    kind: ReminderKind
    region_code: str
    due_on: date
    days: int = Field(ge=0, description="days until due_on (due soon) or since it (overdue)")
    enterprise_name: str
    reason: str

    _region = field_validator("region_code")(validate_county_code)


class ViolationRecorded(Event):
    """A violation found at an inspection: the penalty service opens (or already holds) the case
    ``case_id`` and takes it through the procedure. Recorded through penalty's HTTP API, or by the
    sampling service from an inspection result (``task_id`` / ``plan_id`` then name the task)."""

    topic: ClassVar[str] = topics.VIOLATION_RECORDED

    case_id: UUID
    region_code: str | None = None
    item_code: str
    found_on: date
    harm: Harm
    corrected_on: date | None
    rectification_deadline: date | None
    task_id: UUID | None = Field(default=None, description="the sampling task (检查任务) whose inspection found it")
    plan_id: UUID | None = Field(default=None, description="the sampling plan of that task")
    inspectors: list[str] = Field(default_factory=list, description="who found it (inspector ids)")
    description: str | None = Field(default=None, description="what was found, in the inspectors' words")
    major: bool = Field(default=False, description="the inspectors' finding that it is a major violation (重大违法): never unpenalised, "
                        "and its penalty raises the employer's category")


class PenaltyDecided(Event):
    topic: ClassVar[str] = topics.PENALTY_DECIDED

    case_id: UUID
    item_code: str
    decision: Decision
    major: bool = False
    reasons: list[str]
    trace: list[TraceEntry]
    case_code: str | None = Field(default=None, description="行政行为码 of the case")
    region_code: str | None = Field(default=None, description="the case's county")
    fine_yuan: int | None = Field(default=None, ge=0, description="the fine decided, in yuan, when there is one")


CaseStep = Literal[
    "opened",  # 立案: the case exists and has its code
    "educated",  # 教育引导 recorded
    "rectification_ordered",  # 责令限期改正 with a deadline
    "commitment_signed",  # 告知承诺: the employer committed to correct by a deadline
    "correction_verified",  # 复查: corrected (date) — by the deadline or not
    "correction_failed",  # 复查: not corrected
    "escalated",  # 逾期处罚: deadline passed without verified correction → penalty case
    "penalty_proposed",  # 裁量基准: the fine range proposed
    "decided",  # no_penalty or penalty decided
    "closed",  # 结案
]


class CaseProgressed(Event):
    """A case moved one step of the procedure (RULES §8, 三步法); one event per step, in order per
    employer. ``status`` is the case's status after the step."""

    topic: ClassVar[str] = topics.CASE_PROGRESSED

    case_id: UUID
    case_code: str = Field(description="行政行为码")
    region_code: str
    item_code: str
    step: CaseStep
    status: str
    on: date = Field(description="the China date the step took effect")
    deadline: date | None = Field(default=None, description="the rectification / commitment deadline, when the step sets one")
    actor: str = Field(description="who took the step (a staff member's name, or 'system' for the daily sweep)")
    detail: str
    fine_yuan: int | None = Field(default=None, ge=0, description="the fine, on the step that records it (closed after a penalty)")


class InspectorRef(BaseModel):
    """An inspector (执法检查人员) as published with a task: id and name only."""

    id: str
    name: str


class TaskAssigned(Event):
    """A target drawn for inspection (检查任务), with its inspectors; keyed by the target employer."""

    topic: ClassVar[str] = topics.TASK_ASSIGNED

    task_id: UUID
    plan_id: UUID
    draw_id: UUID
    region_code: str = Field(description="the target's county")
    period: str = Field(description="the plan's period: 2026 or 2026Q1")
    category: Category  # 综合风险类别 of the target when drawn
    enterprise_name: str
    selection: Literal["random", "full_coverage"] = Field(description="drawn at random, or taken in full (mandatory industry)")
    on_site: bool = Field(description="false: a non-site (非现场) check, as the plan allows for 甲")
    inspectors: list[InspectorRef]


class PlanCommitted(AgencyEvent):
    """A sampling plan was created; its seed is committed (SHA-256) before any draw, so the draw
    cannot be steered after the pool is seen."""

    topic: ClassVar[str] = topics.PLAN_COMMITTED

    plan_id: UUID
    period: str
    commitment: str = Field(description="hex SHA-256 of the secret seed")
    algorithm_version: str
    ratios: dict[str, float]
    parent_plan_id: UUID | None = Field(default=None, description="the province's or city's plan this one was handed down from")


class DrawPublished(AgencyEvent):
    """A plan's draw is done and public (一公开): with it anyone can recompute the draw."""

    topic: ClassVar[str] = topics.DRAW_PUBLISHED

    plan_id: UUID
    draw_id: UUID
    period: str
    seed: str = Field(description="the seed revealed; its SHA-256 is the plan's commitment")
    commitment: str
    pool_hash: str = Field(description="hex SHA-256 of the canonical pool the draw used")
    pool_version: int = Field(ge=0, description="the pool version (change counter) the draw used")
    algorithm_version: str
    targets: dict[str, int] = Field(description="targets drawn per category (甲/乙/丙)")
    publication: str = Field(description="path of the public record, GET on the sampling service")


class InspectionRecorded(Event):
    """The outcome of one task's inspection (检查结果), published (一公开); violations found also go
    to the penalty service as ``ohs.inspections.violation-recorded``."""

    topic: ClassVar[str] = topics.INSPECTION_RECORDED

    task_id: UUID
    plan_id: UUID
    region_code: str
    category: Category
    outcome: Literal["compliant", "violations", "not_inspected"]
    inspected_on: date | None
    item_codes: list[str] = Field(default_factory=list, description="§7 item codes of the violations found")
    case_ids: list[UUID] = Field(default_factory=list, description="the penalty cases opened for them")
    reason: str | None = Field(default=None, description="why not inspected")


EVENT_TYPES: dict[str, type[Envelope]] = {
    cls.topic: cls
    for cls in (
        ReportSubmitted, ReportRejected, AssessmentClassified, ClassificationChanged, ViolationRecorded, PenaltyDecided,
        OrgDisqualified, ExemptionChanged, ReminderDue, CaseProgressed, TaskAssigned, PlanCommitted, DrawPublished,
        InspectionRecorded,
    )
}


# --------------------------------------------------------------------------- the credit feed (CloudEvents 1.0)
#
# Not an Event: what goes out on ohs.credit.events for credit-regulation systems is a CloudEvents
# 1.0 event in structured JSON mode (the whole record value is the event). The registry's
# credit-feed translator (services/registry/service_layer/credit_feed.py) builds one per
# classification change, 免检 start or end, and penalty decision. README "Credit feed".

CREDIT_SOURCE_REGISTRY = "/ohs/registry"
CREDIT_SOURCE_PENALTY = "/ohs/penalty"

CreditEventType = Literal[
    "cn.gov.ohs.classification.changed", "cn.gov.ohs.exemption.started", "cn.gov.ohs.exemption.ended", "cn.gov.ohs.penalty.decided",
    "cn.gov.ohs.org.disqualified",
]
CreditDataSchema = Literal[
    "urn:ohs:credit:classification-changed:1", "urn:ohs:credit:exemption-changed:1", "urn:ohs:credit:penalty-decided:1",
    "urn:ohs:credit:org-disqualified:1",
]


class CreditClassificationData(BaseModel):
    """``data`` of ``cn.gov.ohs.classification.changed`` (schema ``urn:ohs:credit:classification-changed:1``):
    the archive's effective category was set for the first time or changed."""

    model_config = ConfigDict(extra="forbid")

    enterprise_name: str
    region_code: str = Field(description="county-level GB/T 2260 code of the employer")
    category_before: Category | None = Field(description="null for the employer's first archive")
    category_after: Category
    hazard_grade: HazardGrade | None = Field(description="the current report's; null for an industry default")
    management_grade: ManagementGrade | None = Field(description="the current report's; null for an industry default")
    archive_version: int = Field(ge=1, description="the archive version of this change; keep the highest per employer")
    submission_id: UUID | None = Field(description="the current report; null for an industry default")
    reason: str


class CreditExemptionData(BaseModel):
    """``data`` of ``cn.gov.ohs.exemption.started`` / ``.ended`` (schema ``urn:ohs:credit:exemption-changed:1``):
    a 免检 came into force, or ended (revoked or expired; ``reason`` says which)."""

    model_config = ConfigDict(extra="forbid")

    exemption_id: UUID
    region_code: str
    exempt: bool = Field(description="true: in force from now; false: ended")
    valid_from: date = Field(description="China date, included")
    valid_until: date = Field(description="China date, included")
    reason: str


class CreditPenaltyData(BaseModel):
    """``data`` of ``cn.gov.ohs.penalty.decided`` (schema ``urn:ohs:credit:penalty-decided:1``): the decision on a case."""

    model_config = ConfigDict(extra="forbid")

    case_id: UUID
    item_code: str = Field(description="the violated item of the 附件5 list")
    decision: Decision = Field(description="no_penalty (初次轻微不予处罚) or penalty")
    major: bool = Field(description="a major violation (it raises the archive's category one step)")
    reasons: list[str]
    case_code: str | None = Field(default=None, description="行政行为码 of the case (null from producers before it existed)")


class CreditOrgDisqualifiedData(BaseModel):
    """``data`` of ``cn.gov.ohs.org.disqualified`` (schema ``urn:ohs:credit:org-disqualified:1``): a technical
    service organisation (``subject``: its credit code) was disqualified from comprehensive risk assessment
    work after a serious false-report finding (RULES §8)."""

    model_config = ConfigDict(extra="forbid")

    org_name: str
    decision_no: str = Field(description="the deciding document")
    decided_on: date
    until: date | None = Field(description="null: until lifted")
    reason: str


# type -> (dataschema, data model)
CREDIT_EVENT_KINDS: dict[str, tuple[str, type[BaseModel]]] = {
    "cn.gov.ohs.classification.changed": ("urn:ohs:credit:classification-changed:1", CreditClassificationData),
    "cn.gov.ohs.exemption.started": ("urn:ohs:credit:exemption-changed:1", CreditExemptionData),
    "cn.gov.ohs.exemption.ended": ("urn:ohs:credit:exemption-changed:1", CreditExemptionData),
    "cn.gov.ohs.penalty.decided": ("urn:ohs:credit:penalty-decided:1", CreditPenaltyData),
    "cn.gov.ohs.org.disqualified": ("urn:ohs:credit:org-disqualified:1", CreditOrgDisqualifiedData),
}


class CreditCloudEvent(BaseModel):
    """A CloudEvents 1.0 event (structured JSON mode) on ``ohs.credit.events``, for credit-regulation
    systems. ``(source, id)`` is unique: a consumer dedupes by it (``id`` is the source event's
    ``event_id``). Kafka key: the credit code (= ``subject``); content-type header
    ``application/cloudevents+json; charset=UTF-8``."""

    model_config = ConfigDict(extra="forbid")

    topic: ClassVar[str] = topics.CREDIT_EVENTS

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, description="the event_id of the source event; unique per source")
    source: Literal["/ohs/registry", "/ohs/penalty"] = Field(description="the producing service")
    type: CreditEventType
    subject: str = Field(description="the employer's (or the organisation's) 统一社会信用代码")
    time: datetime = Field(description="when it happened (RFC 3339)")
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: CreditDataSchema = Field(description="the id of data's documented schema, one per type (versioned)")
    data: CreditClassificationData | CreditExemptionData | CreditPenaltyData | CreditOrgDisqualifiedData

    _subject = field_validator("subject")(validate_credit_code)

    @field_validator("time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("time needs its UTC offset (RFC 3339)")
        return value

    @model_validator(mode="after")
    def _kind_fits(self) -> "CreditCloudEvent":
        schema, model = CREDIT_EVENT_KINDS[self.type]
        if self.dataschema != schema:
            raise ValueError(f"dataschema of {self.type} is {schema}, not {self.dataschema}")
        if not isinstance(self.data, model):
            raise ValueError(f"data of {self.type} must follow {schema} ({model.__name__})")
        if isinstance(self.data, CreditExemptionData) and self.data.exempt != (self.type == "cn.gov.ohs.exemption.started"):
            raise ValueError(f"{self.type} with exempt={self.data.exempt}")
        return self
