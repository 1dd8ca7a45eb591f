"""The delivery job, against a real SMTP server the test starts (aiosmtpd) and an SMS adapter loaded the way an
agency plugs one in: a notification is e-mailed to the recipient's current address with its Chinese subject;
an unreachable server costs bounded attempts with a growing pause, then the delivery fails with the reason.
The job is called with an explicit ``now``: no waiting."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlmodel import select

from services.notification.adapters.channels import ChannelConfigError, EmailChannel, SmtpServer, load_sms_adapter, parse_smtp_url
from services.notification.adapters.orm import Contact, Delivery, Notification
from services.notification.adapters.rules import load_templates
from services.notification.bootstrap import bootstrap
from shared.settings import settings_for
from services.notification.service_layer import contacts, handlers
from services.notification.service_layer.delivery import deliver_due
from services.notification.service_layer.unit_of_work import NotificationUnitOfWork
from shared.contracts import utc_now
from shared.db import make_engine
from shared.migrations import upgrade
from shared.ports import free_port
from shared import topics
from tests.support import TEST_AUTH_SECRET, auth, new_credit_code
from tests.unit.notification import sms_gateway
from tests.unit.notification.events import rectification
from tests.unit.notification.fakes import FakeUnitOfWork

TEMPLATES = load_templates()


class Mailbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's handler hook
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture()
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.fixture()
def make_uow(tmp_path: Path) -> Iterator:
    engine = make_engine(f"sqlite:///{tmp_path / 'notification.db'}")
    upgrade("notification", engine)
    yield lambda: NotificationUnitOfWork(engine)
    engine.dispose()


def raise_item(make_uow, employer: str, channels: tuple[str, ...]) -> str:  # noqa: ANN001
    """A rectification item raised for ``employer``: its notification's id."""
    with make_uow() as uow:
        added = handlers.notify_rectification_progressed(uow, rectification(employer, "raised"), templates=TEMPLATES, channels=channels)
        uow.commit()
    return added[0]  # the employer's (recipients: employer, county)


def deliveries(make_uow) -> list[Delivery]:  # noqa: ANN001
    with make_uow() as uow:
        rows = list(uow.session.exec(select(Delivery)))
        uow.session.expunge_all()  # as loaded, for the test to read after the unit of work
        return rows


def test_a_notification_is_emailed_to_the_current_address_with_its_chinese_subject(smtp, make_uow) -> None:  # noqa: ANN001
    mailbox, port = smtp
    email_channel = {"email": EmailChannel(parse_smtp_url(f"smtp://127.0.0.1:{port}"), "平台通知 <ohs@example.cn>")}
    employer = new_credit_code("141029")
    before_contact = raise_item(make_uow, employer, ("email",))  # no contact yet: inbox only
    assert deliveries(make_uow) == []

    with make_uow() as uow:
        contacts.put_contact(uow, "employer", employer, "old@example.cn", None, "乡宁县示例水泥有限公司")
    nid = raise_item(make_uow, employer, ("email",))
    with make_uow() as uow:  # the address changes before the job runs: the mail goes to the new one
        contacts.put_contact(uow, "employer", employer, "anquan@example.cn", None, "乡宁县示例水泥有限公司")

    now = utc_now()
    report = deliver_due(make_uow, email_channel, now, max_attempts=5)

    assert len(report.sent) == 1 and not report.failed and not report.retrying
    [envelope] = mailbox.envelopes
    assert envelope.rcpt_tos == ["anquan@example.cn"] and envelope.mail_from == "ohs@example.cn"
    raw = envelope.original_content
    assert raw.isascii()  # 7-bit on the wire: the UTF-8 subject RFC 2047-encoded, the body base64
    message = email.message_from_bytes(raw, policy=email.policy.default)
    with make_uow() as uow:
        note = uow.session.get(Notification, nid)
        assert before_contact != nid and note is not None
        assert message["Subject"] == note.subject == "新的整改事项：检测结果未公布（期限 2026年3月16日）"
    assert "请于 2026年3月16日前完成整改" in message.get_content() and "在平台查看：/rectifications/" in message.get_content()
    assert nid in message["Message-ID"] and message["To"] == "anquan@example.cn"
    [row] = deliveries(make_uow)
    assert (row.status, row.attempts, row.address, row.sent_at, row.last_error) == ("sent", 1, "anquan@example.cn", now, None)

    assert deliver_due(make_uow, email_channel, now + timedelta(hours=1), max_attempts=5).lines() == []  # sent once, never again
    assert len(mailbox.envelopes) == 1


