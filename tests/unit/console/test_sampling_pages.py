"""双随机 in the console, for staff: a county creates a plan, draws it, sees its targets with their inspectors and
records a result — against the REAL sampling service (its app on SQLite, reached through the console's fake
transport), so what the console sends is what the sampling API accepts, and the pages show what it answers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from services.sampling.bootstrap import bootstrap as sampling_bootstrap
from services.sampling.service_layer.handlers import place_in_pool
from shared.contracts import ClassificationChanged
from shared.dates import china_today
from shared.identifiers import credit_code_check_character
from tests.support import app_without_broker, auth
from tests.unit.console.support import Console, bearer_claims, csrf_of

COUNTY = "141029"  # 乡宁县
ROSTER = {"inspectors": [{"id": f"xn-{k}", "name": f"检查员{k}"} for k in range(1, 5)]}


def code(n: int, region: str = COUNTY) -> str:
    body = f"91{region}MA{n:07d}"
    return body + credit_code_check_character(body)


class Forwarding(dict):
    """The console's fake routes, with every sampling call nobody answered by hand sent to the real sampling app."""

    def __init__(self, routes: dict, forward: Callable[[httpx.Request], httpx.Response]) -> None:
        super().__init__(routes)
        self.forward = forward

    def get(self, key: Any, default: Any = None) -> Any:
        found = super().get(key)
        return found if found is not None else (self.forward if key[1] == "sampling" else default)


def forward_to(sampling: TestClient) -> Callable[[httpx.Request], httpx.Response]:
    def respond(request: httpx.Request) -> httpx.Response:
        headers = {k: request.headers[k] for k in ("authorization", "content-type", "accept-language") if k in request.headers}
        answer = sampling.request(request.method, request.url.path, params=request.url.params, content=request.content, headers=headers)
        kept = {k: answer.headers[k] for k in ("content-type", "content-disposition") if k in answer.headers}
        return httpx.Response(answer.status_code, content=answer.content, headers=kept)

    return respond


@pytest.fixture
def sampling(tmp_path: Path) -> Iterator[TestClient]:
    """A sampling service with 30 employers of 乡宁县 in its pools (10 per category) and a roster of 4 inspectors."""
    app = app_without_broker(sampling_bootstrap, "sampling", tmp_path / "sampling")
    with app.state.runtime.uow() as uow:
        for n in range(1, 31):
            place_in_pool(uow, ClassificationChanged(
                producer="test", credit_code=code(n), enterprise_name=f"乡宁县示例企业{n}", region_code=COUNTY, archive_version=1,
                previous_category=None, category="甲乙丙"[n % 3], hazard_grade="Ⅲ", management_grade="B", submission_id=None,
                reason="test", industry_codes=["C3399"]))
        uow.commit()
    client = TestClient(app)
    assert client.put(f"/inspectors/{COUNTY}", json=ROSTER, headers=auth("county", COUNTY)).status_code == 200
    yield client
    app.state.runtime.engine.dispose()


@pytest.fixture
def wired(console: Console, sampling: TestClient) -> Console:
    """The console whose sampling calls reach the real sampling service (every call still recorded)."""
    console.apis.routes = Forwarding(console.apis.routes, forward_to(sampling))
    return console


def sent(console: Console, method: str, path: str) -> httpx.Request:
    return [c for c in console.apis.calls_to("sampling", path) if c.method == method][-1]


