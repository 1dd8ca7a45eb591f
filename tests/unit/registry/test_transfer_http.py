"""Moves between counties through the registry's HTTP API (RULES §5a; TestClient not entered: no
Kafka; SQLite migrated by the registry's migrations): who sees a pending transfer, who decides it,
what an accepted move leaves behind, and the employer that names a region outside the platform."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from services.registry.bootstrap import bootstrap
from services.registry.service_layer import chain_log
from services.registry.service_layer.handlers import archive_classification
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared import topics
from shared.migrations import upgrade
from shared.settings import settings_for
from tests.unit.registry.test_override_handlers import classified
from tests.unit.registry.test_override_http import REPORTED, SECRET, header, outbox

uow_of = RegistryUnitOfWork.joining

XIANGNING, HONGTONG = header("county", "141029", "乡宁县 张三"), header("county", "141024", "洪洞县 李四")
HOUMA, LINFEN, EMPLOYER = header("county", "141081", "侯马市 王五"), header("city", "141000", "临汾市 赵六"), header("employer", REPORTED)
HONGTONG_AUDITOR = header("auditor", "141024")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = bootstrap(settings_for("registry", data_dir=tmp_path, auth_secret=SECRET), create_topics=False)
    runtime = app.state.runtime
    upgrade("registry", runtime.engine)

    async def no_broker() -> int:
        return 0

    runtime.relay.flush = no_broker
    report(TestClient(app), "141029", date(2026, 6, 1))  # archived in 乡宁县
    yield TestClient(app)
    runtime.engine.dispose()


def report(client: TestClient, region: str, assessed_on: date, category: str = "乙") -> str:
    """A classified report of the employer naming ``region``, as the registry consumes it (with the app's region tree)."""
    event = classified(category, assessed_on, code=REPORTED, region=region).model_copy(update={"submission_id": uuid4()})
    app = client.app
    with Session(app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        archive_classification(uow_of(session), event, app.state.regions)  # type: ignore[attr-defined]
        session.commit()
    return str(event.submission_id)


def archive(client: TestClient, headers: dict[str, str]) -> tuple[int, dict]:
    response = client.get(f"/enterprises/{REPORTED}", headers=headers)
    return response.status_code, response.json()


def listed(client: TestClient, headers: dict[str, str], **params: str) -> list[tuple[str, str, str]]:
    response = client.get("/transfers", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [(t["credit_code"], t["direction"], t["status"]) for t in response.json()["items"]]


def test_an_employer_moves_when_the_receiving_county_accepts(client: TestClient) -> None:
    submission = report(client, "141024", date(2027, 6, 1))

    # 乡宁县 keeps the employer, and sees the move it asked for
    status, seen = archive(client, XIANGNING)
    assert status == 200 and seen["region_code"] == "141029"
    transfer = seen["transfer"]
    assert {k: transfer[k] for k in ("from", "to", "submission_id", "status")} == {
        "from": "141029", "to": "141024", "submission_id": submission, "status": "pending"}
    assert transfer["requested_at"]
    # 洪洞县 (staff and auditor) sees it while it is pending; 侯马市 does not
    assert archive(client, HONGTONG)[0] == 200 and archive(client, HONGTONG_AUDITOR)[0] == 200
    assert archive(client, HOUMA)[0] == 404
    assert listed(client, XIANGNING) == [(REPORTED, "outgoing", "pending")]
    assert listed(client, HONGTONG) == [(REPORTED, "incoming", "pending")]
    assert listed(client, LINFEN) == [(REPORTED, "within", "pending")]
    assert listed(client, HOUMA) == []
    assert archive(client, EMPLOYER)[1]["transfer"]["status"] == "pending", "the employer sees what it asked"

    # 乡宁县 does not decide, 侯马市 cannot see it, an auditor is not staff
    assert client.post(f"/enterprises/{REPORTED}/transfer", json={"decision": "accept"}, headers=XIANGNING).status_code == 403
    assert client.post(f"/enterprises/{REPORTED}/transfer", json={"decision": "accept"}, headers=HOUMA).status_code == 404
    assert client.post(f"/enterprises/{REPORTED}/transfer", json={"decision": "accept"}, headers=HONGTONG_AUDITOR).status_code == 403
    assert client.post(f"/enterprises/{REPORTED}/transfer", json={"decision": "accept"}, headers=EMPLOYER).status_code == 403

    accepted = client.post(f"/enterprises/{REPORTED}/transfer", json={"decision": "accept", "reason": "已核实"}, headers=HONGTONG)

    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert (body["region_code"], body["transfer"]["status"], body["transfer"]["decided_by"]) == (
        "141024", "accepted", "洪洞县 李四 (county 141024, u-county)")
    assert archive(client, HONGTONG)[1]["region_code"] == "141024"
    assert archive(client, XIANGNING)[0] == 404, "no longer 乡宁县's"
    assert listed(client, XIANGNING) == [(REPORTED, "outgoing", "accepted")], "乡宁县 still sees where it went"
    moved = json.loads(outbox(client, topics.CLASSIFICATION_CHANGED)[-1])
    assert (moved["region_code"], moved["changed"], moved["archive_version"]) == ("141024", ["region_code"], body["archive_version"])
    with Session(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        arrived = chain_log.region_entries(session, "141024")
        left = chain_log.region_entries(session, "141029")[-1]
        assert [e.change for e in arrived] == ["archived"] and left.change == "region_left"
        assert chain_log.verify_region(session, "141024").ok and chain_log.verify_region(session, "141029").ok
    assert client.post(f"/enterprises/{REPORTED}/transfer", json={"decision": "accept"}, headers=HONGTONG).status_code == 409


def test_a_refusal_needs_its_reason_and_both_counties_see_it(client: TestClient) -> None:
    report(client, "141024", date(2027, 6, 1))

    no_reason = client.post(f"/enterprises/{REPORTED}/transfer", json={"decision": "refuse"}, headers=HONGTONG)
    assert no_reason.status_code == 422 and [e["field"] for e in no_reason.json()["errors"]] == ["reason"]
    bad = client.post(f"/enterprises/{REPORTED}/transfer", json={"decision": "move"}, headers=HONGTONG)
    assert bad.status_code == 422 and "decision" in bad.text

    refused = client.post(f"/enterprises/{REPORTED}/transfer", json={"decision": "refuse", "reason": "生产场所仍在乡宁县"}, headers=HONGTONG)

    assert refused.status_code == 200 and refused.json()["region_code"] == "141029"
    assert archive(client, XIANGNING)[1]["transfer"]["reason"] == "生产场所仍在乡宁县"
    assert archive(client, HONGTONG)[0] == 404, "nothing pending: out of 洪洞县's scope again"
    assert listed(client, HONGTONG, status="refused") == [(REPORTED, "incoming", "refused")]


def test_an_employer_naming_a_region_outside_the_platform_stays_in_its_county(client: TestClient) -> None:
    report(client, "110101", date(2027, 6, 1))

    status, seen = archive(client, XIANGNING)
    assert status == 200 and seen["region_code"] == "141029"
    assert seen["transfer"]["status"] == "refused" and "地区 110101 不是本平台的县级地区" in seen["transfer"]["reason"]
    assert archive(client, header("county", "110101"))[0] == 404
    assert client.post(f"/enterprises/{REPORTED}/transfer", json={"decision": "accept"}, headers=header("county", "110101")).status_code == 404


def test_the_transfer_list_is_for_staff_and_auditors_inside_their_jurisdiction(client: TestClient) -> None:
    assert client.get("/transfers", params={"region_code": "141024"}, headers=XIANGNING).status_code == 403
    assert client.get("/transfers", headers=EMPLOYER).status_code == 403
    assert client.get("/transfers", params={"region_code": "14102"}, headers=XIANGNING).status_code == 422
    assert client.get("/transfers", params={"status": "lost"}, headers=XIANGNING).status_code == 422
