"""A sampling service rebuilt from Kafka draws the same (issue 5): the pools follow the registry's
events, a plan is drawn and published (events read back from the topics), then a fresh service
on a new, empty PostgreSQL database, fed the same events from offset 0, holds a pool with the same
hash and, given the same seed, makes exactly the same draw.

The employers sit in 泽州县 140525, which no other test uses, so both services' pools of that
county hold exactly this test's employers whatever else the topics carry.
"""

from __future__ import annotations

import json
import uuid
from datetime import date

import psycopg
import pytest
from aiokafka import AIOKafkaProducer
from sqlmodel import Session

from services.sampling.adapters.orm import Plan
from services.sampling.bootstrap import bootstrap as sampling_app
from services.sampling.domain.draw import commitment_of
from shared import topics
from shared.contracts import ClassificationChanged, ExemptionChanged
from shared.settings import settings_for
from tests.support import eventually, new_credit_code, read_topic, serving, token_for

pytestmark = pytest.mark.integration

REGION = "140525"
ROSTER = {"inspectors": [{"id": f"zz-{k}", "name": f"泽州县检查员{k}"} for k in range(1, 6)]}


def new_database(server: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server.rsplit("/", 1)[0] + f"/{name}"


def sampling_settings(kafka_bootstrap: str, database_url: str):
    return settings_for("sampling", kafka_bootstrap_servers=kafka_bootstrap, database_url=database_url,
                        consumer_group_prefix=f"it-sampling-{uuid.uuid4().hex[:8]}", consumer_retry_backoff_s=0.05)


def events() -> tuple[list[ClassificationChanged | ExemptionChanged], dict[str, str], str]:
    """24 employers (some classified twice: the newer version wins), one 建材 (full coverage), one exempt."""
    out: list[ClassificationChanged | ExemptionChanged] = []
    final: dict[str, str] = {}
    categories = ["甲"] * 10 + ["乙"] * 8 + ["丙"] * 6
    for n, category in enumerate(categories):
        code = new_credit_code(REGION)
        industries = ["C3011"] if n == 20 else ["C1311"]
        first = "丙" if n % 4 == 0 else category
        out.append(ClassificationChanged(producer="registry", credit_code=code, enterprise_name=f"泽州测试企业{n}", region_code=REGION,
                                         archive_version=1, previous_category=None, category=first, hazard_grade=None,  # type: ignore[arg-type]
                                         management_grade=None, submission_id=None, reason="test", industry_codes=industries))
        if first != category:
            out.append(ClassificationChanged(producer="registry", credit_code=code, enterprise_name=f"泽州测试企业{n}", region_code=REGION,
                                             archive_version=2, previous_category=first, category=category, hazard_grade=None,  # type: ignore[arg-type]
                                             management_grade=None, submission_id=None, reason="test", industry_codes=industries))
        final[code] = category
    exempt = next(iter(final))
    out.append(ExemptionChanged(producer="registry", credit_code=exempt, exemption_id=uuid.uuid4(), region_code=REGION, exempt=True,
                                valid_from=date(2026, 1, 1), valid_until=date(2099, 12, 31), reason="信用 A 级"))
    return out, final, exempt


async def pooled(client, final: dict[str, str], exempt: str) -> dict | None:
    response = await client.get(f"/pools/{REGION}")
    body = response.json()
    members = {m["credit_code"]: c for c, ms in body["members"].items() for m in ms}
    expected = {code: c for code, c in final.items() if code != exempt}
    exempted = {m["credit_code"] for m in body["exempted"]}
    return body if members == expected and exempted == {exempt} else None


async def test_a_rebuilt_sampling_service_holds_the_same_pool_and_makes_the_same_draw(kafka_bootstrap: str, postgres_server: str) -> None:
    feed, final, exempt = events()
    token = token_for("province")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for event in feed:
            await producer.send_and_wait(event.topic, event.model_dump_json().encode(), key=event.key)
    finally:
        await producer.stop()

    first = sampling_app(sampling_settings(kafka_bootstrap, new_database(postgres_server)))
    async with serving(first, token) as client:
        await eventually(lambda: pooled(client, final, exempt), timeout=60, what="the first service's pool")
        assert (await client.put(f"/inspectors/{REGION}", json=ROSTER)).status_code == 200
        plan = (await client.post("/plans", json={"region_code": REGION, "period": "2026"})).json()
        response = await client.post(f"/plans/{plan['id']}/draw")
        assert response.status_code == 201, response.text
        draw = response.json()
        publication = (await client.get(f"/plans/{plan['id']}/publication")).json()
        assert (await client.post("/verify", json=publication)).json() == {"match": True}

    assert draw["quotas"] == {"甲": 1, "乙": 1, "丙": 2}  # 9 甲 (one exempt) × 3 %, 8 乙 × 10 %, 6 丙 × 30 %
    assert [t["selection"] for t in draw["targets"] if t["category"] == "丙"].count("full_coverage") == 1
    targets = {t["credit_code"] for t in draw["targets"]}

    published = await read_topic(kafka_bootstrap, topics.DRAW_PUBLISHED,
                                 lambda records: any(json.loads(r.value)["plan_id"] == plan["id"] for r in records))
    [record] = [r for r in published if json.loads(r.value)["plan_id"] == plan["id"]]
    announced = json.loads(record.value)
    assert (announced["seed"], announced["pool_hash"], announced["pool_version"]) == (draw["seed"], draw["pool_hash"], draw["pool_version"])
    assert record.key == REGION.encode(), "keyed by the agency's region"
    assigned = await read_topic(kafka_bootstrap, topics.TASK_ASSIGNED,
                                lambda records: {json.loads(r.value)["credit_code"] for r in records
                                                 if json.loads(r.value)["plan_id"] == plan["id"]} == targets)
    mine = [json.loads(r.value) for r in assigned if json.loads(r.value)["plan_id"] == plan["id"]]
    assert {m["credit_code"] for m in mine} == targets and all(len(m["inspectors"]) == 2 for m in mine)

    # a fresh service, an empty database, the same events from offset 0
    second = sampling_app(sampling_settings(kafka_bootstrap, new_database(postgres_server)))
    async with serving(second, token) as client:
        await eventually(lambda: pooled(client, final, exempt), timeout=120, what="the rebuilt service's pool")
        assert (await client.put(f"/inspectors/{REGION}", json=ROSTER)).status_code == 200
        again = (await client.post("/plans", json={"region_code": REGION, "period": "2026"})).json()
        with Session(second.state.runtime.engine) as session:  # the same seed as the published draw
            row = session.get(Plan, again["id"])
            row.seed, row.commitment = draw["seed"], commitment_of(draw["seed"])
            session.add(row)
            session.commit()
        redrawn = (await client.post(f"/plans/{again['id']}/draw")).json()

    assert redrawn["pool_hash"] == draw["pool_hash"] and redrawn["pool"] == draw["pool"]
    assert [(t["credit_code"], t["selection"], t["inspectors"]) for t in redrawn["targets"]] == \
        [(t["credit_code"], t["selection"], t["inspectors"]) for t in draw["targets"]]