def test_the_service_as_bootstrapped_emails_what_its_subscription_receives(smtp, tmp_path: Path) -> None:  # noqa: ANN001
    """The wiring without Kafka: the handler the bootstrap subscribed (channels from OHS_SMTP_URL), then its delivery job."""
    mailbox, port = smtp
    settings = settings_for("notification", data_dir=tmp_path, auth_secret=TEST_AUTH_SECRET, smtp_url=f"smtp://127.0.0.1:{port}",
                                     mail_from="ohs@example.cn")
    app = bootstrap(settings, create_topics=False)
    runtime = app.state.runtime
    upgrade("notification", runtime.engine)
    employer = new_credit_code("141029")
    assert TestClient(app).put("/contacts/me", json={"email": "anquan@example.cn"}, headers=auth("employer", employer)).status_code == 200
    subscribed = {s.topic: s for s in runtime.consumer.subscriptions}
    assert set(subscribed) == {topics.CLASSIFICATION_CHANGED, topics.PORTRAIT_CHANGED, topics.RECTIFICATION_PROGRESSED, topics.REMINDER_DUE}
    with runtime.uow() as uow:  # what the consumer does with one record
        subscribed[topics.RECTIFICATION_PROGRESSED].handler(uow, rectification(employer, "overdue"))
        uow.commit()
    [job] = runtime.jobs
    asyncio.run(job.run())
    runtime.engine.dispose()
    [envelope] = mailbox.envelopes  # the employer's; the county has no contact
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert envelope.rcpt_tos == ["anquan@example.cn"] and message["Subject"].startswith("整改逾期：检测结果未公布")
    metrics = TestClient(app).get("/metrics").text
    assert 'ohs_notification_delivery_attempts_total{channel="email",outcome="sent"} 1.0' in metrics


def test_an_unreachable_smtp_server_costs_bounded_attempts_with_backoff_then_fails_with_the_reason(make_uow) -> None:  # noqa: ANN001
    down = {"email": EmailChannel(SmtpServer("127.0.0.1", free_port(), False, False, None), "ohs@example.cn", timeout_s=5)}
    employer = new_credit_code("141029")
    with make_uow() as uow:
        uow.contacts.add(Contact(recipient_kind="employer", recipient=employer, email="anquan@example.cn", updated_by="test"))
        uow.commit()
    raise_item(make_uow, employer, ("email",))
    now = utc_now()

    def state() -> tuple:
        [row] = deliveries(make_uow)
        return row.status, row.attempts, row.next_attempt_at

    first = deliver_due(make_uow, down, now, max_attempts=3)
    assert len(first.retrying) == 1 and "ConnectionRefusedError" in first.retrying[0]
    assert state() == ("pending", 1, now + timedelta(minutes=1))
    assert deliver_due(make_uow, down, now + timedelta(seconds=59), max_attempts=3).lines() == []  # not before its backoff
    deliver_due(make_uow, down, now + timedelta(minutes=1), max_attempts=3)
    assert state() == ("pending", 2, now + timedelta(minutes=3))  # the pause doubled
    last = deliver_due(make_uow, down, now + timedelta(minutes=3), max_attempts=3)
    assert len(last.failed) == 1
    [row] = deliveries(make_uow)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 3, None)
    assert row.last_error.startswith("gave up after 3 attempt(s): SMTP server 127.0.0.1:") and "ConnectionRefusedError" in row.last_error
    assert deliver_due(make_uow, down, now + timedelta(days=1), max_attempts=3).lines() == []  # never retried for ever


