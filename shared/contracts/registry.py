"""Events produced by the registry (the classification archive)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from shared import i18n, topics
from shared.contracts.envelope import (
    Category,
    Event,
    HazardGrade,
    ManagementGrade,
    validate_county_code,
)


def render(code: str | None, params: Mapping[str, Any] | None, fallback: str, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """A registry text in ``locale``: ``shared.i18n.text_or`` where a parameter may itself be a message —
    ``{"code": …, "params": …}`` (its ``"text"``, when given, is what an unknown code renders as), a list of
    messages, or ``{"parts": [...]}`` (texts read as one, joined with ``；`` / ``; ``): each is rendered in the
    same language first (a reason naming its basis, a portrait change listing its parts). ``fallback`` (the text
    as written) when the code is unknown or a value is missing."""
    if not code:
        return fallback
    return i18n.text_or(code, _rendered(params or {}, locale), fallback, locale)


def _is_message(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("code"), str) and isinstance(value.get("params", {}), Mapping)


def _is_parts(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"parts"} and isinstance(value["parts"], list)


PARTS_SEPARATOR = {i18n.ZH: "；", i18n.EN: "; "}


def _rendered(params: Mapping[str, Any], locale: str) -> dict[str, Any]:
    def one(value: Any) -> Any:
        if _is_message(value):
            return render(value["code"], value.get("params") or {}, str(value.get("text") or value["code"]), locale)
        if _is_parts(value):  # {"parts": [...]}: several texts read as one, "；" in Chinese, "; " in English
            return PARTS_SEPARATOR.get(locale, PARTS_SEPARATOR[i18n.ZH]).join(str(one(part)) for part in value["parts"])
        if isinstance(value, list) and any(_is_message(item) for item in value):
            return [one(item) for item in value]
        return value

    return {name: one(value) for name, value in params.items()}


class ClassificationChanged(Event):
    """What other services hold about an employer changed in the archive: its effective category,
    or its region, name, industry codes or headcount (``previous_category == category`` then).
    Consumers keep the highest ``archive_version``."""

    topic: ClassVar[str] = topics.CLASSIFICATION_CHANGED

    enterprise_name: str
    region_code: str
    archive_version: int = Field(ge=1, description="the archive version this change produced; consumers keep the highest")
    previous_category: Category | None
    category: Category  # the effective category: the report's result, or the industry default, after overrides
    hazard_grade: HazardGrade | None = Field(description="the current report's; null for an industry default (no report)")
    management_grade: ManagementGrade | None = Field(description="the current report's; null for an industry default (no report)")
    submission_id: UUID | None
    reason: str = Field(description="why, in Chinese as written (code and params say it in every language)")
    industry_codes: list[str] = Field(default_factory=list, description="GB/T 4754-2017 codes of the employer (sampling's full-coverage industries)")
    employees: int | None = Field(default=None, ge=0, description="the employer's headcount in the archive (absent in events before it was added)")
    changed: list[Literal["category", "region_code", "enterprise_name", "industry_codes", "employees"]] | None = Field(
        default=None, description="what changed against the previous announcement (null in events before it was added: the category or region)"
    )
    code: str | None = Field(default=None, max_length=i18n.CODE_MAX_LENGTH, description="the reason's message code (shared.i18n); null in events before codes existed")
    params: dict[str, Any] = Field(default_factory=dict, description="the values of the reason's text (a value may itself be a message {code, params})")

    _region = field_validator("region_code")(validate_county_code)

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        """The reason in ``locale``; as written (``reason``) for an event of an earlier format."""
        return render(self.code, self.params, self.reason, locale)


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
    reason: str = Field(description="why, in Chinese as written (code and params say it in every language)")
    code: str | None = Field(default=None, max_length=i18n.CODE_MAX_LENGTH, description="the reason's message code (shared.i18n); null in events before codes existed")
    params: dict[str, Any] = Field(default_factory=dict, description="the values of the reason's text (a value may itself be a message {code, params})")

    _region = field_validator("region_code")(validate_county_code)

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        """The reason in ``locale``; as written (``reason``) for an event of an earlier format."""
        return render(self.code, self.params, self.reason, locale)


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
    reason: str = Field(description="why and since when, in Chinese as written (code and params say it in every language)")
    code: str | None = Field(default=None, max_length=i18n.CODE_MAX_LENGTH, description="the reason's message code (shared.i18n); null in events before codes existed")
    params: dict[str, Any] = Field(default_factory=dict, description="the values of the reason's text (a value may itself be a message {code, params})")

    _region = field_validator("region_code")(validate_county_code)

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        """The reason in ``locale``; as written (``reason``) for an event of an earlier format."""
        return render(self.code, self.params, self.reason, locale)


RectificationStep = Literal[
    "raised",  # a shortcoming became an item for the employer, with its deadline
    "continued",  # a later report discloses it again: the same item goes on (deadline unchanged)
    "submitted",  # the employer submitted its correction (text and attachments)
    "returned",  # staff returned the correction, with the reason
    "cleared",  # staff accepted it: 解除, the item leaves the portrait
    "reminded",  # the deadline is near (or today) and nothing accepted yet
    "overdue",  # the deadline passed uncorrected: listed for enforcement
]
RectificationStatus = Literal["open", "submitted", "returned", "cleared", "overdue"]


class RectificationAttachment(BaseModel):
    """A file the employer attached to its correction, as stored (the bytes stay in the attachment store)."""

    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int = Field(ge=0)
    sha256: str = Field(min_length=64, max_length=64)
    key: str = Field(max_length=500, description="where the attachment store keeps it")


class RectificationProgressed(Event):
    """One step of an employer's rectification item (整改): raised from a screened shortcoming,
    corrected by the employer, reviewed by staff, cleared (解除) — or reminded and listed for
    enforcement when its deadline passes. ``status`` is the item's status after the step."""

    topic: ClassVar[str] = topics.RECTIFICATION_PROGRESSED

    item_id: UUID
    region_code: str
    shortcoming_code: str
    shortcoming_text: str
    submission_id: UUID = Field(description="the report that first disclosed the shortcoming")
    screening_id: UUID | None = Field(default=None, description="the latest screening of it (penalty's)")
    step: RectificationStep
    status: RectificationStatus
    on: date = Field(description="the China date of the step")
    deadline: date
    corrected_on: date | None = Field(default=None, description="on cleared: the day the accepted correction was submitted")
    corrected_in_time: bool | None = Field(default=None, description="on cleared: submitted by the deadline (counts as promptly corrected)")
    actor: str = Field(description="who took the step: the employer, a staff member's name, or 'system' for the daily sweep")
    detail: str = Field(default="", description="what the step did, in Chinese as written (code and params say it in every language)")
    # What a registry rebuilt from the topics needs to restore the step (the items' own log is this topic):
    outcome: str | None = Field(default=None, description="on raised: the screening's outcome (eligible_if_corrected, not_eligible, no_violation)")
    item_code: str | None = Field(default=None, description="on raised: the 附件5 item, when one applies")
    shortcoming_kind: str | None = Field(default=None, description="on raised: the Shortcoming kind")
    shortcoming_subject: str | None = Field(default=None, description="on raised: the Shortcoming subject (item id or factor)")
    report_id: UUID | None = Field(default=None, description="on continued: the later report that discloses the shortcoming again")
    correction_text: str | None = Field(default=None, description="on submitted: the employer's text")
    reason: str | None = Field(default=None, description="on returned (and cleared, when staff gave one): the reviewer's reason")
    attachments: list[RectificationAttachment] = Field(default_factory=list, description="on submitted: the files, as stored")
    code: str | None = Field(default=None, max_length=i18n.CODE_MAX_LENGTH, description="the detail's message code (shared.i18n); null in events before codes existed")
    params: dict[str, Any] = Field(default_factory=dict, description="the values of the detail's text (a value may itself be a message {code, params})")

    _region = field_validator("region_code")(validate_county_code)

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        """The step's detail in ``locale``; as written (``detail``) for an event of an earlier format."""
        return render(self.code, self.params, self.detail, locale)


PortraitLevel = Literal["low", "medium", "high"]  # 低 / 中 / 高


class PortraitDimensionSummary(BaseModel):
    name: str
    level: PortraitLevel
    shortcomings: int = Field(ge=0)


class PortraitChanged(Event):
    """An employer's risk portrait (风险画像, 一企一案) has a new version. Guidance for the employer
    and its county, never a sanction: the credit feed does not carry it."""

    topic: ClassVar[str] = topics.PORTRAIT_CHANGED

    region_code: str
    enterprise_name: str
    version: int = Field(ge=1)
    dimensions: list[PortraitDimensionSummary]
    reason: str = Field(description="what changed, in Chinese as written (code and params say it in every language)")
    code: str | None = Field(default=None, max_length=i18n.CODE_MAX_LENGTH, description="the reason's message code (shared.i18n); null in events before codes existed")
    params: dict[str, Any] = Field(default_factory=dict, description="the values of the reason's text (a value may itself be a message {code, params})")

    _region = field_validator("region_code")(validate_county_code)

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        """The reason in ``locale``; as written (``reason``) for an event of an earlier format."""
        return render(self.code, self.params, self.reason, locale)
