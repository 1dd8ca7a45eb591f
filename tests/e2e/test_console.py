"""The console in a real browser (Debian's chromium, driven by Playwright) on the running system: the five
services and the console as processes, accounts made with `ohs console create-account` as an operator does.
Each journey ends with a screenshot under tests/output/screenshots/.

The journeys, each as a person walks it: access follows the account (a county never sees another county's
employer, an auditor gets no form, a disabled account is out); an employer fills in its report with the running
score and the preview, and the county sees the same category and why; a county draws a plan whose publication
verifies in an anonymous browser and fails when tampered; a violation found in an inspection goes through the
三步法 to closure without penalty, and the employer sees it closed; a city sees its counties on the dashboard chart.
One system for the module; the tests look only at their own employers (fresh credit codes)."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from shared.auth import issue_token
from shared.dates import china_today
from shared.i18n import local_date
from shared.working_calendar import WorkingCalendar
from tests.support import TEST_AUTH_SECRET, auth, eventually_sync, new_credit_code, report_for

pytestmark = pytest.mark.e2e

REGION = "141029"  # 乡宁县
PASSWORD = "e2e-Passw0rd!"
ACROSS_THE_BROKER = 30_000  # ms: a step that waits for another service through Kafka, on a shared 2-core machine
PENALTY_RULES = Path(__file__).resolve().parents[2] / "services" / "penalty" / "rules" / "national-2021.json"


def sign_in(browser, console: str, username: str, password: str):  # noqa: ANN001, ANN201
    """A new browser window (its own cookies) signed in through /login as a person would."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{console}/login")
    page.fill("form#login-form input[name=username]", username)
    page.fill("form#login-form input[name=password]", password)
    page.click("form#login-form button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()[:2000]
    return page


def archived(system, credit_code: str, region: str) -> dict:  # noqa: ANN001
    """Submit the README's example report for a new employer through the API and wait for its archive."""
    answer = httpx.post(f"{system.urls['assessment']}/reports", json=report_for(credit_code, region), headers=auth("employer", credit_code))
    assert answer.status_code == 202, answer.text
    return eventually_sync(lambda: httpx.get(f"{system.urls['registry']}/enterprises/{credit_code}", headers=auth("province", "140000")),
                           30, f"{credit_code} archived", ready=lambda r: r.status_code == 200).json()


def account_id(system, username: str) -> str:  # noqa: ANN001
    with sqlite3.connect(system.databases["console"].removeprefix("sqlite:///")) as db:
        return db.execute("SELECT id FROM console_account WHERE username = ?", (username,)).fetchone()[0]


def test_access_follows_the_account_a_county_sees_only_its_own_an_auditor_gets_no_form_a_disabled_account_is_out(
        console_system, browser):  # noqa: ANN001
    system = console_system
    ours, theirs = new_credit_code("141029"), new_credit_code("141081")
    archived(system, ours, "141029")
    archived(system, theirs, "141081")
    system.account("city", "141000", "e2e-city-admin", admin=True)
    system.account("county", "141029", "e2e-county")
    system.account("auditor", "141000", "e2e-auditor")

    county = sign_in(browser, system.console, "e2e-county", "e2e-Passw0rd!")
    own = county.goto(f"{system.console}/enterprises/{ours}")
    assert own.status == 200 and ours in county.content()
    other = county.goto(f"{system.console}/enterprises/{theirs}")
    assert other.status == 404 and "不在您的权限范围内" in county.content()  # as if it did not exist

    auditor = sign_in(browser, system.console, "e2e-auditor", "e2e-Passw0rd!")
    for path in (f"/enterprises/{ours}", "/dashboard", "/plans", "/cases"):
        shown = auditor.goto(system.console + path)
        assert shown.status == 200, path
        assert auditor.locator("form[method=post]:not([action='/logout'])").count() == 0, f"{path} offers an auditor a form"

    # the services honour the county officer's tokens until the account is disabled
    subject = f"console:{account_id(system, 'e2e-county')}"
    token = issue_token(TEST_AUTH_SECRET, "county", "e2e-county", region_code="141029", subject=subject, valid_seconds=600)
    registry = f"{system.urls['registry']}/enterprises/{ours}"
    assert httpx.get(registry, headers={"Authorization": f"Bearer {token}"}).status_code == 200

    admin = sign_in(browser, system.console, "e2e-city-admin", "e2e-Passw0rd!")
    admin.goto(f"{system.console}/accounts")
    admin.click("tr[data-username='e2e-county'] form[action$='/disable'] button")
    admin.wait_for_load_state()
    assert "已停用" in admin.locator("tr[data-username='e2e-county']").inner_text()
    disabled_at = time.monotonic()

    county.goto(f"{system.console}/enterprises/{ours}")
    assert "/login" in county.url  # the session ended at once
    refused = eventually_sync(lambda: httpx.get(registry, headers={"Authorization": f"Bearer {token}"}), 60,
                              "the registry refuses the disabled account's token", ready=lambda r: r.status_code == 401)
    assert refused.json()["code"] == "errors.auth.token_revoked" and time.monotonic() - disabled_at < 60
    admin.screenshot(path=str(system.shots / "access-accounts.png"), full_page=True)


# --------------------------------------------------------------------------- the journeys

def pool_codes(response: httpx.Response) -> set[str]:
    return {m["credit_code"] for members in response.json()["members"].values() for m in members}


def days_ago(n: int) -> str:
    """A day of China's calendar (the services' today), not this machine's."""
    return (china_today() - timedelta(days=n)).isoformat()


@pytest.fixture(scope="module")
def staff(console_system) -> dict[str, str]:  # noqa: ANN001
    """乡宁县's officer and 临汾市's, as an administrator would make them: a username per role."""
    return {"county": console_system.account("county", REGION, "xn-officer")[0],
            "city": console_system.account("city", "141000", "lf-officer")[0]}


@pytest.fixture(scope="module")
def pooled_employer(console_system) -> str:  # noqa: ANN001
    """An employer of 乡宁县 archived from the README's report (丙; industry C3011, 建材, which every plan covers in
    full) that has reached the county's sampling pool; and 乡宁县's roster of four inspectors, as
    `ohs sampling roster import` loads it (the console has no page for the roster)."""
    system, county = console_system, auth("county", REGION)
    code = new_credit_code(REGION)
    archived(system, code, REGION)
    roster = {"inspectors": [{"id": f"xn-{k}", "name": f"乡宁县检查员{k}", "conflicts": []} for k in range(1, 5)]}
    loaded = httpx.put(f"{system.urls['sampling']}/inspectors/{REGION}", json=roster, headers=county, timeout=10)
    assert loaded.status_code == 200, loaded.text
    eventually_sync(lambda: httpx.get(f"{system.urls['sampling']}/pools/{REGION}", headers=county, timeout=10), 30,
                    f"{code} in the sampling pool of {REGION}", ready=lambda r: r.status_code == 200 and code in pool_codes(r))
    return code


def reload_until(page: Page, selector: str, what: str) -> None:
    """Reload the page, as a person would, until ``selector`` is on it: what another service learns through the broker."""
    def shown() -> bool:
        if page.locator(selector).count():
            return True
        page.reload()
        return False

    eventually_sync(shown, ACROSS_THE_BROKER / 1000, what, interval=0.5)


def draw_a_plan(page: Page, console: str, period: str) -> str:
    """As 乡宁县's officer: a new plan (every category drawn in full) on 双随机抽查, then drawn on its page. Its id."""
    page.click("nav.main-nav >> text=双随机抽查")
    plan_form = page.locator("form#plan-form")
    expect(plan_form.locator("[name=region_code]")).to_have_value(REGION)  # the officer's county, offered
    plan_form.locator("[name=period]").fill(period)
    for category in ("甲", "乙", "丙"):
        plan_form.locator(f"[name='ratios.{category}']").fill("1")
    plan_form.locator("button[type=submit]").click()
    expect(page.locator("#plan-status")).to_have_attribute("data-status", "committed")
    plan_id = page.locator("#plan").get_attribute("data-plan-id")
    assert page.url == f"{console}/plans/{plan_id}"
    expect(page.locator("#commitment")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))  # the seed's SHA-256, public before the draw
    page.click("#draw-button")
    expect(page.locator("#plan-status")).to_have_attribute("data-status", "drawn")
    return plan_id


