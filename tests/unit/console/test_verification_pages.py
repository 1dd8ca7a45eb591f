"""核查处置 in the console (issue 17): county staff see the verification tasks that online monitoring's exceedances
made for them, open one, see its exceedance and record its result with the drawn task's form — against the REAL
sampling service (tests/unit/console/test_sampling_pages.py's wiring), the monitoring service faked; the employer's
page shows its exceedance episodes and verification tasks, and a monitoring service that is down blanks that part
only. Auditors read and are offered no form."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

from services.sampling.service_layer.verification import open_verification_task
from shared.contracts.monitoring import ExceedanceDetected
from shared.dates import CHINA, china_today
from tests.support import auth
from tests.unit.console.support import Console, csrf_of
from tests.unit.console.test_archive_pages import archive_of
from tests.unit.console.test_sampling_pages import COUNTY, code, sampling, wired  # noqa: F401 - the fixtures

EMPLOYER = code(7)  # 乡宁县示例企业7, in the sampling fixture's pools


def exceedance(episode_id: str, started: datetime, status: str = "open") -> dict[str, Any]:
    """One episode as GET monitoring /exceedances answers it."""
    return {"episode_id": episode_id, "status": status, "device_id": "gw1:dust-03", "credit_code": EMPLOYER, "region_code": COUNTY,
            "factor": "矽尘", "kind": "dust", "post": "破碎岗", "measure": "peak", "limit": 2.0, "observed": 3.1, "unit": "mg/m³",
            "started_at": started.isoformat(), "ended_at": None, "shift_day": started.date().isoformat(), "evidence": [],
            "rule_set": {"jurisdiction": "CN", "version": "2026.1", "effective_from": "2026-01-01", "provisional": True}, "trace": []}


def verification(sampling_client: TestClient, started: datetime) -> tuple[str, str]:
    """An exceedance of EMPLOYER's dust device as the sampling service hears it: (episode id, the task it made)."""
    episode_id = uuid.uuid4()
    app = sampling_client.app
    with app.state.runtime.uow() as uow:  # type: ignore[attr-defined]
        open_verification_task(uow, ExceedanceDetected(
            producer="monitoring", credit_code=EMPLOYER, episode_id=episode_id, status="open", region_code=COUNTY,  # type: ignore[arg-type]
            device_id="gw1:dust-03", factor="矽尘", kind="dust", post="破碎岗", measure="peak", limit=2.0, unit="mg/m³",  # type: ignore[arg-type]
            observed=3.1, started_at=started, shift_day=started.date(), trace=[],
            rule_set={"jurisdiction": "CN", "version": "2026.1", "effective_from": "2026-01-01", "provisional": True}),  # type: ignore[arg-type]
            app.state.sampling_rules)  # type: ignore[attr-defined]
        uow.commit()
    listed = sampling_client.get("/tasks", params={"credit_code": EMPLOYER}, headers=auth("county", COUNTY)).json()["items"]
    [task] = [t for t in listed if t["episode_id"] == str(episode_id)]
    return str(episode_id), task["id"]


