"""The credit feed (issue 4): classification changes, 免检, penalty decisions and disqualified technical
service organisations, translated into
CloudEvents 1.0 (structured JSON mode) on ``ohs.credit.events`` for credit-regulation systems.

The translator runs in the registry process but apart from the archive's use cases: it consumes
``ohs.registry.classification-changed``, ``ohs.registry.exemption-changed``,
``ohs.penalty.decided`` and ``ohs.orgs.disqualified`` in a consumer group of its own (``<prefix>.registry.credit-feed``, see
``bootstrap``), so it sees every partition of ``ohs.penalty.decided`` besides the enforcement
upgrades' subscriber, and has its own inbox scope. Each handler writes exactly one outbox row
per input event, inside the consumer wrapper's transaction; the relay publishes it.

* ``id`` is the source event's ``event_id`` (a consumer dedupes by ``(source, id)``); the outbox
  row gets an id derived from it (uuid5), since the registry's outbox already holds its own
  events under their event ids. A redelivered input yields no second row: the inbox skips it,
  and the handler itself does not write a row that is already there.
* ``time`` is the source event's ``occurred_at``; ``subject`` and the Kafka key: the credit code.
* The order is kept per employer within one source topic (same key, same partition), not across
  the three: a consumer keeps the highest ``archive_version`` for the classification.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session

from shared.contracts import (
    CREDIT_EVENT_KINDS,
    CREDIT_SOURCE_PENALTY,
    CREDIT_SOURCE_REGISTRY,
    ClassificationChanged,
    CreditClassificationData,
    CreditCloudEvent,
    CreditExemptionData,
    CreditOrgDisqualifiedData,
    CreditPenaltyData,
    ExemptionChanged,
    OrgDisqualified,
    PenaltyDecided,
)
from shared.db import enqueue_payload, outbox_has

GROUP_SUFFIX = "credit-feed"  # consumer group <prefix>.registry.credit-feed
_OUTBOX_NAMESPACE = uuid.UUID("2f3c8e0a-5b7d-4c1e-9a64-0c5e1b7d2a91")  # fixed: outbox ids must not change between releases

CLASSIFICATION_CHANGED = "cn.gov.ohs.classification.changed"
EXEMPTION_STARTED = "cn.gov.ohs.exemption.started"
EXEMPTION_ENDED = "cn.gov.ohs.exemption.ended"
PENALTY_DECIDED = "cn.gov.ohs.penalty.decided"
ORG_DISQUALIFIED = "cn.gov.ohs.org.disqualified"


def _cloud_event(
    source: str, type_: str, event_id: uuid.UUID, credit_code: str, occurred_at: datetime, data: BaseModel
) -> CreditCloudEvent:
    return CreditCloudEvent(
        id=str(event_id),
        source=source,  # type: ignore[arg-type]
        type=type_,  # type: ignore[arg-type]
        subject=credit_code,
        time=occurred_at,
        dataschema=CREDIT_EVENT_KINDS[type_][0],  # type: ignore[arg-type]
        data=data,
    )


def from_classification_changed(event: ClassificationChanged) -> CreditCloudEvent:
    return _cloud_event(
        CREDIT_SOURCE_REGISTRY, CLASSIFICATION_CHANGED, event.event_id, event.credit_code, event.occurred_at,
        CreditClassificationData(
            enterprise_name=event.enterprise_name,
            region_code=event.region_code,
            category_before=event.previous_category,
            category_after=event.category,
            hazard_grade=event.hazard_grade,
            management_grade=event.management_grade,
            archive_version=event.archive_version,
            submission_id=event.submission_id,
            reason=event.reason,
        ),
    )


def from_exemption_changed(event: ExemptionChanged) -> CreditCloudEvent:
    return _cloud_event(
        CREDIT_SOURCE_REGISTRY, EXEMPTION_STARTED if event.exempt else EXEMPTION_ENDED, event.event_id, event.credit_code,
        event.occurred_at,
        CreditExemptionData(
            exemption_id=event.exemption_id,
            region_code=event.region_code,
            exempt=event.exempt,
            valid_from=event.valid_from,
            valid_until=event.valid_until,
            reason=event.reason,
        ),
    )


def from_penalty_decided(event: PenaltyDecided) -> CreditCloudEvent:
    return _cloud_event(
        CREDIT_SOURCE_PENALTY, PENALTY_DECIDED, event.event_id, event.credit_code, event.occurred_at,
        CreditPenaltyData(
            case_id=event.case_id, item_code=event.item_code, decision=event.decision, major=event.major, reasons=list(event.reasons),
            case_code=event.case_code,
        ),
    )


def from_org_disqualified(event: OrgDisqualified) -> CreditCloudEvent:
    return _cloud_event(
        CREDIT_SOURCE_PENALTY, ORG_DISQUALIFIED, event.event_id, event.credit_code, event.occurred_at,
        CreditOrgDisqualifiedData(
            org_name=event.org_name, decision_no=event.decision_no, decided_on=event.decided_on, until=event.until, reason=event.reason
        ),
    )


def outbox_id(cloud_event: CreditCloudEvent) -> str:
    """The outbox row's id for a CloudEvent: one per (source, id)."""
    return str(uuid.uuid5(_OUTBOX_NAMESPACE, f"{CreditCloudEvent.topic}|{cloud_event.source}|{cloud_event.id}"))


def enqueue_cloud_event(session: Session, cloud_event: CreditCloudEvent) -> bool:
    """Put ``cloud_event`` into the outbox (caller's transaction) unless it is already there."""
    row_id = outbox_id(cloud_event)
    if outbox_has(session, row_id):
        return False
    enqueue_payload(
        session, event_id=row_id, topic=CreditCloudEvent.topic, key=cloud_event.subject, payload=cloud_event.model_dump_json()
    )
    return True


# --------------------------------------------------------------------------- consumer handlers


def classification_changed(session: Session, event: ClassificationChanged) -> None:
    enqueue_cloud_event(session, from_classification_changed(event))


def exemption_changed(session: Session, event: ExemptionChanged) -> None:
    enqueue_cloud_event(session, from_exemption_changed(event))


def penalty_decided(session: Session, event: PenaltyDecided) -> None:
    enqueue_cloud_event(session, from_penalty_decided(event))


def org_disqualified(session: Session, event: OrgDisqualified) -> None:
    enqueue_cloud_event(session, from_org_disqualified(event))