def test_an_employer_fills_in_its_report_sees_the_score_and_the_category_and_the_county_sees_the_same(
        console_system, browser, staff):  # noqa: ANN001
    system = console_system
    code = new_credit_code(REGION)
    employer, _ = system.account("employer", code, f"emp-{code[-8:].lower()}")

    page = sign_in(browser, system.console, employer, PASSWORD)
    # an account made with the CLI before its employer has an archive: its home (/enterprises/<own code>) is a 404
    # page without the menu, so it opens the form by its address (the menu's 填报评估报告)
    page.goto(f"{system.console}/report/new")
    # no archive yet: the form first asks for the county, whose rules build it
    page.fill("input[name=region_code]", REGION)
    page.click("main form[action='/report/new'] button[type=submit]")
    form = page.locator("form#report-form")
    expect(form).to_be_visible()

    def fill(name: str, value: str) -> None:
        form.locator(f"[name='{name}']").fill(value)

    fill("enterprise.name", "乡宁县浏览器测试水泥有限公司")
    fill("enterprise.employees", "86")
    fill("enterprise.industry_codes", "C3011")
    fill("enterprise.production_started_on", "2016-04-01")
    fill("assessed_on", days_ago(20))
    fill("hazards[0].factor", "矽尘")
    fill("hazards[0].exposed", "24")
    form.locator("[name='hazards[0].compliant']").select_option("false")  # over the limit: 严重 × 不符合 × 10–49 → Ⅲ
    fill("hazards[0].tested_on", days_ago(40))
    fill("hazards[0].test_report_no", "JC-E2E-0001")
    fill("publicity.start", days_ago(19))
    fill("publicity.end", days_ago(1))
    fill("signed_by", "张三")
    form.locator("[name=sealed]").check()

    # the 附件2 checklist, item by item: the running score follows the answers
    items = form.locator("select[name^='self_check.items.']")
    names = items.evaluate_all("selects => selects.map(s => s.name)")
    full = [float(items.nth(k).locator("option").nth(1).get_attribute("value")) for k in range(len(names))]  # the first choice: full points
    for k in range(3):
        items.nth(k).select_option(index=1)
    running = page.locator("#preview-body .running")
    expect(running).to_contain_text(f"已作答 3 / {len(names)} 项")
    assert float(running.get_attribute("data-earned")) == sum(full[:3])
    expect(page.locator("#score-summary")).to_contain_text(f"未答 {len(names) - 3} 项")

    lost = ("self_check.items.5.1", "self_check.items.7.1")  # 防护设施 and 职业健康检查 not done: 0 points each
    for k in range(3, len(names)):
        items.nth(k).select_option("0" if names[k] in lost else items.nth(k).locator("option").nth(1).get_attribute("value"))
    score = sum(points for name, points in zip(names, full, strict=True) if name not in lost)
    assert score == 85  # B (70–89.9); Ⅲ × B → 丙

    # everything answered: the preview shows the grades and the category before anything is sent
    verdict = page.locator("#preview-body .verdict")
    expect(verdict).to_have_attribute("data-category", "丙")
    expect(page.locator("#preview-body [data-hazard-grade]")).to_have_text("Ⅲ")
    expect(page.locator("#preview-body [data-management-grade]")).to_have_text("B")
    expect(page.locator("#score-summary")).to_contain_text("预览：丙类")
    expect(page.locator("#preview-body .trace")).to_contain_text("Ⅲ × B → 丙")

    page.click(".submit-bar button[type=submit]")
    page.wait_for_url(re.compile(r"/submissions/[0-9a-f-]{36}$"))
    # the page asks again by itself until the report is classified
    expect(page.locator("#submission-status")).to_have_attribute("data-status", "classified", timeout=ACROSS_THE_BROKER)
    expect(page.locator("#submission-status .verdict")).to_have_attribute("data-category", "丙")
    assert float(page.locator("#submission-status [data-score]").get_attribute("data-score")) == score
    document = page.request.get(system.console + page.locator("a", has_text="下载评估报告（PDF）").get_attribute("href"))
    assert document.status == 200 and document.body()[:5] == b"%PDF-", document.status  # the printable 评估报告

    # 乡宁县's officer finds the employer in the archive with the same category, and why, in words
    county = sign_in(browser, system.console, staff["county"], PASSWORD)
    county.goto(f"{system.console}/enterprises/{code}")
    reload_until(county, "#summary", f"{code} in the archive")
    expect(county.locator("#summary dd[data-category]")).to_have_attribute("data-category", "丙")
    expect(county.locator("h1")).to_contain_text("乡宁县浏览器测试水泥有限公司")
    trace = county.locator("#report-trace")
    expect(trace).to_contain_text("矽尘：接触水平不符合，接触24人")
    expect(trace).to_contain_text(f"自查得分{score:g}，在B档")
    expect(trace).to_contain_text("Ⅲ × B → 丙")
    expect(county.locator("#effective-trace")).to_contain_text("丙")
    county.screenshot(path=str(system.shots / "journey-report-category.png"), full_page=True)
    page.context.close()
    county.context.close()


