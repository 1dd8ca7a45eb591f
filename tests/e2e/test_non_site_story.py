"""Non-site supervision (非现场执法) as 杭州市西湖区 330106 lives it: the six services as processes, a real broker,
the repository's scripted gateway (deploy/demo/gateway.py), HTTP only.

Three employers report. One of them (CLEAN) has a month of online monitoring behind it: its gateway back-fills
thirty days of readings, all within the limits. Then the gateway streams live readings for all three on the Kafka
topic, and one employer's dust device (SPIKED) reads above its peak for a few seconds:
- exactly one exceedance episode, with its evidence, for that device;
- a verification task (核查处置) for the county, not drawn, with its reason, a deadline and two inspectors;
- its result with a violation opens a penalty case.
Next quarter's plan treats CLEAN as 浙江's rule data says (drawn, inspected non-site) and says why. SPIKED
(an exceedance) and FRESH (monitored for minutes, not for the rule's thirty days) are inspected on site. An
organisation files a test report and is rated; a finding moves its rating; both ratings are on the credit feed.

The monitoring limits are the packaged ones with three 8-hour shifts (an agency file in $OHS_RULES_DIR), so every
hour of the day lies in a shift and the test does not depend on when CI runs."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from shared import topics
from shared.auth import issue_token
from shared.dates import CHINA, china_today
from tests.conftest import REPO
from tests.e2e.conftest import SERVICES, Mailbox, running_services
from tests.support import TEST_AUTH_SECRET, auth, days_ago, eventually_get, new_credit_code, read_topic, report_for, token_for

pytestmark = pytest.mark.e2e

REGION = "330106"  # 杭州市西湖区: the packaged 浙江 sampling defaults carry the non-site rule
COUNTY = auth("county", REGION, name="西湖区 李四")
PROVINCE_TOKEN = token_for("province", "330000", name="浙江省 网关")
NEIGHBOUR = auth("county", "330108", name="滨江区 赵六")

spec = importlib.util.spec_from_file_location("demo_gateway", REPO / "deploy/demo/gateway.py")
gateway = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
spec.loader.exec_module(gateway)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def zhejiang(kafka_bootstrap: str, mailbox: Mailbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    rules = tmp_path_factory.mktemp("rules")
    limits = json.loads((REPO / "services/monitoring/rules/limits-national-2019.json").read_text(encoding="utf-8"))
    limits.update(jurisdiction="330000", version="e2e.1", effective_from="2000-01-01",
                  shifts=[{"start": "00:00", "hours": 8}, {"start": "08:00", "hours": 8}, {"start": "16:00", "hours": 8}])
    (rules / "monitoring").mkdir()
    (rules / "monitoring" / "limits-e2e.json").write_text(json.dumps(limits, ensure_ascii=False), encoding="utf-8")
    with running_services(SERVICES, kafka_bootstrap, mailbox, extra_env={"OHS_RULES_DIR": str(rules)}) as (urls, _, _):
        yield urls


def next_quarter() -> str:
    today = china_today()
    quarter = (today.month - 1) // 3 + 1
    return f"{today.year + 1}Q1" if quarter == 4 else f"{today.year}Q{quarter + 1}"


def device_ids(employer: str) -> dict[str, str]:
    return {name: f"{employer[-8:]}-{name}" for name, *_ in gateway.DEVICES}


def back_fill(system: dict[str, str], employer: str, days: int) -> None:
    """What a gateway sends when it catches up: ``days`` of readings every 10 minutes, within the limits."""
    province = {"Authorization": f"Bearer {PROVINCE_TOKEN}"}
    for name, factor, unit, post, base, _ in gateway.DEVICES:
        registered = httpx.post(f"{system['monitoring']}/devices", headers=province, timeout=10,
                                json={"device_id": device_ids(employer)[name], "credit_code": employer, "factor": factor, "post": post, "unit": unit})
        assert registered.status_code == 201, registered.text
    start = datetime.now(CHINA).replace(second=0, microsecond=0) - timedelta(days=days)
    instants = [start + timedelta(minutes=10 * k) for k in range(days * 144)]
    readings = [{"device_id": device_ids(employer)[name], "at": at.isoformat(), "value": base + (k % 7) * 0.01}
                for name, _, _, _, base, _ in gateway.DEVICES for k, at in enumerate(instants)]
    for first in range(0, len(readings), 5_000):
        answer = httpx.post(f"{system['monitoring']}/readings:batch", json={"readings": readings[first:first + 5_000]}, headers=province, timeout=120)
        assert answer.status_code == 200 and answer.json()["refused"] == 0, answer.text[:2000]


def test_a_gateway_stream_triggers_a_verification_and_next_quarters_plan_weighs_the_monitoring(zhejiang: dict[str, str], kafka_bootstrap: str) -> None:
    system = zhejiang
    SPIKED, CLEAN, FRESH = (new_credit_code(REGION) for _ in range(3))
    for employer in (SPIKED, CLEAN, FRESH):
        httpx.post(f"{system['assessment']}/reports", json=report_for(employer, REGION), headers=COUNTY, timeout=10).raise_for_status()
    for employer in (SPIKED, CLEAN, FRESH):  # the monitoring service learns each employer's county from the registry
        eventually_get(f"{system['monitoring']}/devices?credit_code={employer}", lambda r: r.status_code == 200, timeout=60, headers=COUNTY)
    roster = {"inspectors": [{"id": f"xh-{k}", "name": f"西湖区检查员{k}"} for k in range(1, 5)]}
    assert httpx.put(f"{system['sampling']}/inspectors/{REGION}", json=roster, headers=COUNTY, timeout=10).status_code == 200

    back_fill(system, CLEAN, days=30)
    gateway_run = subprocess.run(
        [sys.executable, "deploy/demo/gateway.py", "--via", "kafka", "--bootstrap", kafka_bootstrap, "--url", system["monitoring"],
         "--token", PROVINCE_TOKEN, "--employer", SPIKED, "--employer", CLEAN, "--employer", FRESH,
         "--rate", "30", "--seconds", "12", "--spike-after", "4", "--spike-seconds", "3"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert gateway_run.returncode == 0, gateway_run.stdout[-2000:] + gateway_run.stderr[-2000:]
    assert "SPIKE" in gateway_run.stdout

    # one episode for the spike (not one per reading above the peak), with the readings that prove it
    dust = device_ids(SPIKED)["dust"]
    episodes = eventually_get(f"{system['monitoring']}/exceedances?credit_code={SPIKED}",
                              lambda r: r.status_code == 200 and any(e["device_id"] == dust and e["measure"] == "peak" for e in r.json()["items"]),
                              timeout=60, headers=COUNTY).json()["items"]
    [peak] = [e for e in episodes if e["device_id"] == dust and e["measure"] == "peak"]
    assert peak["limit"] == 2.0 and peak["observed"] >= 3.0 and peak["factor"] == "矽尘"
    assert peak["evidence"] and all(reading["value"] > 2.0 for reading in peak["evidence"])
    assert peak["rule_set"]["version"] == "e2e.1"
    assert httpx.get(f"{system['monitoring']}/exceedances?credit_code={SPIKED}", headers=NEIGHBOUR, timeout=10).status_code == 404

    # the episode becomes a verification task for the county: not drawn, with its reason, deadline and two inspectors
    tasks = eventually_get(f"{system['sampling']}/tasks?credit_code={SPIKED}",
                           lambda r: r.status_code == 200 and any(t["episode_id"] == peak["episode_id"] for t in r.json()["items"]),
                           timeout=30, headers=COUNTY).json()["items"]
    [task] = [t for t in tasks if t["episode_id"] == peak["episode_id"]]
    assert task["kind"] == "verification" and task["plan_id"] is None and "矽尘" in task["reason"]["text"]
    assert task["reason"]["code"] == "sampling.verification.reason.peak" and task["reason"]["deadline_working_days"] == 5
    assert task["deadline"] > china_today().isoformat()
    assert len({inspector["id"] for inspector in task["inspectors"]}) == 2
    assert httpx.get(f"{system['sampling']}/tasks?credit_code={SPIKED}", headers=NEIGHBOUR, timeout=10).status_code == 404

    # the inspectors verify on site and find the violation: the penalty service opens a case, as for a drawn task
    result = {"outcome": "violations", "inspected_on": days_ago(0),
              "violations": [{"item_code": "70-4", "harm": "none", "description": "粉尘浓度超标，未采取有效防护措施",
                              "rectification_deadline": days_ago(-14)}]}
    recorded = httpx.post(f"{system['sampling']}/tasks/{task['id']}/result", json=result, headers=COUNTY, timeout=10)
    assert recorded.status_code == 201, recorded.text
    [case_id] = recorded.json()["case_ids"]
    eventually_get(f"{system['penalty']}/cases?credit_code={SPIKED}",
                   lambda r: r.status_code == 200 and case_id in {c["id"] for c in r.json()["items"]}, timeout=30, headers=COUNTY)

    # before drawing, the county sees each employer's coverage as the monitoring service announced it
    def covered(response: httpx.Response) -> bool:
        members = {m["credit_code"]: m for ms in response.json()["members"].values() for m in ms}
        return all(members.get(code, {}).get("monitoring") for code in (SPIKED, CLEAN, FRESH)) \
            and members[CLEAN]["monitoring"]["period_start"] <= days_ago(29) \
            and sum(f["exceedances"] for f in members[SPIKED]["monitoring"]["factors"]) >= 1

    pools = eventually_get(f"{system['sampling']}/pools/{REGION}", covered, timeout=150, headers=COUNTY)
    fresh = {m["credit_code"]: m for ms in pools.json()["members"].values() for m in ms}[FRESH]["monitoring"]
    assert fresh["period_start"] == china_today().isoformat(), "FRESH has been monitored since today, not for 30 days"

    plan = httpx.post(f"{system['sampling']}/plans", headers=COUNTY, timeout=10,
                      json={"region_code": REGION, "period": next_quarter(), "ratios": {"甲": 1, "乙": 1, "丙": 1}})
    assert plan.status_code == 201, plan.text
    assert plan.json()["non_site"]["treatment"] == "non_site" and plan.json()["defaults_from"]["jurisdiction"] == "330000"
    drawn = httpx.post(f"{system['sampling']}/plans/{plan.json()['id']}/draw", headers=COUNTY, timeout=10)
    assert drawn.status_code == 201, drawn.text
    publication = httpx.get(f"{system['sampling']}/plans/{plan.json()['id']}/publication", timeout=10).json()  # 一公开: no token
    treated = {t["credit_code"]: t for t in publication["draw"]["non_site"]["treated"]}
    assert CLEAN in treated and SPIKED not in treated and FRESH not in treated
    assert treated[CLEAN]["treatment"] == "non_site" and all(step["passed"] for step in treated[CLEAN]["trace"])
    assert treated[CLEAN]["trace"][0]["rule"].startswith("sampling_defaults 330000 ")
    targets = {t["credit_code"]: t for t in publication["draw"]["targets"]}
    assert targets[CLEAN].get("mode") == "non_site" and "mode" not in targets[SPIKED] and "mode" not in targets[FRESH]
    assert httpx.post(f"{system['sampling']}/verify", json=publication, timeout=10).json() == {"match": True}

    # an organisation files a test report and is rated; a finding against it moves the rating; the credit feed carries both
    org = new_credit_code("330100")
    lab = {"Authorization": "Bearer " + issue_token(TEST_AUTH_SECRET, "organisation", "杭州示例职业卫生检测有限公司", credit_code=org,
                                                    region_code="330000", valid_days=1)}
    filed = httpx.post(f"{system['penalty']}/org/test-reports", headers=lab, timeout=10, json={
        "credit_code": CLEAN, "report_no": f"浙检{org[-6:]}", "factor": "矽尘", "post": "破碎工位", "compliant": True,
        "result": "C-TWA 0.6 mg/m³", "tested_on": days_ago(3)})
    assert filed.status_code == 201, filed.text
    first = eventually_get(f"{system['penalty']}/orgs/{org}/rating", lambda r: r.status_code == 200, timeout=30, headers=lab).json()
    found = httpx.post(f"{system['penalty']}/orgs/{org}/findings", headers=COUNTY, timeout=10, json={
        "org_name": "杭州示例职业卫生检测有限公司", "region_code": REGION, "employer_credit_code": CLEAN, "misstated": ["exposure"],
        "description": "检测结果与原始记录不符", "severity": "minor", "found_on": days_ago(1)})
    assert found.status_code == 201, found.text
    second = eventually_get(f"{system['penalty']}/orgs/{org}/rating", lambda r: r.json()["stars"] < first["stars"], timeout=30, headers=lab).json()

    def both_rated(records: list) -> bool:
        return len([r for r in records if json.loads(r.value).get("subject") == org]) >= 2

    records = asyncio.run(read_topic(kafka_bootstrap, topics.CREDIT_EVENTS, both_rated, timeout=60))
    events = [json.loads(r.value) for r in records if json.loads(r.value).get("subject") == org]
    assert [e["type"] for e in events] == ["cn.gov.ohs.org.rated"] * 2
    assert [e["data"]["stars"] for e in events] == [first["stars"], second["stars"]]
    public = httpx.get(f"{system['penalty']}/public/org-ratings?limit=200", timeout=10).json()
    assert {"org_id": org, "stars": second["stars"]}.items() <= next(i for i in public["items"] if i["org_id"] == org).items()
