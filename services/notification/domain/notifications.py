"""What to tell whom when the registry announces something (pure rules, no I/O).

* ``ohs.registry.portrait-changed`` → "new risk portrait vN" (风险画像);
* ``ohs.registry.rectification-progressed`` → by step: raised (new item, due <deadline>), reminded (item due
  <deadline>), submitted (a correction awaits review), returned (correction returned: <reason>), cleared
  (解除), overdue (listed for enforcement); a continued item tells nobody anything new;
* ``ohs.registry.reminder-due`` → re-assessment due soon / overdue, first assessment overdue (RULES §1).

Who receives each kind is rule data, the wording the catalogue's (or an agency's own, :mod:`.templates`).
A message is its kind and its facts (JSON values, dates ISO); it is worded for each recipient in their
language — Chinese: a contact has no language of its own yet (``Contact`` holds an address only), so
every notification is Chinese, dates as 2026年3月16日. What the event says in its own words goes in as the
event wrote it when it is Chinese (a shortcoming, a reviewer's reason); a system text an older registry
wrote in English is left out of a Chinese notice (the notice's own words say what it said), and a
shortcoming written in English is named by its kind (:func:`shortcoming_words`).

A notification's id is ``uuid5(source event id, "<recipient kind>:<recipient>")``: a redelivered or
replayed event makes the same ids, so it never notifies twice."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.notification.domain.templates import NotificationTemplates, RecipientKind, fill
from shared import i18n
from shared.contracts import PortraitChanged, RectificationProgressed, ReminderDue

LEVELS = {  # 风险画像 levels
    "low": "notification.text.level.low", "medium": "notification.text.level.medium", "high": "notification.text.level.high",
}
DIMENSION_NAMES = {  # the registry's portrait dimensions, as the notices name them (an unknown one: as announced)
    "hazard_exposure": "notification.text.dimension.hazard_exposure", "testing": "notification.text.dimension.testing",
    "health_examinations": "notification.text.dimension.health_examinations", "training": "notification.text.dimension.training",
    "management": "notification.text.dimension.management", "enforcement_history": "notification.text.dimension.enforcement_history",
}
SHORTCOMING_KINDS = {  # a shortcoming's kind (the part of its code before ':') -> its name, for one whose text is not Chinese
    "checklist": "notification.text.shortcoming.checklist", "test_missing": "notification.text.shortcoming.test_missing",
    "test_expired": "notification.text.shortcoming.test_expired", "exposure_over_limit": "notification.text.shortcoming.exposure_over_limit",
    "publicity_short": "notification.text.shortcoming.publicity_short", "submission_late": "notification.text.shortcoming.submission_late",
    "first_assessment_late": "notification.text.shortcoming.first_assessment_late",
}
SYSTEM_ACTOR = "system"  # the registry's daily sweep
_CHINESE = re.compile(r"[\u3400-\u9fff]")

# the step of a rectification item -> the message kind (a continued item: no message)
RECTIFICATION_KINDS = {
    "raised": "rectification_raised",
    "reminded": "rectification_reminded",
    "submitted": "rectification_submitted",
    "returned": "rectification_returned",
    "cleared": "rectification_cleared",
    "overdue": "rectification_overdue",
}


@dataclass(frozen=True)
class Message:
    """One thing to tell, before its wording and recipients are known: the kind, the facts its
    templates may use, and where the console shows the matter."""

    kind: str
    facts: dict[str, Any]  # JSON values: dates as ISO strings; ``reason`` empty when there is none to tell
    link: str


@dataclass(frozen=True)
class Source:
    """The event a notification comes from."""

    event_id: str
    topic: str
    occurred_at: datetime
    credit_code: str
    region_code: str  # the county the event names: it scopes who may read the notification


@dataclass(frozen=True)
class NotificationDraft:
    id: str
    kind: str
    recipient_kind: RecipientKind
    recipient: str  # the employer's credit code, or the county's region code
    credit_code: str
    region_code: str
    subject: str
    body: str
    link: str
    source_event_id: str
    source_topic: str
    occurred_at: datetime
    rule_set: str  # the templates used (jurisdiction, version)


def notification_id(source_event_id: str, recipient_kind: str, recipient: str) -> str:
    """The same for the same event and recipient, whenever and however often it is handled."""
    return str(uuid.uuid5(uuid.UUID(source_event_id), f"{recipient_kind}:{recipient}"))


def recipient_of(kind: RecipientKind, source: Source) -> str:
    return source.credit_code if kind == "employer" else source.region_code


def chinese(text: str | None) -> bool:
    return bool(text and _CHINESE.search(text))


def shortcoming_words(code: str, text: str, locale: str = i18n.DEFAULT_LOCALE) -> str:
    """A shortcoming as a notice names it: in Chinese its own text (the report's words: ``自查表 4.3 …``,
    ``矽尘: 工作场所职业病危害因素检测已过期 …``), or — when that text is not Chinese (a flag of an earlier
    event) — the name of its kind; in English the name of its kind when known (the text names the
    item or factor), else the text as it is."""
    kind, _, subject = code.partition(":")  # checklist:4.3, test_expired:矽尘, publicity_short
    name = SHORTCOMING_KINDS.get(kind)
    if name is None or (locale == i18n.ZH and chinese(text)):
        return text
    return i18n.text(name, {"subject": subject or kind}, locale)


def dimensions_words(dimensions: list[list[Any]], locale: str = i18n.DEFAULT_LOCALE) -> str:
    """The portrait's dimensions ([name, level, shortcomings] each) in words: ``检测 高（2 项）；培训 低（0 项）``."""
    words = [i18n.text("notification.text.portrait.dimension", {
        "dimension": i18n.text(DIMENSION_NAMES[name], locale=locale) if name in DIMENSION_NAMES else name,
        "level": i18n.text(LEVELS[level], locale=locale) if level in LEVELS else level, "count": count}, locale)
        for name, level, count in dimensions]
    return ("；" if locale == i18n.ZH else "; ").join(words) or i18n.text("notification.text.none", locale=locale)