def test_a_county_sees_its_verification_tasks_overdue_marked_opens_one_and_records_a_violation_with_the_drawn_tasks_form(
        wired: Console, sampling: TestClient) -> None:  # noqa: F811
    late_episode, late = verification(sampling, datetime.now(CHINA) - timedelta(days=30))  # its deadline has passed
    episode_id, task_id = verification(sampling, datetime.now(CHINA) - timedelta(hours=2))
    wired.apis.answer("GET", "monitoring", "/exceedances", 200, {"items": [
        exceedance(episode_id, datetime.now(CHINA) - timedelta(hours=2)), exceedance(late_episode, datetime.now(CHINA) - timedelta(days=30), "closed")]})
    browser = wired.signed_in("county", COUNTY)

    listed = browser.get("/verifications")
    assert listed.status_code == 200, listed.text
    assert '<a href="/verifications">核查处置</a>' in listed.text  # in the navigation
    assert re.findall(r'<tr data-task-id="([^"]+)"', listed.text) == [late, task_id], "the nearest deadline first"
    [query] = {str(c.url.query, "ascii") for c in wired.apis.calls_to("sampling", "/tasks")}
    assert "region_code=141029" in query and "kind=verification" in query and "limit=50" in query
    late_row = listed.text.split(f'data-task-id="{late}"')[1].split("</tr>")[0]
    row = listed.text.split(f'data-task-id="{task_id}"')[1].split("</tr>")[0]
    assert 'data-overdue="true"' in late_row and "已逾期" in late_row and 'data-overdue' not in row
    assert all(word in row for word in ("乡宁县示例企业7", "矽尘", "破碎岗", "待核查", "检查员"))
    assert f'href="/verifications/{EMPLOYER}/{task_id}"' in row

    page = browser.get(f"/verifications/{EMPLOYER}/{task_id}")
    assert page.status_code == 200, page.text
    episode = page.text.split('id="episode"')[1].split("</section>")[0]
    assert f'data-episode-id="{episode_id}"' in episode and late_episode not in episode  # the task's own exceedance
    assert "3.1" in episode and "2.0" in episode and "峰值" in episode and "进行中" in episode
    [action] = re.findall(r'<form method="post" action="([^"]+)" class="result-form"', page.text)
    assert action == f"/verifications/{EMPLOYER}/{task_id}/result"
    assert f'href="/verifications/{EMPLOYER}/{task_id}?rows=10"' in page.text  # more rows: on this page, not a plan's

    # refused by the sampling API: its message beside the field, what was typed kept
    token = csrf_of(page)
    refused = browser.post(action, data={"csrf_token": token, "outcome": "violations", "inspected_on": str(china_today()),
                                         "violations[0].description": "粉尘浓度超标"})
    assert refused.status_code == 422, refused.text[:500]
    assert 'data-field="violations[0].item_code"' in refused.text and 'value="粉尘浓度超标"' in refused.text
    assert browser.post(action, data={"outcome": "compliant"}).status_code == 403, "no CSRF token: nothing done"

    recorded = browser.post(action, data={"csrf_token": token, "outcome": "violations", "inspected_on": str(china_today()),
                                          "violations[0].item_code": "70-4", "violations[0].harm": "none",
                                          "violations[0].description": "粉尘浓度超标，未采取有效防护措施"})
    assert recorded.status_code == 303 and recorded.headers["location"] == f"/verifications/{EMPLOYER}/{task_id}#result"
    sent = wired.apis.calls_to("sampling", f"/tasks/{task_id}/result")[-1]
    assert sent.read().decode().count("70-4") == 1
    done = browser.get(f"/verifications/{EMPLOYER}/{task_id}")
    result = done.text.split('id="result"')[1].split("</section>")[0]
    assert 'data-outcome="violations"' in result and "70-4" in result and "已移送执法" in result
    assert re.search(r'href="/cases/[0-9a-f-]{36}"', result) and "result-form" not in result
    after = browser.get("/verifications").text.split(f'data-task-id="{task_id}"')[1].split("</tr>")[0]
    assert "已登记结果" in after

    # an auditor reads, is offered no form, and cannot post one; an employer has no such pages
    auditor = wired.signed_in("auditor", COUNTY)
    read = auditor.get(f"/verifications/{EMPLOYER}/{late}")
    assert read.status_code == 200 and "result-form" not in read.text and "尚未登记" in read.text
    assert "登记结果</a>" not in auditor.get("/verifications").text
    assert auditor.post(f"/verifications/{EMPLOYER}/{late}/result", data={"csrf_token": csrf_of(read), "outcome": "compliant"}).status_code == 404
    assert browser.get(f"/verifications/{EMPLOYER}/not-a-task").status_code == 404
    assert browser.get(f"/verifications/{code(8)}/{task_id}").status_code == 404, "another employer's path: no such task"
    employer = wired.signed_in("employer", EMPLOYER)
    assert employer.get("/verifications").status_code == 404 and employer.get(f"/verifications/{EMPLOYER}/{task_id}").status_code == 404


