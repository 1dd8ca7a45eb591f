"""What the registry announces becomes notifications for the employer and its county: the right kinds,
wording with the key facts (Chinese first), links for the console, deliveries for the recipients who have
an address — and nothing twice, however often an event is delivered or the topics replayed."""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import pytest

from services.notification.adapters.orm import Contact
from services.notification.adapters.rules import load_templates
from services.notification.domain.notifications import notification_id
from services.notification.service_layer import handlers
from shared.contracts import utc_now
from shared.rules_in_force import RuleDataError
from tests.support import new_credit_code
from tests.unit.notification.events import archived, portrait, rectification, reminder
from tests.unit.notification.fakes import FakeUnitOfWork

TEMPLATES = load_templates()
notify_step = partial(handlers.notify_rectification_progressed, templates=TEMPLATES)


def test_a_rectification_item_told_to_the_employer_and_its_county_step_by_step() -> None:
    uow = FakeUnitOfWork()
    employer = new_credit_code("141029")
    handlers.remember_employer(uow, archived(employer, "乡宁县示例水泥有限公司", version=2))
    handlers.remember_employer(uow, archived(employer, "旧名称", version=1))  # an older announcement arriving late
    raised = rectification(employer, "raised")

    added = notify_step(uow, raised)

    mine, county = uow.for_recipient("employer", employer), uow.for_recipient("county", "141029")
    assert len(added) == 2 and len(mine) == 1 and len(county) == 1
    note = mine[0]
    assert note.subject == "新的整改事项：检测结果未公布（期限 2026年3月16日）"  # Chinese, with the item and its deadline
    assert "乡宁县示例水泥有限公司" in note.body and "请于 2026年3月16日前完成整改" in note.body  # the employer's name from the archive
    assert (note.link, note.source_event_id, note.source_topic) == (f"/rectifications/{raised.item_id}", str(raised.event_id),
                                                                    "ohs.registry.rectification-progressed")
    assert note.id == notification_id(str(raised.event_id), "employer", employer) and note.rule_set == "CN 2026.2 provisional"
    assert (county[0].region_code, county[0].credit_code) == ("141029", employer)

    # the employer submits: only the county is asked to review; a later report disclosing it again tells nobody anything new
    notify_step(uow, rectification(employer, "submitted", item_id=raised.item_id, actor=employer))
    notify_step(uow, rectification(employer, "continued", item_id=raised.item_id))
    assert [n.kind for n in uow.for_recipient("employer", employer)] == ["rectification_raised"]
    assert [n.kind for n in uow.for_recipient("county", "141029")] == ["rectification_raised", "rectification_submitted"]

    returned = rectification(employer, "returned", item_id=raised.item_id, detail="照片不清晰，请补充公示照片", actor="乡宁县 张三")
    notify_step(uow, returned)
    notify_step(uow, rectification(employer, "cleared", item_id=raised.item_id, on=date(2026, 3, 10)))
    mine = {n.kind: n for n in uow.for_recipient("employer", employer)}
    assert "退回原因：照片不清晰，请补充公示照片" in mine["rectification_returned"].body
    assert mine["rectification_returned"].subject == "整改被退回：检测结果未公布"
    assert "解除" in mine["rectification_cleared"].subject and "已于 2026年3月10日审核通过并解除" in mine["rectification_cleared"].body


def test_an_overdue_item_is_told_to_both() -> None:
    uow = FakeUnitOfWork()
    employer = new_credit_code("141081")
    notify_step(uow, rectification(employer, "reminded", region_code="141081"))
    notify_step(uow, rectification(employer, "overdue", region_code="141081"))
    for recipient in (("employer", employer), ("county", "141081")):
        kinds = [n.kind for n in uow.for_recipient(*recipient)]
        assert kinds == ["rectification_reminded", "rectification_overdue"], recipient
    overdue = uow.for_recipient("county", "141081")[1]
    assert overdue.subject == "整改逾期：检测结果未公布（期限 2026年3月16日）"
    assert employer in overdue.body  # no archive announcement yet: the credit code stands for the name


def test_a_new_portrait_and_the_reminders_reach_the_employer_and_its_county() -> None:
    uow = FakeUnitOfWork()
    employer = new_credit_code("141029")
    handlers.notify_portrait_changed(uow, portrait(employer, "示例化工有限公司", version=3), templates=TEMPLATES)
    for kind in ("reassessment_due_soon", "reassessment_overdue", "first_assessment_overdue"):
        handlers.notify_reminder_due(uow, reminder(employer, "示例化工有限公司", kind=kind), templates=TEMPLATES)
    mine = {n.kind: n for n in uow.for_recipient("employer", employer)}
    assert set(mine) == {"portrait_changed", "reassessment_due_soon", "reassessment_overdue", "first_assessment_overdue"}
    assert mine["portrait_changed"].subject == "风险画像已更新（第 3 版）：示例化工有限公司"
    assert "各维度：检测 高（2 项）；培训 低（0 项）" in mine["portrait_changed"].body and mine["portrait_changed"].link == f"/enterprises/{employer}/portrait"
    assert "2026年4月1日" in mine["reassessment_due_soon"].subject and "还有 30 天" in mine["reassessment_due_soon"].body
    assert len(uow.for_recipient("county", "141029")) == 4
    # the portrait taught the name: a rectification step arriving before the archive's announcement uses it
    notify_step(uow, rectification(employer, "raised"))
    assert "示例化工有限公司" in uow.for_recipient("employer", employer)[-1].body


