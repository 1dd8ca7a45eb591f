"""Non-site supervision (非现场执法) in the console, in a real browser (Debian's chromium, Playwright), on the running
system: the six services and the console as processes, accounts made with `ohs console create-account`.

A dust device of an employer of 乡宁县 reads above its peak (POST /readings:batch, as a gateway does). The county's
officer finds the exceedance and its verification task (核查处置) on the employer's page, opens the task, records the
result with a violation on the drawn task's form, and the case the penalty service opened from it is on 案件.
The monitoring limits are the packaged ones with three 8-hour shifts (an agency file in $OHS_RULES_DIR), so every
hour of the day lies in a shift and the test does not depend on when it runs. Screenshots of each new page at 1366
wide and at 390 (a phone) under tests/output/screenshots/."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from shared.dates import CHINA, china_today
from tests.conftest import REPO
from tests.e2e.conftest import SERVICES, ConsoleSystem, Mailbox, running_services
from tests.e2e.test_console import ACROSS_THE_BROKER, PASSWORD, archived, reload_until, sign_in
from tests.support import auth, eventually_get, new_credit_code

pytestmark = pytest.mark.e2e

REGION = "141029"  # 乡宁县
COUNTY = auth("county", REGION)
PROVINCE = auth("province", "140000", name="山西省 网关")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def non_site_system(kafka_bootstrap: str, mailbox: Mailbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleSystem]:
    """console_system with the monitoring limits of three 8-hour shifts for 山西 (an agency's rule file)."""
    rules = tmp_path_factory.mktemp("rules")
    limits = json.loads((REPO / "services/monitoring/rules/limits-national-2019.json").read_text(encoding="utf-8"))
    limits.update(jurisdiction="140000", version="e2e.1", effective_from="2000-01-01",
                  shifts=[{"start": "00:00", "hours": 8}, {"start": "08:00", "hours": 8}, {"start": "16:00", "hours": 8}])
    (rules / "monitoring").mkdir()
    (rules / "monitoring" / "limits-e2e.json").write_text(json.dumps(limits, ensure_ascii=False), encoding="utf-8")
    shots = REPO / "tests" / "output" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with running_services((*SERVICES, "console"), kafka_bootstrap, mailbox, extra_env={"OHS_RULES_DIR": str(rules)}) as (urls, databases, data):
        yield ConsoleSystem(urls, databases, data, shots)


def over_the_peak(system: ConsoleSystem, employer: str) -> dict:
    """The employer's dust device, registered and reading 3.1 mg/m³ (peak 2.0) for the last few minutes: the episode."""
    monitoring = system.urls["monitoring"]
    eventually_get(f"{monitoring}/devices?credit_code={employer}", lambda r: r.status_code == 200, timeout=60, headers=COUNTY)
    device = f"{employer[-8:]}-dust"
    registered = httpx.post(f"{monitoring}/devices", headers=PROVINCE, timeout=10,
                            json={"device_id": device, "credit_code": employer, "factor": "矽尘", "post": "破碎工位", "unit": "mg/m³"})
    assert registered.status_code == 201, registered.text
    now = datetime.now(CHINA).replace(microsecond=0)
    readings = [{"device_id": device, "at": (now - timedelta(minutes=k)).isoformat(), "value": 3.1} for k in range(5, 0, -1)]
    posted = httpx.post(f"{monitoring}/readings:batch", json={"readings": readings}, headers=PROVINCE, timeout=30)
    assert posted.status_code == 200 and posted.json()["refused"] == 0, posted.text
    episodes = eventually_get(f"{monitoring}/exceedances?credit_code={employer}",
                              lambda r: r.status_code == 200 and any(e["measure"] == "peak" for e in r.json()["items"]),
                              timeout=30, headers=COUNTY).json()["items"]
    [peak] = [e for e in episodes if e["measure"] == "peak"]
    return peak


def shots(page: Page, system: ConsoleSystem, name: str) -> None:
    """The page at 1366 wide, then as a phone (390), full length."""
    page.screenshot(path=str(system.shots / f"{name}-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(system.shots / f"{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})


def test_a_county_sees_an_exceedance_and_its_verification_task_records_a_violation_and_the_case_appears(non_site_system, browser) -> None:  # noqa: ANN001
    system = non_site_system
    employer = new_credit_code(REGION)
    archived(system, employer, REGION)
    roster = {"inspectors": [{"id": f"xn-{k}", "name": f"乡宁县检查员{k}", "conflicts": []} for k in range(1, 5)]}
    assert httpx.put(f"{system.urls['sampling']}/inspectors/{REGION}", json=roster, headers=COUNTY, timeout=10).status_code == 200
    peak = over_the_peak(system, employer)
    task = eventually_get(f"{system.urls['sampling']}/tasks?credit_code={employer}",
                          lambda r: r.status_code == 200 and any(t["episode_id"] == peak["episode_id"] for t in r.json()["items"]),
                          timeout=ACROSS_THE_BROKER / 1000, headers=COUNTY).json()["items"]
    [task] = [t for t in task if t["episode_id"] == peak["episode_id"]]
    system.account("county", REGION, "xn-non-site")
    system.account("auditor", "141000", "lf-auditor")

    # the employer's page: its exceedance (observed against the limit) and its verification task
    county = sign_in(browser, system.console, "xn-non-site", PASSWORD)
    county.goto(f"{system.console}/enterprises/{employer}")
    section = county.locator("#non-site")
    episode = section.locator(f"tr[data-episode-id='{peak['episode_id']}']")
    expect(episode).to_contain_text("矽尘")
    expect(episode).to_contain_text("破碎工位")
    expect(episode).to_contain_text("3.1")
    expect(episode).to_contain_text("2.0")
    expect(episode).to_contain_text("峰值")
    row = section.locator(f"#verification-tasks tr[data-task-id='{task['id']}']")
    expect(row).to_contain_text("待核查")
    expect(row).to_contain_text("乡宁县检查员")
    shots(county, system, "non-site-enterprise")

    # 核查处置 in the navigation lists it
    county.click("nav.main-nav >> text=核查处置")
    listed = county.locator(f"#verification-tasks tr[data-task-id='{task['id']}']")
    expect(listed).to_contain_text("矽尘")
    shots(county, system, "non-site-verifications")

    # the task's page: the exceedance, and the drawn task's result form
    listed.locator("a", has_text="登记结果").click()
    county.wait_for_url(re.compile(rf"/verifications/{employer}/{task['id']}$"))
    expect(county.locator("#episode")).to_contain_text("3.1")
    form = county.locator("form.result-form")
    today = china_today()
    form.locator("[name=outcome]").select_option("violations")
    form.locator("[name=inspected_on]").fill(today.isoformat())
    form.locator("[name='violations[0].item_code']").fill("70-4")
    form.locator("[name='violations[0].harm']").select_option("none")
    form.locator("[name='violations[0].rectification_deadline']").fill((today + timedelta(days=14)).isoformat())
    form.locator("[name='violations[0].description']").fill("粉尘浓度超标，未采取有效防护措施")
    shots(county, system, "non-site-verification-form")
    form.locator("button[type=submit]").click()
    county.wait_for_url(re.compile(rf"/verifications/{employer}/{task['id']}#result$"))
    result = county.locator("#result .result")
    expect(result).to_have_attribute("data-outcome", "violations")
    expect(result).to_contain_text("70-4")
    expect(county.locator("#task [data-status]")).to_have_attribute("data-status", "recorded")
    shots(county, system, "non-site-verification-recorded")

    # the case the penalty service opened from it, through the broker
    case_link = result.locator("a[href^='/cases/']")
    expect(case_link).to_have_count(1)
    case_path = case_link.get_attribute("href")
    county.click("nav.main-nav >> text=案件")
    county.fill("#case-filters [name=credit_code]", employer)
    county.click("#case-filters button[type=submit]")
    reload_until(county, "#cases tr[data-case]", f"the case of {employer} listed on /cases")
    case_row = county.locator("#cases tr[data-case]")
    expect(case_row).to_have_count(1)
    expect(case_row).to_contain_text("70-4")
    case_row.locator("a").click()
    assert county.url.endswith(case_path), (county.url, case_path)
    expect(county.locator("main")).to_contain_text("70-4")
    # the inspection set a rectification deadline: the case is at 责令限期改正 already
    expect(county.locator("h1 .tag[data-status]")).to_have_attribute("data-status", "rectifying")
    shots(county, system, "non-site-case")

    # the auditor of the city reads the same, and is offered no form
    auditor = sign_in(browser, system.console, "lf-auditor", PASSWORD)
    for path in ("/verifications", f"/verifications/{employer}/{task['id']}", f"/enterprises/{employer}"):
        assert auditor.goto(system.console + path).status == 200, path
        assert auditor.locator("form[method=post]:not([action='/logout'])").count() == 0, f"{path} offers an auditor a form"
    expect(auditor.locator(f"#non-site tr[data-task-id='{task['id']}']")).to_contain_text("已登记结果")
