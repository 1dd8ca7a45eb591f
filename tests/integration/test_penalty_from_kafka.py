"""A violation recorded by another service (producer "sampling") reaches penalty through the real
broker: the case is opened with its code and judged against the employer's whole history, including
a case recorded earlier through penalty's own HTTP API."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from services.penalty.bootstrap import bootstrap as penalty_app
from services.penalty.domain.case_codes import case_code_problem
from shared import topics
from shared.contracts import ViolationRecorded
from shared.dates import china_today
from shared.settings import settings_for
from tests.support import auth, eventually, new_credit_code, produce, read_topic, serving, start_groups_at_the_end

pytestmark = pytest.mark.integration


async def test_a_violation_from_sampling_is_judged_against_an_earlier_http_case(kafka_bootstrap: str, postgres_url: str) -> None:
    code = new_credit_code("141029")
    today = china_today()
    prefix = f"it-penalty-{uuid.uuid4().hex[:8]}"
    await start_groups_at_the_end(kafka_bootstrap, {f"{prefix}.penalty": [topics.VIOLATION_RECORDED]})
    settings = settings_for("penalty", kafka_bootstrap_servers=kafka_bootstrap, database_url=postgres_url,
                            consumer_group_prefix=prefix, consumer_retry_backoff_s=0.05)
    async with serving(penalty_app(settings), token=None) as client:
        county = auth("county")
        first = await client.post("/violations", headers=county, json={
            "credit_code": code, "item_code": "70-4", "found_on": (today - timedelta(days=60)).isoformat(), "harm": "none",
            "corrected_on": (today - timedelta(days=60)).isoformat()})
        assert first.status_code == 201, first.text
        assert first.json()["decision"] == "no_penalty"

        found = ViolationRecorded(producer="sampling", credit_code=code, case_id=uuid.uuid4(), region_code="141029", item_code="70-4",
                                  found_on=today - timedelta(days=3), harm="none", corrected_on=None, rectification_deadline=None,
                                  task_id=uuid.uuid4(), plan_id=uuid.uuid4(), inspectors=["insp-1", "insp-2"], description="培训记录缺失")
        await produce(kafka_bootstrap, topics.VIOLATION_RECORDED, found.model_dump_json().encode(), key=code.encode())

        async def decided():
            response = await client.get(f"/cases/{found.case_id}", headers=county)
            return response.json() if response.status_code == 200 and response.json()["decision"] else None

        case = await eventually(decided, timeout=30, what="the sampling violation decided")
        assert case["producer"] == "sampling" and case["task_id"] == str(found.task_id)
        assert case_code_problem(case["case_code"]) is None
        assert case["decision"] == "penalty" and case["status"] == "penalty_pending"
        assert case["reasons"][0].startswith("非初次违法") and first.json()["case_code"] in case["reasons"][0], case["reasons"]
        assert case["timeline"][0]["by"] == "insp-1, insp-2"

        def ours(records):
            return [json.loads(r.value) for r in records if json.loads(r.value).get("case_id") == str(found.case_id)]

        decisions = ours(await read_topic(kafka_bootstrap, topics.PENALTY_DECIDED, lambda rs: len(ours(rs)) >= 1, timeout=30))
        progressed = ours(await read_topic(kafka_bootstrap, topics.CASE_PROGRESSED, lambda rs: len(ours(rs)) >= 3, timeout=30))
    assert [d["decision"] for d in decisions] == ["penalty"] and decisions[0]["case_code"] == case["case_code"]
    assert [p["step"] for p in progressed] == ["opened", "decided", "penalty_proposed"]
