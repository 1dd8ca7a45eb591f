"""Organisations' filings and rating as an attacker would try them (penalty's HTTP API, TestClient, SQLite).

An organisation cannot place an employer inside its region by naming a county (the archive's or the credit code's county
decides; the body's region only where neither names one); a token naming a wider region does not widen what the
province declared; another province can neither take over, re-rate nor read an organisation recorded in this one;
odd values (1900, 10⁹ examined, long texts, NUL, huge pages) are 422 naming the field and leave nothing behind;
GET and PUT /orgs/{credit_code} are one resource in the OpenAPI (its Allow header lists what the OpenAPI documents)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from services.penalty.adapters.orm import ArchivedEmployer
from services.penalty.adapters.orm_org_filings import Org, OrgFiling
from shared import topics
from shared.dates import china_today
from shared.db import OutboxMessage
from tests.support import auth
from tests.unit.penalty.organisations import code, org_auth as org_auth_of, penalty_client

TODAY = china_today()


LAB = code(8101)
LINFEN_EMPLOYER, TAIYUAN_EMPLOYER, ZHEJIANG_EMPLOYER, CITY_REGISTERED = code(1, "141029"), code(2, "140105"), code(3, "330106"), code(4, "141000")
SHANXI, ZHEJIANG = auth("province", "140000", name="山西省 王五"), auth("province", "330000", name="浙江省 赵六")


def org_auth(credit_code: str = LAB, region: str = "140000") -> dict[str, str]:
    return org_auth_of(credit_code, region)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from penalty_client(tmp_path)


def session(client: TestClient) -> Session:
    return Session(client.app.state.runtime.engine)  # type: ignore[attr-defined]


def filings(client: TestClient) -> list[OrgFiling]:
    with session(client) as s:
        return list(s.exec(select(OrgFiling)))


def report(credit_code: str = LINFEN_EMPLOYER, **changes: object) -> dict:
    return {"credit_code": credit_code, "report_no": f"R-{credit_code[-4:]}", "factor": "噪声", "post": "冲压工", "compliant": True,
            "result": "L_EX,8h 82 dB(A)", "tested_on": (TODAY - timedelta(days=3)).isoformat(), **changes}


def test_an_organisation_cannot_place_an_employer_in_its_region(client: TestClient) -> None:
    # a Zhejiang employer "in 141029": the credit code names its county, the body may not move it
    moved = client.post("/org/test-reports", json=report(ZHEJIANG_EMPLOYER, region_code="141029"), headers=org_auth())
    assert moved.status_code == 422, moved.text
    assert (moved.json()["code"], moved.json()["errors"][0]["field"]) == ("penalty.error.org.region_contradicts", "region_code")
    # an employer the archive has in Taiyuan (registered in 乡宁): the archive decides, the body's county is refused
    with session(client) as s:
        s.add(ArchivedEmployer(credit_code=LINFEN_EMPLOYER, region_code="140105", archive_version=1))
        s.commit()
    lab_in_linfen = org_auth(region="141000")
    assert client.post("/org/test-reports", json=report(region_code="141029"), headers=lab_in_linfen).status_code == 422
    outside = client.post("/org/test-reports", json=report(), headers=lab_in_linfen)
    assert outside.status_code == 403 and outside.json()["code"] == "penalty.error.org.outside_region"
    # the one case the body decides: a credit code registered by a city, not archived
    city = client.post("/org/test-reports", json=report(CITY_REGISTERED, region_code="141029"), headers=lab_in_linfen)
    assert city.status_code == 201 and city.json()["region_code"] == "141029"
    assert [f.employer_credit_code for f in filings(client)] == [CITY_REGISTERED]


def test_a_token_does_not_widen_the_region_the_province_declared(client: TestClient) -> None:
    declared = client.put(f"/orgs/{LAB}", json={"name": "山西示例检测有限公司", "kind": "technical_service", "region_code": "141000"},
                          headers=SHANXI)
    assert declared.status_code == 200, declared.text
    wide = org_auth(region="140000")  # a token issued for the whole province
    refused = client.post("/org/test-reports", json=report(TAIYUAN_EMPLOYER), headers=wide)
    assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "credit_code"
    assert client.post("/org/test-reports", json=report(), headers=wide).status_code == 201  # inside 临汾: fine
    assert client.get(f"/orgs/{LAB}/rating", headers=SHANXI).json()["region_code"] == "141000"  # the province's word stands


def test_another_province_neither_takes_over_nor_rates_nor_reads_an_organisation(client: TestClient) -> None:
    assert client.post("/org/test-reports", json=report(), headers=org_auth()).status_code == 201  # known from its filing, in 140000
    take_over = client.put(f"/orgs/{LAB}", json={"name": "冒名机构", "kind": "examination", "region_code": "330000"}, headers=ZHEJIANG)
    assert take_over.status_code == 404 and take_over.json()["code"] == "penalty.error.org.not_found"
    credit = client.put(f"/orgs/{LAB}/public-credit", json={"level": "D", "source": "x", "as_of": TODAY.isoformat()}, headers=ZHEJIANG)
    assert credit.status_code == 404
    assert client.get(f"/orgs/{LAB}/rating", headers=ZHEJIANG).status_code == 404
    for staff in (auth("city", "141000"), auth("county", "141029")):  # below the province: neither describes nor rates
        assert client.put(f"/orgs/{LAB}/public-credit", json={"level": "D", "source": "x", "as_of": TODAY.isoformat()},
                          headers=staff).status_code == 403
        assert client.put(f"/orgs/{LAB}", json={"name": "x", "kind": "examination", "region_code": "141000"}, headers=staff).status_code == 403
    with session(client) as s:
        org = s.get(Org, LAB)
        assert org is not None and (org.name, org.kind, org.region_code, org.public_credit_level) == (
            "山西示例检测有限公司", "technical_service", "140000", None)
        rated = s.exec(select(OutboxMessage).where(OutboxMessage.topic == topics.ORGS_RATED)).all()
        assert [json.loads(r.payload)["stars"] for r in rated] == [5]


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/org/test-reports", report(tested_on="1900-01-01"), "tested_on"),
    ("/org/test-reports", report(factor="矽" * 65), "factor"),
    ("/org/test-reports", report(result="x" * 201), "result"),
    ("/org/test-reports", report(post="冲压\x00工"), "post"),
    ("/org/test-reports", report(report_no="R 1"), "report_no"),
    ("/org/test-reports", report(compliant="yes"), "compliant"),
    ("/org/exam-summaries", {"credit_code": LINFEN_EMPLOYER, "summary_no": "S-1", "examined_on": TODAY.isoformat(), "examined": 10**9,
                             "abnormal": 0, "suspected_occupational_disease": 0}, "examined"),
    ("/org/exam-summaries", {"credit_code": LINFEN_EMPLOYER, "summary_no": "S-1", "examined_on": "2100-12-31", "examined": 10,
                             "abnormal": 0, "suspected_occupational_disease": 0}, "examined_on"),
])
def test_odd_values_are_422_naming_the_field(client: TestClient, path: str, body: dict, field: str) -> None:
    response = client.post(path, json=body, headers=org_auth())
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert filings(client) == []


def test_paging_is_bounded_and_the_org_resource_is_one_path(client: TestClient) -> None:
    for query in ("limit=0", "limit=1001", "offset=-1", "offset=10000000"):
        assert client.get(f"/org/filings?{query}", headers=org_auth()).status_code == 422, query
    assert client.get("/public/org-ratings?limit=201").status_code == 422
    assert client.get("/public/org-ratings?kind=laboratory").status_code == 422
    paths = client.get("/openapi.json").json()["paths"]
    assert {"get", "put"} <= set(paths["/orgs/{credit_code}"]) and not any("{org_id}" in p for p in paths)
