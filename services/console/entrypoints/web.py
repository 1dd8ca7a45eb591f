"""What every console page is made of: the signed-in visitor (FastAPI dependencies), the CSRF check of
every form, the templates, and the pages for errors. Page routers import from here.

    @router.get("/somewhere")
    async def somewhere(request: Request, visitor: StaffVisitor) -> HTMLResponse:
        archive = await visitor.panel("registry", "/enterprises", region_code=visitor.scope)
        return render(request, "somewhere.html", visitor, archive=archive)

    @router.post("/somewhere")                     # every POST: CheckedVisitor (or a role's *Acting* alias)
    async def act(request: Request, visitor: ActingStaff, name: Annotated[str, Form(max_length=100)]) -> Response: ...
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from services.console.adapters.services import ApiAnswer, ServiceApis, ServiceDown
from services.console.domain.accounts import Account
from services.console.service_layer import handlers
from shared import i18n
from shared.auth import issue_token
from shared.contracts import utc_now
from shared.errors import Refusal

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES))
SESSION_COOKIE = "ohs_session"
LOGIN_CSRF_COOKIE = "ohs_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
ROLE_TITLES = {"employer": "用人单位", "county": "县级监督机构", "city": "市级监督机构", "province": "省级监督机构", "auditor": "审计（只读）"}
templates.env.globals.update(ROLE_TITLES=ROLE_TITLES, CSRF_FIELD=CSRF_FIELD)
templates.env.filters["date"] = lambda value: i18n.local_date(value) if value else ""
templates.env.filters["term"] = lambda value: i18n.term(value) if value is not None else ""
templates.env.filters["said"] = lambda message: i18n.text(message["code"], message.get("params")) if isinstance(message, dict) and message.get("code") and i18n.has(message["code"]) else (message.get("text", "") if isinstance(message, dict) else str(message))


@dataclass
class Panel:
    """One part of a page fed by one API answer: its data, or why it has none (the service is down, or
    the API refused). A page of several panels keeps the others when one service is down."""

    data: Any = None
    down: ServiceDown | None = None
    refused: ApiAnswer | None = None

    @property
    def ok(self) -> bool:
        return self.down is None and self.refused is None

    @property
    def items(self) -> list[Any]:
        """The listing's ``items`` (a page of an API list), or none when the panel has no data."""
        return list(self.data.get("items", [])) if self.ok and isinstance(self.data, dict) else []


@dataclass
class Visitor:
    account: Account
    csrf_token: str
    session_id_hash: str
    token: str  # the person's own bearer token for the services, minted for this request (a few minutes)
    apis: ServiceApis

    @property
    def role(self) -> str:
        return self.account.role

    @property
    def scope(self) -> str:
        return self.account.scope

    @property
    def is_staff(self) -> bool:
        return self.account.is_staff

    @property
    def may_act(self) -> bool:
        """Auditors read only: no form is offered to them, and the services refuse them anyway."""
        return self.role != "auditor"

    async def call(self, service: str, method: str, path: str, **kwargs: Any) -> ApiAnswer:
        return await self.apis.call(service, method, path, token=self.token, **kwargs)

    async def get(self, service: str, path: str, **params: Any) -> ApiAnswer:
        return await self.call(service, "GET", path, params=params)

    async def panel(self, service: str, path: str, **params: Any) -> Panel:
        """GET an API for one panel of a page: never raises for a service that is down or a refusal."""
        try:
            answer = await self.get(service, path, **params)
        except ServiceDown as down:
            return Panel(down=down)
        return Panel(data=answer.body) if answer.ok else Panel(refused=answer)

    async def panels(self, **calls: tuple[str, str, dict[str, Any]]) -> dict[str, Panel]:
        """Several panels at once (concurrently): name=(service, path, params)."""
        names = list(calls)
        results = await asyncio.gather(*(self.panel(s, p, **q) for s, p, q in calls.values()))
        return dict(zip(names, results, strict=True))


class NotSignedIn(Exception):
    """No good session: the visitor is sent to /login (and back afterwards)."""


