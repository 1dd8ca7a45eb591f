"""通知 in the console: the inbox through the notification API with the person's own token, opening one goes to
its matter and marks it read, an employer keeps its contact, and the notification service being down is said."""

from __future__ import annotations

from tests.unit.console.support import bearer_claims, csrf_of

EMPLOYER = "91141029MA0GRT8U3L"
ITEM = {"id": "0b6f1c2e-3d4a-4b5c-8d9e-0f1a2b3c4d5e", "kind": "rectification_raised", "subject": "整改事项：检测报告缺失",
        "body": "请于2026年12月20日前提交整改材料。", "link": "/rectifications/42", "created_at": "2026-12-06T10:00:00+00:00",
        "read_at": None}


def test_an_employer_reads_its_inbox_opens_a_notification_and_sets_its_contact(console):
    console.apis.answer("GET", "notification", "/inbox", 200, {"items": [ITEM], "unread": 1, "total": 1})
    console.apis.answer("GET", "notification", "/contacts/me", 200, {"email": None, "phone": None})
    console.apis.answer("POST", "notification", f"/inbox/{ITEM['id']}/read", 200, {**ITEM, "read_at": "2026-12-06T10:05:00+00:00"})
    browser = console.signed_in("employer", EMPLOYER)
    page = browser.get("/inbox")
    assert page.status_code == 200 and "整改事项：检测报告缺失" in page.text and "未读 1 条" in page.text
    assert bearer_claims(console.apis.calls_to("notification", "/inbox")[-1])["credit_code"] == EMPLOYER
    opened = browser.post(f"/inbox/{ITEM['id']}/open", data={"csrf_token": csrf_of(page)})
    assert opened.status_code == 303 and opened.headers["location"] == "/rectifications/42"

    console.apis.answer("PUT", "notification", "/contacts/me", 422, {
        "detail": "请求有误", "code": "errors.invalid_request",
        "errors": [{"field": "body.email", "code": "errors.field.email", "message": "不是有效的电子邮箱地址"}]})
    refused = browser.post("/inbox/contact", data={"csrf_token": csrf_of(page), "email": "not-an-address", "phone": ""})
    assert refused.status_code == 422 and 'data-field="email"' in refused.text and 'value="not-an-address"' in refused.text


def test_the_inbox_names_the_notification_service_when_it_is_down(console):
    browser = console.signed_in("county", "141029")
    console.apis.down.add("notification")
    page = browser.get("/inbox")
    assert page.status_code == 200 and 'data-down="notification"' in page.text
