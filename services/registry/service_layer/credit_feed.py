"""The credit feed (issue 4): classification changes, 免检, penalty decisions and disqualified technical
service organisations, translated into
CloudEvents 1.0 (structured JSON mode) on ``ohs.credit.events`` for credit-regulation systems.

The translator runs in the registry process but apart from the archive's use cases: it consumes
``ohs.registry.classification-changed``, ``ohs.registry.exemption-changed``,
``ohs.penalty.decided``, ``ohs.orgs.disqualified`` and ``ohs.orgs.rated`` (organisations' star ratings, issue 17) in a consumer group of its own (``<prefix>.registry.credit-feed``, see
``bootstrap``), so it sees every partition of ``ohs.penalty.decided`` besides the enforcement
upgrades' subscriber, and has its own inbox scope. Each handler writes at most one outbox row
per input event, in the unit of work the consumer commits; the relay publishes it.

* A classification change is published when the category or the region changed (``changed``
  names it; an event without ``changed`` is from before it was added and always meant that). A
  change of the name, industry codes or headcount only is for the other services' pools, not for
  credit systems: nothing is published.

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

from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
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
    OrgRated,
    PenaltyDecided,
)
from shared.contracts.credit import CreditOrgRatedData

GROUP_SUFFIX = "credit-feed"  # consumer group <prefix>.registry.credit-feed
_OUTBOX_NAMESPACE = uuid.UUID("2f3c8e0a-5b7d-4c1e-9a64-0c5e1b7d2a91")  # fixed: outbox ids must not change between releases

CLASSIFICATION_CHANGED = "cn.gov.ohs.classification.changed"
EXEMPTION_STARTED = "cn.gov.ohs.exemption.started"
EXEMPTION_ENDED = "cn.gov.ohs.exemption.ended"
PENALTY_DECIDED = "cn.gov.ohs.penalty.decided"
ORG_DISQUALIFIED = "cn.gov.ohs.org.disqualified"
ORG_RATED = "cn.gov.ohs.org.rated"


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


def from_org_rated(event: OrgRated) -> CreditCloudEvent:
    """An organisation's star rating changed (issue 17): its stars, the rule version and the trace's lines in Chinese."""
    return _cloud_event(
        CREDIT_SOURCE_PENALTY, ORG_RATED, event.event_id, event.credit_code, event.occurred_at,
        CreditOrgRatedData(
            org_name=event.org_name, org_kind=event.org_kind, stars=event.stars, previous_stars=event.previous_stars, rated_on=event.rated_on,
            rule_version=f"{event.rule_set.jurisdiction} {event.rule_set.version}", provisional=event.rule_set.provisional,
            reasons=[line.text() for line in event.trace],
        ),
    )


def outbox_id(cloud_event: CreditCloudEvent) -> str:
    """The outbox row's id for a CloudEvent: one per (source, id)."""
    return str(uuid.uuid5(_OUTBOX_NAMESPACE, f"{CreditCloudEvent.topic}|{cloud_event.source}|{cloud_event.id}"))


def publish_cloud_event(uow: RegistryUnitOfWork, cloud_event: CreditCloudEvent) -> bool:
    """Publish ``cloud_event`` through the outbox (the unit of work's transaction) unless it is already there."""
    row_id = outbox_id(cloud_event)
    if uow.outbox.has(row_id):
        return False
    uow.publish_payload(event_id=row_id, topic=CreditCloudEvent.topic, key=cloud_event.subject, payload=cloud_event.model_dump_json())
    return True


def for_credit_systems(event: ClassificationChanged) -> bool:
    """Did the category or the region change (all an event without ``changed`` ever announced)?"""
    return event.changed is None or bool({"category", "region_code"} & set(event.changed))


# --------------------------------------------------------------------------- consumer handlers


def preload_classification_changes(uow: RegistryUnitOfWork, events: list[ClassificationChanged]) -> None:
    """Before a batch: which of its CloudEvents the outbox already holds, in one query."""
    uow.outbox.preload([outbox_id(from_classification_changed(event)) for event in events if for_credit_systems(event)])


def classification_changed(uow: RegistryUnitOfWork, event: ClassificationChanged) -> None:
    if for_credit_systems(event):
        publish_cloud_event(uow, from_classification_changed(event))


def exemption_changed(uow: RegistryUnitOfWork, event: ExemptionChanged) -> None:
    publish_cloud_event(uow, from_exemption_changed(event))


def penalty_decided(uow: RegistryUnitOfWork, event: PenaltyDecided) -> None:
    publish_cloud_event(uow, from_penalty_decided(event))


def org_disqualified(uow: RegistryUnitOfWork, event: OrgDisqualified) -> None:
    publish_cloud_event(uow, from_org_disqualified(event))


def org_rated(uow: RegistryUnitOfWork, event: OrgRated) -> None:
    publish_cloud_event(uow, from_org_rated(event))
