"""Devices, readings and episodes through the monitoring HTTP API (TestClient not entered: no Kafka; SQLite
migrated by the service's migrations). Registration is refused with a code naming the field; each reading of a batch
is answered accepted or refused with its code; everything is scoped by the data (another county's → 404)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support import auth, new_credit_code
from tests.unit.monitoring.world import know_employer, monitoring_app, published

E1 = new_credit_code("141029")  # 乡宁县 (临汾)
E2 = new_credit_code("140105")  # 小店区 (太原)
COUNTY, OTHER_COUNTY, PROVINCE = auth("county", "141029"), auth("county", "140105"), auth("province", "140000")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("monitoring-http")
    app = monitoring_app(folder)
    know_employer(app, E1, "141029")
    know_employer(app, E2, "140105")
    client = TestClient(app)
    yield client
    app.state.runtime.engine.dispose()


def device(device_id: str, credit_code: str = E1, factor: str = "矽尘", unit: str = "mg/m³", post: str = "破碎工位") -> dict[str, str]:
    return {"device_id": device_id, "credit_code": credit_code, "factor": factor, "post": post, "unit": unit}


def test_registration_names_what_is_wrong_and_is_scoped(client: TestClient) -> None:
    made = client.post("/devices", json=device("h-dust-1"), headers=COUNTY)
    assert made.status_code == 201, made.text
    assert made.json()["registered_by"].startswith("test county 141029") and made.json()["last_reading_at"] is None
    assert (made.json()["region_code"], made.json()["kind"], made.json()["readings"]) == ("141029", "dust", 0)
    assert client.post("/devices", json=device("h-dust-1"), headers=COUNTY).status_code == 201  # the same again: answered, not doubled
    assert client.post("/devices", json=device("h-noise-1", factor="噪声", unit="dB(A)"), headers=auth("employer", E1)).status_code == 201

    def refused(body: dict[str, str], headers: dict[str, str], status: int) -> tuple[str, str | None]:
        answer = client.post("/devices", json=body, headers=headers)
        assert answer.status_code == status, answer.text
        errors = answer.json()["errors"]
        return answer.json()["code"], errors[0]["field"] if errors else None

    assert refused(device("h-x", factor="石棉尘"), COUNTY, 422) == ("monitoring.error.factor_unknown", "factor")
    assert refused(device("h-x", unit="mg/L"), COUNTY, 422) == ("monitoring.error.unit_mismatch", "unit")
    assert refused(device("h-x", credit_code=new_credit_code("141029")), COUNTY, 404) == ("monitoring.error.employer_not_found", "credit_code")
    assert refused(device("h-x", credit_code=E2), COUNTY, 404) == ("monitoring.error.employer_not_found", "credit_code")  # another county's
    assert refused(device("h-x"), auth("employer", E2), 404)[0] == "monitoring.error.employer_not_found"  # another employer
    assert refused(device("h-dust-1", post="别处"), COUNTY, 409) == ("monitoring.error.device_exists", "device_id")
    assert refused(device("h-x", credit_code="not-a-code"), COUNTY, 422)[1] == "credit_code"
    assert client.post("/devices", json=device("bad id!"), headers=COUNTY).status_code == 422
    assert client.post("/devices", json=device("h-x"), headers=auth("auditor", "141000")).status_code == 403

    assert [d["device_id"] for d in client.get("/devices", params={"credit_code": E1}, headers=PROVINCE).json()["items"]] == ["h-dust-1", "h-noise-1"]
    assert client.get("/devices", params={"credit_code": E1}, headers=OTHER_COUNTY).status_code == 404
    assert client.get("/devices/h-dust-1", headers=auth("employer", E1)).json()["factor"] == "矽尘"
    assert client.get("/devices/h-dust-1", headers=OTHER_COUNTY).status_code == 404
    assert client.get("/devices/h-dust-1", headers=auth("employer", E2)).status_code == 404
    assert client.get("/devices/nothing-here", headers=PROVINCE).status_code == 404


def test_each_reading_is_accepted_or_refused_with_its_code(client: TestClient) -> None:
    client.post("/devices", json=device("h-dust-2"), headers=COUNTY)
    client.post("/devices", json=device("h-far", credit_code=E2), headers=auth("county", "140105"))
    batch = [
        {"device_id": "h-dust-2", "at": "2026-11-03T08:00:00+08:00", "value": 0.4},
        {"device_id": "h-dust-2", "at": "2026-11-03T08:01:00+08:00", "value": 0.6, "unit": "mg/m³"},
        {"device_id": "no-such-device", "at": "2026-11-03T08:01:00+08:00", "value": 0.6},
        {"device_id": "h-dust-2", "at": "2026-11-03T08:02:00+08:00", "value": 0.6, "unit": "ppm"},
        {"device_id": "h-dust-2", "at": "2026-11-03T08:02:00+08:00", "value": 5000.0},
        {"device_id": "h-dust-2", "at": "2026-11-03T08:00:30+08:00", "value": 0.5},
        {"device_id": "h-dust-2", "at": "2026-11-03T00:01:00Z", "value": 0.5},  # 08:01 China: the same instant again
        {"device_id": "h-far", "at": "2026-11-03T08:00:00+08:00", "value": 0.5},  # 太原's device, a 乡宁 token
        {"device_id": "h-dust-2", "at": "2026-11-03T08:02:00+08:00", "value": 2.5},  # over the peak (2)
    ]
    answer = client.post("/readings:batch", json={"readings": batch}, headers=COUNTY)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["accepted"], body["refused"]) == (3, 6)
    assert [(i["index"], i["status"], i["code"], i["field"]) for i in body["items"]] == [
        (0, "accepted", None, None),
        (1, "accepted", None, None),
        (2, "refused", "monitoring.reading.unknown_device", "device_id"),
        (3, "refused", "monitoring.reading.unit_mismatch", "unit"),
        (4, "refused", "monitoring.reading.out_of_range", "value"),
        (5, "refused", "monitoring.reading.out_of_order", "at"),
        (6, "refused", "monitoring.reading.duplicate_instant", "at"),
        (7, "refused", "monitoring.reading.unknown_device", "device_id"),
        (8, "accepted", None, None),
    ]
    assert client.get("/devices/h-dust-2", headers=COUNTY).json()["readings"] == 3
    # the province's gateway sends for every county of the province
    far = client.post("/readings:batch", json={"readings": [batch[7]]}, headers=PROVINCE).json()
    assert far["accepted"] == 1

    [episode] = client.get("/exceedances", params={"credit_code": E1}, headers=COUNTY).json()["items"]
    assert (episode["device_id"], episode["measure"], episode["status"], episode["observed"]) == ("h-dust-2", "peak", "open", 2.5)
    assert episode["trace"][0]["code"] == "monitoring.trace.peak" and episode["rule_set"]["version"] == "2019.1"
    assert client.get("/exceedances", params={"credit_code": E1}, headers=OTHER_COUNTY).status_code == 404
    assert client.get("/exceedances", params={"credit_code": E1}, headers=auth("employer", E1)).json()["items"][0]["episode_id"] == episode["episode_id"]
    assert [e["episode_id"] for e in published(client.app) if e["status"] == "open"] == [episode["episode_id"]]


def test_a_batch_is_bounded_and_typed_and_sent_by_staff(client: TestClient) -> None:
    reading = {"device_id": "h-dust-2", "at": "2026-11-03T09:00:00+08:00", "value": 0.5}
    too_many = client.post("/readings:batch", json={"readings": [reading] * 10_001}, headers=PROVINCE)
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "readings"
    naive = client.post("/readings:batch", json={"readings": [dict(reading, at="2026-11-03T09:00:00")]}, headers=PROVINCE)
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"].startswith("readings")
    assert client.post("/readings:batch", json={"readings": [dict(reading, value="NaN")]}, headers=PROVINCE).status_code == 422
    assert client.post("/readings:batch", json={"readings": [reading]}, headers=auth("employer", E1)).status_code == 403
    assert client.post("/readings:batch", json={"readings": []}, headers=PROVINCE).status_code == 422


def test_the_limits_in_force_are_listed(client: TestClient) -> None:
    answer = client.get("/rules/in-force", params={"region_code": "141029", "on": "2026-11-03"}, headers=COUNTY).json()
    [limits] = answer["rule_sets"]
    assert (limits["name"], limits["version"], limits["provisional"]) == ("monitoring_limits", "2019.1", True)
    assert limits["file"] == "services/monitoring/rules/limits-national-2019.json"
