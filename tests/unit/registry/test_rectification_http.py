"""The rectification loop through the registry's HTTP API (TestClient not entered: no Kafka; SQLite
migrated; attachments on the local disk under the data folder): the employer corrects with a real PDF
and a PNG, the county accepts; bad attachments are refused naming why with nothing stored; who may
see and do what."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from services.registry.adapters.orm_rectification import RectificationStepRecord, RectificationSubmission
from services.registry.bootstrap import bootstrap
from services.registry.service_layer.handlers import archive_classification
from services.registry.service_layer.rectification import raise_from_screening
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.contracts import RuleSetRef, ScreeningRecorded, ScreeningResult, Shortcoming, TraceEntry
from shared.dates import china_today
from shared.db import OutboxMessage
from shared.migrations import upgrade
from shared.settings import settings_for
from tests.support import TEST_AUTH_SECRET, auth, new_credit_code
from tests.unit.registry.test_override_handlers import classified

MAX_BYTES = 64 * 1024
MAX_FILES = 3
COUNTY = auth("county", "141029", name="乡宁县 张三")


def a_pdf(text: str) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


def a_png() -> bytes:
    """A real 1×1 white PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = settings_for("registry", data_dir=tmp_path, auth_secret=TEST_AUTH_SECRET, attachment_max_bytes=MAX_BYTES,
                            attachment_max_files=MAX_FILES)
    app = bootstrap(settings, create_topics=False)
    upgrade("registry", app.state.runtime.engine)

    async def no_broker() -> int:
        return 0

    app.state.runtime.relay.flush = no_broker
    yield TestClient(app)
    app.state.runtime.engine.dispose()


def item_for(client: TestClient, credit_code: str, shortcoming: str = "checklist:4.3", region: str = "141029") -> str:
    """An employer archived in ``region`` with one item raised from a screening of today."""
    app: Any = client.app
    event = ScreeningRecorded(
        producer="penalty", credit_code=credit_code, submission_id=uuid4(), region_code=region, screened_on=china_today(),
        results=[ScreeningResult(screening_id=uuid4(), shortcoming=Shortcoming(code=shortcoming, kind="checklist", subject="4.3",
                                                                               text="自查表 4.3 检测结果公布: 得分 0 / 3"),
                                 outcome="eligible_if_corrected", item_code="70-1", provision_code="70-1", deadline=china_today() + timedelta(days=20),
                                 trace=[TraceEntry(rule="附件5 CN 2021.1", detail="70-1 listed, first time")])],
        rule_set=RuleSetRef(jurisdiction="CN", version="2021.1", effective_from=china_today() - timedelta(days=1000), provisional=True),
    )
    with Session(app.state.runtime.engine) as session:
        uow = RegistryUnitOfWork.joining(session)
        archive_classification(uow, classified("乙", china_today() - timedelta(days=10), code=credit_code, region=region))
        (item_id,) = raise_from_screening(uow, event, app.state.rectification_rules)
        session.commit()
    return item_id


def attachments_folder(client: TestClient) -> Path:
    return client.app.state.runtime.settings.data_dir / "attachments"  # type: ignore[attr-defined]


def stored_files(client: TestClient) -> list[Path]:
    return [p for p in attachments_folder(client).rglob("*") if p.is_file()] if attachments_folder(client).exists() else []


