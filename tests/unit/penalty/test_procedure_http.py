"""The procedure through penalty's HTTP API (TestClient not entered: no Kafka; SQLite migrated by the
service's migrations): a supervisor takes a violation from inspection to closure, wrong steps are 409
naming the status, bad input 422 naming the field; the review, its .xlsx and the code report."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.penalty.bootstrap import bootstrap
from services.penalty.domain.case_codes import case_code_problem
from shared.dates import china_today
from tests.support import app_without_broker, auth, new_credit_code

COUNTY = auth("county", name="乡宁县 张三")
TODAY = china_today()


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("penalty-http")
    app = app_without_broker(bootstrap, "penalty", folder)
    yield TestClient(app)
    app.state.runtime.engine.dispose()


def violation(client: TestClient, **changes: object) -> dict:
    body = {"credit_code": new_credit_code("141029"), "item_code": "70-4", "found_on": ago(40), "harm": "none", **changes}
    response = client.post("/violations", json=body, headers=COUNTY)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_supervisor_takes_a_violation_from_inspection_to_closure(client: TestClient) -> None:
    case = violation(client)
    assert (case["status"], case["decision"], case["next"]) == ("open", None, ["education", "commitment (where 告知承诺 is enabled)"])
    assert case_code_problem(case["case_code"]) is None and case["case_code"].startswith(f"141029{TODAY.year}")
    cid = case["id"]
    educated = client.post(f"/cases/{cid}/education", json={"on": ago(40), "content": "讲解培训义务"}, headers=COUNTY)
    assert educated.status_code == 201, educated.text
    assert educated.json()["timeline"][-1]["by"] == "乡宁县 张三"
    ordered = client.post(f"/cases/{cid}/rectification-order", json={"ordered_on": ago(39)}, headers=COUNTY).json()
    assert ordered["status"] == "rectifying" and ordered["deadline"] > ago(39)
    verified = client.post(f"/cases/{cid}/verification", json={"verified_on": ago(30), "corrected": True, "corrected_on": ago(31)},
                           headers=COUNTY)
    assert verified.status_code == 201, verified.text
    final = client.get(f"/cases/{cid}", headers=COUNTY).json()
    assert (final["status"], final["decision"]) == ("closed", "no_penalty")
    assert [s["step"] for s in final["timeline"]] == ["opened", "educated", "rectification_ordered", "correction_verified", "decided", "closed"]
    assert final["timeline"][2]["deadline"] == final["deadline"]
    listed = client.get("/cases", params={"credit_code": case["credit_code"]}, headers=COUNTY).json()
    assert [c["id"] for c in listed["items"]] == [cid]


def test_a_step_out_of_order_is_409_naming_the_status_and_what_is_allowed(client: TestClient) -> None:
    cid = violation(client)["id"]
    response = client.post(f"/cases/{cid}/rectification-order", json={"ordered_on": ago(39)}, headers=COUNTY)
    assert response.status_code == 409
    assert response.json()["detail"] == "案件当前状态为已立案，不能进行责令限期改正；下一步可以：教育引导、告知承诺"
    assert response.json()["code"] == "penalty.error.step_not_allowed"
    english = client.post(f"/cases/{cid}/rectification-order", json={"ordered_on": ago(39)}, headers={**COUNTY, "Accept-Language": "en"})
    assert english.json()["detail"] == ("责令限期改正 (order to correct by a deadline) is not allowed: the case is 已立案 (opened); "
                                        "allowed next: 教育引导 (education and guidance), 告知承诺 (notice and commitment)")
    commitment = client.post(f"/cases/{cid}/commitment", json={"signed_on": ago(39)}, headers=COUNTY)
    assert commitment.status_code == 409 and "地区 141029 未启用告知承诺" in commitment.json()["detail"]


def test_a_penalty_case_needs_a_reason_for_a_fine_outside_the_baseline(client: TestClient) -> None:
    case = violation(client, item_code="72-1")
    assert (case["status"], case["decision"], case["proposed_fine_range"]) == ("penalty_pending", "penalty", [50000, 100000])
    refused = client.post(f"/cases/{case['id']}/fine", json={"fine_yuan": 120000}, headers=COUNTY)
    assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["departure_reason"]
    too_much = client.post(f"/cases/{case['id']}/fine", json={"fine_yuan": 250000, "departure_reason": "x"}, headers=COUNTY)
    assert [e["field"] for e in too_much.json()["errors"]] == ["fine_yuan"]
    other = client.post(f"/cases/{case['id']}/fine", json={"fine_yuan": 120000, "circumstance": "repeated"}, headers=COUNTY)
    assert other.status_code == 201, other.text
    assert (other.json()["status"], other.json()["fine_yuan"], other.json()["proposed_fine_range"]) == ("closed", 120000, [100000, 150000])
    again = client.post(f"/cases/{case['id']}/fine", json={"fine_yuan": 120000}, headers=COUNTY)
    assert again.status_code == 409 and again.json()["detail"] == "案件已结案，不能再进行罚款"


def test_bad_step_input_is_422_naming_the_field(client: TestClient) -> None:
    cid = violation(client)["id"]
    early = client.post(f"/cases/{cid}/education", json={"on": ago(41), "content": "x"}, headers=COUNTY)
    assert early.status_code == 422 and [e["field"] for e in early.json()["errors"]] == ["on"]
    assert early.json()["errors"][0]["code"] == "penalty.error.day_before_finding" and "早于发现违法行为之日" in early.json()["detail"]
    client.post(f"/cases/{cid}/education", json={"on": ago(40), "content": "x"}, headers=COUNTY).raise_for_status()
    client.post(f"/cases/{cid}/rectification-order", json={"ordered_on": ago(40), "working_days": 3}, headers=COUNTY).raise_for_status()
    missing = client.post(f"/cases/{cid}/verification", json={"verified_on": ago(20), "corrected": True}, headers=COUNTY)
    assert missing.status_code == 422 and "corrected_on" in missing.text


def test_the_sweep_endpoint_escalates_overdue_cases_of_the_jurisdiction_once(client: TestClient) -> None:
    cid = violation(client)["id"]
    client.post(f"/cases/{cid}/education", json={"on": ago(40), "content": "x"}, headers=COUNTY).raise_for_status()
    client.post(f"/cases/{cid}/rectification-order", json={"ordered_on": ago(40), "working_days": 3}, headers=COUNTY).raise_for_status()
    future = client.post("/sweeps/escalation", params={"today": (china_today() + timedelta(days=1)).isoformat()}, headers=COUNTY)
    assert future.status_code == 422
    outside = client.post("/sweeps/escalation", headers=auth("county", "141024"))
    assert outside.status_code == 200 and all(cid not in line for line in outside.json()["lines"])
    first = client.post("/sweeps/escalation", headers=COUNTY).json()
    assert any(cid in line for line in first["lines"])
    assert client.post("/sweeps/escalation", headers=COUNTY).json()["escalated"] == 0
    case = client.get(f"/cases/{cid}", headers=COUNTY).json()
    assert (case["status"], case["decision"]) == ("penalty_pending", "penalty")
    assert client.post("/sweeps/escalation", headers=auth("employer")).status_code == 403


def test_the_no_penalty_list_in_force_for_a_region_with_codes_and_procedure(client: TestClient) -> None:
    shanxi = client.get("/rules/no-penalty", params={"region_code": "141029", "on": "2024-06-01"}, headers=COUNTY).json()
    assert shanxi["item_codes"] == ["70-1", "70-2a", "70-2b", "70-2c", "70-3", "70-4", "71-5"]
    assert shanxi["procedure"]["notice_and_commitment"] is False
    zhejiang = client.get("/rules/no-penalty", params={"region_code": "330106", "on": "2024-06-01"}, headers=COUNTY).json()
    assert zhejiang["item_codes"][-2:] == ["71-4", "70-5"] and zhejiang["procedure"]["notice_and_commitment"] is True
    assert all(item["duty_provision"] for item in zhejiang["items"])


def test_the_review_and_the_code_report(client: TestClient) -> None:
    violation(client, corrected_on=ago(40))
    review = client.get("/reviews/cases", params={"region_code": "141029", "from": ago(45)}, headers=auth("auditor")).json()
    assert review["total"] >= 1 and all("timeline" in item and "flags" in item for item in review["items"])
    report = client.get("/reports/case-codes", headers=COUNTY).json()
    assert report["coverage"] == 1.0 and report["with_code"] == report["total"] >= 1
    xlsx = client.get("/reviews/cases.xlsx", headers=COUNTY)
    assert xlsx.status_code == 200 and "filename*=UTF-8''" in xlsx.headers["content-disposition"]
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["案卷", "时间线"]
    everything = client.get("/reviews/cases", headers=COUNTY).json()
    assert book["案卷"].max_row == everything["total"] + 1
    assert book["时间线"].max_row == sum(len(item["timeline"]) for item in everything["items"]) + 1
    codes = {row[0] for row in book["案卷"].iter_rows(min_row=2, values_only=True)}
    assert codes == {item["case_code"] for item in everything["items"]}


def test_the_report_of_another_region_is_not_found_and_employers_may_not_read_it(client: TestClient) -> None:
    assert client.get("/reports/case-codes", params={"region_code": "141024"}, headers=COUNTY).status_code == 404
    assert client.get("/reviews/cases", headers=auth("employer")).status_code == 403
