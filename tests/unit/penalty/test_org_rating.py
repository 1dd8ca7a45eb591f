"""Star rating of organisations (星级评定, issue 17 item 5): a rating moves when a finding is recorded.

The story, through penalty's HTTP API (TestClient, SQLite): a technical service organisation files a timely, complete
test report and is rated 5 stars (announced on ohs.orgs.rated); a county records a minor false-report finding
against it and it drops to 4 (announced again, previous 5); the province gives it public-credit level C: 3 stars;
the province disqualifies it on a serious finding: 0 stars. The public list shows it without a token; its trace
names the rule version; only the province and the organisation itself read the trace. The rule function itself
(pure) counts late and incomplete filings pro rata; the daily pass gives the stars back when a disqualification ends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from services.penalty.adapters.rules import load_org_rating_rules
from services.penalty.domain.org_rating import FilingFact, FindingFact, RatingInputs, rating
from services.penalty.service_layer import org_filings
from shared import topics
from shared.contracts import OrgRated
from shared.dates import china_today
from shared.db import OutboxMessage
from tests.support import auth
from tests.unit.penalty.organisations import code, org_auth, penalty_client

TODAY = china_today()


LAB, OTHER_LAB, EMPLOYER = code(9001), code(9002), code(1, "141029")
PROVINCE, COUNTY = auth("province", "140000", name="山西省 王五"), auth("county", "141029")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from penalty_client(tmp_path)


def announced(client: TestClient) -> list[OrgRated]:
    with Session(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.topic == topics.ORGS_RATED).order_by(OutboxMessage.id))
        return [OrgRated.model_validate(json.loads(row.payload)) for row in rows]


def finding(severity: str) -> dict:
    return {"org_name": "山西示例检测有限公司", "region_code": "141029", "employer_credit_code": EMPLOYER, "misstated": ["exposure"],
            "description": "检测结果与原始记录不符", "severity": severity, "found_on": (TODAY - timedelta(days=1)).isoformat()}


def test_a_rating_moves_when_a_finding_is_recorded(client: TestClient) -> None:
    filed = client.post("/org/test-reports", headers=org_auth(LAB), json={
        "credit_code": EMPLOYER, "report_no": "R-1", "factor": "噪声", "post": "冲压工", "compliant": True, "result": "L_EX,8h 82 dB(A)",
        "tested_on": (TODAY - timedelta(days=3)).isoformat()})
    assert filed.status_code == 201, filed.text
    assert [(e.stars, e.previous_stars) for e in announced(client)] == [(5, None)]

    assert client.post(f"/orgs/{LAB}/findings", json=finding("minor"), headers=COUNTY).status_code == 201
    [_, moved] = announced(client)
    assert (moved.credit_code, moved.org_kind, moved.stars, moved.previous_stars) == (LAB, "technical_service", 4, 5)
    assert moved.rule_set.version == "2026.1" and moved.rule_set.provisional
    assert [t.code for t in moved.trace] == ["penalty.rating.start_provisional", "penalty.rating.findings_minor", "penalty.rating.timeliness",
                                             "penalty.rating.completeness", "penalty.rating.band"]

    credit = client.put(f"/orgs/{LAB}/public-credit", json={"level": "C", "source": "信用中国（山西）", "as_of": TODAY.isoformat()},
                        headers=PROVINCE)
    assert credit.status_code == 200 and credit.json()["stars"] == 3, credit.text
    assert client.put(f"/orgs/{LAB}/public-credit", json={"level": "C", "source": "x", "as_of": TODAY.isoformat()},
                      headers=COUNTY).status_code == 403

    serious = client.post(f"/orgs/{LAB}/findings", json=finding("serious"), headers=PROVINCE).json()
    decided = client.post(f"/orgs/{LAB}/disqualification", headers=PROVINCE, json={
        "decision_no": "晋卫监罚〔2026〕99号", "decided_on": TODAY.isoformat(), "finding_ids": [serious["id"]]})
    assert decided.status_code == 200, decided.text
    assert [e.stars for e in announced(client)] == [5, 4, 3, 1, 0]  # the serious finding alone: 45 points, 1 star; then 0

    public = client.get("/public/org-ratings")  # no token
    assert public.status_code == 200 and [(i["org_id"], i["stars"], i["kind"]) for i in public.json()["items"]] == [(LAB, 0, "technical_service")]
    assert client.get("/public/org-ratings?limit=201").status_code == 422
    own = client.get(f"/orgs/{LAB}/rating", headers=org_auth(LAB) | {"Accept-Language": "en"})
    assert own.status_code == 200 and own.json()["trace"][-1]["code"] == "penalty.rating.disqualified"
    assert "晋卫监罚〔2026〕99号" in own.json()["trace"][-1]["detail"]
    assert client.get(f"/orgs/{LAB}/rating", headers=PROVINCE).status_code == 200
    assert client.get(f"/orgs/{LAB}/rating", headers=org_auth(OTHER_LAB)).status_code == 404  # another organisation's: as if none
    assert client.get(f"/orgs/{LAB}/rating", headers=COUNTY).status_code == 403
    assert client.get(f"/orgs/{LAB}", headers=org_auth(LAB)).status_code == 403  # the findings record is staff's


def test_the_province_declares_an_organisation_and_its_kind_must_fit_its_filings(client: TestClient) -> None:
    declared = client.put(f"/orgs/{OTHER_LAB}", json={"name": "临汾示例体检中心", "kind": "examination", "region_code": "141000"}, headers=PROVINCE)
    assert declared.status_code == 200 and declared.json()["stars"] == 5
    refused = client.post("/org/test-reports", headers=org_auth(OTHER_LAB), json={
        "credit_code": EMPLOYER, "report_no": "R-2", "factor": "噪声", "compliant": True, "tested_on": TODAY.isoformat()})
    assert refused.status_code == 409 and refused.json()["code"] == "penalty.error.org.wrong_kind"
    assert client.put(f"/orgs/{OTHER_LAB}", json={"name": "x", "kind": "examination", "region_code": "330000"},
                      headers=PROVINCE).status_code == 403  # another province's organisation
    county_level = client.put(f"/orgs/{OTHER_LAB}", json={"name": "x", "kind": "examination", "region_code": "141029"}, headers=PROVINCE)
    assert county_level.status_code == 422 and county_level.json()["errors"][0]["field"] == "region_code"


def test_rules_in_force_name_the_star_rating(client: TestClient) -> None:
    names = {r["name"]: r for r in client.get("/rules/in-force?region_code=141029", headers=COUNTY).json()["rule_sets"]}
    assert names["org_rating"]["version"] == "2026.1" and names["org_rating"]["provisional"] is True


def test_late_and_incomplete_filings_cost_points_pro_rata() -> None:
    rules = load_org_rating_rules().in_force("140000", date(2026, 6, 1))
    on_time = FilingFact("test_report", date(2026, 5, 1), date(2026, 5, 21), True)  # 20 days: in time
    late = FilingFact("exam_summary", date(2026, 4, 1), date(2026, 5, 2), False)  # 31 days: late, and (say) incomplete
    result = rating(RatingInputs("x", filings=[on_time, late], findings=[FindingFact("minor", date(2020, 1, 1))]), rules, date(2026, 6, 1))
    # 100 - 15 × 1/2 - 10 × 1/2 = 87.5 (the 2020 finding is older than 3 years): 4 stars
    assert (result.points, result.stars) == (87.5, 4)
    assert "findings_minor" not in " ".join(t.code or "" for t in result.trace)


def test_the_daily_pass_restores_stars_when_a_disqualification_ends(client: TestClient) -> None:
    serious = client.post(f"/orgs/{LAB}/findings", json=finding("serious"), headers=PROVINCE).json()
    until = TODAY + timedelta(days=10)
    decided = client.post(f"/orgs/{LAB}/disqualification", headers=PROVINCE, json={
        "decision_no": "晋卫监罚〔2026〕7号", "decided_on": TODAY.isoformat(), "until": until.isoformat(), "finding_ids": [serious["id"]]})
    assert decided.status_code == 200, decided.text
    assert client.put(f"/orgs/{LAB}", json={"name": "山西示例检测有限公司", "kind": "technical_service", "region_code": "140000"},
                      headers=PROVINCE).json()["stars"] == 0
    runtime, rules = client.app.state.runtime, client.app.state.rulebook.org_rating  # type: ignore[attr-defined]
    with runtime.uow() as uow:
        assert org_filings.rerate_all(uow, rules, TODAY) == 0  # nothing moved today
    with runtime.uow() as uow:
        assert org_filings.rerate_all(uow, rules, until + timedelta(days=1)) == 1  # the day after it ends: 70 points, 3 stars
    assert [(e.stars, e.previous_stars) for e in announced(client)][-1] == (3, 0)
