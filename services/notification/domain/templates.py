"""The wording of notifications and who receives each kind.

The words are the platform's one catalogue (``shared.i18n``, domain ``notification_texts``: the codes
``notification.text.<kind>.subject`` / ``.body``, :data:`TEXT_CODES`), Chinese by default, dates as
2023年6月1日. Who receives each kind is versioned rule data per jurisdiction
(``services/notification/rules/*.json``, ``"kind": "notification_templates"``; an agency adds its own in
``$OHS_RULES_DIR/notification/``), read by ``adapters/rules.py``. An agency that words a kind its own way
writes ``subject`` / ``body`` for it in its file: its text replaces the catalogue's for that kind (in
every language: it is the agency's own). This module holds the files' shape, checks every placeholder a
template uses, picks the templates in force for a region on a day and fills them in. No I/O.

An agency's template is Python ``str.format`` text with named placeholders only (``{enterprise_name}``,
``{deadline}`` …): each message kind has its own set (:data:`PLACEHOLDERS`); a placeholder outside it,
an attribute or index (``{x.y}``, ``{x[0]}``) or a format spec is refused when the file is loaded, never
at delivery. Its dates are written as the language writes them (``{deadline}`` → 2026年3月16日)."""

from __future__ import annotations

from datetime import date
from string import Formatter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared import i18n, rules_in_force
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

# message kind -> the catalogue codes of its subject and body (shared/i18n/locales/*/LC_MESSAGES/notification_texts.po)
TEXT_CODES: dict[str, tuple[str, str]] = {
    "portrait_changed": ("notification.text.portrait_changed.subject", "notification.text.portrait_changed.body"),
    "rectification_raised": ("notification.text.rectification_raised.subject", "notification.text.rectification_raised.body"),
    "rectification_reminded": ("notification.text.rectification_reminded.subject", "notification.text.rectification_reminded.body"),
    "rectification_submitted": ("notification.text.rectification_submitted.subject", "notification.text.rectification_submitted.body"),
    "rectification_returned": ("notification.text.rectification_returned.subject", "notification.text.rectification_returned.body"),
    "rectification_cleared": ("notification.text.rectification_cleared.subject", "notification.text.rectification_cleared.body"),
    "rectification_overdue": ("notification.text.rectification_overdue.subject", "notification.text.rectification_overdue.body"),
    "reassessment_due_soon": ("notification.text.reassessment_due_soon.subject", "notification.text.reassessment_due_soon.body"),
    "reassessment_overdue": ("notification.text.reassessment_overdue.subject", "notification.text.reassessment_overdue.body"),
    "first_assessment_overdue": ("notification.text.first_assessment_overdue.subject", "notification.text.first_assessment_overdue.body"),
}
# message kind -> the line a catalogue body ends with when the event gives a reason (the returned kind names its
# reason in the body itself)
REASON_LINES: dict[str, str] = {
    "portrait_changed": "notification.text.line.portrait_reason",
    "rectification_cleared": "notification.text.line.review_note",
    "rectification_overdue": "notification.text.line.reason",
    "reassessment_due_soon": "notification.text.line.reason",
    "reassessment_overdue": "notification.text.line.reason",
    "first_assessment_overdue": "notification.text.line.reason",
}
DATE_FACTS = frozenset({"deadline", "on", "due_on"})  # ISO dates: {x:date} in the catalogue, the language's date in an agency's text


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
    subject: str | None = Field(default=None, min_length=1, max_length=SUBJECT_LENGTH,
                                description="the agency's own wording; absent: the catalogue's (notification.text.<kind>.subject)")
    body: str | None = Field(default=None, min_length=1, max_length=BODY_LENGTH,
                             description="the agency's own wording; absent: the catalogue's (notification.text.<kind>.body)")

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
                text = getattr(template, part)
                if text is not None and (problem := placeholder_problem(text, PLACEHOLDERS[kind])):
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


def catalogue_problems() -> list[str]:
    """Why a catalogue text of a kind could not be filled (a placeholder outside the kind's set), per language."""
    problems = []
    for kind, codes in TEXT_CODES.items():
        for code in (*codes, REASON_LINES.get(kind)):
            for locale in i18n.LOCALES:
                if code is None:
                    continue
                if not i18n.has(code, locale):
                    problems.append(f"{code}: no {locale} text")
                    continue
                extra = i18n.placeholders(i18n.catalogues()[locale][code]) - PLACEHOLDERS[kind]
                if extra:
                    problems.append(f"{code} ({locale}) names {sorted(extra)}, not placeholders of {kind}")
    return problems


def _spelled(facts: dict[str, Any], locale: str) -> dict[str, str]:
    """The facts as an agency's text writes them: dates in the language's way, everything else as text."""
    return {name: i18n.local_date(value, locale) if name in DATE_FACTS else ("" if value is None else str(value))
            for name, value in facts.items()}


def fill(kind: str, template: MessageTemplate, facts: dict[str, Any], locale: str = i18n.DEFAULT_LOCALE) -> tuple[str, str]:
    """(subject, body) of a message of ``kind`` with ``facts`` (JSON values, dates as ISO strings; ``reason``
    empty when there is none) in ``locale``: the agency's own wording where ``template`` has it, else the
    catalogue's, a body ending with the reason's line when there is a reason. The subject on one line, both
    within their limits."""
    subject_code, body_code = TEXT_CODES[kind]
    none = i18n.text("notification.text.none", locale=locale)
    reason = facts.get("reason") or ""
    params = {**facts, "reason": reason or none}
    if template.subject is not None:
        subject = template.subject.format_map(_spelled(params, locale))
    else:
        subject = i18n.text(subject_code, params, locale)
    if template.body is not None:
        body = template.body.format_map(_spelled(params, locale))
    else:
        body = i18n.text(body_code, params, locale)
        if reason and kind in REASON_LINES:
            body += "\n" + i18n.text(REASON_LINES[kind], {"reason": reason}, locale)
    return shorten(" ".join(subject.split()), SUBJECT_LENGTH), shorten(body, BODY_LENGTH * 2)
