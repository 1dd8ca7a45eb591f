"""False reports by technical service organisations (RULES §8), through penalty's HTTP API
(TestClient, no lifespan, SQLite migrated by the service's migrations): a county records a serious
finding and refers it; the province disqualifies the organisation, which is announced once on
ohs.orgs.disqualified for the assessment service and the credit feed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from services.penalty.bootstrap import bootstrap
from shared import topics
from shared.contracts import OrgDisqualified
from shared.dates import china_today
from shared.db import OutboxMessage
from shared.identifiers import credit_code_check_character
from tests.support import app_without_broker, auth


def code(serial: int, region: str = "141000") -> str:
    body = f"91{region}MA{serial:07d}"
    return body + credit_code_check_character(body)


ORG, OTHER_ORG, EMPLOYER_CODE = code(7001), code(7002), code(1, "141029")
TODAY = china_today()  # when the module is collected
IN_THE_FUTURE = TODAY + timedelta(days=2)  # still ahead if the suite passes midnight in China before the test runs


COUNTY, OTHER_COUNTY = auth("county", "141029", name="乡宁县 张三"), auth("county", "141024")
CITY, PROVINCE = auth("city", "141000", name="临汾市 李四"), auth("province", "140000", name="山西省 王五")
AUDITOR, EMPLOYER = auth("auditor", "141000"), auth("employer", EMPLOYER_CODE)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = app_without_broker(bootstrap, "penalty", tmp_path)
    runtime = app.state.runtime
    yield TestClient(app)  # not entered: no lifespan, no Kafka
    runtime.engine.dispose()


def finding(severity: str = "serious", **changes) -> dict:
    return {
        "org_name": "临汾示例职业卫生技术服务有限公司", "region_code": "141029", "employer_credit_code": EMPLOYER_CODE,
        "misstated": ["exposure", "headcount"], "description": "矽尘接触人数少报 18 人, 检测结果与原始记录不符",
        "severity": severity, "found_on": (TODAY - timedelta(days=3)).isoformat(), **changes,
    }


def decision(number: str = "晋卫监罚〔2026〕12号", **changes) -> dict:
    return {"decision_no": number, "decided_on": TODAY.isoformat(), **changes}


def announced(client: TestClient) -> list[OrgDisqualified]:
    with Session(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.topic == topics.ORGS_DISQUALIFIED))
        return [OrgDisqualified.model_validate(json.loads(row.payload)) for row in rows]


def test_a_county_refers_a_serious_finding_and_the_province_disqualifies_once(client: TestClient) -> None:
    minor = client.post(f"/orgs/{ORG}/findings", json=finding("minor"), headers=COUNTY)
    assert minor.status_code == 201, minor.text
    assert minor.json()["status"] == "recorded"
    serious = client.post(f"/orgs/{ORG}/findings", json=finding(), headers=COUNTY).json()
    assert serious["status"] == "referred" and serious["recorded_by"].startswith("乡宁县 张三")
    assert announced(client) == []  # a county does not disqualify

    county_tries = client.post(f"/orgs/{ORG}/disqualification", json={**decision(), "finding_ids": [serious["id"]]}, headers=COUNTY)
    assert county_tries.status_code == 403 and "取消资格由省级（资质审批机关）决定，县级不能决定" in county_tries.json()["detail"]
    english = client.post(f"/orgs/{ORG}/disqualification", json={**decision(), "finding_ids": [serious["id"]]},
                          headers={**COUNTY, "Accept-Language": "en"})
    assert english.status_code == 403 and "decided by the province" in english.json()["detail"] and "县 (county)" in english.json()["detail"]
    on_minor = client.post(f"/orgs/{ORG}/disqualification", json={**decision(), "finding_ids": [minor.json()["id"]]}, headers=PROVINCE)
    assert on_minor.status_code == 422 and on_minor.json()["errors"][0]["field"] == "finding_ids"

    body = {**decision(), "finding_ids": [serious["id"]]}
    decided = client.post(f"/orgs/{ORG}/disqualification", json=body, headers=PROVINCE)
    assert decided.status_code == 200, decided.text
    assert "矽尘接触人数少报" in decided.json()["reason"]  # the findings it rests on, in the published reason
    again = client.post(f"/orgs/{ORG}/disqualification", json=body, headers=PROVINCE)
    assert again.json()["id"] == decided.json()["id"]

    [event] = announced(client)
    assert (event.credit_code, event.decision_no, event.until) == (ORG, "晋卫监罚〔2026〕12号", None)
    assert str(event.event_id) == decided.json()["id"]

    record = client.get(f"/orgs/{ORG}", headers=CITY).json()
    assert record["disqualified"] is True
    assert [f["status"] for f in record["findings"]] == ["recorded", "disqualified"]
    assert client.get(f"/orgs/{ORG}", headers=OTHER_COUNTY).json()["findings"] == []  # findings of another county: not shown
    assert client.get(f"/orgs/{ORG}", headers=OTHER_COUNTY).json()["disqualified"] is True  # the decision binds everyone


def test_the_province_may_disqualify_with_the_finding(client: TestClient) -> None:
    made = client.post(f"/orgs/{ORG}/findings", json=finding(disqualification=decision(until=(TODAY + timedelta(days=365)).isoformat())),
                       headers=PROVINCE)
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "disqualified" and made.json()["disqualification"]["decision_no"] == "晋卫监罚〔2026〕12号"
    [event] = announced(client)
    assert event.until == TODAY + timedelta(days=365)


@pytest.mark.parametrize(
    ("body", "headers", "status", "field"),
    [
        (finding(disqualification=decision()), COUNTY, 403, None),  # only the province decides
        (finding("minor", disqualification=decision()), PROVINCE, 422, "disqualification"),
        (finding(disqualification=decision(decided_on=IN_THE_FUTURE.isoformat())), PROVINCE, 422, "decided_on"),
        (finding(disqualification=decision(until=TODAY.isoformat())), PROVINCE, 422, "until"),
        (finding(found_on=IN_THE_FUTURE.isoformat()), COUNTY, 422, "found_on"),
        (finding(misstated=[]), COUNTY, 422, "misstated"),
        (finding(severity="grave"), COUNTY, 422, "severity"),
        (finding(region_code="141024"), COUNTY, 403, None),
        (finding(), AUDITOR, 403, None),
        (finding(), EMPLOYER, 403, None),
    ],
)
def test_a_finding_that_cannot_stand_is_refused_and_nothing_is_announced(
    client: TestClient, body: dict, headers: dict, status: int, field: str | None
) -> None:
    response = client.post(f"/orgs/{ORG}/findings", json=body, headers=headers)
    assert response.status_code == status, response.text
    if field:
        assert field in json.dumps(response.json()["errors"])
    assert announced(client) == []
    assert client.get(f"/orgs/{ORG}", headers=PROVINCE).json()["findings"] == []


def test_a_decision_number_belongs_to_one_organisation(client: TestClient) -> None:
    first = client.post(f"/orgs/{ORG}/findings", json=finding(disqualification=decision()), headers=PROVINCE)
    assert first.status_code == 201
    other = client.post(f"/orgs/{OTHER_ORG}/findings", json=finding(), headers=COUNTY).json()
    reused = client.post(f"/orgs/{OTHER_ORG}/disqualification", json={**decision(), "finding_ids": [other["id"]]}, headers=PROVINCE)
    assert reused.status_code == 422 and reused.json()["errors"][0]["field"] == "decision_no"
    foreign = client.post(f"/orgs/{ORG}/disqualification", json={**decision("晋卫监罚〔2026〕13号"), "finding_ids": [other["id"]]},
                          headers=PROVINCE)
    assert foreign.status_code == 422 and "涉及另一机构" in foreign.json()["errors"][0]["message"]
    assert foreign.json()["errors"][0]["code"] == "penalty.error.org.findings_of_another"
    assert len(announced(client)) == 1