def test_the_list_says_when_the_sampling_service_is_down_and_pages(console: Console) -> None:
    browser = console.signed_in("city", "141000")
    console.apis.down.add("sampling")
    page = browser.get("/verifications")
    assert page.status_code == 200 and 'data-down="sampling"' in page.text
    console.apis.down.clear()

    def listing(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        items = [{"id": f"t-{n}", "kind": "verification", "credit_code": EMPLOYER, "enterprise_name": "乡宁县示例企业7", "region_code": COUNTY,
                  "inspectors": [], "unassigned": {"code": "sampling.verification.unassigned.roster", "text": "检查人员不足"},
                  "status": "unassigned", "reason": {"code": "x", "text": "矽尘 峰值超标"}, "deadline": "2099-01-01"} for n in range(offset, offset + 2)]
        return httpx.Response(200, json={"region_code": "141000", "kind": "verification", "total": 120, "limit": 50, "offset": offset, "items": items})

    console.apis.answer_with("GET", "sampling", "/tasks", listing)
    second = browser.get("/verifications", params={"page": 2})
    assert second.status_code == 200 and 'data-task-id="t-50"' in second.text and "检查人员不足" in second.text and "待派员" in second.text
    assert "第 2 / 3 页" in second.text and 'rel="next"' in second.text
    assert browser.get("/verifications", params={"page": 0}).status_code == 422


def test_the_employer_page_shows_its_exceedances_and_verification_tasks_only_when_there_are_some(console: Console) -> None:
    credit_code = archive_of()["credit_code"]
    console.apis.answer("GET", "registry", f"/enterprises/{credit_code}", 200, archive_of())
    browser = console.signed_in("county", "141029")
    quiet = browser.get(f"/enterprises/{credit_code}")
    assert quiet.status_code == 200 and 'id="non-site"' not in quiet.text  # monitoring 404 (no devices), no tasks: nothing shown

    started = datetime(2026, 12, 1, 10, 0, tzinfo=CHINA)
    console.apis.answer("GET", "monitoring", "/exceedances", 200, {"items": [{**exceedance("ep-1", started), "credit_code": credit_code}]})
    console.apis.answer("GET", "sampling", "/tasks", 200, {"credit_code": credit_code, "items": [
        {"id": "drawn-1", "kind": "random", "status": "open", "inspectors": [], "deadline": None, "reason": None},
        {"id": "check-1", "kind": "verification", "status": "open", "deadline": "2026-12-01", "episode_id": "ep-1",
         "reason": {"code": "sampling.verification.reason.peak", "text": "在线监测：矽尘（破碎岗）峰值超标"},
         "inspectors": [{"id": "xn-1", "name": "检查员1"}, {"id": "xn-2", "name": "检查员2"}], "unassigned": None}]})
    page = browser.get(f"/enterprises/{credit_code}")
    section = page.text.split('id="non-site"')[1].split("</section>")[0]
    assert 'data-episode-id="ep-1"' in section and "3.1" in section and "2.0" in section and "破碎岗" in section
    assert "2026年12月1日" in section  # the shift day
    assert 'data-task-id="check-1"' in section and 'data-task-id="drawn-1"' not in section  # verification tasks only
    assert f'href="/verifications/{credit_code}/check-1"' in section and "检查员1" in section
    assert ('data-overdue="true"' in section) == ("2026-12-01" < china_today().isoformat())

    console.apis.down.add("monitoring")  # down: named in its place, the rest of the page (and the tasks) stands
    down = browser.get(f"/enterprises/{credit_code}")
    assert down.status_code == 200 and 'data-down="monitoring"' in down.text and "监测服务 (monitoring)" in down.text
    assert 'data-task-id="check-1"' in down.text and 'id="history"' in down.text and down.text.count("data-down=") == 1

    employer = console.signed_in("employer", credit_code)
    console.apis.down.clear()
    calls = len(console.apis.calls_to("sampling"))
    own = employer.get(f"/enterprises/{credit_code}")
    assert own.status_code == 200 and 'data-episode-id="ep-1"' in own.text and 'id="verification-tasks"' not in own.text
    assert len(console.apis.calls_to("sampling")) == calls, "an employer has no sampling reads: not asked"
