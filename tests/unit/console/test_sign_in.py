"""Signing in, sessions, CSRF, lock-out, accounts and the audit log of the console — through its pages."""

from __future__ import annotations

import re
from datetime import timedelta

from services.console import views
from services.console.adapters.orm import AuditRow
from services.console.domain.accounts import Account, LockoutPolicy, after_failed_sign_in, may_manage
from shared.contracts import utc_now
from shared.topics import ACCESS_REVOKED
from tests.unit.console.support import PASSWORD, bearer_claims, csrf_of

EMPLOYER = "91141029MA0GRT8U3L"


def _login_token(browser) -> str:  # noqa: ANN001
    return re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text).group(1)


def test_a_county_officer_signs_in_works_with_their_own_short_token_and_signs_out(console):
    console.account("county", "141029", username="wang.county")
    browser = console.browser()
    assert browser.get("/account").headers["location"].startswith("/login?next=%2Faccount")  # not signed in: to the sign-in page
    token = _login_token(browser)
    answer = browser.post("/login", data={"username": "WANG.county", "password": PASSWORD, "csrf_token": token, "next": "/dashboard"})
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    page = browser.get("/account")
    assert page.status_code == 200 and "wang.county" in page.text and "141029" in page.text
    assert browser.get("/").headers["location"] == "/dashboard"  # the home page of staff
    # signing out needs the session's CSRF token; without it, nothing happens
    assert browser.post("/logout").status_code == 403
    assert browser.post("/logout", data={"csrf_token": csrf_of(page)}).status_code == 303
    assert browser.get("/account").status_code == 303  # the session is over


def test_a_wrong_password_and_an_unknown_user_answer_alike_and_five_failures_lock_the_account(console):
    console.account("county", "141029", username="li.county")
    browser = console.browser()
    wrong = browser.post("/login", data={"username": "li.county", "password": "nope-nope-nope", "csrf_token": _login_token(browser)})
    unknown = browser.post("/login", data={"username": "nobody.here", "password": "nope-nope-nope", "csrf_token": _login_token(browser)})
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码不正确" in wrong.text and "用户名或密码不正确" in unknown.text
    for _ in range(4):
        last = browser.post("/login", data={"username": "li.county", "password": "nope-nope-nope", "csrf_token": _login_token(browser)})
    assert "锁定" in last.text
    locked = browser.post("/login", data={"username": "li.county", "password": PASSWORD, "csrf_token": _login_token(browser)})
    assert locked.status_code == 401 and "锁定" in locked.text  # even the right password, while locked
    engine = console.app.state.runtime.engine
    actions = [e["action"] for e in views.audit_log(engine)[0]]
    assert actions.count("sign_in_failed") == 6 and "sign_in_locked" in actions
    assert views.verify_audit(engine) is None


