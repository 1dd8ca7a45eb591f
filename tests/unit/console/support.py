"""The console in a unit test: its real app and database (SQLite in a temporary folder), the other
services' APIs answered by a :class:`FakeApis` (an httpx transport: what each route answers, and a record
of every call with the token it carried), and a browser-like client that signs in through /login.

    def test_something(console):                      # the fixture of tests/unit/console/conftest.py
        console.apis.answer("GET", "registry", "/enterprises/91141029MA0GRT8U3L", 200, {...})
        browser = console.signed_in("county", "141029")
        page = browser.get("/enterprises/91141029MA0GRT8U3L")
        assert "丙" in page.text
        form = browser.csrf()                           # the session's CSRF token, for a POST
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from services.console.adapters.services import ServiceApis
from services.console.bootstrap import bootstrap
from services.console.service_layer import handlers
from shared.contracts import utc_now
from shared.migrations import upgrade
from shared.settings import settings_for
from tests.support import TEST_AUTH_SECRET

PASSWORD = "correct-horse-battery"
Answer = tuple[int, Any] | Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeApis:
    """The other services as the console sees them: (method, service, path) → status and JSON body, or a
    function of the request. An unknown route answers 404 like the services do for what is out of scope;
    a service in ``down`` refuses the connection."""

    routes: dict[tuple[str, str, str], Answer] = field(default_factory=dict)
    calls: list[httpx.Request] = field(default_factory=list)
    down: set[str] = field(default_factory=set)

    def answer(self, method: str, service: str, path: str, status: int, body: Any = None) -> None:
        self.routes[(method, service, path)] = (status, body)

    def answer_with(self, method: str, service: str, path: str, respond: Callable[[httpx.Request], httpx.Response]) -> None:
        self.routes[(method, service, path)] = respond

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        service = SERVICE_OF_PORT[request.url.port]
        if service in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        found = self.routes.get((request.method, service, request.url.path))
        if found is None:
            return httpx.Response(404, json={"detail": "no such record", "code": "errors.not_found", "errors": []})
        if callable(found):
            return found(request)
        status, body = found
        return httpx.Response(status, json=body)

    def calls_to(self, service: str, path: str | None = None) -> list[httpx.Request]:
        return [c for c in self.calls if SERVICE_OF_PORT[c.url.port] == service and (path is None or c.url.path == path)]


PORTS = {"assessment": 18001, "registry": 18002, "sampling": 18003, "penalty": 18004, "monitoring": 18005, "notification": 18006}
SERVICE_OF_PORT = {port: name for name, port in PORTS.items()}


@dataclass
class Console:
    app: Any
    apis: FakeApis
    client: TestClient

    def account(self, role: str, scope: str, username: str | None = None, admin: bool = False, region: str | None = None) -> str:
        """Make an account (as the CLI does); returns its username. ``region``: an employer's county."""
        username = username or f"{role}-{scope}".lower()
        handlers.create_account(self.app.state.runtime.uow(), actor=None, actor_label="test", username=username, password=PASSWORD,
                                display_name=f"{role} {scope}", role=role, scope=scope, admin=admin, now=utc_now(),
                                employer_region=region or (scope[2:8] if role == "employer" else None))
        return username

    def browser(self) -> TestClient:
        """A new browser (its own cookies)."""
        return TestClient(self.app, base_url="http://console.test", follow_redirects=False)

    def sign_in(self, username: str, password: str = PASSWORD, browser: TestClient | None = None) -> TestClient:
        browser = browser or self.browser()
        page = browser.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        answer = browser.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": "/"})
        assert answer.status_code == 303, answer.text[:500]
        return browser

    def signed_in(self, role: str, scope: str, admin: bool = False, region: str | None = None) -> TestClient:
        return self.sign_in(self.account(role, scope, admin=admin, region=region))


def csrf_of(page: httpx.Response | str) -> str:
    """The CSRF token a signed-in page carries (every page has it, in the htmx headers of <body>)."""
    text = page if isinstance(page, str) else page.text
    return re.search(r'"X-CSRF-Token": "([^"]+)"', text).group(1)  # type: ignore[union-attr]


def make_console(data_dir: Path) -> Console:
    settings = settings_for("console", OHS_AUTH_SECRET=TEST_AUTH_SECRET, OHS_DATA_DIR=str(data_dir),
                            **{f"OHS_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in PORTS.items()})
    app = bootstrap(settings, create_topics=False)
    upgrade("console", app.state.runtime.engine)  # what the lifespan does at start-up (no broker here: no lifespan)
    apis = FakeApis()
    app.state.apis = ServiceApis({name: f"http://127.0.0.1:{port}" for name, port in PORTS.items()}, 5.0,
                                 transport=httpx.MockTransport(apis.handle))
    return Console(app, apis, TestClient(app, base_url="http://console.test", follow_redirects=False))


def bearer_claims(request: httpx.Request) -> dict[str, Any]:
    """The claims of the token the console sent with a request (to check it was the person's own)."""
    import base64

    payload = request.headers["Authorization"].split()[1].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