def worded(message: Message, locale: str = i18n.DEFAULT_LOCALE) -> dict[str, Any]:
    """The message's facts ready for its texts in ``locale``: the shortcoming, the dimensions, the actor in words."""
    facts = dict(message.facts)
    if "shortcoming" in facts:
        facts["shortcoming"] = shortcoming_words(str(facts.get("shortcoming_code") or ""), str(facts["shortcoming"]), locale)
    if isinstance(facts.get("dimensions"), list):
        facts["dimensions"] = dimensions_words(facts["dimensions"], locale)
    if facts.get("actor") == SYSTEM_ACTOR:
        facts["actor"] = i18n.text("notification.text.actor.system", locale=locale)
    return facts


def drafts(message: Message, source: Source, templates: NotificationTemplates,
           locale: str = i18n.DEFAULT_LOCALE) -> list[NotificationDraft]:
    """The notifications ``message`` makes under ``templates``: one per recipient the templates name, worded
    in ``locale`` (Chinese: the recipients' contacts hold no language yet)."""
    template = templates.messages[message.kind]
    subject, body = fill(message.kind, template, worded(message, locale), locale)
    found = []
    for kind in template.recipients:
        recipient = recipient_of(kind, source)
        found.append(NotificationDraft(
            id=notification_id(source.event_id, kind, recipient), kind=message.kind, recipient_kind=kind, recipient=recipient,
            credit_code=source.credit_code, region_code=source.region_code, subject=subject, body=body, link=message.link,
            source_event_id=source.event_id, source_topic=source.topic, occurred_at=source.occurred_at, rule_set=templates.ref(),
        ))
    return found


def _common(credit_code: str, region_code: str, enterprise_name: str | None) -> dict[str, Any]:
    return {"enterprise_name": enterprise_name or credit_code, "credit_code": credit_code, "region_code": region_code}


def _told(text: str | None) -> str:
    """A system text of the event (the registry's own words) when it is Chinese; else nothing."""
    return text if chinese(text) else ""


def portrait_message(event: PortraitChanged) -> Message:
    facts = {**_common(event.credit_code, event.region_code, event.enterprise_name), "version": event.version,
             "dimensions": [[d.name, d.level, d.shortcomings] for d in event.dimensions], "reason": _told(event.reason)}
    return Message("portrait_changed", facts, f"/enterprises/{event.credit_code}/portrait")


def rectification_message(event: RectificationProgressed, enterprise_name: str | None) -> Message | None:
    """The message of a step of a rectification item; None for a step that tells nothing new (continued).
    The reason: the reviewer's (as written), else the step's detail when it is Chinese."""
    kind = RECTIFICATION_KINDS.get(event.step)
    if kind is None:
        return None
    facts = {**_common(event.credit_code, event.region_code, enterprise_name),
             "shortcoming": event.shortcoming_text, "shortcoming_code": event.shortcoming_code,
             "deadline": event.deadline.isoformat(), "on": event.on.isoformat(), "reason": event.reason or _told(event.detail),
             "actor": event.actor}
    return Message(kind, facts, f"/rectifications/{event.item_id}")


def reminder_message(event: ReminderDue) -> Message:
    facts = {**_common(event.credit_code, event.region_code, event.enterprise_name),
             "due_on": event.due_on.isoformat(), "days": event.days, "reason": _told(event.reason)}
    return Message(event.kind, facts, f"/enterprises/{event.credit_code}")


def source_of(event: PortraitChanged | RectificationProgressed | ReminderDue) -> Source:
    return Source(str(event.event_id), event.topic, event.occurred_at, event.credit_code, event.region_code)
