"""The other services' HTTP APIs, as the console calls them: with the signed-in person's own token, never
a token of its own (the services decide, by the data, what the person may see and do).

A service that does not answer (refused connection, timeout, a 5xx) raises :class:`ServiceDown` naming it,
so a page shows which one is down and keeps the rest of its panels; a 4xx is an :class:`ApiAnswer` whose
``problems`` a form shows next to its fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from shared.tracing import current_headers

SERVICE_NAMES = ("assessment", "registry", "sampling", "penalty", "notification", "monitoring")
SERVICE_TITLES = {"assessment": "评估服务 (assessment)", "registry": "档案服务 (registry)", "sampling": "抽查服务 (sampling)",
                  "penalty": "执法服务 (penalty)", "notification": "通知服务 (notification)", "monitoring": "监测服务 (monitoring)"}


class ServiceDown(Exception):
    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason

    @property
    def title(self) -> str:
        return SERVICE_TITLES.get(self.service, self.service)


@dataclass
class ApiAnswer:
    status: int
    body: Any  # parsed JSON, or None for a body that is not JSON
    content: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def items(self) -> list[Any]:
        """The listing's ``items`` (a page of an API list), or none when the call failed."""
        return list(self.body.get("items", [])) if self.ok and isinstance(self.body, dict) else []

    @property
    def detail(self) -> str:
        """The refusal's sentence (the one error body's ``detail``)."""
        if isinstance(self.body, dict) and isinstance(self.body.get("detail"), str):
            return self.body["detail"]
        return f"HTTP {self.status}"

    @property
    def problems(self) -> dict[str, str]:
        """field → message of every error the answer names (the one error body's ``errors``); the field is
        the API's dotted path (``enterprise.credit_code``, ``hazards[0].exposed``, ``query.region_code``…)."""
        found: dict[str, str] = {}
        if isinstance(self.body, dict):
            for error in self.body.get("errors") or []:
                if isinstance(error, dict) and error.get("field"):
                    found.setdefault(str(error["field"]), str(error.get("message", "")))
        return found


class ServiceApis:
    """One connection pool for every service; ``call`` is the only door."""

    def __init__(self, urls: dict[str, str], timeout_s: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self._client = httpx.AsyncClient(timeout=timeout_s, transport=transport, headers={"Accept-Language": "zh-CN"})

    async def call(self, service: str, method: str, path: str, *, token: str | None, params: dict[str, Any] | None = None,
                   json: Any = None, files: Any = None, data: Any = None) -> ApiAnswer:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers |= current_headers()  # the page's trace goes on into the service it calls (W3C traceparent)
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = await self._client.request(method, self.urls[service] + path, params=clean, json=json, files=files,
                                                   data=data, headers=headers)
        except httpx.HTTPError as error:
            raise ServiceDown(service, type(error).__name__) from error
        if response.status_code >= 500:
            raise ServiceDown(service, f"HTTP {response.status_code}")
        try:
            body = response.json() if "json" in response.headers.get("content-type", "") else None
        except ValueError:
            body = None
        return ApiAnswer(response.status_code, body, response.content, dict(response.headers))

    async def close(self) -> None:
        await self._client.aclose()
