"""The console's own pages: sign-in and out, the home page of each role, accounts and the audit log.
The journeys' pages are in ``entrypoints/pages_*.py`` (each a ``router``), included by :func:`routers`."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.console import entrypoints, views
from services.console.domain.accounts import AccountRefused
from services.console.service_layer import handlers
from services.console.adapters.services import ServiceDown
from services.console.entrypoints.web import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CheckedVisitor,
    SignedInVisitor,
    client_of,
    render,
    runtime_of,
    safe_next,
    see_other,
)
from shared import i18n
from shared.contracts import utc_now
from shared.errors import Refusal

router = APIRouter()

Username = Annotated[str, Form(min_length=1, max_length=64)]
Password = Annotated[str, Form(min_length=1, max_length=128)]


def routers() -> list[APIRouter]:
    """This router, then every journey's (``entrypoints/pages_*.py``), in name order."""
    found = [router]
    for module in sorted(m.name for m in pkgutil.iter_modules(entrypoints.__path__) if m.name.startswith("pages_")):
        found.append(importlib.import_module(f"services.console.entrypoints.{module}").router)
    return found


def _login_page(request: Request, next_: str, problem: str | None = None, username: str = "", status_code: int = 200) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, status_code, login_csrf=token, next=safe_next(next_), problem=problem, username=username)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=runtime_of(request).settings.secure_cookies,
                        path="/login", max_age=3600)
    return response


@router.get("/login", response_class=HTMLResponse, summary="The sign-in page")
async def login_page(request: Request, next: Annotated[str, Query(max_length=500)] = "/") -> HTMLResponse:  # noqa: A002
    return _login_page(request, next)


