"""The archive side of the console through its pages (issue 15): the staff's dashboard, the archive list, an
employer's page with the staff's forms, the bulk intake of a 附件6 and the rule data in force. The other services
are the fake APIs of tests/unit/console/support.py: each story says what they answer and checks what the console
asked them."""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from datetime import timedelta
from typing import Any

import anyio.from_thread
import httpx
import openpyxl

from services.assessment.adapters import spreadsheets
from shared.dates import china_today
from shared.identifiers import credit_code_check_character
from tests.unit.assessment.test_bulk import bad_check_character, code, good
from tests.unit.console.support import bearer_claims, csrf_of

EMPLOYER = "91141029MA0GRT8U3L"  # 乡宁县
ELSEWHERE = code(9).replace("141029", "141024")[:17] + credit_code_check_character(code(9).replace("141029", "141024")[:17])  # 洪洞县


def categories(region_code: str, region_name: str, *rows: tuple[str, str, int, int, int]) -> dict[str, Any]:
    """GET registry /reports/categories as the registry answers it."""
    listed = [{"region_code": c, "name": n, "listed": True, "counts": {"甲": a, "乙": b, "丙": d}, "total": a + b + d} for c, n, a, b, d in rows]
    totals = {k: sum(r["counts"][k] for r in listed) for k in ("甲", "乙", "丙")}
    return {"region_code": region_code, "region_name": region_name, "path": ["山西省"], "categories": ["甲", "乙", "丙"], "rows": listed,
            "totals": {"region_code": region_code, "name": "合计", "counts": totals, "total": sum(totals.values())}}


def params_of(request: httpx.Request) -> dict[str, str]:
    return dict(request.url.params)


# --------------------------------------------------------------------------- the dashboard


def submissions(request: httpx.Request) -> httpx.Response:
    status = request.url.params["status"]
    total = {"accepted": 7, "rejected": 2}[status]
    items = [{"submission_id": f"s-{status}", "credit_code": EMPLOYER, "enterprise_name": f"乡宁县某公司（{status}）",
              "received_at": "2026-11-02T03:00:00+00:00", "status": status}]
    return httpx.Response(200, json={"items": items, "total": total})


def test_a_county_sees_its_dashboard_and_the_cases_panel_alone_goes_blank_when_penalty_is_down(console):
    apis = console.apis
    apis.answer("GET", "registry", "/reports/categories", 200, categories("141029", "乡宁县", ("141029", "乡宁县", 12, 30, 5)))
    apis.answer_with("GET", "assessment", "/reports", submissions)
    apis.answer("GET", "registry", "/reminders", 200, {
        "region_code": "141029", "today": "2026-12-07", "within_days": 90, "total": 5,
        "counts": {"reassessment_due_soon": 3, "reassessment_overdue": 1, "first_assessment_overdue": 1},
        "items": [{"credit_code": EMPLOYER, "enterprise_name": "乡宁县示例水泥有限公司", "region_code": "141029", "kind": "reassessment_overdue",
                   "due_on": "2026-12-01", "days": 6, "reason": "重新评估已逾期 6 天", "sent_at": None}]})
    apis.answer("GET", "registry", "/rectifications", 200, {"total": 4, "limit": 5, "offset": 0, "items": []})
    apis.down.add("penalty")
    browser = console.signed_in("county", "141029")

    page = browser.get("/dashboard")

    assert page.status_code == 200, page.text
    figures = dict(re.findall(r'data-figure="([^"]+)"[^>]*>(\d+)<', page.text))
    assert figures == {"category-甲": "12", "category-乙": "30", "category-丙": "5", "category-total": "47", "awaiting": "7", "rejected": "2",
                       "rectifications-overdue": "4", "reassessment_overdue": "1", "first_assessment_overdue": "1", "reassessment_due_soon": "3"}
    assert 'href="/enterprises?category=丙"' in page.text and 'href="/enterprises?overdue=1"' in page.text  # each figure opens its list
    assert "重新评估已逾期 6 天" in page.text
    cases = page.text.split('id="panel-cases"')[1]
    assert 'data-down="penalty"' in cases and "执法服务 (penalty)" in cases  # the panel says which service is down…
    assert page.text.count("data-down=") == 1  # …and only that panel is blank
    assert "data-chart=" not in page.text  # a county: its own row, no chart per county
    # one call per panel, each with the person's own token; the lists cut to what the page shows
    assert params_of(apis.calls_to("registry", "/reports/categories")[0]) == {"region_code": "141029"}
    assert sorted(params_of(c)["status"] for c in apis.calls_to("assessment", "/reports")) == ["accepted", "rejected"]
    assert params_of(apis.calls_to("registry", "/reminders")[0]) == {"limit": "8"}
    assert params_of(apis.calls_to("registry", "/rectifications")[0]) == {"status": "overdue", "limit": "5"}
    assert len(apis.calls) == 6 and all(bearer_claims(c)["region"] == "141029" for c in apis.calls)


