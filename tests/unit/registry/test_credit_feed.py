"""The credit feed: classification changes, 免检 and penalty decisions become CloudEvents 1.0 on
ohs.credit.events. The registry as bootstrap wires it (its own SQLite database, migrated by its
migrations) on FastStream's in-memory broker; the outbox rows are what the relay would publish."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from uuid import uuid4

import pytest
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from sqlmodel import Session, col, select

from services.registry.adapters.orm import OverrideRecord
from services.registry.bootstrap import bootstrap
from services.registry.service_layer import credit_feed
from services.registry.service_layer.handlers import archive_classification
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared import topics
from shared.contracts import (
    AssessmentClassified,
    ClassificationChanged,
    CreditCloudEvent,
    Event,
    ExemptionChanged,
    FactorGrade,
    OrgDisqualified,
    PenaltyDecided,
    RuleSetRef,
    TraceEntry,
)
from shared.db import OutboxMessage, ProcessedEvent
from shared.migrations import upgrade
from shared.runtime import Runtime
from shared.settings import settings_for

uow_of = RegistryUnitOfWork.joining  # the registry's use cases in a session the test owns and commits

CODE = "91141029MA0GRT8U3L"
CLOUD_EVENT_KEYS = {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "data"}
OCCURRED = datetime(2026, 11, 20, 8, 30, tzinfo=timezone.utc)


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    app = bootstrap(settings_for("registry", data_dir=tmp_path, consumer_retry_backoff_s=0), create_topics=False)
    runtime: Runtime = app.state.runtime
    upgrade("registry", runtime.engine)

    async def no_flush() -> int:  # the outbox rows are the result; publishing is the relay's (tested below)
        return 0

    monkeypatch.setattr(runtime.relay, "flush", no_flush)
    yield runtime
    runtime.engine.dispose()


def classification_changed(previous: str | None = "乙", category: str = "丙") -> ClassificationChanged:
    return ClassificationChanged(
        producer="registry", credit_code=CODE, occurred_at=OCCURRED, enterprise_name="乡宁县示例水泥有限公司", region_code="141029",
        archive_version=3, previous_category=previous, category=category, hazard_grade="Ⅲ", management_grade="B",
        submission_id=uuid4(), reason="report … changed the category 乙 → 丙",
    )


def exemption(exempt: bool) -> ExemptionChanged:
    return ExemptionChanged(
        producer="registry", credit_code=CODE, occurred_at=OCCURRED, exemption_id=uuid4(), region_code="141029", exempt=exempt,
        valid_from=date(2026, 11, 1), valid_until=date(2027, 10, 31), reason="连续三年无违法行为" if exempt else "revoked: 发现违法行为",
    )


def penalty(major: bool = False) -> PenaltyDecided:
    return PenaltyDecided(
        producer="penalty", credit_code=CODE, occurred_at=OCCURRED, case_id=uuid4(), item_code="72-1", decision="penalty",
        major=major, reasons=["not first-time"], trace=[TraceEntry(rule="附件5", detail="…")],
    )


def org_disqualified() -> OrgDisqualified:
    return OrgDisqualified(
        producer="penalty", credit_code=CODE, occurred_at=OCCURRED, org_name="临汾示例职业卫生技术服务有限公司",
        decision_no="晋卫监罚〔2026〕12号", decided_on=date(2026, 11, 20), until=None, reason="出具虚假综合风险评估报告, 情节严重",
    )


def classified(category: str = "乙") -> AssessmentClassified:
    return AssessmentClassified(
        producer="assessment", credit_code=CODE, submission_id=uuid4(), enterprise_name="乡宁县示例水泥有限公司", region_code="141029",
        employees=86, assessed_on=date(2026, 6, 1), hazard_grade="Ⅱ", management_grade="B", score=82.5, category=category,
        factors=[FactorGrade(factor="矽尘", nature="严重", nature_source="catalogue", compliant=False, exposed=24,
                             headcount_band="10–49", grade="Ⅱ")],
        rule_set=RuleSetRef(jurisdiction="CN", version="2022.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[TraceEntry(rule="附件3", detail="→ 乙")],
    )


def credit_rows(runtime: Runtime) -> list[OutboxMessage]:
    with Session(runtime.engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.topic == topics.CREDIT_EVENTS).order_by(col(OutboxMessage.id))))


async def deliver(runtime: Runtime, *events: Event) -> None:
    async with TestKafkaBroker(runtime.broker) as broker:
        for event in events:
            await broker.publish(event.model_dump_json().encode(), topic=event.topic, key=event.key)


CASES = [
    pytest.param(classification_changed(), "/ohs/registry", "cn.gov.ohs.classification.changed",
                 "urn:ohs:credit:classification-changed:1", id="classification-changed"),
    pytest.param(exemption(True), "/ohs/registry", "cn.gov.ohs.exemption.started", "urn:ohs:credit:exemption-changed:1",
                 id="exemption-started"),
    pytest.param(exemption(False), "/ohs/registry", "cn.gov.ohs.exemption.ended", "urn:ohs:credit:exemption-changed:1",
                 id="exemption-ended"),
    pytest.param(penalty(), "/ohs/penalty", "cn.gov.ohs.penalty.decided", "urn:ohs:credit:penalty-decided:1", id="penalty-decided"),
    pytest.param(org_disqualified(), "/ohs/penalty", "cn.gov.ohs.org.disqualified", "urn:ohs:credit:org-disqualified:1",
                 id="org-disqualified"),
]


@pytest.mark.parametrize(("event", "source", "type_", "schema"), CASES)
async def test_each_input_becomes_one_cloud_event_on_the_credit_topic(
    runtime: Runtime, event: Event, source: str, type_: str, schema: str
) -> None:
    await deliver(runtime, event)

    [row] = credit_rows(runtime)
    assert row.key == CODE
    raw = json.loads(row.payload)
    assert set(raw) == CLOUD_EVENT_KEYS  # structured mode: the attributes and data at the top level, nothing else
    assert raw["specversion"] == "1.0"
    assert raw["id"] == str(event.event_id)
    assert (raw["source"], raw["type"], raw["dataschema"]) == (source, type_, schema)
    assert raw["subject"] == CODE
    assert raw["datacontenttype"] == "application/json"
    assert datetime.fromisoformat(raw["time"].replace("Z", "+00:00")) == OCCURRED  # RFC 3339, with its offset
    CreditCloudEvent.model_validate_json(row.payload)  # the documented contract


def test_the_data_carries_what_a_credit_system_needs() -> None:
    change = classification_changed(previous=None, category="甲")
    data = credit_feed.from_classification_changed(change).model_dump(mode="json")["data"]
    assert data == {
        "enterprise_name": "乡宁县示例水泥有限公司", "region_code": "141029", "category_before": None, "category_after": "甲",
        "hazard_grade": "Ⅲ", "management_grade": "B", "archive_version": 3, "submission_id": str(change.submission_id),
        "reason": change.reason,
    }
    ended = exemption(False)
    assert credit_feed.from_exemption_changed(ended).model_dump(mode="json")["data"] == {
        "exemption_id": str(ended.exemption_id), "region_code": "141029", "exempt": False, "valid_from": "2026-11-01",
        "valid_until": "2027-10-31", "reason": "revoked: 发现违法行为",
    }
    decided = penalty(major=True)
    assert credit_feed.from_penalty_decided(decided).model_dump(mode="json")["data"] == {
        "case_id": str(decided.case_id), "item_code": "72-1", "decision": "penalty", "major": True, "reasons": ["not first-time"],
        "case_code": None,
    }
    gone = org_disqualified()
    assert credit_feed.from_org_disqualified(gone).model_dump(mode="json")["data"] == {
        "org_name": "临汾示例职业卫生技术服务有限公司", "decision_no": "晋卫监罚〔2026〕12号", "decided_on": "2026-11-20", "until": None,
        "reason": "出具虚假综合风险评估报告, 情节严重",
    }


@pytest.mark.parametrize(("event", "source", "type_", "schema"), CASES)
async def test_the_same_input_twice_yields_one_cloud_event(runtime: Runtime, event: Event, source: str, type_: str, schema: str) -> None:
    await deliver(runtime, event, event)
    assert len(credit_rows(runtime)) == 1

    handler = {"classification-changed": credit_feed.classification_changed, "exemption-changed": credit_feed.exemption_changed,
               "decided": credit_feed.penalty_decided, "disqualified": credit_feed.org_disqualified}[event.topic.rsplit(".", 1)[1]]
    with Session(runtime.engine) as session:  # even past the inbox (e.g. a restored database): no second row
        handler(uow_of(session), event)
        session.commit()
    assert len(credit_rows(runtime)) == 1


async def test_a_change_of_the_industry_alone_is_not_for_credit_systems(runtime: Runtime) -> None:
    """ClassificationChanged also announces a new name, industry or headcount (for the other services'
    pools); the credit feed publishes only what changed the category or the region."""
    industry_only = classification_changed(previous="丙", category="丙").model_copy(update={"changed": ["industry_codes"]})
    moved = classification_changed(previous="丙", category="丙").model_copy(update={"event_id": uuid4(), "changed": ["region_code"]})

    await deliver(runtime, industry_only, moved)

    assert [json.loads(r.payload)["id"] for r in credit_rows(runtime)] == [str(moved.event_id)]


async def test_a_major_violation_is_applied_once_by_the_archive_and_once_by_the_credit_feed(runtime: Runtime) -> None:
    """ohs.penalty.decided has three subscribers in the registry (the enforcement upgrade, the credit
    feed and the portrait), each in its own consumer group and inbox scope: each applies the decision exactly once."""
    groups = sorted(s.group_id for s in runtime.broker.subscribers if topics.PENALTY_DECIDED in s.topic_names)
    assert groups == ["ohs.registry", "ohs.registry.credit-feed", "ohs.registry.portrait"]
    with Session(runtime.engine) as session:
        archive_classification(uow_of(session), classified("乙"))
        session.commit()
    decided = penalty(major=True)

    await deliver(runtime, decided, decided)

    with Session(runtime.engine) as session:
        upgrades = session.exec(select(OverrideRecord).where(OverrideRecord.case_ref == str(decided.case_id))).all()
        inbox = session.exec(select(ProcessedEvent).where(ProcessedEvent.event_id == str(decided.event_id))).all()
    assert [(u.category_before, u.category_after) for u in upgrades] == [("乙", "丙")]
    assert [json.loads(r.payload)["type"] for r in credit_rows(runtime)] == ["cn.gov.ohs.penalty.decided"]
    assert sorted(r.consumer for r in inbox) == ["", "credit-feed", "portrait"]


async def test_the_relay_publishes_a_cloud_event_with_the_cloudevents_content_type(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real relay
    received: list[tuple[bytes, dict[str, str], bytes | None]] = []

    async def _raw(message: KafkaMessage) -> bytes:
        return message.body

    @runtime.broker.subscriber(topics.CREDIT_EVENTS, decoder=_raw)
    async def collect(body: bytes, msg: KafkaMessage) -> None:
        received.append((body, dict(msg.headers), msg.raw_message.key))

    change = classification_changed()
    with Session(runtime.engine) as session:
        credit_feed.classification_changed(uow_of(session), change)
        session.commit()
    async with TestKafkaBroker(runtime.broker):
        assert await runtime.relay.flush() == 1

    [(body, headers, key)] = received
    assert headers["content-type"] == "application/cloudevents+json; charset=UTF-8"
    assert key == CODE.encode()
    assert CreditCloudEvent.model_validate_json(body).id == str(change.event_id)
    assert credit_rows(runtime)[0].published_at is not None


def test_the_contract_refuses_a_cloud_event_whose_parts_disagree() -> None:
    good = credit_feed.from_penalty_decided(penalty()).model_dump(mode="json")
    for change, message in [
        ({"dataschema": "urn:ohs:credit:classification-changed:1"}, "dataschema"),
        ({"type": "cn.gov.ohs.classification.changed", "dataschema": "urn:ohs:credit:classification-changed:1"}, "data of"),
        ({"specversion": "0.3"}, "specversion"),
        ({"subject": "91141029MA0GRT8U3M"}, "subject"),
        ({"time": "2026-11-20T08:30:00"}, "UTC offset"),
        ({"extra": 1}, "extra"),
    ]:
        with pytest.raises(ValidationError, match=message):
            CreditCloudEvent.model_validate({**good, **change})
    started = credit_feed.from_exemption_changed(exemption(True)).model_dump(mode="json")
    with pytest.raises(ValidationError, match="exempt=True"):
        CreditCloudEvent.model_validate({**started, "type": "cn.gov.ohs.exemption.ended"})
