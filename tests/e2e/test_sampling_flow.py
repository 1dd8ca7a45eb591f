"""双随机、一公开 as a county and a third party see it: four service processes, a real broker, HTTP only.

安泽县 141026's new employers report and reach the pools; the county loads its inspector roster
(one inspector declares a conflict with one employer), creates a plan and draws; anyone reads the
publication without a token and verifies it (HTTP and the offline CLI), and a tampered copy
fails; an inspection result with a violation on a drawn task opens a penalty case.

The topics replay from offset 0 across tests and parametrisations, so the pool of 141026 may hold
employers of an earlier run too: the plan draws everyone (ratios 1), and the test looks only at
its own employers."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from services.sampling import verify as verify_cli
from tests.support import auth, days_ago, eventually_get, new_credit_code, report_for

pytestmark = pytest.mark.e2e

REGION = "141026"
COUNTY = auth("county", REGION, name="安泽县 王五")


def pool_codes(response: httpx.Response) -> set[str]:
    return {m["credit_code"] for members in response.json()["members"].values() for m in members}


def test_a_county_draws_publishes_a_third_party_verifies_and_a_violation_opens_a_case(system, tmp_path: Path) -> None:
    codes = [new_credit_code(REGION) for _ in range(4)]
    for code in codes:
        httpx.post(f"{system['assessment']}/reports", json=report_for(code, REGION), timeout=10, headers=COUNTY).raise_for_status()
    eventually_get(f"{system['sampling']}/pools/{REGION}", lambda r: r.status_code == 200 and set(codes) <= pool_codes(r), timeout=30, headers=COUNTY)

    roster = {"inspectors": [{"id": f"az-{k}", "name": f"安泽县检查员{k}",
                              "conflicts": [{"credit_code": codes[0], "reason": "近亲属任职"}] if k == 1 else []} for k in range(1, 5)]}
    assert httpx.put(f"{system['sampling']}/inspectors/{REGION}", json=roster, headers=COUNTY, timeout=10).status_code == 200

    created = httpx.post(f"{system['sampling']}/plans", headers=COUNTY, timeout=10,
                         json={"region_code": REGION, "period": "2026", "ratios": {"甲": 1, "乙": 1, "丙": 1}})
    assert created.status_code == 201, created.text
    plan = created.json()
    before = httpx.get(f"{system['sampling']}/plans/{plan['id']}/publication", timeout=10)  # no token: 一公开
    assert before.status_code == 200 and before.json()["draw"] is None and before.json()["commitment"] == plan["commitment"]

    drawn = httpx.post(f"{system['sampling']}/plans/{plan['id']}/draw", headers=COUNTY, timeout=10)
    assert drawn.status_code == 201, drawn.text
    targets = {t["credit_code"]: t for t in drawn.json()["targets"]}
    assert set(codes) <= set(targets), "ratios 1: everyone is drawn"
    assert "az-1" not in {i["id"] for i in targets[codes[0]]["inspectors"]}, "回避: the conflicted inspector is not assigned"
    assert all(len(t["inspectors"]) == 2 for t in targets.values())
    assert httpx.post(f"{system['sampling']}/plans/{plan['id']}/draw", headers=COUNTY, timeout=10).json()["draw_id"] == drawn.json()["draw_id"]

    # a third party with only the published file
    publication = httpx.get(f"{system['sampling']}/plans/{plan['id']}/publication", timeout=10).json()
    assert publication["draw"]["seed"] and publication["draw"]["pool_hash"] == drawn.json()["pool_hash"]
    assert httpx.post(f"{system['sampling']}/verify", json=publication, timeout=10).json() == {"match": True}
    published = tmp_path / "publication.json"
    published.write_text(json.dumps(publication, ensure_ascii=False), encoding="utf-8")
    assert verify_cli.main([str(published)]) == 0
    tampered = json.loads(json.dumps(publication))
    tampered["draw"]["targets"][0]["inspectors"].reverse()
    outcome = httpx.post(f"{system['sampling']}/verify", json=tampered, timeout=10).json()
    assert outcome["match"] is False and "inspectors" in outcome["reason"]
    xlsx = httpx.get(f"{system['sampling']}/plans/{plan['id']}/publication.xlsx", timeout=10)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"

    # an inspection finds a violation: the penalty service opens a case for it
    task = targets[codes[1]]
    result = {"outcome": "violations", "inspected_on": days_ago(1),
              "violations": [{"item_code": "70-4", "harm": "none", "description": "未在醒目位置公布检测结果",
                              "rectification_deadline": days_ago(-14)}]}
    recorded = httpx.post(f"{system['sampling']}/tasks/{task['task_id']}/result", json=result, headers=COUNTY, timeout=10)
    assert recorded.status_code == 201, recorded.text
    [case_id] = recorded.json()["case_ids"]
    cases = eventually_get(f"{system['penalty']}/cases?credit_code={codes[1]}",
                 lambda r: r.status_code == 200 and any(c["item_code"] == "70-4" for c in r.json()["items"]), timeout=30, headers=COUNTY)
    assert case_id in {c["id"] for c in cases.json()["items"]}, "the case id the sampling service gave"
    again = httpx.post(f"{system['sampling']}/tasks/{task['task_id']}/result", json=result, headers=COUNTY, timeout=10)
    assert again.status_code == 200 and again.json()["case_ids"] == [case_id]

    statistics = httpx.get(f"{system['sampling']}/plans/{plan['id']}/statistics", headers=COUNTY, timeout=10).json()
    assert statistics["total"]["with_violations"] == 1 and statistics["by_county"][REGION]["drawn"] == len(targets)