def test_a_city_sees_a_chart_per_county_and_category_and_the_cases_by_step(console):
    report = categories("141000", "临汾市", ("141029", "乡宁县", 12, 30, 5), ("141024", "洪洞县", 3, 8, 1))
    console.apis.answer("GET", "registry", "/reports/categories", 200, report)
    today = china_today()
    cases = [{"id": "c1", "case_code": "临卫罚〔2026〕1号", "credit_code": EMPLOYER, "status": "rectifying", "deadline": (today + timedelta(days=3)).isoformat()},
             {"id": "c2", "case_code": "临卫罚〔2026〕2号", "credit_code": EMPLOYER, "status": "committed", "deadline": (today - timedelta(days=2)).isoformat()},
             {"id": "c3", "case_code": "临卫罚〔2026〕3号", "credit_code": EMPLOYER, "status": "closed", "deadline": (today - timedelta(days=30)).isoformat()}]
    waiting = sorted((c for c in cases if c["status"] in ("rectifying", "committed")), key=lambda c: c["deadline"])
    console.apis.answer("GET", "penalty", "/reports/cases-by-status", 200, {  # what penalty counts and lists
        "region_code": "141000", "counts": {"rectifying": 1, "committed": 1, "closed": 1}, "total": 3, "nearest": waiting})
    browser = console.signed_in("city", "141000")

    page = browser.get("/dashboard")

    assert page.status_code == 200
    data = json.loads(re.search(r'<script type="application/json" id="category-chart-data">(.*?)</script>', page.text, re.S).group(1))
    assert data["labels"] == ["乡宁县", "洪洞县"]
    assert data["series"] == [{"name": "甲", "data": [12, 3]}, {"name": "乙", "data": [30, 8]}, {"name": "丙", "data": [5, 1]}]
    assert data["links"] == ["/enterprises?county=141029", "/enterprises?county=141024"]
    assert 'data-chart="stacked-bar" data-chart-data="category-chart-data"' in page.text
    assert '<script src="/static/js/charts.js" defer></script>' in page.text and "<script>" not in page.text  # no inline script (CSP)
    assert 'href="/enterprises?county=141024&amp;category=乙">8<' in page.text  # the table beside the chart, each figure a link
    # the cases: by step, the nearest deadline first, overdue marked
    steps = dict(re.findall(r'data-figure="cases-(\w+)">[^<]*?(\d+)<', page.text))
    assert steps == {"open": "0", "educated": "0", "rectifying": "1", "committed": "1", "penalty_pending": "0", "closed": "1"}
    nearest = page.text.split("期限最近的案件")[1]
    assert nearest.index("临卫罚〔2026〕2号") < nearest.index("临卫罚〔2026〕1号") and "临卫罚〔2026〕3号" not in nearest
    assert "已逾期 2 天" in nearest and "还有 3 天" in nearest
    assert (static := console.client.get("/static/js/charts.js")).status_code == 200 and "echarts.init" in static.text


