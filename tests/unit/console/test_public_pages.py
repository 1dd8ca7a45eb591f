"""一公开 in the console, with no sign-in: the list of published draws and the publication of one draw, which carries
the publication exactly as the sampling service returned it for the browser to verify (public-plan.js). The draws
are made by the REAL sampling service (its app on SQLite, reached through the console's fake transport)."""

from __future__ import annotations

import copy
import json
import re

import pytest
from fastapi.testclient import TestClient

from tests.support import auth
from tests.unit.console.support import Console
from tests.unit.console.test_sampling_pages import COUNTY, sampling, wired  # noqa: F401  (fixtures: the real sampling service)

PUBLICATION_SCRIPT = re.compile(r'<script type="application/json" id="publication">(.*?)</script>', re.S)


def drawn_plan(sampling: TestClient, period: str) -> str:  # noqa: F811
    made = sampling.post("/plans", json={"region_code": COUNTY, "period": period}, headers=auth("county", COUNTY))
    assert made.status_code == 201, made.text
    assert sampling.post(f"/plans/{made.json()['id']}/draw", headers=auth("county", COUNTY)).status_code == 201
    return made.json()["id"]


def embedded(page_text: str) -> object:
    """The publication in the page's JSON script element, parsed back as the browser's script will."""
    [found] = PUBLICATION_SCRIPT.findall(page_text)
    return json.loads(found)


@pytest.fixture
def reader(wired: Console) -> TestClient:  # noqa: F811
    return wired.browser()  # nobody signed in


def test_anyone_lists_the_published_draws_and_opens_one_that_verifies_itself_in_the_browser(
        wired: Console, sampling: TestClient, reader: TestClient) -> None:  # noqa: F811
    first, second = drawn_plan(sampling, "2026Q1"), drawn_plan(sampling, "2026Q2")
    committed = sampling.post("/plans", json={"region_code": COUNTY, "period": "2026Q3"}, headers=auth("county", COUNTY)).json()["id"]

    listed = reader.get("/public/plans")
    assert listed.status_code == 200 and "登录" in listed.text
    rows = re.findall(r'<tr data-plan-id="([^"]+)">', listed.text)
    assert rows == [second, first]  # newest first; a plan not yet drawn is not listed
    call = wired.apis.calls_to("sampling", "/publications")[-1]
    assert "authorization" not in call.headers and (call.url.params["limit"], call.url.params["offset"]) == ("20", "0")
    reader.get("/public/plans", params={"region_code": COUNTY, "page": 3})
    call = wired.apis.calls_to("sampling", "/publications")[-1]
    assert (call.url.params["region_code"], call.url.params["offset"]) == (COUNTY, "40")

    page = reader.get(f"/public/plans/{first}")
    published = sampling.get(f"/plans/{first}/publication").json()
    assert page.status_code == 200 and embedded(page.text) == published  # exactly what the API returned
    assert "authorization" not in wired.apis.calls_to("sampling", f"/plans/{first}/publication")[-1].headers
    assert '<p id="verify-outcome" data-verify-result="pending"' in page.text and '<button id="verify-again" type="button">' in page.text
    assert page.text.count('<script type="module" src="/static/js/public-plan.js"></script>') == 1
    assert "不采用服务器的核验结论" in page.text and published["commitment"] in page.text and published["draw"]["seed"] in page.text
    for target in published["draw"]["targets"]:  # readable tables: every target with its inspectors
        row = re.search(rf'<tr data-credit-code="{target["credit_code"]}">(.*?)</tr>', page.text, re.S).group(1)  # type: ignore[union-attr]
        assert target["enterprise_name"] in row and all(i["name"] in row for i in target["inspectors"])

    as_json = reader.get(f"/public/plans/{first}.json")
    assert as_json.status_code == 200 and as_json.content == sampling.get(f"/plans/{first}/publication").content
    xlsx = reader.get(f"/public/plans/{first}.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK" and "spreadsheetml" in xlsx.headers["content-type"]
    assert ".xlsx" in xlsx.headers["content-disposition"]

    before = reader.get(f"/public/plans/{committed}")  # its commitment is public before the draw; nothing to verify yet
    assert before.status_code == 200 and 'id="not-drawn"' in before.text
    assert sampling.get(f"/plans/{committed}/publication").json()["commitment"] in before.text
    assert not PUBLICATION_SCRIPT.search(before.text) and "public-plan.js" not in before.text


def test_a_name_that_closes_the_script_element_cannot_break_out_of_it(wired: Console, sampling: TestClient,
                                                                     reader: TestClient) -> None:  # noqa: F811
    plan_id = drawn_plan(sampling, "2026")
    tampered = copy.deepcopy(sampling.get(f"/plans/{plan_id}/publication").json())
    tampered["draw"]["targets"][0]["enterprise_name"] = '</script><script>alert("x")</script>&<!--'
    wired.apis.answer("GET", "sampling", f"/plans/{plan_id}/publication", 200, tampered)
    page = reader.get(f"/public/plans/{plan_id}")
    assert page.status_code == 200 and embedded(page.text) == tampered
    assert '<script>alert(' not in page.text and "&lt;/script&gt;&lt;script&gt;alert(" in page.text  # shown as text in the table


def test_an_unknown_plan_is_a_missing_page_a_bad_filter_is_named_and_sampling_down_is_said(
        wired: Console, reader: TestClient) -> None:  # noqa: F811
    missing = reader.get("/public/plans/0b6f3f0e-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and "页面不存在" in missing.text
    assert reader.get("/public/plans/0b6f3f0e-0000-4000-8000-000000000000.json").status_code == 404
    calls = len(wired.apis.calls)
    assert reader.get("/public/plans/a.b?c").status_code == 404 and len(wired.apis.calls) == calls  # no such id: never sent on
    refused = reader.get("/public/plans", params={"region_code": "99"})
    assert refused.status_code == 422 and re.search(r'<p class="problem" id="p-region_code" data-field="region_code">', refused.text)
    assert 'value="99"' in refused.text
    wired.apis.down.add("sampling")
    down = reader.get("/public/plans")
    assert down.status_code == 503 and "抽查服务" in down.text
    assert reader.get("/public/plans/0b6f3f0e-0000-4000-8000-000000000000").status_code == 503