def rows(client: TestClient, model: type, item_id: str) -> list[Any]:
    with Session(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        return list(session.exec(select(model).where(model.item_id == item_id)))


def announced(client: TestClient, item_id: str) -> list[dict[str, Any]]:
    with Session(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        messages = session.exec(select(OutboxMessage).where(OutboxMessage.topic == "ohs.registry.rectification-progressed"))
        return [e for e in (json.loads(m.payload) for m in messages) if e["item_id"] == item_id]


def test_the_employer_corrects_with_a_pdf_and_a_png_and_the_county_accepts_it(client: TestClient) -> None:
    code = new_credit_code()
    employer = auth("employer", code)
    item_id = item_for(client, code)
    (listed,) = client.get("/rectifications", headers=employer).json()["items"]
    assert (listed["id"], listed["status"], listed["outcome"], listed["item_code"]) == (item_id, "open", "eligible_if_corrected", "70-1")
    assert listed["shortcoming"] == {"code": "checklist:4.3", "kind": "checklist", "subject": "4.3", "text": "自查表 4.3 检测结果公布: 得分 0 / 3"}
    assert client.get("/rectifications", params={"credit_code": code}, headers=COUNTY).json()["items"] == [listed]

    pdf, png = a_pdf("检测结果已公布 JC-N-1"), a_png()
    sent = client.post(f"/rectifications/{item_id}/submission", headers=employer, data={"text": "检测结果已在公告栏公布并报送"},
                       files=[("files", ("公告栏照片说明.pdf", pdf, "application/pdf")), ("files", ("photo.png", png, "image/png"))])
    assert sent.status_code == 201, sent.text
    shown = sent.json()
    assert shown["status"] == "submitted" and [s["step"] for s in shown["history"]] == ["raised", "submitted"]
    (submission,) = shown["submissions"]
    assert submission["text"] == "检测结果已在公告栏公布并报送" and submission["submitted_on"] == china_today().isoformat()
    assert [(a["n"], a["filename"], a["content_type"], a["size"], a["sha256"]) for a in submission["attachments"]] == [
        (1, "公告栏照片说明.pdf", "application/pdf", len(pdf), hashlib.sha256(pdf).hexdigest()),
        (2, "photo.png", "image/png", len(png), hashlib.sha256(png).hexdigest()),
    ]
    assert sorted(p.name for p in stored_files(client)) == sorted([hashlib.sha256(pdf).hexdigest(), hashlib.sha256(png).hexdigest()])

    # the county downloads what the employer sent, byte for byte, as an attachment the browser will not sniff
    for n, (content, kind) in enumerate([(pdf, "application/pdf"), (png, "image/png")], start=1):
        got = client.get(f"/rectifications/{item_id}/attachments/{n}", headers=COUNTY)
        assert got.status_code == 200, got.text
        assert got.content == content and hashlib.sha256(got.content).hexdigest() == submission["attachments"][n - 1]["sha256"]
        assert got.headers["content-type"] == kind and got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E5%85%AC%E5%91%8A" in client.get(f"/rectifications/{item_id}/attachments/1", headers=employer).headers["content-disposition"]
    assert client.get(f"/rectifications/{item_id}/attachments/3", headers=COUNTY).status_code == 404

    # a second correction while one awaits review: 409; the employer cannot review its own
    again = client.post(f"/rectifications/{item_id}/submission", headers=employer, data={"text": "再次提交"})
    assert again.status_code == 409 and again.json()["code"] == "errors.rectification.awaits_review" and "等待审核" in again.json()["detail"]
    assert client.post(f"/rectifications/{item_id}/review", json={"decision": "accept"}, headers=employer).status_code == 403
    no_reason = client.post(f"/rectifications/{item_id}/review", json={"decision": "return"}, headers=COUNTY)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"

    accepted = client.post(f"/rectifications/{item_id}/review", json={"decision": "accept", "reason": "现场核实已公布"}, headers=COUNTY)
    assert accepted.status_code == 200, accepted.text
    final = accepted.json()
    assert final["status"] == "cleared" and [s["step"] for s in final["history"]] == ["raised", "submitted", "cleared"]
    cleared = final["history"][-1]
    assert (cleared["corrected_on"], cleared["corrected_in_time"]) == (china_today().isoformat(), True)
    assert cleared["actor"].startswith("乡宁县 张三 (county 141029")
    assert final["submissions"][0]["review"]["decision"] == "accepted"
    events = announced(client, item_id)
    assert [(e["step"], e["status"]) for e in events] == [("raised", "open"), ("submitted", "submitted"), ("cleared", "cleared")]
    assert [a["sha256"] for a in events[1]["attachments"]] == [a["sha256"] for a in submission["attachments"]]
    assert (events[2]["corrected_in_time"], events[2]["actor"]) == (True, "乡宁县 张三 (county 141029, test-county-141029)")

    late = client.post(f"/rectifications/{item_id}/review", json={"decision": "accept"}, headers=COUNTY)
    assert late.status_code == 409 and late.json()["code"] == "errors.rectification.review_cleared" and "已解除" in late.json()["detail"]
    assert client.post(f"/rectifications/{item_id}/submission", headers=employer, data={"text": "x"}).status_code == 409


def _too_many() -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (f"p{i}.png", a_png(), "image/png")) for i in range(MAX_FILES + 1)]


