"""Screenings through penalty's HTTP API (TestClient not entered: no Kafka; SQLite migrated by the service's
migrations): who sees which screening (a county its employers, an employer itself, others 404), a case
opened from a screening once (403 for an employer, 422 for a recommendation, 409 the second time), and
bad ids or parameters answered 422 naming the field."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.penalty.bootstrap import bootstrap
from services.penalty.service_layer import screening
from shared.contracts import RectificationProgressed
from shared.dates import china_today
from tests.support import EXAMPLE_EMPLOYER, app_without_broker, auth, new_credit_code
from tests.unit.penalty.test_screening import classified_on

XIANGNING = auth("county", "141029", name="乡宁县 张三")
HONGTONG = auth("county", "141024")
EMPLOYER = auth("employer")  # EXAMPLE_EMPLOYER, of 乡宁县
OTHER = new_credit_code("141024")  # an employer of 洪洞县
DAY = china_today() - timedelta(days=3)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("penalty-screening-http")
    app = app_without_broker(bootstrap, "penalty", folder)
    runtime = app.state.runtime
    with runtime.uow() as uow:
        screening.screen_report(uow, classified_on(DAY, EXAMPLE_EMPLOYER, lost=("4.3",), expired=("矽尘",), flags=("publicity_short",)),
                                app.state.rulebook)
        screening.screen_report(uow, classified_on(DAY, OTHER, lost=("4.3",), region="141024"), app.state.rulebook)
        uow.commit()
    yield TestClient(app)
    runtime.engine.dispose()


def listed(client: TestClient, headers: dict[str, str], **params: object) -> list[dict]:
    response = client.get("/screenings", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def of(client: TestClient, credit_code: str, code: str) -> dict:
    return next(i for i in listed(client, auth("province")) if i["credit_code"] == credit_code and i["shortcoming"]["code"] == code)


def test_a_county_sees_its_employers_screenings_an_employer_its_own_and_nobody_else_theirs(client: TestClient) -> None:
    mine = listed(client, XIANGNING)
    assert {i["credit_code"] for i in mine} == {EXAMPLE_EMPLOYER}
    assert [(i["shortcoming"]["code"], i["outcome"], i["item_code"]) for i in mine] == [
        ("checklist:4.3", "eligible_if_corrected", "70-1"), ("test_expired:矽尘", "not_eligible", None), ("publicity_short", "no_violation", None)]
    first = mine[0]
    assert set(first) >= {"id", "submission_id", "credit_code", "region_code", "screened_on", "shortcoming", "item_code", "provision_code",
                          "outcome", "deadline", "reasons", "earlier", "rectification_status", "corrected_on", "corrected_in_time",
                          "case_id", "case_code", "trace"}
    assert first["screened_on"] == DAY.isoformat() and first["deadline"] > DAY.isoformat() and first["trace"][0]["rule"] == "自报问题"
    assert [i["outcome"] for i in listed(client, XIANGNING, outcome="no_violation")] == ["no_violation"]
    assert len(listed(client, XIANGNING, limit=1, offset=1)) == 1
    assert {i["credit_code"] for i in listed(client, auth("city", "141000"))} == {EXAMPLE_EMPLOYER, OTHER}

    theirs = of(client, OTHER, "checklist:4.3")
    assert theirs["id"] not in {i["id"] for i in mine}
    assert client.get(f"/screenings/{theirs['id']}", headers=XIANGNING).status_code == 404
    assert client.get(f"/screenings/{first['id']}", headers=HONGTONG).status_code == 404
    assert client.get(f"/screenings/{first['id']}", headers=XIANGNING).json()["id"] == first["id"]

    assert {i["credit_code"] for i in listed(client, EMPLOYER)} == {EXAMPLE_EMPLOYER}
    assert listed(client, EMPLOYER, credit_code=OTHER) == []
    assert client.get(f"/screenings/{theirs['id']}", headers=EMPLOYER).status_code == 404
    assert client.get(f"/screenings/{first['id']}", headers=EMPLOYER).status_code == 200


def test_a_county_opens_a_case_from_a_screening_once_and_the_case_carries_its_trace(client: TestClient) -> None:
    found = of(client, EXAMPLE_EMPLOYER, "checklist:4.3")
    advice = of(client, EXAMPLE_EMPLOYER, "publicity_short")
    assert client.post(f"/screenings/{found['id']}/case", headers=EMPLOYER).status_code == 403
    assert client.post(f"/screenings/{found['id']}/case", headers=HONGTONG).status_code == 404
    refused = client.post(f"/screenings/{advice['id']}/case", headers=XIANGNING)
    assert refused.status_code == 422 and refused.json()["detail"].startswith("不构成违法，仅提出整改建议")
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [("screening_id", "penalty.error.nothing_to_open")]

    opened = client.post(f"/screenings/{found['id']}/case", headers=XIANGNING)

    assert opened.status_code == 201, opened.text
    case = opened.json()
    assert (case["item_code"], case["found_on"], case["harm"], case["deadline"]) == ("70-1", DAY.isoformat(), "none", found["deadline"])
    assert (case["status"], case["decision"]) == ("rectifying", None), "listed and first time: eligible, pending correction by the deadline"
    shown = client.get(case["links"]["case"], headers=XIANGNING).json()
    assert shown["screening"]["id"] == found["id"] and shown["screening"]["trace"] == found["trace"]
    assert f"的筛查 {found['id']}" in shown["timeline"][0]["detail"] and found["trace"][-1]["detail"] in shown["timeline"][0]["detail"]
    assert f"（报告 {found['submission_id']} 自报）" in shown["description"]
    now = client.get(f"/screenings/{found['id']}", headers=XIANGNING).json()
    assert (now["case_id"], now["case_code"]) == (case["id"], case["case_code"])

    again = client.post(f"/screenings/{found['id']}/case", headers=XIANGNING)
    assert again.status_code == 409 and case["case_code"] in again.json()["detail"]


def test_a_correction_cleared_in_time_shows_on_the_screening_and_the_case_from_it_is_not_penalised(client: TestClient) -> None:
    found = of(client, OTHER, "checklist:4.3")
    cleared = RectificationProgressed(
        producer="registry", credit_code=OTHER, item_id=uuid.uuid4(), region_code="141024", shortcoming_code="checklist:4.3",
        shortcoming_text=found["shortcoming"]["text"], submission_id=uuid.UUID(found["submission_id"]), screening_id=uuid.UUID(found["id"]),
        step="cleared", status="cleared", on=DAY + timedelta(days=2), deadline=date.fromisoformat(found["deadline"]),
        corrected_on=DAY + timedelta(days=1), corrected_in_time=True, actor="洪洞县 王五")
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with runtime.uow() as uow:
        screening.record_rectification(uow, cleared)
        uow.commit()

    now = client.get(f"/screenings/{found['id']}", headers=HONGTONG).json()
    assert (now["rectification_status"], now["corrected_on"], now["corrected_in_time"]) == ("cleared", (DAY + timedelta(days=1)).isoformat(), True)
    assert now["trace"][:-1] == found["trace"] and "→ 及时改正" in now["trace"][-1]["detail"]
    case = client.post(f"/screenings/{found['id']}/case", headers=HONGTONG).json()
    assert (case["region_code"], case["decision"], case["status"]) == ("141024", "no_penalty", "closed")


@pytest.mark.parametrize(("method", "url", "field"), [
    ("get", "/screenings/not-a-uuid", "screening_id"),
    ("post", "/screenings/not-a-uuid/case", "screening_id"),
    ("get", "/screenings?outcome=maybe", "outcome"),
    ("get", "/screenings?limit=0", "limit"),
    ("get", "/screenings?offset=-1", "offset"),
    ("get", "/screenings?credit_code=123", "credit_code"),
    ("get", f"/screenings?credit_code={'9' * 65}", "credit_code"),
])
def test_bad_ids_and_parameters_are_422_naming_the_field(client: TestClient, method: str, url: str, field: str) -> None:
    response = getattr(client, method)(url, headers=XIANGNING)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_the_openapi_declares_the_limits_of_every_parameter(client: TestClient) -> None:
    parameters = {p["name"]: p["schema"] for p in client.get("/openapi.json").json()["paths"]["/screenings"]["get"]["parameters"]}
    assert parameters["credit_code"]["anyOf"][0]["maxLength"] == 64
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 1000)
    assert parameters["offset"]["maximum"] == 1_000_000
    assert parameters["outcome"]["anyOf"][0]["enum"] == ["eligible_if_corrected", "not_eligible", "no_violation"]


def test_a_screening_follows_its_employer_to_the_county_the_archive_moves_it_to(tmp_path: Path) -> None:
    """A transfer (RULES §5a) hands the employer's open shortcomings on: the new county reads the screening and
    opens the case from it; the old county no longer reads it."""
    from services.penalty.service_layer import handlers
    from shared.contracts import ClassificationChanged

    app = app_without_broker(bootstrap, "penalty", tmp_path)
    runtime = app.state.runtime
    mover = new_credit_code("141029")
    with runtime.uow() as uow:
        screening.screen_report(uow, classified_on(DAY, mover, lost=("4.3",)), app.state.rulebook)
        handlers.record_archived_employer(uow, ClassificationChanged(
            producer="registry", credit_code=mover, enterprise_name="迁移企业", region_code="141024", archive_version=2,
            previous_category="乙", category="乙", hazard_grade="Ⅱ", management_grade="B", submission_id=None, reason="transfer accepted",
            changed=["region_code"]))
        uow.commit()
    client = TestClient(app)
    [moved] = listed(client, HONGTONG, credit_code=mover)
    assert (moved["region_code"], moved["screened_region_code"]) == ("141024", "141029")
    assert listed(client, XIANGNING, credit_code=mover) == []
    assert client.get(f"/screenings/{moved['id']}", headers=XIANGNING).status_code == 404
    assert client.post(f"/screenings/{moved['id']}/case", headers=XIANGNING).status_code == 404
    assert client.post(f"/screenings/{moved['id']}/case", headers=HONGTONG).status_code == 201
    runtime.engine.dispose()
