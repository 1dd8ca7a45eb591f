"""A jurisdiction's verification tasks (核查处置), for the county's work list: ``GET /tasks?region_code=&kind=verification``
— a county, its city or its province; those still to do first by nearest deadline, the recorded ones after; paged with
declared limits; staff and auditors inside the jurisdiction, everyone else 404."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.sampling.bootstrap import bootstrap
from services.sampling.service_layer.verification import open_verification_task
from shared.contracts.monitoring import ExceedanceDetected
from shared.dates import CHINA, china_today
from shared.identifiers import credit_code_check_character
from tests.support import app_without_broker, auth

COUNTY, NEIGHBOUR = "141024", "141029"  # 洪洞县 and 乡宁县, both of 临汾市 141000
STAFF = auth("county", COUNTY, name="洪洞县 张三")
ROSTER = {"inspectors": [{"id": f"hd-{k}", "name": f"检查员{k}"} for k in range(1, 5)]}


def code(n: int, region: str = COUNTY) -> str:
    body = f"91{region}MA{n:07d}"
    return body + credit_code_check_character(body)


def episode(credit_code: str, region: str, day: int) -> ExceedanceDetected:
    started = datetime(2026, 9, day, 10, 0, tzinfo=CHINA)
    return ExceedanceDetected(
        producer="monitoring", credit_code=credit_code, episode_id=uuid.uuid4(), status="open", region_code=region,  # type: ignore[arg-type]
        device_id=f"gw:{credit_code[-6:]}", factor="矽尘", kind="dust", post="破碎岗", measure="peak", limit=2.0, unit="mg/m³",  # type: ignore[arg-type]
        observed=3.1, started_at=started, shift_day=started.date(),
        rule_set={"jurisdiction": "CN", "version": "2026.1", "effective_from": "2026-01-01", "provisional": True},  # type: ignore[arg-type]
        trace=[])


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    app = app_without_broker(bootstrap, "sampling", tmp_path)
    client = TestClient(app)
    for region in (COUNTY, NEIGHBOUR):
        assert client.put(f"/inspectors/{region}", json=ROSTER, headers=auth("county", region)).status_code == 200
    with app.state.runtime.uow() as uow:  # 洪洞县: exceedances begun on the 21st, 7th, 14th; 乡宁县: the 10th
        for n, day in ((1, 21), (2, 7), (3, 14)):
            open_verification_task(uow, episode(code(n), COUNTY, day), app.state.sampling_rules)
        open_verification_task(uow, episode(code(4, NEIGHBOUR), NEIGHBOUR, 10), app.state.sampling_rules)
        uow.commit()
    yield app
    app.state.runtime.engine.dispose()


def listed(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    return client.get("/tasks", params={"kind": "verification", **params}, headers=headers)


def test_a_county_lists_its_verification_tasks_nearest_deadline_first_the_recorded_last_and_its_city_sees_both_counties(app: Any) -> None:
    client = TestClient(app)
    page = listed(client, STAFF, region_code=COUNTY)
    assert page.status_code == 200, page.text
    body = page.json()
    assert (body["total"], body["limit"], body["offset"]) == (3, 50, 0)
    assert [t["credit_code"] for t in body["items"]] == [code(2), code(3), code(1)], "nearest deadline first"
    deadlines = [t["deadline"] for t in body["items"]]
    assert deadlines == sorted(deadlines) and len(set(deadlines)) == 3
    first = body["items"][0]
    assert (first["kind"], first["status"], first["plan_id"], len(first["inspectors"])) == ("verification", "open", None, 2)
    assert "矽尘" in first["reason"]["text"]

    # the nearest one is done: it goes to the end, the others move up
    result = {"outcome": "compliant", "inspected_on": str(china_today())}
    assert client.post(f"/tasks/{first['id']}/result", json=result, headers=STAFF).status_code == 201
    after = listed(client, STAFF, region_code=COUNTY).json()["items"]
    assert [(t["credit_code"], t["status"]) for t in after] == [(code(3), "open"), (code(1), "open"), (code(2), "recorded")]
    assert after[-1]["result"]["outcome"] == "compliant"

    # paged: the second of one per page
    second = listed(client, STAFF, region_code=COUNTY, limit=1, offset=1).json()
    assert (second["total"], [t["credit_code"] for t in second["items"]]) == (3, [code(1)])

    # the city (and its auditor) read both counties; the drawn tasks are another kind
    city = listed(client, auth("city", "141000"), region_code="141000").json()
    assert city["total"] == 4 and {t["region_code"] for t in city["items"]} == {COUNTY, NEIGHBOUR}
    assert listed(client, auth("auditor", "141000"), region_code=COUNTY).json()["total"] == 3
    assert client.get("/tasks", params={"region_code": COUNTY, "kind": "random"}, headers=STAFF).json()["total"] == 0


def test_outside_the_jurisdiction_it_answers_404_and_bad_queries_name_their_field(app: Any) -> None:
    client = TestClient(app)
    for headers in (auth("county", NEIGHBOUR), auth("auditor", NEIGHBOUR), auth("province", "330000")):
        refused = listed(client, headers, region_code=COUNTY)
        assert refused.status_code == 404 and refused.json()["code"] == "sampling.error.region_tasks_not_found", refused.text
    assert listed(client, auth("employer", code(1)), region_code=COUNTY).status_code == 403, "employers have no sampling reads at all"
    assert listed(client, STAFF, region_code="141000").status_code == 404, "a county does not read its city"
    for params, field in (({"region_code": "14102"}, "region_code"), ({"region_code": COUNTY, "limit": 201}, "limit"),
                          ({"region_code": COUNTY, "offset": -1}, "offset"), ({"region_code": COUNTY, "kind": "other"}, "kind")):
        refused = listed(client, STAFF, **params)
        assert refused.status_code == 422 and field in refused.json()["errors"][0]["field"], refused.text
    both = client.get("/tasks", params={"region_code": COUNTY, "credit_code": code(1)}, headers=STAFF)
    assert both.status_code == 422 and both.json()["code"] == "sampling.error.tasks_query"
