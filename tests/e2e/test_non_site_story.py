"""Non-site supervision (非现场执法) as 杭州市西湖区 330106 lives it: the six services as processes, a real broker,
and the repository's demonstration (deploy/demo/non_site.py, which drives deploy/demo/gateway.py) run as a user runs
it against `make run`. Then the test reads what each service says.

Three employers report. One of them (CLEAN) has a month of online monitoring behind it: its gateway back-fills
thirty days of readings, all within the limits. Then the gateway streams live readings for all three on the Kafka
topic, and one employer's dust device (SPIKED) reads above its peak for a few seconds:
- exactly one exceedance episode, with its evidence, for that device;
- a verification task (核查处置) for the county, not drawn, with its reason, a deadline and two inspectors;
- its result with a violation opens a penalty case.
Next quarter's plan treats CLEAN as 浙江's rule data says (drawn, inspected non-site) and says why. SPIKED
(an exceedance) and FRESH (monitored for minutes, not for the rule's thirty days) are inspected on site. An
organisation files a test report and is rated; a finding moves its rating; both ratings are on the credit feed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.auth import issue_token
from shared.dates import china_today
from tests.conftest import REPO
from tests.e2e.conftest import SERVICES, Mailbox, running_services
from tests.support import TEST_AUTH_SECRET, auth, new_credit_code, token_for

pytestmark = pytest.mark.e2e

REGION = "330106"  # 杭州市西湖区: the packaged 浙江 sampling defaults carry the non-site rule
COUNTY = auth("county", REGION, name="西湖区 李四")
NEIGHBOUR = auth("county", "330108", name="滨江区 赵六")
ROSTER = {"inspectors": [{"id": f"xh-{k}", "name": f"西湖区检查员{k}"} for k in range(1, 5)]}


@pytest.fixture(scope="module")
def system(kafka_bootstrap: str, mailbox: Mailbox) -> Iterator[dict[str, str]]:
    """The six services on SQLite with the demonstration's agency rule data, as `make run` starts them (the monitoring
    service's PostgreSQL path is in tests/integration/test_monitoring_kafka.py): 浙江's limits judge readings at any hour."""
    with running_services(SERVICES, kafka_bootstrap, mailbox, extra_env={"OHS_RULES_DIR": str(REPO / "deploy/demo/rules")}) as (urls, _, _):
        yield urls


def test_the_non_site_demonstration_streams_verifies_opens_a_case_treats_the_clean_employer_and_rates(
        system: dict[str, str], kafka_bootstrap: str, tmp_path: Path) -> None:
    assert httpx.put(f"{system['sampling']}/inspectors/{REGION}", json=ROSTER, headers=COUNTY, timeout=10).status_code == 200  # as `make run` seeds it
    org = new_credit_code("330100")
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({
        "zhejiang_county": token_for("county", REGION, name="西湖区 李四"), "zhejiang_province": token_for("province", "330000", name="浙江省 网关"),
        "organisation": issue_token(TEST_AUTH_SECRET, "organisation", "杭州示例职业卫生检测有限公司", credit_code=org, region_code="330000", valid_days=1)}))
    env = dict(os.environ, **{f"OHS_{name.upper()}_URL": where for name, where in system.items() if where.startswith("http")})
    run = subprocess.run([sys.executable, "deploy/demo/non_site.py", "--tokens", str(tokens), "--bootstrap", kafka_bootstrap, "--json", "--timeout", "150"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    story = json.loads(run.stdout)
    SPIKED, CLEAN, FRESH = (story["employers"][role] for role in ("spiked", "clean", "fresh"))

    # one episode for the spike (not one per reading above the peak), with the readings that prove it
    dust = f"{SPIKED[-8:]}-dust"
    episodes = httpx.get(f"{system['monitoring']}/exceedances?credit_code={SPIKED}", headers=COUNTY, timeout=10).json()["items"]
    [peak] = [e for e in episodes if e["device_id"] == dust and e["measure"] == "peak"]
    assert peak["limit"] == 2.0 and peak["observed"] >= 3.0 and peak["factor"] == "矽尘"
    assert peak["evidence"] and all(reading["value"] > 2.0 for reading in peak["evidence"])
    assert (peak["rule_set"]["jurisdiction"], peak["rule_set"]["version"]) == ("330000", "demo.1"), "浙江's table, as make run loads it"
    assert not [e for e in httpx.get(f"{system['monitoring']}/exceedances?credit_code={CLEAN}", headers=COUNTY, timeout=10).json()["items"]
                if e["measure"] != "silent"], "thirty days back-filled within the limits: no exceedance"
    assert httpx.get(f"{system['monitoring']}/exceedances?credit_code={SPIKED}", headers=NEIGHBOUR, timeout=10).status_code == 404

    # the episode became a verification task for the county: not drawn, with its reason, deadline and two inspectors
    task = story["task"]
    assert task["episode_id"] == peak["episode_id"] and task["kind"] == "verification" and task["plan_id"] is None
    assert task["reason"]["code"] == "sampling.verification.reason.peak" and "矽尘" in task["reason"]["text"]
    assert task["reason"]["deadline_working_days"] == 5 and task["deadline"] > china_today().isoformat()
    assert len({i["id"] for i in task["inspectors"]}) == 2 and {i["id"] for i in task["inspectors"]} <= {i["id"] for i in ROSTER["inspectors"]}
    assert httpx.get(f"{system['sampling']}/tasks?credit_code={SPIKED}", headers=NEIGHBOUR, timeout=10).status_code == 404
    # … whose result opened a case, as for a drawn task
    assert story["case"]["item_code"] == "70-4" and story["case"]["credit_code"] == SPIKED

    # next quarter's plan: the clean, fully monitored employer is inspected non-site, and the publication says why
    assert story["coverage"]["fresh"]["period_start"] == china_today().isoformat(), "FRESH has been monitored since today"
    publication = story["publication"]
    treated = {t["credit_code"]: t for t in publication["draw"]["non_site"]["treated"]}
    assert CLEAN in treated and SPIKED not in treated and FRESH not in treated
    assert treated[CLEAN]["treatment"] == "non_site" and all(step["passed"] for step in treated[CLEAN]["trace"])
    assert treated[CLEAN]["trace"][0]["rule"].startswith("sampling_defaults 330000 ")
    targets = {t["credit_code"]: t for t in publication["draw"]["targets"]}
    assert targets[CLEAN]["mode"] == "non_site" and "mode" not in targets[SPIKED] and "mode" not in targets[FRESH]
    assert httpx.post(f"{system['sampling']}/verify", json=publication, timeout=10).json() == {"match": True}

    # the organisation was rated on its filing, and again lower after the finding; the credit feed carries both
    assert story["org_id"] == org and [r["stars"] for r in story["ratings"]] == [5, 4]
    assert [(e["type"], e["data"]["stars"]) for e in story["credit_events"]] == [("cn.gov.ohs.org.rated", 5), ("cn.gov.ohs.org.rated", 4)]
    public = httpx.get(f"{system['penalty']}/public/org-ratings?limit=200", timeout=10).json()  # no token
    assert next(i for i in public["items"] if i["org_id"] == org)["stars"] == 4