def test_a_county_draws_a_plan_whose_publication_verifies_in_the_browser_and_fails_when_tampered(
        console_system, browser, staff, pooled_employer):  # noqa: ANN001
    system = console_system
    county = sign_in(browser, system.console, staff["county"], PASSWORD)
    plan_id = draw_a_plan(county, system.console, str(china_today().year))
    target = county.locator(f"#tasks tr[data-credit-code='{pooled_employer}']")
    expect(target).to_be_visible()
    assert county.locator("#tasks tr[data-task-id]").count() >= 1
    for row in county.locator("#tasks tr[data-task-id]").all():  # two inspectors of the roster for every target
        ids = row.locator("td.inspectors small")
        expect(ids).to_have_count(2)
        assert len(set(ids.all_inner_texts()) & {f"xn-{k}" for k in range(1, 5)}) == 2, row.inner_text()
        expect(row.locator("td.inspectors")).to_contain_text("乡宁县检查员")

    # anyone, signed in or not, finds the draw published and checks it in their own browser
    public = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN").new_page()
    public.goto(f"{system.console}/public/plans")
    listed = public.locator(f"#publications tr[data-plan-id='{plan_id}']")
    expect(listed).to_be_visible()
    listed.locator("a", has_text="查看并核验").click()
    assert public.url == f"{system.console}/public/plans/{plan_id}"
    outcome = public.locator("#verify-outcome")
    expect(outcome).to_have_attribute("data-verify-result", "match", timeout=ACROSS_THE_BROKER)
    expect(outcome).to_contain_text("核验通过")
    expect(public.locator(f"#targets tr[data-credit-code='{pooled_employer}']")).to_be_visible()
    published = json.loads(public.locator("script#publication").text_content())
    assert published["draw"]["targets"], "a draw with targets"

    def tamper(change: str, argument: object) -> None:
        """Change the publication the page holds (as a forged copy would), then verify again."""
        public.evaluate("""([change, argument]) => {
            const element = document.getElementById("publication");
            const publication = JSON.parse(element.textContent);
            if (change === "target") publication.draw.targets[0].credit_code = argument;
            if (change === "seed") publication.draw.seed = argument;
            element.textContent = JSON.stringify(publication);
        }""", [change, argument])
        public.click("#verify-again")

    forged = new_credit_code(REGION)
    tamper("target", forged)
    expect(outcome).to_have_attribute("data-verify-result", "mismatch")
    real = published["draw"]["targets"][0]["credit_code"]
    expect(outcome).to_have_text(f"核验未通过：第1个抽中单位不一致：公布为 {forged}，重算为 {real}。")

    tamper("target", real)  # put back: it verifies again
    expect(outcome).to_have_attribute("data-verify-result", "match")

    seed = published["draw"]["seed"]
    tamper("seed", ("0" if seed[0] != "0" else "1") + seed[1:])
    expect(outcome).to_have_attribute("data-verify-result", "mismatch")
    expect(outcome).to_contain_text("随机种子与承诺值不符")
    public.screenshot(path=str(system.shots / "journey-publication-tampered.png"), full_page=True)
    public.context.close()
    county.context.close()


