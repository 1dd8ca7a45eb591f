"""The credit feed for credit-regulation systems: CloudEvents 1.0 on ``ohs.credit.events``."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared import topics
from shared.contracts.envelope import (
    Category,
    Decision,
    HazardGrade,
    ManagementGrade,
    validate_credit_code,
)

# --------------------------------------------------------------------------- the credit feed (CloudEvents 1.0)
#
# Not an Event: what goes out on ohs.credit.events for credit-regulation systems is a CloudEvents
# 1.0 event in structured JSON mode (the whole record value is the event). The registry's
# credit-feed translator (services/registry/service_layer/credit_feed.py) builds one per
# classification change, 免检 start or end, and penalty decision. docs/api.md "Credit feed".

CREDIT_SOURCE_REGISTRY = "/ohs/registry"
CREDIT_SOURCE_PENALTY = "/ohs/penalty"

CreditEventType = Literal[
    "cn.gov.ohs.classification.changed", "cn.gov.ohs.exemption.started", "cn.gov.ohs.exemption.ended", "cn.gov.ohs.penalty.decided",
    "cn.gov.ohs.org.disqualified", "cn.gov.ohs.org.rated",
]
CreditDataSchema = Literal[
    "urn:ohs:credit:classification-changed:1", "urn:ohs:credit:exemption-changed:1", "urn:ohs:credit:penalty-decided:1",
    "urn:ohs:credit:org-disqualified:1", "urn:ohs:credit:org-rated:1",
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


class CreditOrgRatedData(BaseModel):
    """``data`` of ``cn.gov.ohs.org.rated`` (schema ``urn:ohs:credit:org-rated:1``): an organisation's star rating
    (星级评定, RULES §10) changed (``subject``: its credit code). The rule data's version says how it was reached;
    ``provisional`` marks values not yet set by a competent authority."""

    model_config = ConfigDict(extra="forbid")

    org_name: str
    org_kind: Literal["technical_service", "examination"] = Field(description="技术服务机构 / 职业健康检查机构")
    stars: int = Field(ge=0, le=5, description="1–5; 0: disqualified (not rated)")
    previous_stars: int | None = Field(ge=0, le=5, description="null: its first rating")
    rated_on: date
    rule_version: str = Field(description="jurisdiction and version of the star-rating rules, e.g. CN 2026.1")
    provisional: bool
    reasons: list[str] = Field(description="the rating's trace, one line per input (Chinese)")


# type -> (dataschema, data model)
CREDIT_EVENT_KINDS: dict[str, tuple[str, type[BaseModel]]] = {
    "cn.gov.ohs.classification.changed": ("urn:ohs:credit:classification-changed:1", CreditClassificationData),
    "cn.gov.ohs.exemption.started": ("urn:ohs:credit:exemption-changed:1", CreditExemptionData),
    "cn.gov.ohs.exemption.ended": ("urn:ohs:credit:exemption-changed:1", CreditExemptionData),
    "cn.gov.ohs.penalty.decided": ("urn:ohs:credit:penalty-decided:1", CreditPenaltyData),
    "cn.gov.ohs.org.disqualified": ("urn:ohs:credit:org-disqualified:1", CreditOrgDisqualifiedData),
    "cn.gov.ohs.org.rated": ("urn:ohs:credit:org-rated:1", CreditOrgRatedData),
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
    data: CreditClassificationData | CreditExemptionData | CreditPenaltyData | CreditOrgDisqualifiedData | CreditOrgRatedData

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
