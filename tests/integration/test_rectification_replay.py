"""Replaying the topics into an empty registry rebuilds the same rectification items and risk portraits
(issue 13). Items are raised from penalty's screenings (``ohs.penalty.screened``); what happens to them
after — the employer's corrections, staff's reviews, the deadline sweep — is on the items' own log
(``ohs.registry.rectification-progressed``), and the portrait is a projection of four topics.

A first registry (fresh PostgreSQL database, consumer groups starting at the topics' end) takes an
employer's report through the loop: three shortcomings screened, one corrected and accepted (解除), one
corrected and returned, then the sweep lists the two uncleared ones as overdue. A second registry (fresh
database, consumer groups of its own reading every topic from offset 0) must end with the same items —
statuses, deadlines, histories, corrections, reviews, attachments — and the same portrait."""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from services.penalty.adapters.rules import Rulebook
from services.penalty.service_layer import screening
from services.registry.bootstrap import bootstrap as registry_app
from services.registry.service_layer import rectification
from shared import topics
from shared.contracts import AssessmentClassified, FactorGrade, LostPoints, RuleSetRef, ScreeningRecorded, TraceEntry
from shared.settings import settings_for
from tests.integration.test_registry_replay import new_database, without_timestamps
from tests.support import eventually, new_credit_code, registry_groups, serving, start_groups_at_the_end, token_for
from tests.unit.penalty.fakes import FakeUnitOfWork as PenaltyUnitOfWork

pytestmark = pytest.mark.integration


def report_with_shortcomings(code: str) -> AssessmentClassified:
    """Checklist 4.3 and 1.2 lost their points; the 矽尘 test is out of date (a 严重 factor is tested yearly)."""
    today = date.today()
    return AssessmentClassified(
        producer="assessment", credit_code=code, submission_id=uuid.uuid4(), enterprise_name=f"整改重放企业 {code[-4:]}", region_code="141029",
        industry_codes=["C3011"], employees=60, assessed_on=today - timedelta(days=12), hazard_grade="Ⅲ", management_grade="A", score=94.0,
        category="乙",
        factors=[FactorGrade(factor="矽尘", nature="严重", nature_source="catalogue", compliant=False, declared_compliant=True,
                             test_status="expired", exposed=12, headcount_band="10–49", grade="Ⅲ")],
        lost_points=[LostPoints(item="4.3", title="检测、评价结果存档、上报、公布", earned=0, points=3),
                     LostPoints(item="1.2", title="职业病防治计划和实施方案", earned=0, points=3)],
        rule_set=RuleSetRef(jurisdiction="CN", version="2022.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[TraceEntry(rule="附件3", detail="Ⅲ × A → 乙")],
        occurred_at=datetime.now(timezone.utc),
    )


def screened(event: AssessmentClassified) -> ScreeningRecorded:
    """What penalty publishes for the report (its real screening, on a unit of work in memory)."""
    uow = PenaltyUnitOfWork()
    screening.screen_report(uow, event, Rulebook.load())
    return uow.events(ScreeningRecorded)[-1]


def a_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "correction")
    page.save()
    return buffer.getvalue()


async def snapshot(client, code: str) -> dict[str, Any] | None:
    answer = await client.get("/rectifications", params={"credit_code": code})
    if answer.status_code == 404:  # a registry replaying the topics has not archived the employer yet: ask again
        return None
    items = answer.json()["items"]
    detailed = {}
    for item in items:
        shown = without_timestamps((await client.get(f"/rectifications/{item['id']}")).json())
        shown["history"] = sorted(({k: v for k, v in step.items() if k != "seq"} for step in shown["history"]), key=lambda s: s["event_id"])
        detailed[item["shortcoming"]["code"]] = shown
    portrait = (await client.get(f"/enterprises/{code}/portrait")).json()
    return {"items": detailed, "portrait": {d["name"]: (d["level"], sorted(s["code"] for s in d["shortcomings"])) for d in portrait.get("dimensions", [])}}