# --------------------------------------------------------------------------- the archive list


def test_the_archive_list_passes_filters_and_page_to_the_registry_and_pages_on(console):
    console.apis.answer("GET", "registry", "/reports/categories", 200,
                        categories("141000", "临汾市", ("141029", "乡宁县", 12, 30, 5), ("141024", "洪洞县", 3, 8, 1)))
    items = [{"credit_code": EMPLOYER, "name": "乡宁县示例水泥有限公司", "region_code": "141029", "category": "丙", "hazard_grade": "Ⅲ",
              "management_grade": "B", "assessed_on": "2023-06-01", "next_assessment_due": "2026-06-01", "industry_codes": ["C3011", "C3021"]}]
    console.apis.answer("GET", "registry", "/enterprises", 200, {"total": 260, "limit": 50, "offset": 100, "items": items})
    browser = console.signed_in("city", "141000")

    page = browser.get("/enterprises", params={"category": "丙", "industry": "c30 ", "county": "141029", "overdue": "1", "page": "3"})

    assert page.status_code == 200, page.text
    call = console.apis.calls_to("registry", "/enterprises")[0]
    assert params_of(call) == {"category": "丙", "industry": "C30", "region_code": "141029", "overdue": "true", "limit": "50", "offset": "100"}
    assert bearer_claims(call)["region"] == "141000"
    row = page.text.split(f'data-credit-code="{EMPLOYER}"')[1].split("</tr>")[0]
    assert f'href="/enterprises/{EMPLOYER}"' in row and "乡宁县" in row and 'class="cat cat-c"' in row and "C3011、C3021" in row
    assert "共 260 条 · 第 3 / 6 页" in page.text
    prev, next_ = (re.search(rf'rel="{r}" href="([^"]+)"', page.text).group(1).replace("&amp;", "&") for r in ("prev", "next"))
    assert "page=2" in prev and "page=4" in next_ and "county=141029" in next_ and "overdue=1" in next_  # the filters are kept
    assert re.search(r'<option value="141029" selected>乡宁县</option>', page.text) and 'value="C30"' in page.text

    # a filter the registry refuses: its message next to the filter, the page kept
    console.apis.answer("GET", "registry", "/enterprises", 422, {"detail": "请求内容有误", "code": "errors.request.invalid",
                                                                  "errors": [{"field": "industry", "code": "x", "message": "应为 GB/T 4754 行业代码"}]})
    refused = browser.get("/enterprises", params={"industry": "9"})
    assert refused.status_code == 422
    assert '<p class="problem" id="p-industry" data-field="industry">应为 GB/T 4754 行业代码</p>' in refused.text
    assert 'id="archive-filters"' in refused.text


# --------------------------------------------------------------------------- an employer's page


def archive_of(**changes: Any) -> dict[str, Any]:
    """GET registry /enterprises/{credit_code} for an employer upgraded after its second report."""
    trace = [{"rule": "附件1 危害因素分级", "detail": "矽尘 不符合、接触 24 人 → Ⅲ级", "code": None, "params": {}},
             {"rule": "附件3 类别矩阵", "detail": "Ⅲ级 × B → 乙类", "code": None, "params": {}}]
    version = {"submission_id": "sub-1", "hazard_grade": "Ⅱ", "management_grade": "B", "score": 82.5, "region_code": "141029",
               "rule_set": {"jurisdiction": "CN", "version": "2022.1"}, "recorded_at": "2026-06-02T00:00:00+00:00"}
    body = {
        "credit_code": EMPLOYER, "name": "乡宁县示例水泥有限公司", "region_code": "141029", "category": "丙", "report_category": "乙",
        "source": "report", "hazard_grade": "Ⅲ", "management_grade": "B", "score": 82.5, "assessed_on": "2026-06-01", "archive_version": 3,
        "industry_codes": ["C3021"], "employees": 86, "next_assessment_due": "2029-06-01", "production_started_on": None,
        "rule_set": {"jurisdiction": "CN", "version": "2022.1", "provisional": True}, "trace": trace,
        "history": [{**version, "version": 1, "category": "甲", "assessed_on": "2023-06-01", "became_current": True},
                    {**version, "version": 2, "submission_id": "sub-2", "category": "乙", "assessed_on": "2026-06-01", "became_current": True}],
        "effective_trace": ["评估报告 sub-2 的结果：乙类", "执法升级（升 1 级，案件 临卫罚〔2026〕9号）：乙类 → 丙类"],
        "overrides": [{"kind": "enforcement_upgrade", "archive_version": 3, "before": "乙", "after": "丙", "steps": 1, "actor": "county 乡宁县 张三",
                       "at": "2026-07-01T02:00:00+00:00", "reason": "重大违法", "case_ref": "临卫罚〔2026〕9号", "active": True}],
        "dispute": {"status": None, "label": "无异议", "submission_id": None, "history": []},
        "exempt": False, "exemptions": [], "transfer": None,
    }
    return {**body, **changes}