def test_sms_goes_through_the_adapter_an_agency_plugs_in(make_uow) -> None:  # noqa: ANN001
    sms = load_sms_adapter("tests.unit.notification.sms_gateway:make_sender")
    employer = new_credit_code("141029")
    with make_uow() as uow:
        contacts.put_contact(uow, "employer", employer, None, "+8613800138000", "test")
    raise_item(make_uow, employer, ("sms",))
    sms_gateway.SENT.clear()
    report = deliver_due(make_uow, {"sms": sms}, utc_now(), max_attempts=2)
    assert len(report.sent) == 1
    assert sms_gateway.SENT == [("+8613800138000", "新的整改事项：检测结果未公布（期限 2026年3月16日）")]

    down = load_sms_adapter("tests.unit.notification.sms_gateway:make_down_sender")
    raise_item(make_uow, new_credit_code("141029"), ("sms",))  # no contact: nothing to deliver
    other = new_credit_code("141029")
    with make_uow() as uow:
        contacts.put_contact(uow, "employer", other, None, "13800138001", "test")
    raise_item(make_uow, other, ("sms",))
    now = utc_now()
    deliver_due(make_uow, {"sms": down}, now, max_attempts=2)
    failed = deliver_due(make_uow, {"sms": down}, now + timedelta(minutes=1), max_attempts=2).failed
    assert len(failed) == 1 and "ConnectionError: gateway 503" in failed[0]


def test_a_send_interrupted_on_its_last_attempt_fails_once_its_claim_lapses() -> None:
    uow = FakeUnitOfWork()
    employer = new_credit_code("141029")
    uow.contacts.add(Contact(recipient_kind="employer", recipient=employer, email="anquan@example.cn", updated_by="test"))
    handlers.notify_rectification_progressed(uow, rectification(employer, "raised"), templates=TEMPLATES, channels=("email",))
    [row] = uow.deliveries.rows.values()
    now = utc_now()
    row.attempts, row.next_attempt_at = 2, now  # claimed for its 2nd and last attempt, and its process stopped while sending
    report = deliver_due(lambda: uow, {}, now, max_attempts=2)
    assert (row.status, row.attempts) == ("failed", 2) and "interrupted" in row.last_error and len(report.failed) == 1


@pytest.mark.parametrize(("spec", "why"), [
    ("tests.unit.notification.sms_gateway", "write it as module:factory"),
    ("no_such_agency_module:make", "cannot import no_such_agency_module: ModuleNotFoundError"),
    ("tests.unit.notification.sms_gateway:make_missing", "has no callable make_missing"),
    ("tests.unit.notification.sms_gateway:make_nothing", "returned object, which has no send(phone, text)"),
    ("tests.unit.notification.sms_gateway:make_failing", "make_failing() failed: RuntimeError: SMS_GATEWAY_KEY is not set"),
])
def test_a_bad_sms_adapter_stops_start_up_saying_why(spec: str, why: str, tmp_path: Path) -> None:
    with pytest.raises(ChannelConfigError, match="OHS_SMS_ADAPTER") as refused:
        bootstrap(settings_for("notification", data_dir=tmp_path, auth_secret=TEST_AUTH_SECRET, sms_adapter=spec), create_topics=False)
    assert why in str(refused.value)


@pytest.mark.parametrize(("url", "why"), [
    ("http://mail.example.cn:25", "the scheme must be smtp:// or smtps://"),
    ("smtp://:25", "no host"),
    ("smtp://mail.example.cn:99999", "Port out of range"),
    ("smtps://mail.example.cn?starttls=true", "smtps:// is TLS from the start"),
    ("smtp://mail.example.cn?tls=1", "unknown parameter(s) tls"),
])
def test_a_bad_smtp_url_stops_start_up_saying_why(url: str, why: str, tmp_path: Path) -> None:
    with pytest.raises(ChannelConfigError, match="OHS_SMTP_URL") as refused:
        bootstrap(settings_for("notification", data_dir=tmp_path, auth_secret=TEST_AUTH_SECRET, smtp_url=url), create_topics=False)
    assert why in str(refused.value)


def test_smtp_urls_name_the_server_the_tls_and_the_login() -> None:
    assert parse_smtp_url("smtp://mail.example.cn:587?starttls=true") == SmtpServer("mail.example.cn", 587, False, True, None, None)
    assert parse_smtp_url("smtps://ohs%40example.cn:p%3Ass@mail.example.cn") == SmtpServer("mail.example.cn", 465, True, False, "ohs@example.cn", "p:ss")
    assert "p:ss" not in repr(parse_smtp_url("smtps://u:p%3Ass@mail.example.cn"))  # never the password in a log
