"""The credit feed through the real broker: a classified report and a major violation reach
ohs.credit.events as CloudEvents (structured mode, content-type application/cloudevents+json),
keyed by the credit code, besides the archive's own enforcement upgrade."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import pytest

from services.registry.bootstrap import bootstrap as registry_app
from shared import topics
from shared.contracts import CreditCloudEvent, PenaltyDecided, TraceEntry
from tests.integration.test_registry_replay import classified, registry_settings, start_groups_at_the_end
from tests.support import eventually, new_credit_code, produce, read_topic, serving

pytestmark = pytest.mark.integration


async def test_a_report_and_a_major_violation_reach_the_credit_feed_as_cloud_events(kafka_bootstrap: str, postgres_url: str) -> None:
    code = new_credit_code()
    report = classified(code, "乙", date.today() - timedelta(days=100), "141029")
    decided = PenaltyDecided(producer="penalty", credit_code=code, case_id=uuid.uuid4(), item_code="72-1", decision="penalty",
                             major=True, reasons=["not first-time"], trace=[TraceEntry(rule="附件5", detail="…")])
    prefix = f"it-credit-{uuid.uuid4().hex[:8]}"
    await start_groups_at_the_end(kafka_bootstrap, {  # this test's events only
        f"{prefix}.registry": [topics.ASSESSMENTS_CLASSIFIED, topics.PENALTY_DECIDED],
        f"{prefix}.registry.credit-feed": [topics.CLASSIFICATION_CHANGED, topics.EXEMPTION_CHANGED, topics.PENALTY_DECIDED],
    })

    async with serving(registry_app(registry_settings(kafka_bootstrap, postgres_url, prefix))) as client:
        await produce(kafka_bootstrap, topics.ASSESSMENTS_CLASSIFIED, report.model_dump_json().encode(), key=report.key)

        async def archived():
            response = await client.get(f"/enterprises/{code}")
            return response.status_code == 200

        await eventually(archived, what="the report archived")
        await produce(kafka_bootstrap, topics.PENALTY_DECIDED, decided.model_dump_json().encode(), key=decided.key)

        def ours(records):
            return [r for r in records if r.key == code.encode()]

        records = ours(await read_topic(kafka_bootstrap, topics.CREDIT_EVENTS, lambda rs: len(ours(rs)) >= 3, timeout=40))
        upgraded = (await client.get(f"/enterprises/{code}")).json()

    assert upgraded["category"] == "丙"  # the archive's own subscriber applied the decision too
    events = [CreditCloudEvent.model_validate_json(r.value) for r in records]
    assert sorted((e.type, getattr(e.data, "category_after", None)) for e in events) == [
        ("cn.gov.ohs.classification.changed", "丙"),
        ("cn.gov.ohs.classification.changed", "乙"),
        ("cn.gov.ohs.penalty.decided", None),
    ]
    penalty = next(e for e in events if e.type == "cn.gov.ohs.penalty.decided")
    assert (penalty.id, penalty.source, penalty.subject) == (str(decided.event_id), "/ohs/penalty", code)
    for record in records:
        assert dict(record.headers)["content-type"] == b"application/cloudevents+json; charset=UTF-8"
        assert json.loads(record.value)["specversion"] == "1.0"
