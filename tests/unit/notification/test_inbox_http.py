"""The web inbox and the contacts through the notification service's HTTP API (TestClient not entered: no
Kafka; SQLite migrated by the service's migrations). An employer reads its own notifications; a county its
county's mailbox; a city or province the mailboxes of its counties; anything else answers 404 (an auditor
403). Read marks are each reader's own. Bad contacts are 422 naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.notification.adapters.rules import load_templates
from services.notification.bootstrap import bootstrap
from services.notification.service_layer import handlers
from shared.migrations import upgrade
from shared.settings import settings_for
from tests.support import TEST_AUTH_SECRET, auth, new_credit_code
from tests.unit.notification.events import portrait, rectification, reminder

TEMPLATES = load_templates()
E1, E2, E3 = new_credit_code("141029"), new_credit_code("141081"), new_credit_code("140105")  # 乡宁县, 侯马市 (临汾), 小店区 (太原)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("notification-http")
    app = bootstrap(settings_for("notification", data_dir=folder, auth_secret=TEST_AUTH_SECRET), create_topics=False)
    upgrade("notification", app.state.runtime.engine)
    with app.state.runtime.uow() as uow:  # what the consumers would have made of the registry's events
        handlers.notify_rectification_progressed(uow, rectification(E1, "raised", region_code="141029"), templates=TEMPLATES)
        handlers.notify_portrait_changed(uow, portrait(E2, "侯马示例机械厂", region_code="141081"), templates=TEMPLATES)
        handlers.notify_reminder_due(uow, reminder(E3, "太原示例电子厂", region_code="140105"), templates=TEMPLATES)
        uow.commit()
    yield TestClient(app)
    app.state.runtime.engine.dispose()


def inbox(client: TestClient, headers: dict[str, str], **params: object) -> dict:
    response = client.get("/inbox", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_each_reader_sees_the_mailboxes_of_its_scope_and_its_own_read_marks(client: TestClient) -> None:
    employer, county, city, province = auth("employer", E1), auth("county", "141029"), auth("city", "141000"), auth("province", "140000")

    mine = inbox(client, employer)
    assert (mine["unread"], mine["total"], len(mine["items"])) == (1, 1, 1)
    [item] = mine["items"]
    assert item["subject"].startswith("新的整改事项：检测结果未公布") and item["read_at"] is None
    assert item["source_topic"] == "ohs.registry.rectification-progressed" and item["link"].startswith("/rectifications/")
    assert set(item) >= {"id", "subject", "body", "link", "created_at", "read_at", "source_topic"}

    county_items = inbox(client, county)["items"]
    assert [(i["recipient_kind"], i["credit_code"]) for i in county_items] == [("county", E1)]
    assert {i["credit_code"] for i in inbox(client, city)["items"]} == {E1, E2}  # its two counties, not 太原's
    assert {i["credit_code"] for i in inbox(client, province)["items"]} == {E1, E2, E3}
    assert inbox(client, auth("employer", E2))["items"][0]["kind"] == "portrait_changed"

    # a notification outside the caller's mailboxes answers 404, like one that does not exist
    hidden = next(i["id"] for i in inbox(client, city)["items"] if i["credit_code"] == E2)
    assert client.post(f"/inbox/{hidden}/read", headers=county).status_code == 404
    assert client.post(f"/inbox/{county_items[0]['id']}/read", headers=employer).status_code == 404  # the county's copy
    assert client.post("/inbox/no-such-notification/read", headers=county).status_code == 404

    read = client.post(f"/inbox/{county_items[0]['id']}/read", headers=county)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    again = client.post(f"/inbox/{county_items[0]['id']}/read", headers=county).json()
    assert again["read_at"] == read.json()["read_at"]  # the first read counts
    assert inbox(client, county)["unread"] == 0 and inbox(client, county, unread="true")["items"] == []
    assert inbox(client, city)["unread"] == 2  # the city's reader has not read it: marks are each reader's own
    assert inbox(client, employer)["unread"] == 1

    assert client.get("/inbox", headers=auth("auditor", "141000")).status_code == 403
    paged = inbox(client, province, limit=1, offset=1)
    assert len(paged["items"]) == 1 and paged["total"] == 3
    refused = client.get("/inbox", params={"limit": 5000}, headers=province)
    assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["limit"]


def test_contacts_are_set_by_the_employer_and_by_staff_for_their_counties(client: TestClient) -> None:
    employer = auth("employer", E1)
    bad = client.put("/contacts/me", json={"email": "zhang san@example"}, headers=employer)
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["email"]
    too_long = client.put("/contacts/me", json={"email": "a" * 250 + "@x.cn"}, headers=employer)
    assert too_long.status_code == 422 and [e["field"] for e in too_long.json()["errors"]] == ["email"]
    bad_phone = client.put("/contacts/me", json={"phone": "138-0013-8000"}, headers=employer)
    assert bad_phone.status_code == 422 and [e["field"] for e in bad_phone.json()["errors"]] == ["phone"]
    assert client.put("/contacts/me", json={"fax": "1"}, headers=employer).status_code == 422

    put = client.put("/contacts/me", json={"email": "anquan@example.cn", "phone": "+8613800138000"}, headers=employer)
    assert put.status_code == 200, put.text
    assert client.get("/contacts/me", headers=employer).json()["email"] == "anquan@example.cn"
    assert client.get("/contacts/me", headers=auth("county", "141029")).status_code == 403  # staff have county mailboxes

    county = auth("county", "141029")
    assert client.put("/contacts/regions/141029", json={"email": "jianguan@example.cn"}, headers=county).status_code == 200
    assert client.put("/contacts/regions/141081", json={"email": "x@example.cn"}, headers=county).status_code == 404  # another county
    assert client.put("/contacts/regions/141081", json={"email": "houma@example.cn"}, headers=auth("city", "141000")).status_code == 200
    assert client.get("/contacts/regions/140105", headers=auth("city", "141000")).status_code == 404
    assert client.get("/contacts/regions/141081", headers=auth("province", "140000")).json()["email"] == "houma@example.cn"
    not_county = client.put("/contacts/regions/141000", json={"email": "x@example.cn"}, headers=auth("city", "141000"))
    assert not_county.status_code == 422 and not_county.json()["errors"][0]["field"] == "region_code"
    assert client.put("/contacts/regions/141029", json={}, headers=employer).status_code == 403
    cleared = client.put("/contacts/regions/141029", json={"email": None}, headers=county).json()
    assert (cleared["email"], cleared["phone"]) == (None, None)