def test_a_county_creates_a_plan_draws_it_and_records_a_violation_found(wired: Console) -> None:
    county = wired.signed_in("county", COUNTY)
    page = county.get("/plans")
    assert page.status_code == 200 and 'id="plan-form"' in page.text and "还没有抽查计划" in page.text
    token = csrf_of(page)

    created = county.post("/plans", data={"csrf_token": token, "region_code": COUNTY, "period": "2026Q3", "ratios.丙": "0.5",
                                          "ratios.甲": "", "minimums.甲": "2", "inspectors_per_task": "2", "jia_non_site": "false",
                                          "exclusions": f"{code(3)} 停产\n"})
    assert created.status_code == 303, created.text[:2000]
    plan_id = created.headers["location"].removeprefix("/plans/")
    call = sent(wired, "POST", "/plans")
    assert json.loads(call.content) == {
        "region_code": COUNTY, "period": "2026Q3", "ratios": {"丙": "0.5"}, "minimums": {"甲": 2}, "inspectors_per_task": 2,
        "jia_non_site": False, "exclusions": [{"credit_code": code(3), "reason": "停产"}]}
    claims = bearer_claims(call)
    assert (claims["role"], claims["region"]) == ("county", COUNTY)  # the county's own token, not one of the console's

    listed = county.get("/plans")
    assert f'data-plan-id="{plan_id}" data-status="committed"' in listed.text
    committed = county.get(f"/plans/{plan_id}")
    commitment = re.search(r'<code id="commitment"[^>]*>([0-9a-f]{64})</code>', committed.text).group(1)  # type: ignore[union-attr]
    assert 'id="draw-button"' in committed.text and f"/public/plans/{plan_id}" in committed.text and "检查员3" in committed.text

    assert county.post(f"/plans/{plan_id}/draw", data={"csrf_token": token}).status_code == 303
    drawn = county.get(f"/plans/{plan_id}")
    assert 'data-status="drawn"' in drawn.text and 'id="draw-button"' not in drawn.text and commitment in drawn.text
    tasks = wired.apis.calls_to("sampling", "/tasks")[-1]
    assert tasks.url.params["plan_id"] == plan_id
    rows = re.findall(r'<tr id="task-([0-9a-f-]{36})" data-task-id="[^"]+" data-credit-code="([^"]+)">(.*?)</tr>', drawn.text, re.S)
    # 甲 10 (one excluded: 9) → at least 2; 乙 10 × 0.1 → 1; 丙 10 × 0.5 → 5
    assert len(rows) == 8 and code(3) not in {credit for _, credit, _ in rows}
    assert all(len(re.findall(r"检查员\d", cells)) == 2 for _, _, cells in rows)  # two inspectors each, by name

    task_id = rows[0][0]
    today = china_today()
    recorded = county.post(f"/plans/{plan_id}/tasks/{task_id}/result", data={
        "csrf_token": token, "outcome": "violations", "inspected_on": today.isoformat(), "reason": "",
        "violations[0].item_code": "70-4", "violations[0].harm": "none", "violations[0].description": "未公布检测结果",
        "violations[1].item_code": "", "violations[1].harm": "",  # an empty row: left out
        "violations[2].item_code": "72-1", "violations[2].harm": "serious", "violations[2].major": "true",
        "violations[2].rectification_deadline": (today + timedelta(days=30)).isoformat()})
    assert recorded.status_code == 303 and recorded.headers["location"] == f"/plans/{plan_id}#task-{task_id}"
    result = sent(wired, "POST", f"/tasks/{task_id}/result")
    assert json.loads(result.content) == {
        "outcome": "violations", "inspected_on": today.isoformat(),
        "violations": [{"item_code": "70-4", "harm": "none", "description": "未公布检测结果", "major": False},
                       {"item_code": "72-1", "harm": "serious", "rectification_deadline": (today + timedelta(days=30)).isoformat(),
                        "major": True}]}
    assert bearer_claims(result)["region"] == COUNTY
    after = county.get(f"/plans/{plan_id}")
    row = re.search(rf'<tr id="task-{task_id}".*?</tr>', after.text, re.S).group(0)  # type: ignore[union-attr]
    assert "发现违法行为" in row and "70-4" in row and "72-1" in row and 'action="/plans/' not in row
    total = re.search(r'<tr data-row="合计">(.*?)</tr>', after.text, re.S).group(1)  # type: ignore[union-attr]
    assert re.findall(r"<td>([^<]*)</td>", total) == ["29", "8", "1", "1", "0", "1", "27.6%", "12.5%", "100.0%"]  # pool, drawn, …

    # a second target: a bad item code in the form's third row is refused next to that row (the API said violations[0])
    other = rows[1][0]
    refused = county.post(f"/plans/{plan_id}/tasks/{other}/result", data={
        "csrf_token": token, "outcome": "violations", "inspected_on": today.isoformat(),
        "violations[2].item_code": "第七十条", "violations[2].harm": "minor"})
    assert refused.status_code == 422
    assert re.search(r'<p class="problem" id="p-[^"]+" data-field="violations\[2\]\.item_code">', refused.text)
    assert 'value="第七十条"' in refused.text  # what was typed is kept
    assert json.loads(sent(wired, "POST", f"/tasks/{other}/result").content)["violations"] == [
        {"item_code": "第七十条", "harm": "minor", "major": False}]