async def test_replaying_the_topics_into_an_empty_registry_rebuilds_the_same_items_and_portraits(
    kafka_bootstrap: str, postgres_server: str, tmp_path
) -> None:
    code = new_credit_code("141029")
    report = report_with_shortcomings(code)
    screening_event = screened(report)
    assert {r.shortcoming.code for r in screening_event.results} == {"checklist:4.3", "checklist:1.2", "test_expired:矽尘"}
    employer = {"Authorization": f"Bearer {token_for('employer', code)}"}

    def settings(prefix: str):
        return settings_for("registry", kafka_bootstrap_servers=kafka_bootstrap, database_url=new_database(postgres_server),
                            consumer_group_prefix=prefix, consumer_retry_backoff_s=0.05, data_dir=tmp_path)  # one attachment folder

    first_prefix = f"it-rect-a-{uuid.uuid4().hex[:8]}"
    await start_groups_at_the_end(kafka_bootstrap, registry_groups(first_prefix))
    first = registry_app(settings(first_prefix))
    async with serving(first, token_for("county", "141029")) as client:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(topics.ASSESSMENTS_CLASSIFIED, report.model_dump_json().encode(), key=report.key)
            await producer.send_and_wait(topics.SCREENED, screening_event.model_dump_json().encode(), key=screening_event.key)
        finally:
            await producer.stop()

        async def items() -> dict[str, dict[str, Any]]:
            listed = (await client.get("/rectifications", params={"credit_code": code})).json().get("items", [])
            return {i["shortcoming"]["code"]: i for i in listed}

        raised = await eventually(items, timeout=60, what="three items raised", ready=lambda found: len(found) == 3)
        published, planned = raised["checklist:4.3"]["id"], raised["checklist:1.2"]["id"]
        for item_id in (published, planned):
            sent = await client.post(f"/rectifications/{item_id}/submission", headers=employer, data={"text": "已整改"},
                                     files=[("files", ("整改说明.pdf", a_pdf(), "application/pdf"))])
            assert sent.status_code in (200, 201), sent.text
        assert (await client.post(f"/rectifications/{published}/review", json={"decision": "accept"})).status_code in (200, 201)
        returned = await client.post(f"/rectifications/{planned}/review", json={"decision": "return", "reason": "计划未经负责人签发"})
        assert returned.status_code in (200, 201), returned.text
        deadline = date.fromisoformat(raised["test_expired:矽尘"]["deadline"])
        runtime, rules = first.state.runtime, first.state.rectification_rules
        for day in (deadline, deadline + timedelta(days=1)):  # reminded on the deadline day, overdue the day after
            await runtime.uow.run(lambda uow, day=day: rectification.run_sweep(uow, day, rules))

        def settled(taken: dict[str, Any] | None) -> bool:  # the first registry's own consumers have caught up with its log
            if taken is None:
                return False
            statuses = {c: i["status"] for c, i in taken["items"].items()}
            return statuses == {"checklist:4.3": "cleared", "checklist:1.2": "overdue", "test_expired:矽尘": "overdue"} and \
                "checklist:4.3" not in {s for _, codes in taken["portrait"].values() for s in codes}

        before = await eventually(lambda: snapshot(client, code), timeout=60, what="the loop settled in the first registry", ready=settled)

    # what the comparison compares: corrections, a review with its reason, attachments, the sweep's steps, a portrait
    assert [s["review"]["reason"] for s in before["items"]["checklist:1.2"]["submissions"]] == ["计划未经负责人签发"]
    assert before["items"]["checklist:4.3"]["submissions"][0]["attachments"][0]["sha256"]
    assert {"reminded", "overdue"} <= {s["step"] for s in before["items"]["test_expired:矽尘"]["history"]}
    assert before["portrait"]

    second = registry_app(settings(f"it-rect-b-{uuid.uuid4().hex[:8]}"))  # no offsets: every topic from offset 0
    async with serving(second, token_for("county", "141029")) as client:
        after = await eventually(lambda: snapshot(client, code), timeout=240, what="the replay rebuilt the items and the portrait",
                                 ready=lambda taken: taken == before)
        download = await client.get(f"/rectifications/{published}/attachments/1", headers=employer)
    assert after == before
    assert download.status_code == 200 and download.content.startswith(b"%PDF-")
