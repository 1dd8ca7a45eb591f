"""Organisations' filings (issue 17 item 4), through penalty's HTTP API (TestClient, no lifespan, SQLite migrated by
the service's migrations): a technical service organisation files a test report for an employer of its region with
its own token — its org_id is the token's credit code, never the body's — the same report again is the filing made,
other content under the same number is 409; an examination institution files a summary; each kind files only its
own, outside its region is 403, bad input 422 naming the field; each filing is announced once on its topic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from shared import topics
from shared.contracts import ExamSummaryFiled
from shared.contracts import TestReportFiled as ReportFiled  # (a Test… name would look like a test class to pytest)
from shared.dates import china_today
from shared.db import OutboxMessage
from tests.support import auth
from tests.unit.penalty.organisations import code, org_auth, penalty_client


LAB, CLINIC, EMPLOYER, FAR_EMPLOYER = code(8001), code(8002), code(1, "141029"), code(2, "330106")
TODAY = china_today()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from penalty_client(tmp_path)


def outbox(client: TestClient, topic: str) -> list[dict]:
    with Session(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        return [json.loads(row.payload) for row in session.exec(select(OutboxMessage).where(OutboxMessage.topic == topic))]


def report(**changes) -> dict:
    return {"credit_code": EMPLOYER, "report_no": "晋检字2026-031", "factor": "矽尘", "post": "破碎工", "compliant": False,
            "result": "C-TWA 1.8 mg/m³", "tested_on": (TODAY - timedelta(days=5)).isoformat(), **changes}


def summary(**changes) -> dict:
    return {"credit_code": EMPLOYER, "summary_no": "TJ-2026-9", "examined_on": (TODAY - timedelta(days=3)).isoformat(),
            "examined": 40, "abnormal": 3, "suspected_occupational_disease": 1, **changes}


def test_an_organisation_files_a_test_report_once_and_it_is_announced(client: TestClient) -> None:
    first = client.post("/org/test-reports", json=report(), headers=org_auth(LAB))
    assert first.status_code == 201, first.text
    assert first.json()["org_id"] == LAB and first.json()["region_code"] == "141029" and first.json()["complete"] is True
    again = client.post("/org/test-reports", json=report(), headers=org_auth(LAB))
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    changed = client.post("/org/test-reports", json=report(compliant=True), headers=org_auth(LAB))
    assert changed.status_code == 409 and changed.json()["errors"][0]["field"] == "report_no"
    [event] = [ReportFiled.model_validate(p) for p in outbox(client, topics.ORGS_TEST_REPORTS)]
    assert (event.org_id, event.credit_code, event.report_no, event.compliant, event.filed_on) == (LAB, EMPLOYER, "晋检字2026-031", False, TODAY)
    # the org_id is the token's: a body naming another organisation is refused as an unknown field
    assert client.post("/org/test-reports", json=report(org_id=CLINIC), headers=org_auth(LAB)).status_code == 422
    own = client.get("/org/filings", headers=org_auth(LAB)).json()
    assert own["total"] == 1 and own["items"][0]["number"] == "晋检字2026-031"
    assert client.get("/org/filings", headers=org_auth(CLINIC)).json()["total"] == 0  # another organisation sees none of it


def test_each_kind_files_its_own_inside_its_region(client: TestClient) -> None:
    filed = client.post("/org/exam-summaries", json=summary(), headers=org_auth(CLINIC, name="临汾示例体检中心"))
    assert filed.status_code == 201, filed.text
    [event] = [ExamSummaryFiled.model_validate(p) for p in outbox(client, topics.ORGS_EXAM_SUMMARIES)]
    assert (event.org_id, event.examined, event.abnormal, event.suspected_occupational_disease) == (CLINIC, 40, 3, 1)
    wrong_kind = client.post("/org/test-reports", json=report(), headers=org_auth(CLINIC) | {"Accept-Language": "en"})
    assert wrong_kind.status_code == 409 and "examination institution" in wrong_kind.json()["detail"]
    outside = client.post("/org/test-reports", json=report(credit_code=FAR_EMPLOYER), headers=org_auth(LAB))
    assert outside.status_code == 403 and outside.json()["code"] == "penalty.error.org.outside_region"
    city_lab = client.post("/org/test-reports", json=report(report_no="X-1"), headers=org_auth(code(8003), region="141000"))
    assert city_lab.status_code == 201  # a city-accredited organisation files for the city's counties


@pytest.mark.parametrize(("body", "field"), [
    (summary(abnormal=41), "abnormal"), (summary(suspected_occupational_disease=4), "suspected_occupational_disease"),
    (summary(abnormal=41, suspected_occupational_disease=42), "suspected_occupational_disease"),
    (summary(examined_on=(TODAY + timedelta(days=2)).isoformat()), "examined_on"), (summary(examined=0), "examined"),
    (summary(summary_no="x" * 65), "summary_no"), (summary(credit_code="91141029MA0000000X"), "credit_code"),
])
def test_bad_summaries_are_422_naming_the_field(client: TestClient, body: dict, field: str) -> None:
    response = client.post("/org/exam-summaries", json=body, headers=org_auth(CLINIC))
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert outbox(client, topics.ORGS_EXAM_SUMMARIES) == []


def test_only_an_organisation_files(client: TestClient) -> None:
    for headers in (auth("county"), auth("province"), auth("employer", EMPLOYER)):
        assert client.post("/org/test-reports", json=report(), headers=headers).status_code == 403
        assert client.get("/org/filings", headers=headers).status_code == 403
    assert client.post("/org/test-reports", json=report()).status_code == 401
