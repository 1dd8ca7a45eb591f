"""What every event carries, and the value types the contracts share.

Every event carries ``event_id`` (UUID, the idempotency key), ``schema_version``,
``occurred_at``, ``producer`` and its Kafka key: the employer's ``credit_code`` (:class:`Event`)
or the agency's ``region_code`` (:class:`AgencyEvent`). Consumers ignore fields they do not know
(forward compatible); a payload that does not fit its model is dead-lettered with the validation
error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from shared import i18n
from shared.problems import refusal

from shared.identifiers import (
    county_region_problem,
    credit_code_problem,
    region_problem,
)

Category = Literal["甲", "乙", "丙"]  # 综合风险类别: 甲 lowest risk, 丙 highest (2022 scheme)
CATEGORIES: tuple[Category, ...] = ("甲", "乙", "丙")  # lowest risk first: the order every table and count uses
HazardGrade = Literal["Ⅰ", "Ⅱ", "Ⅲ"]  # 职业病危害风险等级
ManagementGrade = Literal["A", "B", "C"]  # 职业卫生管理状况等级
Nature = Literal["严重", "一般"]  # hazard factor nature
Harm = Literal["none", "minor", "serious"]
Decision = Literal["no_penalty", "penalty"]

NonNegativeInt = Annotated[int, Field(ge=0)]

# --------------------------------------------------------------------------- limits every input keeps
# What the door accepts is what the pipeline can process: a value past these limits is a 422 naming
# the field, never a report accepted and then lost (a date whose +3 years overflows, a headcount past
# PostgreSQL's bigint, NaN points). Each limit shows in the OpenAPI.

EARLIEST_DATE = date(1949, 10, 1)  # nothing this platform records happened before it
LATEST_DATE = date(2100, 12, 31)  # far enough for deadlines and exemptions, years before date.max
MAX_HEADCOUNT = 1_000_000
NAME_LENGTH = 200  # names of employers, organisations, people
TEXT_LENGTH = 2000  # free text: reasons, descriptions, findings
REF_LENGTH = 100  # identifiers and document numbers given by people (case refs, test report numbers)

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iso_date(value: object) -> object:
    """A date is written YYYY-MM-DD: not a number (pydantic would read 0 as 1970-01-01), not a timestamp."""
    if isinstance(value, datetime) or not isinstance(value, (str, date)) or (isinstance(value, str) and not ISO_DATE.fullmatch(value)):
        raise refusal("errors.field.date_format")
    return value


class RequestModel(BaseModel):
    """What a client sends: JSON types as declared (no "5" for 5, no 0 for false or for a date), no
    unknown fields, surrounding spaces stripped. Dates and UUIDs are written as strings."""

    model_config = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        """No text holds the NUL character (PostgreSQL refuses it in any text column)."""
        if _holds_nul(value):
            raise refusal("errors.field.nul_character")
        return value


def _holds_nul(value: object) -> bool:
    """A text, or a list or mapping of texts, with NUL in it (a nested model has checked its own fields)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(isinstance(t, str) and "\x00" in t for pair in value.items() for t in pair)
    if isinstance(value, (list, tuple)):
        return any(isinstance(t, str) and "\x00" in t for t in value)
    return False


SaneDate = Annotated[date, BeforeValidator(iso_date), Field(
    strict=False, ge=EARLIEST_DATE, le=LATEST_DATE,
    json_schema_extra={"formatMinimum": EARLIEST_DATE.isoformat(), "formatMaximum": LATEST_DATE.isoformat()},
)]  # a calendar date between 1949-10-01 and 2100-12-31
Headcount = Annotated[int, Field(ge=0, le=MAX_HEADCOUNT)]  # a number of workers: 0 … 1,000,000
Points = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]  # finite points or a percentage, 0 … 100
Name = Annotated[str, Field(min_length=1, max_length=NAME_LENGTH)]
FreeText = Annotated[str, Field(min_length=1, max_length=TEXT_LENGTH)]
Ref = Annotated[str, Field(min_length=1, max_length=REF_LENGTH)]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class CreditCode(str):
    """Marker for documentation; validation lives in ``validate_credit_code``."""


def validate_credit_code(value: str) -> str:
    value = value.strip()
    problem = credit_code_problem(value)
    if problem:
        raise problem.error()
    return value


def validate_county_code(value: str) -> str:
    problem = county_region_problem(value)
    if problem:
        raise problem.error()
    return value


# --------------------------------------------------------------------------- the report (附件4)


@dataclass(frozen=True)
class FieldProblem:
    field: str  # dotted path, e.g. enterprise.credit_code or hazards[0].exposed
    message: str  # the text as its checker wrote it (Chinese for a problem with a code, which says it in any language)
    code: str | None = None  # message code (shared.i18n), e.g. errors.field.string_too_long
    params: dict[str, Any] = field(default_factory=dict, compare=False)  # the values the code's text is written with

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        """The problem in ``locale``: its code's text, or the message as written when it has no code."""
        return i18n.text_or(self.code, self.params, self.message, locale)


# --------------------------------------------------------------------------- events


class Envelope(BaseModel):
    """Envelope fields every event carries; ``partition_key`` is its Kafka key."""

    model_config = ConfigDict(extra="ignore")

    topic: ClassVar[str]
    key_description: ClassVar[str] = "统一社会信用代码 of the employer"

    # The versions of this event's shape that this code reads; a consumer refuses (dead-letters)
    # an event of any other version instead of misreading it as one it knows.
    schema_versions: ClassVar[tuple[int, ...]] = (1,)

    event_id: UUID = Field(default_factory=uuid4)
    schema_version: int = 1
    occurred_at: datetime = Field(default_factory=utc_now)
    producer: str

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value not in cls.schema_versions:
            known = ", ".join(str(v) for v in cls.schema_versions)
            raise ValueError(f"schema_version {value} is not a version of {cls.__name__} this service reads ({known})")
        return value

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
            raise problem.error()
        return value

    @property
    def partition_key(self) -> str:
        return self.region_code


class TraceEntry(BaseModel):
    """One line of a decision's trace: which rule, and what it decided, in words a supervisor reads.

    ``code`` and ``params`` say it for a machine and for every language (``shared.i18n``); ``detail``
    is the text in Chinese as it was written when the decision was made. Entries of events published
    before codes existed have only ``rule`` and ``detail``: :meth:`text` renders them as written."""

    rule: str
    detail: str
    code: str | None = Field(default=None, max_length=120, description="stable message code (docs/glossary.md, shared/i18n)")
    params: dict[str, Any] = Field(default_factory=dict, description="the values the text is written with (JSON)")

    def text(self, locale: str = "zh_CN") -> str:
        """The line in ``locale`` (zh_CN or en); as written (``detail``) for an entry without a code."""
        return i18n.text_or(self.code, self.params, self.detail, locale)

    @classmethod
    def of(cls, rule: str, code: str, /, **params: Any) -> "TraceEntry":
        """An entry written from its code: ``detail`` is the Chinese text."""
        return cls(rule=rule, detail=i18n.text(code, params), code=code, params=params)


class RuleSetRef(BaseModel):
    """Which versioned rule data a decision used."""

    jurisdiction: str
    version: str
    effective_from: date
    provisional: bool