def test_the_employer_page_shows_the_trace_in_words_every_version_and_who_changed_what(console):
    console.apis.answer("GET", "registry", f"/enterprises/{EMPLOYER}", 200, archive_of())
    console.apis.answer("GET", "registry", "/audit/chain/141029/verify", 200, {"region_code": "141029", "ok": True, "checked": 42, "first_broken": None})
    console.apis.answer("GET", "registry", f"/enterprises/{EMPLOYER}/portrait", 200, {
        "version": 2, "as_of": "2026-07-01", "reason": "处罚决定", "dimensions": [
            {"name": "enforcement", "title": "执法记录", "level": "high", "level_title": "高",
             "shortcomings": [{"code": "penalty", "text": "一年内受到行政处罚", "source": "执法", "since": "2026-07-01"}]},
            {"name": "training", "title": "培训", "level": "low", "level_title": "低", "shortcomings": []}]})
    browser = console.signed_in("county", "141029")

    page = browser.get(f"/enterprises/{EMPLOYER}")

    assert page.status_code == 200, page.text
    assert 'data-category="丙"' in page.text and "评估报告结果为 乙，经调整" in page.text
    effective = page.text.split('id="effective-trace"')[1].split("</ol>")[0]
    assert "评估报告 sub-2 的结果：乙类" in effective and "执法升级（升 1 级，案件 临卫罚〔2026〕9号）：乙类 → 丙类" in effective
    assert "<strong>附件3 类别矩阵</strong>：Ⅲ级 × B → 乙类" in page.text
    assert re.findall(r'data-version="(\d+)"', page.text) == ["2", "1"]  # every version, the newest first
    upgrade = page.text.split('data-kind="enforcement_upgrade"')[1].split("</tr>")[0]
    assert all(word in upgrade for word in ("执法升级", "乙 → 丙", "county 乡宁县 张三", "重大违法", "临卫罚〔2026〕9号"))
    assert 'data-chain="ok"' in page.text and "已校验 42 条记录" in page.text
    assert 'data-dimension="enforcement"' in page.text and '<span class="tag bad">高</span>' in page.text and "一年内受到行政处罚" in page.text
    for link in (f"/submissions?credit_code={EMPLOYER}", f"/cases?credit_code={EMPLOYER}", f"/rectifications?credit_code={EMPLOYER}"):
        assert f'href="{link}"' in page.text
    assert re.findall(r'<form method="post" action="([^"]+)"', page.text) == [
        "/logout", f"/enterprises/{EMPLOYER}/upgrade", f"/enterprises/{EMPLOYER}/dispute", f"/enterprises/{EMPLOYER}/exemptions"]