def test_a_violation_found_in_an_inspection_goes_through_the_three_steps_to_closure_without_penalty(
        console_system, browser, staff, pooled_employer):  # noqa: ANN001
    system, code = console_system, pooled_employer
    today = china_today()
    employer, _ = system.account("employer", code, f"emp-{code[-8:].lower()}")

    county = sign_in(browser, system.console, staff["county"], PASSWORD)
    plan_id = draw_a_plan(county, system.console, f"{today.year}Q{(today.month - 1) // 3 + 1}")
    target = county.locator(f"#tasks tr[data-credit-code='{code}']")
    target.locator("summary", has_text="登记结果").click()
    result = target.locator("form.result-form")
    result.locator("select[name=outcome]").select_option("violations")
    result.locator("input[name=inspected_on]").fill(today.isoformat())
    # 70-4 (培训), no harm: on the 附件5 list, so a first offence corrected in time is not penalised
    result.locator("input[name='violations[0].item_code']").fill("70-4")
    result.locator("select[name='violations[0].harm']").select_option("none")
    result.locator("input[name='violations[0].description']").fill("未对接触矽尘的劳动者进行上岗前职业卫生培训")
    result.locator("button[type=submit]").click()
    county.wait_for_url(re.compile(rf"/plans/{plan_id}#task-"))
    expect(target.locator(".result")).to_have_attribute("data-outcome", "violations")
    expect(target.locator(".result")).to_contain_text("70-4")

    # the case, opened by the penalty service from the inspection, is found on 案件
    county.click("nav.main-nav >> text=案件")
    county.fill("#case-filters [name=credit_code]", code)
    county.click("#case-filters button[type=submit]")
    reload_until(county, "#cases tr[data-case]", f"the case of {code} listed on /cases")
    case_row = county.locator("#cases tr[data-case]")
    expect(case_row).to_have_count(1)
    expect(case_row).to_contain_text("70-4")
    case_row.locator("a").click()
    status = county.locator("h1 .tag[data-status]")
    expect(status).to_have_attribute("data-status", "open")

    # step 1: 教育引导
    county.fill("#form-education [name=content]", "讲解职业病防治法第三十四条，督促组织上岗前培训")
    county.click("#form-education button[type=submit]")
    expect(status).to_have_attribute("data-status", "educated")
    expect(county.locator(".alert.ok")).to_have_text("教育引导已记录。")

    # step 2: 责令限期改正, the deadline counted in working days (the region's default period)
    working_days = json.loads(PENALTY_RULES.read_text(encoding="utf-8"))["procedure"]["rectification_working_days"]
    deadline: date = WorkingCalendar().add_working_days(today, working_days)
    county.click("#form-rectification-order button[type=submit]")
    expect(status).to_have_attribute("data-status", "rectifying")
    expect(county.locator("#deadline")).to_contain_text(f"整改期限：{local_date(deadline)}（按工作日计算")
    expect(county.locator(f"[data-progress] [data-state=current]:has([data-deadline='{deadline.isoformat()}'])")).to_contain_text("复查")

    # step 3: 复查 — corrected before the deadline: no penalty, the case is closed
    county.check("#form-verification input[name=corrected][value=true]")
    county.fill("#form-verification [name=corrected_on]", today.isoformat())
    county.click("#form-verification button[type=submit]")
    expect(status).to_have_attribute("data-status", "closed")
    expect(county.locator("dd[data-decision]")).to_have_attribute("data-decision", "no_penalty")
    expect(county.locator("#next-step")).to_have_count(0)
    steps = county.locator("#timeline tr[data-step]").evaluate_all("rows => rows.map(r => r.dataset.step)")
    assert steps[:1] == ["opened"] and {"educated", "rectification_ordered", "correction_verified", "closed"} <= set(steps), steps

    # the employer sees its case closed, and is offered nothing to do on it
    own = sign_in(browser, system.console, employer, PASSWORD)
    own.click("nav.main-nav >> text=案件")
    mine = own.locator("#cases tr[data-case]")
    expect(mine).to_have_count(1)
    expect(mine).to_have_attribute("data-status", "closed")
    mine.locator("a").click()
    expect(own.locator("h1 .tag[data-status]")).to_have_attribute("data-status", "closed")
    expect(own.locator("dd[data-decision]")).to_contain_text("不予处罚")
    assert own.locator("main form[method=post]").count() == 0, "an employer is offered no form on its case"
    own.screenshot(path=str(system.shots / "journey-case-closed.png"), full_page=True)
    own.context.close()
    county.context.close()


def test_a_city_sees_its_counties_by_category_on_the_dashboard_chart(console_system, browser, staff, pooled_employer):  # noqa: ANN001
    system = console_system
    city = sign_in(browser, system.console, staff["city"], PASSWORD)
    city.click("nav.main-nav >> text=工作台")
    chart = city.locator("[data-chart='stacked-bar']")
    expect(chart).to_have_attribute("data-chart-drawn", "true")  # ECharts (served by the console) drew it
    expect(chart.locator("canvas")).not_to_have_count(0)
    row = city.locator("#category-table tr[data-region='141029']")
    expect(row).to_be_visible()
    assert int(row.locator("td").nth(3).inner_text()) >= 1, "乡宁县's 丙 employers counted"
    city.screenshot(path=str(system.shots / "journey-city-dashboard.png"), full_page=True)
    city.context.close()