@pytest.mark.parametrize(("files", "field", "why"), [
    pytest.param(lambda: [("files", ("培训记录.exe", b"MZ\x90\x00", "application/octet-stream"))], "files[0]",
                 ("不接受类型 application/octet-stream", "type application/octet-stream is not allowed"), id="wrong type"),
    pytest.param(lambda: [("files", ("ok.png", a_png(), "image/png")), ("files", ("big.pdf", b"%PDF-1.4\n" + b"0" * MAX_BYTES, "application/pdf"))],
                 "files[1]", (f"大于 {MAX_BYTES} 字节", f"larger than {MAX_BYTES} bytes"), id="too big"),
    pytest.param(lambda: [("files", ("培训记录.pdf", b"GIF89a not a pdf at all", "application/pdf"))], "files[0]",
                 ("声明为 application/pdf，但内容不是 PDF", "declared application/pdf but the content is not a PDF"), id="a .pdf that is not a PDF"),
    pytest.param(_too_many, "files", (f"共 {MAX_FILES + 1} 个文件：每次整改最多可附 {MAX_FILES} 个", f"{MAX_FILES + 1} files: at most {MAX_FILES}"),
                 id="too many files"),
    pytest.param(lambda: [("files", ("../../etc/passwd.pdf", a_pdf("x"), "application/pdf"))], "files[0]", ("文件名不能含有 /", "may not contain /"),
                 id="a path"),
])
def test_a_bad_attachment_is_refused_naming_why_and_nothing_is_stored(client: TestClient, files: Any, field: str, why: tuple[str, str]) -> None:
    """Each problem names its field and why, with its code: in Chinese by default, in English on request."""
    code = new_credit_code()
    item_id = item_for(client, code)
    refused = client.post(f"/rectifications/{item_id}/submission", headers=auth("employer", code), data={"text": "已整改"}, files=files())
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert (body["code"], body["detail"]) == ("errors.attachments.refused", "附件未被接受：未保存任何内容")
    assert any(e["field"] == field and e["code"].startswith("registry.attachment.") and why[0] in e["message"] for e in body["errors"]), body["errors"]
    english = client.post(f"/rectifications/{item_id}/submission", headers={**auth("employer", code), "Accept-Language": "en"},
                          data={"text": "已整改"}, files=files()).json()
    assert any(e["field"] == field and why[1] in e["message"] for e in english["errors"]), english["errors"]
    assert stored_files(client) == [], "no file on disk"
    assert [s.step for s in rows(client, RectificationStepRecord, item_id)] == ["raised"] and rows(client, RectificationSubmission, item_id) == []
    assert [e["step"] for e in announced(client, item_id)] == ["raised"]
    assert client.get(f"/rectifications/{item_id}", headers=COUNTY).json()["status"] == "open"


def test_the_text_is_required_and_bounded(client: TestClient) -> None:
    code = new_credit_code()
    item_id = item_for(client, code)
    for text in ["", "x" * 2001]:
        refused = client.post(f"/rectifications/{item_id}/submission", headers=auth("employer", code), data={"text": text})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "text", refused.text