def test_an_employer_the_api_does_not_show_is_a_404_page_for_staff_and_for_another_employer(console):
    county = console.signed_in("county", "141029")
    page = county.get(f"/enterprises/{ELSEWHERE}")  # another county's employer: the registry answers 404
    assert page.status_code == 404 and "页面不存在，或不在您的权限范围内" in page.text
    assert console.apis.calls_to("registry", f"/enterprises/{ELSEWHERE}")  # the registry decided, with the person's token
    assert county.get("/enterprises/not-a-credit-code").status_code == 404  # never sent on
    employer = console.signed_in("employer", EMPLOYER)
    assert employer.get(f"/enterprises/{ELSEWHERE}").status_code == 404
    console.apis.answer("GET", "registry", f"/enterprises/{EMPLOYER}", 200, archive_of())
    own = employer.get(f"/enterprises/{EMPLOYER}")
    assert own.status_code == 200 and 'id="actions"' not in own.text and 'id="chain"' not in own.text  # its own page: no staff forms
    assert employer.get("/dashboard").status_code == 404 and employer.get("/enterprises").status_code == 404


def test_an_auditor_reads_every_page_of_its_region_and_is_offered_no_form(console):
    console.apis.answer("GET", "registry", f"/enterprises/{EMPLOYER}", 200,
                        archive_of(exempt=True, exemptions=[{"id": "x1", "valid_from": "2026-01-01", "valid_until": "2027-12-31", "reason": "信用 A",
                                                            "basis": "信用评价", "status": "in_force", "granted_by": "张三", "granted_at": "2026-01-01T00:00:00+00:00"}]))
    console.apis.answer("GET", "registry", "/enterprises", 200, {"total": 0, "limit": 50, "offset": 0, "items": []})
    auditor = console.signed_in("auditor", "141000")
    for path in (f"/enterprises/{EMPLOYER}", "/enterprises", "/dashboard"):
        page = auditor.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert re.findall(r'<form method="post" action="([^"]+)"', page.text) == ["/logout"], path
    assert "撤销免检" not in auditor.get(f"/enterprises/{EMPLOYER}").text
    token = csrf_of(page)
    refused = auditor.post(f"/enterprises/{EMPLOYER}/upgrade", data={"csrf_token": token, "reason": "x", "steps": "1"})
    assert refused.status_code == 404 and not console.apis.calls_to("registry", f"/enterprises/{EMPLOYER}/upgrade")
    assert auditor.get("/intake").status_code == 404 and auditor.get("/rules").status_code == 404


