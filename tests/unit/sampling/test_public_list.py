"""The list of published draws (一公开), ``GET /publications``, with no token (TestClient, no lifespan, SQLite):
only drawn plans, newest first, filtered by region and period, paged, disclosing nothing a publication does not;
bad input is a 422 naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.sampling.bootstrap import bootstrap
from services.sampling.service_layer.handlers import place_in_pool
from shared.contracts import ClassificationChanged
from shared.identifiers import credit_code_check_character
from tests.support import app_without_broker, auth

CITY = auth("city", "141000", name="临汾市 李四")
HONGDONG, XIANGNING = "141024", "141029"  # 洪洞县, 乡宁县
ITEM_KEYS = {"plan_id", "region_code", "period", "published_at", "targets", "algorithm_version", "links"}


def code(n: int, region: str) -> str:
    body = f"91{region}MA{n:07d}"
    return body + credit_code_check_character(body)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = app_without_broker(bootstrap, "sampling", tmp_path)
    runtime = app.state.runtime
    with runtime.uow() as uow:
        for region, size in ((HONGDONG, 40), (XIANGNING, 12)):
            for n in range(1, size + 1):
                place_in_pool(uow, ClassificationChanged(
                    producer="test", credit_code=code(n, region), enterprise_name=f"企业 {region}-{n}", region_code=region,
                    archive_version=1, previous_category=None, category="甲乙丙"[n % 3], hazard_grade="Ⅲ", management_grade="B",
                    submission_id=None, reason="test", industry_codes=["C3399"]))
        uow.commit()
    client = TestClient(app)
    for region in (HONGDONG, XIANGNING):
        roster = {"inspectors": [{"id": f"{region}-{k}", "name": f"检查员{k}"} for k in range(1, 4)]}
        assert client.put(f"/inspectors/{region}", json=roster, headers=CITY).status_code == 200
    yield client
    runtime.engine.dispose()


def plan(client: TestClient, region: str, period: str, **body: Any) -> str:
    response = client.post("/plans", json={"region_code": region, "period": period, **body}, headers=CITY)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def draw(client: TestClient, plan_id: str) -> dict[str, Any]:
    response = client.post(f"/plans/{plan_id}/draw", headers=CITY)
    assert response.status_code == 201, response.text
    return response.json()


def listed(client: TestClient, **query: Any) -> dict[str, Any]:
    response = client.get("/publications", params=query)  # no token
    assert response.status_code == 200, response.text
    return response.json()


def test_the_public_sees_only_drawn_plans_newest_first_and_nothing_the_publications_do_not_disclose(client: TestClient) -> None:
    assert listed(client) == {"region_code": None, "period": None, "total": 0, "limit": 50, "offset": 0, "items": []}

    first = plan(client, HONGDONG, "2026")
    draw(client, first)
    plan(client, HONGDONG, "2026Q2")  # committed, never drawn: its seed is secret, it is not published
    handed_down = client.post("/plans", json={"region_code": "141000", "period": "2026Q1", "hand_down": True}, headers=CITY).json()
    children = {c["region_code"]: c["id"] for c in handed_down["children"]}
    draw(client, children[XIANGNING])  # the 洪洞县 child stays committed; the city's own plan never has a draw
    last = plan(client, XIANGNING, "2027", minimums={"甲": 20})  # a minimum above the pool: all of that category
    draw(client, last)

    page = listed(client)
    assert page["total"] == 3
    assert [i["plan_id"] for i in page["items"]] == [last, children[XIANGNING], first], "newest draw first"
    for item in page["items"]:
        assert set(item) == ITEM_KEYS
        publication = client.get(item["links"]["publication"]).json()  # what the public may already read
        assert publication["status"] == "drawn"
        assert (item["region_code"], item["period"], item["algorithm_version"]) == (
            publication["plan"]["region_code"], publication["plan"]["period"], publication["algorithm_version"])
        assert item["targets"] == len(publication["draw"]["targets"]) > 0
        assert datetime.fromisoformat(item["published_at"]) == datetime.fromisoformat(publication["draw"]["drawn_at"])
    assert page["items"][0]["targets"] == 4 + 1 + 2, "乡宁县 2027: all 4 甲 (minimum 20 > 4), ceil(0.1×4) 乙, ceil(0.3×4) 丙"
    secrets = {p["id"]: p for p in (client.get(f"/plans/{plan_id}", headers=CITY).json()
                                    for plan_id in (first, children[XIANGNING], last))}
    text = str(page)
    assert not any(p["draw"]["seed"] in text or p["draw"]["pool_hash"] in text for p in secrets.values())
    assert "企业" not in text and "检查员" not in text, "no employer or inspector in the list: the publication has them"


def test_the_list_is_filtered_by_region_and_period_and_paged(client: TestClient) -> None:
    drawn = {}
    for region, period in ((HONGDONG, "2026Q1"), (XIANGNING, "2026Q1"), (HONGDONG, "2026Q3"), (XIANGNING, "2027")):
        drawn[region, period] = plan(client, region, period)
        draw(client, drawn[region, period])

    def ids(**query: Any) -> list[str]:
        return [i["plan_id"] for i in listed(client, **query)["items"]]

    assert ids(region_code=HONGDONG) == [drawn[HONGDONG, "2026Q3"], drawn[HONGDONG, "2026Q1"]]
    assert ids(region_code="141000") == ids(region_code="140000") == ids() and len(ids()) == 4, "a city or province: its counties"
    assert ids(period="2026") == [drawn[HONGDONG, "2026Q3"], drawn[XIANGNING, "2026Q1"], drawn[HONGDONG, "2026Q1"]], "a year: its quarters"
    assert ids(period="2026Q1", region_code=XIANGNING) == [drawn[XIANGNING, "2026Q1"]]
    assert ids(region_code="141021") == [], "曲沃县 has published nothing"

    every = ids()
    pages = [listed(client, limit=3, offset=0), listed(client, limit=3, offset=3)]
    assert [p["total"] for p in pages] == [4, 4] and [p["limit"] for p in pages] == [3, 3]
    assert [i["plan_id"] for p in pages for i in p["items"]] == every
    assert listed(client, offset=4)["items"] == [] and listed(client, limit=200)["total"] == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [({"region_code": "14102"}, "region_code"), ({"region_code": "990000"}, "region_code"), ({"region_code": "1" * 13}, "region_code"),
     ({"period": "2026Q5"}, "period"), ({"limit": 201}, "limit"), ({"limit": 0}, "limit"), ({"offset": -1}, "offset"),
     ({"offset": 1_000_001}, "offset"), ({"limit": "many"}, "limit")],
)
def test_bad_input_is_a_422_naming_the_field(client: TestClient, query: dict[str, Any], field: str) -> None:
    response = client.get("/publications", params=query)
    assert response.status_code == 422, response.text
    body = response.json()
    assert [e["field"] for e in body["errors"]] == [field] and body["detail"]