@router.post("/login", summary="Sign in with username and password")
async def login(request: Request, username: Username, password: Password,
                csrf_token: Annotated[str, Form(max_length=100)] = "", next: Annotated[str, Form(max_length=500)] = "/") -> Response:  # noqa: A002
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected.encode(), csrf_token.encode()):
        return _login_page(request, next, i18n.text("console.sign_in.form_expired"), username, 403)
    runtime = runtime_of(request)
    app_state = request.app.state
    try:
        signed = await asyncio.to_thread(handlers.sign_in, runtime.uow(), username.strip(), password, now=utc_now(), client=client_of(request),
                                         lockout=app_state.lockout_policy, sessions=app_state.session_policy)
    except handlers.SignInRefused as refused:
        return _login_page(request, next, i18n.text(refused.code), username, 401)
    response = see_other(safe_next(next))
    response.set_cookie(SESSION_COOKIE, signed.session_secret, httponly=True, samesite="lax", secure=runtime.settings.secure_cookies,
                        path="/", max_age=int(app_state.session_policy.maximum.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", summary="Sign out: the session ends")
async def logout(request: Request, visitor: CheckedVisitor) -> Response:
    active = handlers.ActiveSession(visitor.account, visitor.session_id_hash, visitor.csrf_token)
    await asyncio.to_thread(handlers.sign_out, runtime_of(request).uow(), active, now=utc_now(), client=client_of(request))
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", summary="Home: where the signed-in person's work starts")
async def home(visitor: SignedInVisitor) -> Response:
    if visitor.role == "employer":  # its archive; an employer not archived yet starts with its first report
        try:
            archive = await visitor.get("registry", f"/enterprises/{visitor.scope}")
        except ServiceDown:
            return see_other(f"/enterprises/{visitor.scope}")  # that page says the registry is down
        return see_other(f"/enterprises/{visitor.scope}" if archive.status != 404 else "/report/new")
    return see_other("/dashboard")


# --------------------------------------------------------------------------- accounts (administrators)

def _require_admin(visitor) -> None:  # noqa: ANN001
    if not visitor.account.admin:
        raise Refusal(404, "console.page.not_found")


@router.get("/accounts", response_class=HTMLResponse, summary="Accounts of the administrator's jurisdiction")
async def accounts(request: Request, visitor: SignedInVisitor, page: Annotated[int, Query(ge=1, le=10_000)] = 1) -> HTMLResponse:
    _require_admin(visitor)
    rows, total = await asyncio.to_thread(views.accounts_of, runtime_of(request).engine, visitor.account, limit=50, offset=(page - 1) * 50)
    return render(request, "accounts.html", visitor, accounts=rows, total=total, page=page, form={}, problems={})


@router.post("/accounts", response_class=HTMLResponse, summary="Create an account (administrators)")
async def create_account(request: Request, visitor: CheckedVisitor, username: Username, display_name: Annotated[str, Form(max_length=100)],
                         role: Annotated[str, Form(max_length=10)], scope: Annotated[str, Form(max_length=18)],
                         password: Password, admin: Annotated[bool, Form()] = False) -> Response:
    _require_admin(visitor)
    form = {"username": username, "display_name": display_name, "role": role, "scope": scope, "admin": admin}
    employer_region = None
    try:
        if role == "employer":  # the employer's county is its archive's, as the registry knows it in the administrator's scope
            archive = await visitor.get("registry", f"/enterprises/{scope}") if len(scope) == 18 else None
            employer_region = (archive.body or {}).get("region_code") if archive is not None and archive.ok else None
            if employer_region is None:
                raise AccountRefused("console.account.employer_not_archived", "scope", scope=scope)
        await asyncio.to_thread(handlers.create_account, runtime_of(request).uow(), actor=visitor.account, actor_label=visitor.account.username,
                                username=username.strip(), password=password, display_name=display_name, role=role, scope=scope.strip(),
                                admin=admin, now=utc_now(), client=client_of(request), employer_region=employer_region)
    except AccountRefused as refused:
        rows, total = await asyncio.to_thread(views.accounts_of, runtime_of(request).engine, visitor.account)
        problems = {refused.field or "form": i18n.text(refused.message.code, refused.message.params)}
        return render(request, "accounts.html", visitor, 422, accounts=rows, total=total, page=1, form=form, problems=problems)
    except ServiceDown as down:
        rows, total = await asyncio.to_thread(views.accounts_of, runtime_of(request).engine, visitor.account)
        return render(request, "accounts.html", visitor, 503, accounts=rows, total=total, page=1, form=form, problems={}, down=down)
    return see_other(f"/accounts?created={username.strip().lower()}")


@router.post("/accounts/{username}/disable", summary="Disable an account: its sessions end here and its tokens everywhere")
async def disable_account(request: Request, visitor: CheckedVisitor, username: str) -> Response:
    return await _set_disabled(request, visitor, username, True)


@router.post("/accounts/{username}/enable", summary="Enable a disabled account again")
async def enable_account(request: Request, visitor: CheckedVisitor, username: str) -> Response:
    return await _set_disabled(request, visitor, username, False)


async def _set_disabled(request: Request, visitor, username: str, disabled: bool) -> Response:  # noqa: ANN001
    _require_admin(visitor)
    try:
        await asyncio.to_thread(handlers.set_disabled, runtime_of(request).uow(), visitor.account, username[:64], disabled,
                                now=utc_now(), client=client_of(request))
    except AccountRefused as refused:
        raise Refusal(404, "console.page.not_found") from refused
    return see_other("/accounts")


@router.post("/accounts/{username}/password", summary="Set a new password for an account (administrators)")
async def reset_password(request: Request, visitor: CheckedVisitor, username: str, password: Password) -> Response:
    _require_admin(visitor)
    try:
        await asyncio.to_thread(handlers.reset_password, runtime_of(request).uow(), visitor.account, username[:64], password,
                                now=utc_now(), client=client_of(request))
    except AccountRefused as refused:
        if refused.field == "username":
            raise Refusal(404, "console.page.not_found") from refused
        rows, total = await asyncio.to_thread(views.accounts_of, runtime_of(request).engine, visitor.account)
        problems = {f"password:{username}": i18n.text(refused.message.code, refused.message.params)}
        return render(request, "accounts.html", visitor, 422, accounts=rows, total=total, page=1, form={}, problems=problems)
    return see_other("/accounts")


@router.get("/account", response_class=HTMLResponse, summary="The signed-in person's own account")
async def own_account(request: Request, visitor: SignedInVisitor) -> HTMLResponse:
    return render(request, "account.html", visitor, problems={})


@router.post("/account/password", response_class=HTMLResponse, summary="Change one's own password")
async def change_password(request: Request, visitor: CheckedVisitor, current_password: Password, password: Password) -> Response:
    try:
        await asyncio.to_thread(handlers.change_own_password, runtime_of(request).uow(), visitor.account.id, current_password, password,
                                now=utc_now(), client=client_of(request))
    except AccountRefused as refused:
        problems = {refused.field or "password": i18n.text(refused.message.code, refused.message.params)}
        return render(request, "account.html", visitor, 422, problems=problems)
    return render(request, "account.html", visitor, problems={}, changed=True)


@router.get("/audit", response_class=HTMLResponse, summary="The console's audit log (administrators), with its chain check")
async def audit(request: Request, visitor: SignedInVisitor, page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> HTMLResponse:
    if visitor.role != "province":  # the whole province's sign-ins: its administrators only
        raise Refusal(404, "console.page.not_found")
    _require_admin(visitor)
    engine = runtime_of(request).engine
    rows, total = await asyncio.to_thread(views.audit_log, engine, limit=100, offset=(page - 1) * 100)
    broken_at = await asyncio.to_thread(views.verify_audit, engine)
    return render(request, "audit.html", visitor, entries=rows, total=total, page=page, broken_at=broken_at)


__all__ = ["router", "routers", "CSRF_FIELD"]
