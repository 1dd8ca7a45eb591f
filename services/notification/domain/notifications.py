"""What to tell whom when the registry announces something (pure rules, no I/O).

* ``ohs.registry.portrait-changed`` → "new risk portrait vN" (风险画像);
* ``ohs.registry.rectification-progressed`` → by step: raised (new item, due <deadline>), reminded (item due
  <deadline>), submitted (a correction awaits review), returned (correction returned: <reason>), cleared
  (解除), overdue (listed for enforcement); a continued item tells nobody anything new;
* ``ohs.registry.reminder-due`` → re-assessment due soon / overdue, first assessment overdue (RULES §1).

Who receives each kind, and its wording, are rule data (:mod:`.templates`). A notification's id is
``uuid5(source event id, "<recipient kind>:<recipient>")``: a redelivered or replayed event makes the
same ids, so it never notifies twice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.notification.domain.templates import NotificationTemplates, RecipientKind, fill
from shared.contracts import PortraitChanged, RectificationProgressed, ReminderDue

LEVELS = {"low": "低", "medium": "中", "high": "高"}  # 风险画像 levels
DIMENSION_NAMES = {  # the registry's portrait dimensions, as the notices name them (an unknown one: as announced)
    "hazard_exposure": "危害接触", "testing": "检测", "health_examinations": "职业健康检查", "training": "培训",
    "management": "管理", "enforcement_history": "执法记录",
}

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
    facts: dict[str, str]
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


def drafts(message: Message, source: Source, templates: NotificationTemplates) -> list[NotificationDraft]:
    """The notifications ``message`` makes under ``templates``: one per recipient the templates name."""
    template = templates.messages[message.kind]
    subject, body = fill(template, message.facts)
    found = []
    for kind in template.recipients:
        recipient = recipient_of(kind, source)
        found.append(NotificationDraft(
            id=notification_id(source.event_id, kind, recipient), kind=message.kind, recipient_kind=kind, recipient=recipient,
            credit_code=source.credit_code, region_code=source.region_code, subject=subject, body=body, link=message.link,
            source_event_id=source.event_id, source_topic=source.topic, occurred_at=source.occurred_at, rule_set=templates.ref(),
        ))
    return found


def _common(credit_code: str, region_code: str, enterprise_name: str | None) -> dict[str, str]:
    return {"enterprise_name": enterprise_name or credit_code, "credit_code": credit_code, "region_code": region_code}


def portrait_message(event: PortraitChanged) -> Message:
    dimensions = "；".join(f"{DIMENSION_NAMES.get(d.name, d.name)} {LEVELS.get(d.level, d.level)}（{d.shortcomings} 项）" for d in event.dimensions) or "—"
    facts = {**_common(event.credit_code, event.region_code, event.enterprise_name),
             "version": str(event.version), "dimensions": dimensions, "reason": event.reason or "—"}
    return Message("portrait_changed", facts, f"/enterprises/{event.credit_code}/portrait")


def rectification_message(event: RectificationProgressed, enterprise_name: str | None) -> Message | None:
    """The message of a step of a rectification item; None for a step that tells nothing new (continued)."""
    kind = RECTIFICATION_KINDS.get(event.step)
    if kind is None:
        return None
    facts = {**_common(event.credit_code, event.region_code, enterprise_name),
             "shortcoming": event.shortcoming_text, "shortcoming_code": event.shortcoming_code,
             "deadline": event.deadline.isoformat(), "on": event.on.isoformat(), "reason": event.reason or event.detail or "—", "actor": event.actor}
    return Message(kind, facts, f"/rectifications/{event.item_id}")


def reminder_message(event: ReminderDue) -> Message:
    facts = {**_common(event.credit_code, event.region_code, event.enterprise_name),
             "due_on": event.due_on.isoformat(), "days": str(event.days), "reason": event.reason or "—"}
    return Message(event.kind, facts, f"/enterprises/{event.credit_code}")


def source_of(event: PortraitChanged | RectificationProgressed | ReminderDue) -> Source:
    return Source(str(event.event_id), event.topic, event.occurred_at, event.credit_code, event.region_code)