def test_an_upgrade_the_registry_refuses_shows_its_message_next_to_the_field(console):
    console.apis.answer("GET", "registry", f"/enterprises/{EMPLOYER}", 200, archive_of())
    console.apis.answer("POST", "registry", f"/enterprises/{EMPLOYER}/upgrade", 422, {
        "detail": "请求内容有误：请按 errors 所列字段及原因逐项更正", "code": "errors.request.invalid",
        "errors": [{"field": "body.reason", "code": "errors.field.required", "message": "必填，不能为空"}]})
    browser = console.signed_in("county", "141029")
    token = csrf_of(browser.get(f"/enterprises/{EMPLOYER}"))

    page = browser.post(f"/enterprises/{EMPLOYER}/upgrade", data={"csrf_token": token, "reason": "", "steps": "2", "case_ref": "临卫罚〔2026〕9号"})

    assert page.status_code == 422
    sent = json.loads(console.apis.calls_to("registry", f"/enterprises/{EMPLOYER}/upgrade")[0].content)
    assert sent == {"reason": "", "steps": 2, "case_ref": "临卫罚〔2026〕9号"}
    form = page.text.split('id="upgrade"')[1].split("</form>")[0]
    assert '<p class="problem" id="p-upgrade-reason" data-field="reason">必填，不能为空</p>' in form
    assert 'data-form="upgrade"' in form and "请按 errors 所列字段" in form  # the API's sentence above the form's fields
    assert 'value="临卫罚〔2026〕9号"' in form and '<option value="2" selected>' in form  # what was typed is kept
    others = page.text.split('id="exemption"')[1]
    assert "必填，不能为空" not in others  # the other forms' fields of the same name stay clean

    console.apis.answer("POST", "registry", f"/enterprises/{EMPLOYER}/upgrade", 201, {"credit_code": EMPLOYER, "category": "丙"})
    done = browser.post(f"/enterprises/{EMPLOYER}/upgrade", data={"csrf_token": token, "reason": "重大违法", "steps": "1"})
    assert done.status_code == 303 and done.headers["location"] == f"/enterprises/{EMPLOYER}?done=upgrade#upgrade"
    assert "已记录执法升级" in browser.get(done.headers["location"]).text
    assert browser.post(f"/enterprises/{EMPLOYER}/upgrade", data={"reason": "x"}).status_code == 403  # no CSRF token: nothing sent
    assert len(console.apis.calls_to("registry", f"/enterprises/{EMPLOYER}/upgrade")) == 2

    # a dispute from a page gone stale (disputed meanwhile): the registry's 409 said above the page, whose form is gone
    console.apis.answer("GET", "registry", f"/enterprises/{EMPLOYER}", 200,
                        archive_of(dispute={"status": "disputed", "label": "有异议", "submission_id": "sub-2", "history": []}))
    console.apis.answer("POST", "registry", f"/enterprises/{EMPLOYER}/dispute", 409, {
        "detail": "当前评估报告已有异议：请先记录现场核实结果", "code": "registry.dispute.refused.already_disputed", "errors": []})
    stale = browser.post(f"/enterprises/{EMPLOYER}/dispute", data={"csrf_token": token, "reason": "报告与现场不符"})
    assert stale.status_code == 409
    assert '<div class="alert problem" role="alert" data-form="dispute">当前评估报告已有异议：请先记录现场核实结果</div>' in stale.text
    assert 'id="dispute"' not in stale.text and 'id="verification"' in stale.text


# --------------------------------------------------------------------------- bulk intake


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(tmp_path, rows: list[dict[str, Any]]) -> bytes:
    """A 附件6 written by the project's own template writer (its example row stays, and is skipped), then filled in."""
    path = tmp_path / "附件6.xlsx"
    spreadsheets.write_template(path)
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    for r, row in enumerate(rows, start=3):  # under the example row (the template formats rows 2–1001 as dates and text)
        for c, title in enumerate(spreadsheets.TITLES, start=1):
            sheet.cell(row=r, column=c, value=row.get(title))
    book.save(path)
    return path.read_bytes()


