"""The wording of notifications and who receives each kind: versioned rule data per jurisdiction
(``services/notification/rules/*.json``, ``"kind": "notification_templates"``; an agency adds its own in
``$OHS_RULES_DIR/notification/``). The files are read by ``adapters/rules.py``; this module holds their
shape, checks every placeholder a template uses, picks the templates in force for a region on a day and
fills them in. No I/O.

A template is Python ``str.format`` text with named placeholders only (``{enterprise_name}``, ``{deadline}``
…): each message kind has its own set (:data:`PLACEHOLDERS`); a placeholder outside it, an attribute or
index (``{x.y}``, ``{x[0]}``) or a format spec is refused when the file is loaded, never at delivery."""

from __future__ import annotations

from datetime import date
from string import Formatter
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared import rules_in_force
from shared.rules_in_force import FromRuleFile

KIND = "notification_templates"
RecipientKind = Literal["employer", "county"]  # the employer (by credit code) or its county's mailbox (by region code)
RECIPIENT_KINDS: tuple[RecipientKind, ...] = ("employer", "county")

SUBJECT_LENGTH = 200
BODY_LENGTH = 4000

_COMMON = {"enterprise_name", "credit_code", "region_code"}
_RECTIFICATION = _COMMON | {"shortcoming", "shortcoming_code", "deadline", "on", "reason", "actor"}
_REMINDER = _COMMON | {"due_on", "days", "reason"}

# message kind -> the placeholders its templates may use
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "portrait_changed": frozenset(_COMMON | {"version", "dimensions", "reason"}),  # 风险画像 new version
    "rectification_raised": frozenset(_RECTIFICATION),  # a new 整改 item with its deadline
    "rectification_reminded": frozenset(_RECTIFICATION),  # its deadline is near
    "rectification_submitted": frozenset(_RECTIFICATION),  # a correction awaits review
    "rectification_returned": frozenset(_RECTIFICATION),  # staff returned the correction (reason)
    "rectification_cleared": frozenset(_RECTIFICATION),  # 解除
    "rectification_overdue": frozenset(_RECTIFICATION),  # listed for enforcement
    "reassessment_due_soon": frozenset(_REMINDER),
    "reassessment_overdue": frozenset(_REMINDER),
    "first_assessment_overdue": frozenset(_REMINDER),
}
MESSAGE_KINDS: tuple[str, ...] = tuple(PLACEHOLDERS)


def placeholder_problem(text: str, allowed: frozenset[str]) -> str | None:
    """Why ``text`` is not a usable template for a kind allowing ``allowed``, or None."""
    try:
        parts = list(Formatter().parse(text))
    except ValueError as error:  # a lone { or }
        return f"not a template: {error} (write {{{{ and }}}} for literal braces)"
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in allowed:
            return f"placeholder {{{name}}} is not one of {', '.join(sorted(allowed))}"
        if spec or conversion:
            return f"placeholder {{{name}}} may not carry a format spec or conversion"
    return None


class MessageTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipients: list[RecipientKind] = Field(max_length=2, description="who receives it: employer, county (an empty list: nobody)")
    subject: str = Field(min_length=1, max_length=SUBJECT_LENGTH)
    body: str = Field(min_length=1, max_length=BODY_LENGTH)

    @field_validator("recipients")
    @classmethod
    def _distinct(cls, value: list[RecipientKind]) -> list[RecipientKind]:
        if len(set(value)) != len(value):
            raise ValueError("a recipient is named twice")
        return value


class NotificationTemplates(FromRuleFile):
    """One jurisdiction's wording of every message kind (a file of rule data)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["notification_templates"] = KIND
    jurisdiction: str
    version: str
    effective_from: date
    provisional: bool
    source: str = ""
    messages: dict[str, MessageTemplate]

    @model_validator(mode="after")
    def _every_kind_with_its_placeholders(self) -> "NotificationTemplates":
        missing = [k for k in MESSAGE_KINDS if k not in self.messages]
        unknown = [k for k in self.messages if k not in PLACEHOLDERS]
        problems = []
        if missing:
            problems.append(f"messages lacks {', '.join(missing)}")
        if unknown:
            problems.append(f"messages has unknown kinds {', '.join(unknown)} (known: {', '.join(MESSAGE_KINDS)})")
        for kind, template in self.messages.items():
            if kind not in PLACEHOLDERS:
                continue
            for part in ("subject", "body"):
                if problem := placeholder_problem(getattr(template, part), PLACEHOLDERS[kind]):
                    problems.append(f"messages.{kind}.{part}: {problem}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def ref(self) -> str:
        """How a notification records the wording it was made with."""
        return f"{self.jurisdiction} {self.version}" + (" provisional" if self.provisional else "")


class TemplateBook:
    """Every set of templates loaded (every jurisdiction and version)."""

    def __init__(self, templates: list[NotificationTemplates]):
        self.templates = templates

    def in_force(self, region_code: str, on: date) -> NotificationTemplates:
        return rules_in_force.in_force(self.templates, region_code, on, "notification templates in force for",
                                       "notification templates", check_region=False)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fill(template: MessageTemplate, facts: dict[str, str]) -> tuple[str, str]:
    """(subject, body) of ``template`` with ``facts``; the subject on one line, both within their limits."""
    subject = " ".join(template.subject.format_map(facts).split())
    return shorten(subject, SUBJECT_LENGTH), shorten(template.body.format_map(facts), BODY_LENGTH * 2)
