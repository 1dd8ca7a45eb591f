"""The enforcement procedure as a supervisor sees it: four service processes, a real broker, HTTP only.

(a) a violation taken from inspection to closure through the three steps (no penalty); (b) a
rectification deadline that passes: the escalation sweep makes it a penalty case, and the fine closes
it; (c) a major violation raises the employer's category one step in the registry and reaches the
credit feed with its case code."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from services.penalty.domain.case_codes import case_code_problem
from shared import topics
from tests.support import (
    auth,
    days_ago,
    eventually_get,
    jia_report_for,
    new_credit_code,
    read_topic,
)

pytestmark = pytest.mark.e2e

COUNTY = auth("county", name="乡宁县 张三")


def post(url: str, body: dict) -> dict:
    response = httpx.post(url, json=body, timeout=10, headers=COUNTY)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_supervisor_takes_a_violation_from_inspection_to_closure(system, kafka_bootstrap: str) -> None:
    penalty = system["penalty"]
    case = post(f"{penalty}/violations", {"credit_code": new_credit_code(), "item_code": "70-2b", "found_on": days_ago(30), "harm": "none"})
    assert (case["status"], case["decision"]) == ("open", None) and case_code_problem(case["case_code"]) is None
    cid = case["id"]
    post(f"{penalty}/cases/{cid}/education", {"on": days_ago(30), "content": "讲解职业病防治计划要求"})
    ordered = post(f"{penalty}/cases/{cid}/rectification-order", {"ordered_on": days_ago(29)})
    assert ordered["status"] == "rectifying" and ordered["deadline"]
    closed = post(f"{penalty}/cases/{cid}/verification", {"verified_on": days_ago(20), "corrected": True, "corrected_on": days_ago(22)})
    assert (closed["status"], closed["decision"]) == ("closed", "no_penalty")
    shown = httpx.get(f"{penalty}/cases/{cid}", headers=COUNTY).json()
    assert [s["step"] for s in shown["timeline"]] == ["opened", "educated", "rectification_ordered", "correction_verified", "decided", "closed"]
    assert shown["timeline"][1]["by"] == "乡宁县 张三"

    def ours(records):
        return [json.loads(r.value) for r in records if json.loads(r.value).get("case_id") == cid]

    steps = ours(asyncio.run(read_topic(kafka_bootstrap, topics.CASE_PROGRESSED, lambda rs: len(ours(rs)) >= 6)))
    assert [s["step"] for s in steps] == [s["step"] for s in shown["timeline"]]
    decided = ours(asyncio.run(read_topic(kafka_bootstrap, topics.PENALTY_DECIDED, lambda rs: len(ours(rs)) >= 1)))
    assert [d["decision"] for d in decided] == ["no_penalty"]


def test_a_deadline_that_passes_escalates_to_a_penalty_case_and_the_fine_closes_it(system, kafka_bootstrap: str) -> None:
    penalty = system["penalty"]
    code = new_credit_code()
    cid = post(f"{penalty}/violations", {"credit_code": code, "item_code": "70-3", "found_on": days_ago(30), "harm": "none"})["id"]
    post(f"{penalty}/cases/{cid}/education", {"on": days_ago(30), "content": "讲解公告栏要求"})
    post(f"{penalty}/cases/{cid}/rectification-order", {"ordered_on": days_ago(29), "working_days": 3})
    swept = httpx.post(f"{penalty}/sweeps/escalation", timeout=10, headers=COUNTY).json()
    assert any(cid in line for line in swept["lines"])
    assert all(cid not in line for line in httpx.post(f"{penalty}/sweeps/escalation", timeout=10, headers=COUNTY).json()["lines"])
    case = httpx.get(f"{penalty}/cases/{cid}", headers=COUNTY).json()
    assert (case["status"], case["decision"], case["proposed_fine_range"]) == ("penalty_pending", "penalty", [10000, 30000])
    assert [s["step"] for s in case["timeline"]][-3:] == ["escalated", "decided", "penalty_proposed"]
    fined = post(f"{penalty}/cases/{cid}/fine", {"fine_yuan": 20000})
    assert (fined["status"], fined["fine_yuan"]) == ("closed", 20000)

    def ours(records):
        return [json.loads(r.value) for r in records if json.loads(r.value).get("case_id") == cid]

    decided = ours(asyncio.run(read_topic(kafka_bootstrap, topics.PENALTY_DECIDED, lambda rs: len(ours(rs)) >= 1)))
    assert [(d["decision"], d["major"], d["case_code"]) for d in decided] == [("penalty", False, case["case_code"])]
    steps = ours(asyncio.run(read_topic(kafka_bootstrap, topics.CASE_PROGRESSED, lambda rs: len(ours(rs)) >= 7)))
    assert [s["step"] for s in steps] == ["opened", "educated", "rectification_ordered", "escalated", "decided", "penalty_proposed", "closed"]
    assert steps[3]["actor"] == "system"  # the sweep


def test_a_major_violation_raises_the_employers_category_and_reaches_the_credit_feed(system, kafka_bootstrap: str) -> None:
    code = new_credit_code("141029")
    good = jia_report_for(code)
    httpx.post(f"{system['assessment']}/reports", json=good, timeout=10, headers=COUNTY).raise_for_status()
    eventually_get(f"{system['registry']}/enterprises/{code}", lambda r: r.status_code == 200 and r.json()["category"] == "甲", headers=COUNTY)

    case = post(f"{system['penalty']}/violations",
                {"credit_code": code, "item_code": "72-1", "found_on": days_ago(3), "harm": "serious", "major": True})
    assert (case["decision"], case["major"], case["status"]) == ("penalty", True, "penalty_pending")
    archive = eventually_get(f"{system['registry']}/enterprises/{code}", lambda r: r.json()["category"] == "乙", timeout=20, headers=COUNTY).json()
    assert archive["overrides"][-1]["case_ref"] == case["id"]

    def ours(records):
        return [json.loads(r.value) for r in records if r.key == code.encode() and json.loads(r.value)["type"] == "cn.gov.ohs.penalty.decided"]

    feed = ours(asyncio.run(read_topic(kafka_bootstrap, topics.CREDIT_EVENTS, lambda rs: len(ours(rs)) >= 1, timeout=30)))
    assert len(feed) == 1
    assert (feed[0]["data"]["case_id"], feed[0]["data"]["major"], feed[0]["data"]["case_code"]) == (case["id"], True, case["case_code"])