def test_a_county_imports_a_workbook_with_progress_and_gets_the_rows_refused_in_an_error_file(console, tmp_path):
    api_refused = code(3)

    release: list[asyncio.Event] = []  # the assessment answers when the test has seen the job running

    async def batch(request: httpx.Request) -> httpx.Response:
        await release[0].wait()
        reports = json.loads(request.content)["reports"]
        results = [{"index": i, "status": "accepted"} if r["enterprise"]["credit_code"] != api_refused else
                   {"index": i, "status": "invalid", "detail": "报告内容有误",
                    "errors": [{"field": "hazards[0].exposed", "message": "接触人数30超过职工总数20"}]} for i, r in enumerate(reports)]
        return httpx.Response(200, json={"results": results, "totals": {}})

    console.apis.answer_with("POST", "assessment", "/reports:batch", batch)
    content = workbook(tmp_path, [good(1), good(2, 统一社会信用代码=bad_check_character(2)), good(3), good(4)])  # rows 3–6
    browser = console.signed_in("county", "141029")
    with anyio.from_thread.start_blocking_portal() as portal:  # one event loop for every request, as the server has: the job runs on it
        browser.portal = portal
        release.append(portal.call(asyncio.Event))
        token = csrf_of(browser.get("/intake"))
        started = browser.post("/intake", data={"csrf_token": token}, files={"file": ("乡宁县附件6.xlsx", content, XLSX)})
        assert started.status_code == 303, started.text
        job = started.headers["location"]
        first = browser.get(job)
        assert first.status_code == 200 and f'hx-get="{job}/progress"' in first.text  # the page polls while the job runs
        assert re.search(r'data-state="(reading|submitting)"', first.text) and "errors.xlsx" not in first.text
        assert browser.get(f"{job}/errors.xlsx").status_code == 404  # not before the job is done
        portal.call(release[0].set)
        deadline = time.monotonic() + 20
        while 'data-state="done"' not in (progress := browser.get(f"{job}/progress")).text:
            assert 'data-state="failed"' not in progress.text, progress.text
            assert time.monotonic() < deadline, progress.text
            time.sleep(0.05)
        errors = browser.get(f"{job}/errors.xlsx")
        listing = browser.get("/intake")
        browser.portal = None

    assert "hx-get" not in progress.text  # done: the polling stops
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)', progress.text))
    assert counts == {"read": "4", "valid": "3", "sent": "3", "new": "2", "already": "0", "rejected": "2"}
    assert errors.status_code == 200 and errors.headers["content-type"] == XLSX
    lines = list(openpyxl.load_workbook(io.BytesIO(errors.content)).worksheets[0].iter_rows(values_only=True))
    assert lines[0] == ("行号", "统一社会信用代码", "字段", "错误说明")
    assert [(row, credit, column) for row, credit, column, _ in lines[1:]] == [(4, bad_check_character(2), "统一社会信用代码"),
                                                                               (5, api_refused, "危害因素")]
    assert "校验码" in lines[1][3] and lines[2][3] == "第1项（矽尘）接触人数：接触人数30超过职工总数20"  # the CLI's words for a column
    sent = [r["enterprise"]["credit_code"] for c in console.apis.calls_to("assessment", "/reports:batch") for r in json.loads(c.content)["reports"]]
    assert sent == [code(1), code(3), code(4)]
    assert "乡宁县附件6.xlsx" in listing.text
    assert browser.get(f"{job}/progress").status_code == 200
    assert console.sign_in("county-141029").get(f"{job}/progress").status_code == 404  # another session's job: none of its business


def test_an_upload_that_is_no_workbook_is_refused_next_to_the_file_field(console):
    browser = console.signed_in("county", "141029")
    token = csrf_of(browser.get("/intake"))
    page = browser.post("/intake", data={"csrf_token": token}, files={"file": ("名单.csv", b"a,b\n", "text/csv")})
    assert page.status_code == 422
    assert '<p class="problem" id="p-file" data-field="file">“名单.csv”不是 .xlsx 或 .xls 文件' in page.text
    template = browser.get("/intake/template.xlsx")
    assert template.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(template.content)).worksheets[0].cell(1, 2).value == spreadsheets.TITLES[1]


# --------------------------------------------------------------------------- the rule data in force


def in_force(name: str, title: str, version: str, file: str | None, jurisdiction: str = "CN", provisional: bool | None = True) -> dict[str, Any]:
    """One rule set of GET /rules/in-force as a service answers it."""
    return {"name": name, "title": title, "missing": False, "jurisdiction": jurisdiction, "version": version, "effective_from": "2021-07-15",
            "provisional": provisional, "source": f"{title}的来源", "file": file}


def rules_answer(*rule_sets: dict[str, Any]) -> dict[str, Any]:
    return {"region_code": "141029", "on": "2026-12-01", "rule_sets": list(rule_sets)}