class CsrfRefused(Exception):
    """A form without this session's CSRF token: refused, nothing done."""


def runtime_of(request: Request):  # noqa: ANN201
    return request.app.state.runtime


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""


async def current_visitor(request: Request) -> Visitor:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret or len(secret) > 100:
        raise NotSignedIn
    runtime = runtime_of(request)
    settings = runtime.settings
    active = await asyncio.to_thread(handlers.active_session, runtime.uow(), secret, now=utc_now(), policy=request.app.state.session_policy)
    if active is None:
        raise NotSignedIn
    return Visitor(active.account, active.csrf_token, active.id_hash, service_token(active.account, settings), request.app.state.apis)


def service_token(account: Account, settings: Any) -> str:
    """A bearer token of the person's own for the services: their role and scope, a few minutes long, with the
    subject every service revokes when the account is disabled."""
    return issue_token(settings.auth_secret, account.role, account.display_name,  # type: ignore[arg-type]
                       region_code=None if account.role == "employer" else account.region_code,
                       credit_code=account.credit_code, subject=account.subject, valid_seconds=settings.service_token_seconds)


SignedInVisitor = Annotated[Visitor, Depends(current_visitor)]


async def visitor_if_any(request: Request) -> Visitor | None:
    """The signed-in visitor, or None: for pages anyone may see (errors, the public pages), drawn with the
    person's menu when there is one."""
    try:
        return await current_visitor(request)
    except NotSignedIn:
        return None


async def checked_visitor(request: Request, visitor: SignedInVisitor) -> Visitor:
    """The visitor of a form (POST): it must carry this session's CSRF token, as the form field
    ``csrf_token`` or the header X-CSRF-Token (htmx sends the header, see base.html)."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").split(";")[0] in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), visitor.csrf_token.encode()):
        raise CsrfRefused
    return visitor


CheckedVisitor = Annotated[Visitor, Depends(checked_visitor)]


def _role_gate(roles: frozenset[str], acting: bool):  # noqa: ANN202
    dependency = checked_visitor if acting else current_visitor

    # a default, not Annotated[…]: under ``from __future__ import annotations`` FastAPI resolves the annotation
    # string in the module's namespace, where this closure's ``dependency`` is not
    async def gate(visitor: Visitor = Depends(dependency)) -> Visitor:  # noqa: B008
        if visitor.role not in roles:
            raise Refusal(404, "console.page.not_found")  # a page outside the role answers like a missing one
        return visitor

    return gate


STAFF_READERS = frozenset({"county", "city", "province", "auditor"})
ACTING_STAFF = frozenset({"county", "city", "province"})
StaffVisitor = Annotated[Visitor, Depends(_role_gate(STAFF_READERS, acting=False))]  # staff and auditors: read
ActingStaff = Annotated[Visitor, Depends(_role_gate(ACTING_STAFF, acting=True))]  # staff: act (POST, CSRF checked)
EmployerVisitor = Annotated[Visitor, Depends(_role_gate(frozenset({"employer"}), acting=False))]
ActingEmployer = Annotated[Visitor, Depends(_role_gate(frozenset({"employer"}), acting=True))]
ActingVisitor = Annotated[Visitor, Depends(_role_gate(frozenset({"employer", "county", "city", "province"}), acting=True))]


def render(request: Request, name: str, visitor: Visitor | None = None, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"visitor": visitor, **context}, status_code=status_code)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path of this site (never //host or a scheme)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target and len(target) <= 500:
        return target
    return "/"


def login_redirect(request: Request) -> Response:
    target = "/login?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="")
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return see_other(target)


def field_problems(answer: ApiAnswer, prefix: str = "") -> dict[str, str]:
    """An API refusal's field messages keyed by form field: the API's dotted path without ``body.``/``query.``
    (and ``prefix`` when a form's fields are named inside one object)."""
    problems = {}
    for path, message in answer.problems.items():
        for head in ("body.", "query.", "path.", prefix):
            if head and path.startswith(head):
                path = path[len(head):]
        problems[path] = message
    return problems


