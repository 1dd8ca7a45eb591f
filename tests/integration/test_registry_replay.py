"""Replaying ohs.assessments.classified from offset 0 into an empty registry rebuilds the same
archive (issue 4): the archive is a function of the classified reports in their per-employer
order, so a lost or corrupted registry database can be rebuilt from Kafka.

Two registries run in this process, each on a fresh PostgreSQL database with consumer groups of
its own. The first starts at the topic's end (its groups' offsets are committed there before it
starts), so it archives only this test's events; the second has no offsets and reads the whole
topic from offset 0, other tests' events included, of which only this test's employers are
compared.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from aiokafka import AIOKafkaProducer

from services.registry.bootstrap import bootstrap as registry_app
from shared import topics
from shared.contracts import AssessmentClassified, FactorGrade, RuleSetRef, TraceEntry
from shared.settings import settings_for
from tests.support import registry_groups, start_groups_at_the_end, eventually, new_credit_code, serving, token_for

pytestmark = pytest.mark.integration

GRADES = {"甲": ("Ⅰ", "A"), "乙": ("Ⅱ", "B"), "丙": ("Ⅲ", "B")}
TIMESTAMPS = {"recorded_at", "updated_at", "at", "granted_at", "started_at", "ended_at", "cleared_at", "requested_at", "decided_at"}


def new_database(server: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + f"/{name}"


def registry_settings(kafka_bootstrap: str, database_url: str, prefix: str):
    return settings_for(
        "registry", kafka_bootstrap_servers=kafka_bootstrap, database_url=database_url, consumer_group_prefix=prefix,
        consumer_retry_backoff_s=0.05,
    )


def classified(code: str, category: str, assessed_on: date, region: str, submission_id: uuid.UUID | None = None,
               employees: int = 40) -> AssessmentClassified:
    hazard, management = GRADES[category]
    return AssessmentClassified(
        producer="assessment", credit_code=code, submission_id=submission_id or uuid.uuid4(), enterprise_name=f"重放测试企业 {code[-4:]}",
        region_code=region, industry_codes=["C3011"], employees=employees, assessed_on=assessed_on, hazard_grade=hazard,
        management_grade=management, score={"A": 92.0, "B": 80.5, "C": 60.0}[management], category=category,  # type: ignore[arg-type]
        factors=[FactorGrade(factor="矽尘", nature="严重", nature_source="catalogue", compliant=category != "甲", exposed=12,
                             headcount_band="10–49", grade=hazard)],
        rule_set=RuleSetRef(jurisdiction="CN", version="2022.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[TraceEntry(rule="附件3", detail=f"{hazard} × {management} → {category}")],
    )


def scenario() -> tuple[list[AssessmentClassified], dict[str, int]]:
    """33 deliveries for 10 employers: several versions each, category changes, late (older)
    assessments, a move to another county, a duplicate delivery and a re-published report.
    Returns the events in publishing order and each employer's expected number of versions.
    Dates are recent enough that no re-assessment reminder is due (the reminder sweep stays out)."""
    today = date.today()
    day = lambda n: today - timedelta(days=n)  # noqa: E731
    events: list[AssessmentClassified] = []
    versions: dict[str, int] = {}
    plans = [  # (category, days ago) in arrival order; a smaller "days ago" is a newer assessment
        [("丙", 700), ("乙", 400), ("甲", 200)],
        [("乙", 650), ("乙", 300), ("丙", 500)],  # the third arrives late: history only
        [("甲", 600), ("丙", 100), ("乙", 350), ("甲", 50)],
        [("丙", 690), ("丙", 420)],
        [("乙", 610), ("甲", 330), ("丙", 640)],  # late and older than both
        [("甲", 580), ("乙", 260), ("丙", 120)],
        [("丙", 560), ("甲", 400), ("乙", 240), ("乙", 600)],
        [("乙", 520), ("丙", 300)],
        [("甲", 500), ("甲", 200), ("丙", 90)],
    ]
    for plan in plans:
        code = new_credit_code("141029")
        for i, (category, days_ago) in enumerate(plan):
            events.append(classified(code, category, day(days_ago), "141029", employees=30 + i))
        versions[code] = len(plan)
    mover = new_credit_code("141029")  # asks to move to 洪洞县 141024 (RULES §5a: it stays until 141024 accepts), then a late report
    events += [
        classified(mover, "乙", day(700), "141029"),
        classified(mover, "乙", day(300), "141024"),
        classified(mover, "丙", day(500), "141029"),
    ]
    versions[mover] = 3
    first = events[0]
    events.append(first)  # delivered twice: one version
    events.append(first.model_copy(update={"event_id": uuid.uuid4()}))  # the same report re-published: one version
    events.append(events[5].model_copy(update={"event_id": uuid.uuid4()}))
    return events, versions


def without_timestamps(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_timestamps(v) for k, v in value.items() if k not in TIMESTAMPS}
    if isinstance(value, list):
        return [without_timestamps(v) for v in value]
    return value


async def snapshot(client, codes: list[str]) -> dict[str, Any]:
    taken = {}
    for code in codes:
        response = await client.get(f"/enterprises/{code}")
        assert response.status_code == 200, response.text
        taken[code] = without_timestamps(response.json())
    return taken


async def archived(client, versions: dict[str, int]) -> bool:
    for code, expected in versions.items():
        response = await client.get(f"/enterprises/{code}")
        if response.status_code != 200 or len(response.json()["history"]) < expected:
            return False
    return True


async def test_replaying_the_classified_topic_into_an_empty_registry_rebuilds_the_same_archive(
    kafka_bootstrap: str, postgres_server: str
) -> None:
    events, versions = scenario()
    assert len(events) >= 30 and len(versions) == 10 and sum(versions.values()) == 30
    codes = sorted(versions)
    token = token_for("province")  # 山西省: both counties

    first_prefix = f"it-replay-a-{uuid.uuid4().hex[:8]}"
    await start_groups_at_the_end(kafka_bootstrap, registry_groups(first_prefix))
    first = registry_app(registry_settings(kafka_bootstrap, new_database(postgres_server), first_prefix))
    async with serving(first, token) as client:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            for event in events:  # one at a time: each employer's events in this order on its partition
                await producer.send_and_wait(topics.ASSESSMENTS_CLASSIFIED, event.model_dump_json().encode(), key=event.key)
        finally:
            await producer.stop()
        await eventually(lambda: archived(client, versions), timeout=60, what="the first registry archived every version")
        before = await snapshot(client, codes)

    # the archive holds what the scenario says, so the comparison below compares something
    assert {code: len(before[code]["history"]) for code in codes} == versions
    assert sum(not v["became_current"] for s in before.values() for v in s["history"]) == 5  # the late reports
    assert len({s["category"] for s in before.values()}) == 3
    # a report naming another county asks for a move and does not make it (RULES §5a): the replay rebuilds the same request
    mover = next(code for code in codes if (before[code]["transfer"] or {}).get("to") == "141024")
    assert before[mover]["region_code"] == "141029" and before[mover]["transfer"]["status"] == "pending"
    assert [v["region_code"] for v in before[mover]["history"]] == ["141029", "141029", "141029"]

    second_prefix = f"it-replay-b-{uuid.uuid4().hex[:8]}"  # no offsets: reads the topic from offset 0
    second = registry_app(registry_settings(kafka_bootstrap, new_database(postgres_server), second_prefix))
    async with serving(second, token) as client:
        await eventually(lambda: archived(client, versions), timeout=240, what="the replay archived every version")
        after = await snapshot(client, codes)
        verified = (await client.get("/audit/chain/141029/verify")).json()

    for code in codes:
        assert after[code] == before[code], f"{code} differs after the replay"
    assert verified["ok"], verified