def test_the_province_sees_every_rule_set_in_force_for_a_county_per_service_and_a_service_down_blanks_its_rows_only(console):
    console.apis.answer("GET", "registry", "/reports/categories", 200, categories("140000", "山西省", ("141029", "乡宁县", 1, 2, 3)))
    console.apis.answer("GET", "assessment", "/rules/in-force", 200, rules_answer(
        in_force("classification", "分级分类规则（附件1–3）", "2022.1", "services/assessment/rules/national-2022.json"),
        in_force("deadlines", "评估期限", "2022.1", "services/assessment/rules/deadlines/national-2022.json", provisional=False)))
    console.apis.answer("GET", "registry", "/rules/in-force", 200, rules_answer(
        in_force("industry_catalogue", "行业分类目录", "2021.1", "services/registry/rules/industries-2021.json", provisional=None),
        in_force("portrait_rules", "风险画像规则", "2021.1", "/etc/ohs/rules/portrait/141029.json", jurisdiction="141029")))
    console.apis.answer("GET", "penalty", "/rules/in-force", 200, rules_answer(
        in_force("no_penalty_list", "不予处罚清单（附件5）", "2021.1+2022.1", None, jurisdiction="140000"),
        {"name": "discretion_baseline", "title": "裁量基准", "missing": True, "code": "errors.rules.none_in_force",
         "params": {"region_code": "141029", "on": "2026-12-01"}, "reason": "2026年12月1日没有适用于行政区划 141029 的此类规则数据"}))
    console.apis.answer("GET", "notification", "/rules/in-force", 200, rules_answer(
        in_force("notification_templates", "通知模板", "2026.2", "services/notification/rules/national-2026.json")))
    console.apis.down.add("sampling")
    browser = console.signed_in("province", "140000")

    page = browser.get("/rules", params={"on": "2026-12-01"})

    assert page.status_code == 200, page.text
    for service in ("assessment", "registry", "sampling", "penalty", "notification"):  # each asked once, for the first listed county
        assert [params_of(call) for call in console.apis.calls_to(service, "/rules/in-force")] == [{"region_code": "141029", "on": "2026-12-01"}]
    table = page.text.split('id="rules-in-force"')[1].split("</table>")[0]
    rows = {row.split('data-rule="')[1].split('"')[0]: row for row in table.split("<tr ")[1:] if 'data-rule="' in row}
    assert list(rows) == ["classification", "deadlines", "industry_catalogue", "portrait_rules", "no_penalty_list", "discretion_baseline",
                          "notification_templates"]  # one row per rule set, the services in the page's order
    assert "评估服务" in rows["deadlines"] and "2022.1" in rows["deadlines"] and "2021年7月15日" in rows["deadlines"]
    assert "<td>否</td>" in rows["deadlines"] and "<td>是</td>" in rows["classification"] and "<td>—</td>" in rows["industry_catalogue"]
    assert "<code>services/assessment/rules/deadlines/national-2022.json</code>" in rows["deadlines"]
    assert "<td>141029</td>" in rows["portrait_rules"] and "/etc/ohs/rules/portrait/141029.json" in rows["portrait_rules"]
    assert "国家（CN）" in rows["notification_templates"] and "通知模板的来源" in rows["notification_templates"]
    assert "2021.1+2022.1" in rows["no_penalty_list"] and "<td>140000</td>" in rows["no_penalty_list"]
    assert 'data-missing="discretion_baseline"' in rows["discretion_baseline"] and "没有适用于行政区划 141029 的此类规则数据" in rows["discretion_baseline"]
    down = table.split('<tr data-service="sampling">')[1].split("</tr>")[0]  # sampling down: its row names it, the others stand
    assert 'data-down="sampling"' in down and "抽查服务 (sampling)" in down and "暂时无法访问" in down
    assert 'id="rules-without-api"' not in page.text  # every kind of rule data has its API now

    # a county the services refuse: their message next to the county field, 422
    for service in ("assessment", "registry", "sampling", "penalty", "notification"):
        console.apis.answer("GET", service, "/rules/in-force", 422, {
            "detail": "请求内容有误", "code": "errors.region_code.not_county",
            "errors": [{"field": "region_code", "code": "errors.region_code.not_county", "message": "应为县级行政区划代码（如 141029）"}]})
    refused = browser.get("/rules", params={"county": "141000"})
    assert refused.status_code == 422
    assert '<p class="problem" data-field="county">应为县级行政区划代码（如 141029）</p>' in refused.text
    assert console.signed_in("city", "141000").get("/rules").status_code == 404