def test_redelivery_and_replay_never_notify_twice() -> None:
    employer = new_credit_code("141029")
    events = [rectification(employer, "raised"), rectification(employer, "overdue")]
    uow = FakeUnitOfWork()
    uow.contacts.add(Contact(recipient_kind="employer", recipient=employer, email="anquan@example.cn", updated_by="test"))
    for event in events + events:  # every event delivered twice
        notify_step(uow, event, channels=("email",))
    assert len(uow.notifications.rows) == 4 and len(uow.deliveries.rows) == 2  # e-mail to the employer only: the county has no contact

    replayed = FakeUnitOfWork()  # the topics replayed into an empty service
    for event in events:
        notify_step(replayed, event)
    assert set(replayed.notifications.rows) == set(uow.notifications.rows)


def test_deliveries_are_made_for_the_channels_on_and_the_addresses_on_file() -> None:
    employer = new_credit_code("141029")
    uow = FakeUnitOfWork()
    uow.contacts.add(Contact(recipient_kind="employer", recipient=employer, email="anquan@example.cn", phone="13800138000", updated_by="t"))
    uow.contacts.add(Contact(recipient_kind="county", recipient="141029", email="jianguan@example.cn", updated_by="t"))
    notify_step(uow, rectification(employer, "raised"), channels=("email", "sms"))
    mine, county = uow.for_recipient("employer", employer)[0], uow.for_recipient("county", "141029")[0]
    assert sorted(uow.deliveries.rows) == sorted([(mine.id, "email"), (mine.id, "sms"), (county.id, "email")])
    assert all(d.status == "pending" and d.attempts == 0 for d in uow.deliveries.rows.values())

    inbox_only = FakeUnitOfWork()  # e-mail off (no OHS_SMTP_URL): the inbox alone
    inbox_only.contacts.rows = uow.contacts.rows
    notify_step(inbox_only, rectification(employer, "raised"))
    assert len(inbox_only.notifications.rows) == 2 and not inbox_only.deliveries.rows

    replayed = FakeUnitOfWork()  # a month-old event (the topics replayed into an empty service): the inbox, never the mail again
    replayed.contacts.rows = uow.contacts.rows
    notify_step(replayed, rectification(employer, "raised", occurred_at=utc_now() - timedelta(days=30)), channels=("email", "sms"))
    assert len(replayed.notifications.rows) == 2 and not replayed.deliveries.rows


def test_an_agency_rewords_the_notices_and_chooses_who_receives_them(tmp_path: Path) -> None:
    packaged = json.loads((Path(__file__).resolve().parents[3] / "services/notification/rules/national-2026.json").read_text(encoding="utf-8"))
    shanxi = {**packaged, "jurisdiction": "14", "version": "2026.1", "provisional": False, "source": "山西省 wording"}
    shanxi["messages"] = {**packaged["messages"], "rectification_raised": {
        "recipients": ["employer"], "subject": "【山西】请整改：{shortcoming}，{deadline}前", "body": "{enterprise_name}：{shortcoming}"}}
    (tmp_path / "notification").mkdir()
    (tmp_path / "notification" / "shanxi.json").write_text(json.dumps(shanxi, ensure_ascii=False), encoding="utf-8")
    templates = load_templates(tmp_path)

    uow = FakeUnitOfWork()
    employer = new_credit_code("141029")
    handlers.notify_rectification_progressed(uow, rectification(employer, "raised"), templates=templates)
    assert [(n.recipient_kind, n.subject, n.rule_set) for n in uow.notifications.rows.values()] == [
        ("employer", "【山西】请整改：检测结果未公布，2026年3月16日前", "14 2026.1")]  # its own words, the date as Chinese writes it

    shanxi["version"] = "2026.2"
    shanxi["messages"]["rectification_raised"]["subject"] = "请整改 {item_name}"  # not a placeholder of this kind
    (tmp_path / "notification" / "shanxi-2.json").write_text(json.dumps(shanxi, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(RuleDataError, match=r"shanxi-2\.json(.|\n)*rectification_raised\.subject: placeholder \{item_name\} is not one of"):
        load_templates(tmp_path)
