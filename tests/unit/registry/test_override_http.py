"""Overrides and 免检 through the registry's HTTP API (FastAPI TestClient, no lifespan, SQLite):
who may do what, the answers, and what GET /enterprises/{credit_code} then shows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from services.registry.bootstrap import bootstrap
from services.registry.domain.exemptions import china_today
from services.registry.service_layer.handlers import archive_classification
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.auth import issue_token
from shared.db import OutboxMessage
from shared.identifiers import credit_code_check_character
from shared.migrations import upgrade
from shared.settings import settings_for
from tests.unit.registry.test_override_handlers import classified

uow_of = RegistryUnitOfWork.joining  # the registry's use cases in a session the test owns and commits

SECRET = "test-secret-for-the-override-tests"
REPORTED = "91141029MA0GRT8U3L"  # 乡宁县, archived from a report (乙)


def code(serial: int, region: str = "141029") -> str:
    body = f"91{region}MA{serial:07d}"
    return body + credit_code_check_character(body)


NO_REPORT = code(1)  # 乡宁县, no report yet


def header(role: str, scope: str, name: str = "张三") -> dict[str, str]:
    where = {"credit_code": scope} if role == "employer" else {"region_code": scope}
    return {"Authorization": f"Bearer {issue_token(SECRET, role, name, subject=f'u-{role}', **where)}"}  # type: ignore[arg-type]


COUNTY, CITY, PROVINCE = header("county", "141029", "乡宁县 张三"), header("city", "141000", "临汾市 李四"), header("province", "140000")
OTHER_COUNTY, AUDITOR, EMPLOYER = header("county", "141024"), header("auditor", "141000"), header("employer", REPORTED)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = bootstrap(settings_for("registry", data_dir=tmp_path, auth_secret=SECRET), create_topics=False)
    runtime = app.state.runtime
    upgrade("registry", runtime.engine)

    async def no_broker() -> int:
        return 0

    runtime.relay.flush = no_broker
    with Session(runtime.engine) as session:
        archive_classification(uow_of(session), classified("乙", date(2026, 6, 1), code=REPORTED))
        session.commit()
    yield TestClient(app)  # not entered: no lifespan, no Kafka
    runtime.engine.dispose()


def outbox(client: TestClient, topic: str) -> list[str]:
    with Session(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        return [m.payload for m in session.exec(select(OutboxMessage).where(OutboxMessage.topic == topic))]


def archive(client: TestClient, credit_code: str = REPORTED) -> dict[str, Any]:
    response = client.get(f"/enterprises/{credit_code}", headers=COUNTY)
    assert response.status_code == 200, response.text
    return response.json()


INDUSTRY = {"name": "乡宁县某煤业有限公司", "region_code": "141029", "industry_codes": ["B0610", "C1391"], "employees": 120,
            "reason": "逾期未提交综合风险评估报告"}


# --------------------------------------------------------------------------- upgrade


def test_a_county_upgrades_and_the_archive_explains_it(client: TestClient) -> None:
    response = client.post(f"/enterprises/{REPORTED}/upgrade", json={"reason": "瞒报接触人数", "steps": 1, "case_ref": "乡卫罚〔2026〕7号"}, headers=COUNTY)
    assert response.status_code == 201, response.text
    assert (response.json()["category"], response.json()["entry"]["actor"]) == ("丙", "乡宁县 张三 (county 141029, u-county)")
    body = archive(client)
    assert (body["category"], body["effective_category"], body["report_category"], body["source"]) == ("丙", "丙", "乙", "report")
    [override] = body["overrides"]
    assert {k: override[k] for k in ("kind", "before", "after", "reason", "case_ref", "active")} == {
        "kind": "enforcement_upgrade", "before": "乙", "after": "丙", "reason": "瞒报接触人数", "case_ref": "乡卫罚〔2026〕7号", "active": True}
    assert override["at"] and override["actor"].startswith("乡宁县 张三")
    assert body["dispute"] == {"status": None, "label": "无异议", "submission_id": None, "history": []}
    assert len(outbox(client, "ohs.registry.classification-changed")) == 2
    listed = client.get("/enterprises", params={"category": "丙"}, headers=COUNTY).json()
    assert [i["credit_code"] for i in listed["items"]] == [REPORTED], "the listing filters by the effective category"


@pytest.mark.parametrize(("headers", "status"), [(AUDITOR, 403), (EMPLOYER, 403), (OTHER_COUNTY, 404), (CITY, 201), (PROVINCE, 201)])
def test_who_may_upgrade(client: TestClient, headers: dict[str, str], status: int) -> None:
    response = client.post(f"/enterprises/{REPORTED}/upgrade", json={"reason": "r"}, headers=headers)
    assert response.status_code == status, response.text
    if status == 404:
        assert response.json()["code"] == "errors.archive.not_found" and REPORTED in response.json()["detail"]


@pytest.mark.parametrize("body", [{"reason": "r", "steps": 3}, {"reason": "r", "steps": 0}, {"reason": ""}, {"steps": 1}])
def test_an_upgrade_needs_a_reason_and_one_or_two_steps(client: TestClient, body: dict[str, Any]) -> None:
    assert client.post(f"/enterprises/{REPORTED}/upgrade", json=body, headers=COUNTY).status_code == 422


def test_no_archive_is_404(client: TestClient) -> None:
    assert client.post(f"/enterprises/{NO_REPORT}/upgrade", json={"reason": "r"}, headers=COUNTY).status_code == 404
    assert client.post("/enterprises/91141029MA0GRT8U3X/upgrade", json={"reason": "r"}, headers=COUNTY).status_code == 422


# --------------------------------------------------------------------------- industry default


def test_an_employer_without_a_report_is_archived_by_industry(client: TestClient) -> None:
    response = client.post(f"/enterprises/{NO_REPORT}/industry-classification", json=INDUSTRY, headers=COUNTY)
    assert response.status_code == 201, response.text
    assert (response.json()["category"], response.json()["source"]) == ("丙", "industry")
    body = archive(client, NO_REPORT)
    assert (body["category"], body["report_category"], body["source"], body["history"]) == ("丙", None, "industry", [])
    assert [m["entry"] for m in body["overrides"][0]["details"]["matches"]] == ["B06", "C13"]
    assert any("B0610 → B06 煤炭开采和洗选业：严重" in t["detail"] for t in body["trace"])
    assert body["rule_set"]["jurisdiction"] == "CN"
    again = client.post(f"/enterprises/{NO_REPORT}/industry-classification", json={**INDUSTRY, "industry_codes": ["C1391"]}, headers=COUNTY)
    assert again.status_code == 201 and again.json()["category"] == "乙", "a corrected industry replaces the default"


def test_an_archive_with_a_report_refuses_an_industry_default(client: TestClient) -> None:
    response = client.post(f"/enterprises/{REPORTED}/industry-classification", json=INDUSTRY, headers=COUNTY)
    assert response.status_code == 409 and response.json()["code"] == "errors.archive.classified_from_report"
    assert "评估报告" in response.json()["detail"] and "行业默认类别" in response.json()["detail"]


def test_an_industry_default_needs_a_known_industry_and_staff_of_the_region(client: TestClient) -> None:
    unknown = client.post(f"/enterprises/{NO_REPORT}/industry-classification", json={**INDUSTRY, "industry_codes": ["F5111"]}, headers=COUNTY)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "industry_codes"
    bad = client.post(f"/enterprises/{NO_REPORT}/industry-classification", json={**INDUSTRY, "industry_codes": ["c13"]}, headers=COUNTY)
    assert bad.status_code == 422
    elsewhere = client.post(f"/enterprises/{code(2, '141024')}/industry-classification", json={**INDUSTRY, "region_code": "141024"}, headers=COUNTY)
    assert elsewhere.status_code == 403 and "141024" in elsewhere.json()["detail"]
    assert client.post(f"/enterprises/{NO_REPORT}/industry-classification", json=INDUSTRY, headers=AUDITOR).status_code == 403


# --------------------------------------------------------------------------- dispute


def test_dispute_verification_and_resubmission_requested(client: TestClient) -> None:
    assert client.post(f"/enterprises/{REPORTED}/verification", json={"finding": "x", "resubmission_requested": True}, headers=COUNTY).status_code == 409
    disputed = client.post(f"/enterprises/{REPORTED}/dispute", json={"reason": "检测报告编号不存在"}, headers=COUNTY)
    assert disputed.status_code == 201 and disputed.json()["dispute"]["status"] == "disputed"
    assert client.post(f"/enterprises/{REPORTED}/dispute", json={"reason": "again"}, headers=COUNTY).status_code == 409
    verified = client.post(f"/enterprises/{REPORTED}/verification", json={"finding": "现场核实: 报告不实", "resubmission_requested": True},
                           headers=CITY)
    assert verified.status_code == 201 and verified.json()["dispute"]["label"] == "已要求重新提交"
    body = archive(client)
    assert body["dispute"]["status"] == "resubmission_requested" and body["dispute"]["label"] == "已要求重新提交"
    assert [(h["kind"], h["actor"].split(" (")[0]) for h in body["dispute"]["history"]] == [("dispute", "乡宁县 张三"), ("verification", "临汾市 李四")]
    assert body["category"] == "乙"
    english = client.get(f"/enterprises/{REPORTED}", headers={**COUNTY, "Accept-Language": "en"}).json()
    assert english["dispute"]["label"] == "resubmission requested" and english["effective_trace"] != body["effective_trace"]
    assert client.post(f"/enterprises/{REPORTED}/dispute", json={"reason": "r"}, headers=EMPLOYER).status_code == 403


# --------------------------------------------------------------------------- 免检


def test_grant_list_and_revoke_an_exemption(client: TestClient) -> None:
    today = china_today()
    body = {"valid_from": today.isoformat(), "valid_until": (today + timedelta(days=90)).isoformat(), "reason": "信用 A 级",
            "basis": "晋卫信〔2026〕3号"}
    granted = client.post(f"/enterprises/{REPORTED}/exemptions", json=body, headers=COUNTY)
    assert granted.status_code == 201, granted.text
    exemption = granted.json()
    assert exemption["status"] == "in_force" and exemption["granted_by"].startswith("乡宁县 张三")
    assert client.post(f"/enterprises/{REPORTED}/exemptions", json=body, headers=COUNTY).status_code == 409
    assert archive(client)["exempt"] is True
    listed = client.get(f"/enterprises/{REPORTED}/exemptions", headers=EMPLOYER)
    assert listed.status_code == 200 and [e["id"] for e in listed.json()["items"]] == [exemption["id"]]
    assert client.get(f"/enterprises/{REPORTED}/exemptions", headers=OTHER_COUNTY).status_code == 404

    revoked = client.post(f"/enterprises/{REPORTED}/exemptions/{exemption['id']}/revoke", json={"reason": "发现违法行为"}, headers=CITY)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked" and revoked.json()["end_reason"] == "发现违法行为"
    again = client.delete(f"/enterprises/{REPORTED}/exemptions/{exemption['id']}", params={"reason": "x"}, headers=COUNTY)
    assert again.status_code == 409
    assert [p.count('"exempt":true') for p in outbox(client, "ohs.registry.exemption-changed")] == [1, 0]
    assert archive(client)["exempt"] is False


def test_delete_revokes_too(client: TestClient) -> None:
    later = china_today() + timedelta(days=10)
    body = {"valid_from": later.isoformat(), "valid_until": (later + timedelta(days=30)).isoformat(), "reason": "r", "basis": "b"}
    exemption = client.post(f"/enterprises/{REPORTED}/exemptions", json=body, headers=PROVINCE).json()
    assert exemption["status"] == "granted"
    assert client.delete(f"/enterprises/{REPORTED}/exemptions/{exemption['id']}", headers=COUNTY).status_code == 422, "a reason is needed"
    deleted = client.delete(f"/enterprises/{REPORTED}/exemptions/{exemption['id']}", params={"reason": "撤回"}, headers=COUNTY)
    assert deleted.status_code == 200 and deleted.json()["status"] == "revoked"
    assert outbox(client, "ohs.registry.exemption-changed") == [], "never in force: nothing announced"
    assert client.delete(f"/enterprises/{REPORTED}/exemptions/no-such-id", params={"reason": "x"}, headers=COUNTY).status_code == 404


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        (AUDITOR, {}, 403),
        (EMPLOYER, {}, 403),
        (OTHER_COUNTY, {}, 404),
        (COUNTY, {"valid_until": "2020-01-31", "valid_from": "2020-01-01"}, 422),  # past
        (COUNTY, {"valid_from": "2099-02-01", "valid_until": "2099-01-01"}, 422),  # the wrong way round
    ],
)
def test_who_may_grant_and_which_periods(client: TestClient, headers: dict[str, str], body: dict[str, str], status: int) -> None:
    full = {"valid_from": "2099-01-01", "valid_until": "2099-12-31", "reason": "r", "basis": "b", **body}
    assert client.post(f"/enterprises/{REPORTED}/exemptions", json=full, headers=headers).status_code == status


def test_an_industry_default_does_not_move_an_archived_employer(client: TestClient) -> None:
    """The city covers both counties, yet an industry classification naming another county does not
    move an employer already archived: that is a transfer the receiving county accepts (RULES §5a)."""
    employer = code(7, "141029")
    assert client.post(f"/enterprises/{employer}/industry-classification", json=INDUSTRY, headers=COUNTY).status_code == 201
    moved = client.post(f"/enterprises/{employer}/industry-classification", json={**INDUSTRY, "region_code": "141024"}, headers=CITY)
    assert moved.status_code == 409 and moved.json()["code"] == "errors.archive.other_region" and "迁移" in moved.json()["detail"]
    assert archive(client, employer)["region_code"] == "141029"