def test_each_sees_only_what_is_in_its_reach(client: TestClient) -> None:
    code, stranger = new_credit_code(), new_credit_code()
    item_id = item_for(client, code)
    elsewhere = item_for(client, new_credit_code("141024"), region="141024")
    employer, other_employer = auth("employer", code), auth("employer", stranger)

    # another employer: as if the item did not exist
    assert client.get(f"/rectifications/{item_id}", headers=other_employer).status_code == 404
    assert client.post(f"/rectifications/{item_id}/submission", headers=other_employer, data={"text": "x"}).status_code == 404
    assert client.get("/rectifications", params={"credit_code": code}, headers=other_employer).status_code == 404
    assert client.get("/rectifications", headers=other_employer).json()["items"] == []
    assert client.post(f"/rectifications/{uuid4()}/submission", headers=employer, data={"text": "x"}).status_code == 404

    # the county of another region: 404 for the item, its review and its employer; its own list does not hold it
    other_county = auth("county", "141024")
    assert client.get(f"/rectifications/{item_id}", headers=other_county).status_code == 404
    assert client.post(f"/rectifications/{item_id}/review", json={"decision": "accept"}, headers=other_county).status_code == 404
    assert client.get("/rectifications", params={"credit_code": code}, headers=other_county).status_code == 404
    assert client.get("/rectifications", params={"credit_code": stranger}, headers=COUNTY).status_code == 404, "unknown: the same answer"
    assert [i["id"] for i in client.get("/rectifications", headers=other_county).json()["items"]] == [elsewhere]
    assert [i["id"] for i in client.get("/rectifications", headers=COUNTY).json()["items"]] == [item_id]
    city = client.get("/rectifications", headers=auth("city", "141000")).json()["items"]
    assert {i["id"] for i in city} == {item_id, elsewhere}

    # staff do not submit for the employer; an auditor reads but does not review; only a submitted item is reviewed
    assert client.post(f"/rectifications/{item_id}/submission", headers=COUNTY, data={"text": "x"}).status_code == 403
    assert client.get(f"/rectifications/{item_id}", headers=auth("auditor", "141000")).status_code == 200
    assert client.post(f"/rectifications/{item_id}/review", json={"decision": "accept"}, headers=auth("auditor", "141000")).status_code == 403
    not_yet = client.post(f"/rectifications/{item_id}/review", json={"decision": "accept"}, headers=COUNTY)
    assert not_yet.status_code == 409 and not_yet.json()["code"] == "errors.rectification.not_awaiting_review"
    assert "没有等待审核" in not_yet.json()["detail"]
    assert client.get("/rectifications", params={"status": "closed"}, headers=COUNTY).status_code == 422


async def test_a_screening_delivered_on_its_topic_raises_the_item_once(client: TestClient) -> None:
    """Through the consumer bootstrap subscribes (its own group, ``rectification``), twice: one item."""
    from faststream.kafka import TestKafkaBroker

    app: Any = client.app
    code = new_credit_code()
    event = ScreeningRecorded(
        producer="penalty", credit_code=code, submission_id=uuid4(), region_code="141029", screened_on=china_today(),
        results=[ScreeningResult(screening_id=uuid4(), shortcoming=Shortcoming(code="publicity_short", kind="publicity_short",
                                                                               text="公示不足 5 个工作日"),
                                 outcome="no_violation", trace=[TraceEntry(rule="screening", detail="a recommendation only")])],
        rule_set=RuleSetRef(jurisdiction="CN", version="2021.1", effective_from=china_today() - timedelta(days=1000), provisional=True),
    )
    assert "ohs.registry.rectification" in {s.group_id for s in app.state.runtime.consumer.subscriptions if s.topic == event.topic}
    async with TestKafkaBroker(app.state.runtime.broker) as broker:
        for _ in range(2):
            await broker.publish(event.model_dump_json().encode(), topic=event.topic, key=event.key)
    (item,) = client.get("/rectifications", params={"credit_code": code}, headers=COUNTY).json()["items"]
    assert (item["shortcoming"]["code"], item["outcome"], item["status"], item["region_code"]) == ("publicity_short", "no_violation", "open", "141029")
    assert item["deadline"] > china_today().isoformat(), "no deadline in the screening: the rule data's working days"
