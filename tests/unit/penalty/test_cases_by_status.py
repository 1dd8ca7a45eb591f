"""The dashboard's figures from penalty: a region's cases per status, and the nearest rectification deadlines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.penalty.bootstrap import bootstrap
from tests.support import app_without_broker, auth, new_credit_code
from tests.unit.penalty.test_procedure_http import COUNTY, ago


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("penalty-summary")
    app = app_without_broker(bootstrap, "penalty", folder)
    yield TestClient(app)
    app.state.runtime.engine.dispose()


def _case(client: TestClient, region: str = "141029") -> str:
    headers = auth("county", region)
    body = {"credit_code": new_credit_code(region), "item_code": "70-4", "found_on": ago(40), "harm": "none", "region_code": region}
    answer = client.post("/violations", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def test_cases_are_counted_per_status_and_the_nearest_deadlines_come_first(client: TestClient) -> None:
    opened = _case(client)
    early, late = _case(client), _case(client)
    for cid, ordered_on in ((early, ago(39)), (late, ago(5))):
        client.post(f"/cases/{cid}/education", json={"on": ordered_on, "content": "讲解培训义务"}, headers=COUNTY)
        assert client.post(f"/cases/{cid}/rectification-order", json={"ordered_on": ordered_on}, headers=COUNTY).status_code == 201
    _case(client, "141081")  # another county's case: not in 141029's figures

    summary = client.get("/reports/cases-by-status", headers=COUNTY).json()
    assert summary["counts"] == {"open": 1, "rectifying": 2} and summary["total"] == 3
    assert [c["id"] for c in summary["nearest"]] == [early, late]  # the earliest deadline (already passed) first
    assert opened not in [c["id"] for c in summary["nearest"]]
    city = client.get("/reports/cases-by-status", params={"region_code": "141000", "nearest": 1}, headers=auth("city", "141000")).json()
    assert city["total"] == 4 and len(city["nearest"]) == 1
    assert client.get("/reports/cases-by-status", params={"region_code": "141081"}, headers=COUNTY).status_code == 404
    assert client.get("/reports/cases-by-status", params={"nearest": 51}, headers=COUNTY).status_code == 422
    assert client.get("/reports/cases-by-status", headers=auth("employer")).status_code == 403