def test_the_sign_in_form_needs_its_own_csrf_token(console):
    console.account("county", "141029", username="zhao.county")
    browser = console.browser()
    browser.get("/login")
    forged = browser.post("/login", data={"username": "zhao.county", "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 403 and "ohs_session" not in forged.headers.get("set-cookie", "")


def test_an_administrator_creates_and_disables_an_account_which_ends_its_access(console):
    admin = console.signed_in("city", "141000", admin=True)
    page = admin.get("/accounts")
    token = csrf_of(page)
    created = admin.post("/accounts", data={"csrf_token": token, "username": "chen.county", "display_name": "陈 乡宁县",
                                            "role": "county", "scope": "141029", "password": "a-long-pass-9"})
    assert created.status_code == 303
    outside = admin.post("/accounts", data={"csrf_token": token, "username": "other.county", "display_name": "外市",
                                            "role": "county", "scope": "140105", "password": "a-long-pass-9"})
    assert outside.status_code == 422 and "不在您的管辖范围内" in outside.text and 'data-field="scope"' in outside.text
    short = admin.post("/accounts", data={"csrf_token": token, "username": "short.pw", "display_name": "x", "role": "county",
                                          "scope": "141029", "password": "short"})
    assert short.status_code == 422 and 'data-field="password"' in short.text

    officer = console.sign_in("chen.county", "a-long-pass-9")
    assert officer.get("/account").status_code == 200
    assert admin.post("/accounts/chen.county/disable", data={"csrf_token": token}).status_code == 303
    assert officer.get("/account").status_code == 303  # the session ended at once
    again = console.browser()
    refused = again.post("/login", data={"username": "chen.county", "password": "a-long-pass-9", "csrf_token": _login_token(again)})
    assert refused.status_code == 401 and "停用" in refused.text
    # every service is told: the revocation is in the outbox, for the account's token subject
    from sqlmodel import Session, select

    from shared.db import OutboxMessage

    with Session(console.app.state.runtime.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.topic == ACCESS_REVOKED)).all()
    assert len(rows) == 1 and '"reason":"account disabled"' in rows[0].payload and rows[0].key.startswith("console:")


def test_a_county_cannot_manage_accounts_and_an_employer_account_needs_an_archive_in_the_jurisdiction(console):
    county = console.signed_in("county", "141029")
    assert county.get("/accounts").status_code == 404
    admin = console.signed_in("city", "141000", admin=True)
    token = csrf_of(admin.get("/accounts"))
    console.apis.answer("GET", "registry", f"/enterprises/{EMPLOYER}", 200, {"credit_code": EMPLOYER, "region_code": "141029"})
    made = admin.post("/accounts", data={"csrf_token": token, "username": "cement", "display_name": "乡宁县示例水泥有限公司",
                                         "role": "employer", "scope": EMPLOYER, "password": "a-long-pass-9"})
    assert made.status_code == 303
    call = console.apis.calls_to("registry", f"/enterprises/{EMPLOYER}")[-1]
    assert bearer_claims(call)["role"] == "city" and bearer_claims(call)["exp"] - bearer_claims(call)["iat"] <= 3600
    unknown = "91140105MA0K3Y1Q2X"
    refused = admin.post("/accounts", data={"csrf_token": token, "username": "ghost", "display_name": "无档案单位",
                                            "role": "employer", "scope": unknown, "password": "a-long-pass-9"})
    assert refused.status_code == 422 and "没有记录" in refused.text


def test_who_may_manage_whom():
    def account(role: str, region: str, admin: bool = True) -> Account:
        return Account("x", "x", "x", role, region, None, "", admin=admin)

    city, province = account("city", "141000"), account("province", "140000")
    assert may_manage(city, "county", "141029") and may_manage(city, "auditor", "141000")
    assert not may_manage(city, "city", "141000") and not may_manage(city, "province", "140000")
    assert not may_manage(city, "county", "140105")  # another city's county
    assert may_manage(province, "city", "141000") and may_manage(province, "province", "140000")
    assert not may_manage(account("city", "141000", admin=False), "county", "141029")
    assert may_manage(city, "employer", "91141029MA0GRT8U3L", employer_region="141029")
    assert not may_manage(city, "employer", "91141029MA0GRT8U3L", employer_region=None)


def test_lock_out_counts_failures_in_a_row_and_locks_for_the_policy_minutes():
    now = utc_now()
    account = Account("x", "x", "x", "county", "141029", None, "")
    policy = LockoutPolicy(failures=3, minutes=15)
    for _ in range(2):
        account = after_failed_sign_in(account, now, policy)
    assert not account.locked(now) and account.failed_sign_ins == 2
    account = after_failed_sign_in(account, now, policy)
    assert account.locked(now) and not account.locked(now + timedelta(minutes=15))


def test_an_edited_audit_entry_breaks_the_chain(console):
    console.account("county", "141029", username="sun.county")
    console.sign_in("sun.county")
    engine = console.app.state.runtime.engine
    from sqlmodel import Session, select

    with Session(engine) as session:
        entry = session.exec(select(AuditRow).where(AuditRow.action == "sign_in")).one()
        entry.actor = "somebody.else"
        session.add(entry)
        session.commit()
        seq = entry.seq
    assert views.verify_audit(engine) == seq


def test_an_employer_not_archived_yet_starts_with_its_first_report_and_error_pages_keep_the_menu(console):
    browser = console.signed_in("employer", EMPLOYER)
    assert browser.get("/").headers["location"] == "/report/new"  # the registry answers 404: no archive yet
    # the console asked with the person's own token: its role and scope, minutes long, revocable by its subject
    claims = bearer_claims(console.apis.calls_to("registry", f"/enterprises/{EMPLOYER}")[-1])
    assert (claims["role"], claims["credit_code"], claims["sub"].startswith("console:")) == ("employer", EMPLOYER, True)
    assert claims["exp"] - claims["iat"] == 300
    console.apis.answer("GET", "registry", f"/enterprises/{EMPLOYER}", 200, {"credit_code": EMPLOYER, "region_code": "141029"})
    assert browser.get("/").headers["location"] == f"/enterprises/{EMPLOYER}"
    missing = browser.get("/no/such/page")
    assert missing.status_code == 404 and "/logout" in missing.text  # drawn with the signed-in person's menu