def test_a_refused_plan_shows_the_api_messages_next_to_the_fields_and_keeps_what_was_typed(wired: Console) -> None:
    county = wired.signed_in("county", COUNTY)
    token = csrf_of(county.get("/plans"))
    refused = county.post("/plans", data={"csrf_token": token, "region_code": COUNTY, "period": "2026Q5", "inspectors_per_task": "1"})
    assert refused.status_code == 422
    assert 'data-field="period"' in refused.text and 'data-field="inspectors_per_task"' in refused.text
    assert 'value="2026Q5"' in refused.text and 'id="plan-form"' in refused.text
    wrong_line = county.post("/plans", data={"csrf_token": token, "region_code": COUNTY, "period": "2026",
                                             "exclusions": f"{code(4)} 注销\n91141029MA0000001X 停产"})
    assert wrong_line.status_code == 422
    problem = re.search(r'data-field="exclusions">([^<]+)<', wrong_line.text).group(1)  # type: ignore[union-attr]
    assert "第 2 行" in problem and "第 1 行" not in problem
    elsewhere = county.post("/plans", data={"csrf_token": token, "region_code": "140105", "period": "2026"})
    assert elsewhere.status_code == 403 and 'class="alert problem"' in elsewhere.text  # the API's own sentence, above the form


def test_an_auditor_reads_plans_but_is_offered_no_form_and_cannot_post(wired: Console, sampling: TestClient) -> None:
    made = sampling.post("/plans", json={"region_code": COUNTY, "period": "2026"}, headers=auth("county", COUNTY)).json()
    assert sampling.post(f"/plans/{made['id']}/draw", headers=auth("county", COUNTY)).status_code == 201
    auditor = wired.signed_in("auditor", "141000")
    listed = auditor.get("/plans", params={"region_code": COUNTY})
    assert listed.status_code == 200 and made["id"] in listed.text and "<form method=\"post\"" not in listed.text.split("</header>")[1]
    page = auditor.get(f"/plans/{made['id']}")
    assert page.status_code == 200 and "检查员" in page.text
    assert "登记检查结果" not in page.text and 'id="draw-button"' not in page.text and 'id="plan-form"' not in page.text
    posted = auditor.post("/plans", data={"csrf_token": csrf_of(page), "region_code": COUNTY, "period": "2027"})
    assert posted.status_code == 404 and not [c for c in wired.apis.calls_to("sampling", "/plans") if c.method == "POST"]


def test_a_plan_outside_the_jurisdiction_is_a_missing_page_and_sampling_down_is_named(wired: Console, sampling: TestClient) -> None:
    elsewhere = sampling.post("/plans", json={"region_code": "141024", "period": "2026"}, headers=auth("county", "141024")).json()
    county = wired.signed_in("county", COUNTY)
    assert county.get(f"/plans/{elsewhere['id']}").status_code == 404
    assert county.get("/plans/not-a-plan").status_code == 404
    wired.apis.down.add("sampling")
    down = county.get("/plans")
    assert down.status_code == 200 and 'data-down="sampling"' in down.text and "抽查服务" in down.text
    assert county.get(f"/plans/{elsewhere['id']}").status_code == 503


def test_a_city_hands_a_plan_down_to_its_counties_and_draws_each_countys_plan(wired: Console) -> None:
    city = wired.signed_in("city", "141000")
    page = city.get("/plans")
    assert 'name="hand_down"' in page.text  # a county's form has no such box
    made = city.post("/plans", data={"csrf_token": csrf_of(page), "region_code": "141000", "period": "2026", "hand_down": "true"})
    assert made.status_code == 303 and json.loads(sent(wired, "POST", "/plans").content)["hand_down"] is True
    parent = city.get(made.headers["location"])
    assert 'data-status="handed_down"' in parent.text and 'id="draw-button"' not in parent.text
    [child] = re.findall(r'<td>141029</td><td><a href="/plans/([0-9a-f-]{36})">', parent.text)
    assert city.post(f"/plans/{child}/draw", data={"csrf_token": csrf_of(page)}).status_code == 303
    assert 'data-status="drawn"' in city.get(f"/plans/{child}").text
