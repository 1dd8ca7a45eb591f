"""A cap on the size of every request body (every service, every route): 413 past it.

Without one, a single request of a few hundred megabytes is read into memory and parsed on the event
loop, and the service (health included) stops answering. The cap is ``OHS_MAX_BODY_BYTES`` (default
8 MiB); a route that legitimately takes more (sampling's ``POST /verify`` with a province's
publication) gets its own cap with :func:`set_body_limit`, or declares it where the route is defined
with ``openapi_extra=route_body_limit(N)`` (assessment's ``POST /reports:batch``), which also shows it
in the route's OpenAPI operation as ``x-max-body-bytes``.

A body announced larger (``Content-Length``) is refused before it is read; a body sent without a
length (chunked) is counted as it arrives and refused as soon as it passes the cap. Either way the
answer is 413 with the one error body (``shared/errors.py``), code ``errors.request.too_large``, in the
reader's language.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import INVALID_REQUEST, Issue, Refusal, language_headers
from shared.localize import scope_locale

MIB = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = 8 * MIB  # shared.settings.Settings.max_body_bytes defaults to it
STATE_KEY = "body_limits"  # app.state.body_limits: {path: bytes}, for routes with their own cap
ROUTE_KEY = "x-max-body-bytes"  # a route's openapi_extra entry with its own cap (route_body_limit)


def max_body_bytes() -> int:
    """The cap for every route without its own: ``OHS_MAX_BODY_BYTES`` (shared.settings), 8 MiB by default."""
    from shared.settings import Settings

    return Settings().max_body_bytes


def set_body_limit(app: FastAPI, path: str, limit: int) -> None:
    """Give the route at ``path`` (exact path, e.g. ``/verify``) its own body cap."""
    limits = getattr(app.state, STATE_KEY, None) or {}
    limits[path] = limit
    setattr(app.state, STATE_KEY, limits)


def route_body_limit(limit: int) -> dict[str, int]:
    """``openapi_extra`` of a route with its own body cap: ``@router.post(path, openapi_extra=route_body_limit(N))``.
    A cap set with :func:`set_body_limit` for the same path wins."""
    return {ROUTE_KEY: limit}


TOO_LARGE = "errors.request.too_large"


def _too_large(limit: int) -> Refusal:
    return Refusal(413, TOO_LARGE, {"limit": limit})


class BodySizeLimit:
    """ASGI middleware: 413 for a request body over the cap of its path."""

    def __init__(self, app: ASGIApp, default: int | None = None) -> None:
        self.app = app
        self.default = default or max_body_bytes()

    def limit_for(self, scope: Scope) -> int:
        app = scope.get("app")
        path = scope.get("path", "")
        limits = getattr(getattr(app, "state", None), STATE_KEY, None) or {}
        if path in limits:
            return int(limits[path])
        for template, limit in _declared_templates(app):
            if template.fullmatch(path):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _answer(send, _too_large(limit), scope_locale(scope))
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI passes an HTTPException raised while it reads the body on to the error handlers
                    raise _too_large(limit)
            return message

        await self.app(scope, counted, send)


def declared_limits(routes: Iterable[Any], prefix: str = "") -> dict[str, int]:
    """{path: cap} of the routes declaring their own cap (:func:`route_body_limit`), in included routers too
    (FastAPI keeps an included router as one route: ``original_router`` under its include ``prefix``)."""
    found: dict[str, int] = {}
    for route in routes:
        extra = getattr(route, "openapi_extra", None)
        if extra and ROUTE_KEY in extra and isinstance(getattr(route, "path", None), str):
            found[prefix + route.path] = int(extra[ROUTE_KEY])
        if (included := getattr(route, "original_router", None)) is not None:
            found.update(declared_limits(included.routes, prefix + (getattr(getattr(route, "include_context", None), "prefix", "") or "")))
        elif isinstance(inner := getattr(route, "routes", None), list):  # a Mount
            found.update(declared_limits(inner, prefix + (getattr(route, "path", "") or "")))
    return found


def _declared_templates(app: Any) -> list[tuple[re.Pattern[str], int]]:
    """The declared caps as path patterns (``/rectifications/{item_id}/submission`` matches any item),
    worked out once per app."""
    state = getattr(app, "state", None)
    cached = getattr(state, "_declared_body_limits", None) if state is not None else None
    if cached is None:
        cached = [(_path_pattern(path), limit) for path, limit in declared_limits(getattr(app, "routes", None) or ()).items()]
        if state is not None:
            state._declared_body_limits = cached
    return cached


def _path_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if part.startswith("{") and part.endswith("}") else re.escape(part) for part in parts))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class NoNulInTheUrl:
    """ASGI middleware: 422 for a path or query string holding the NUL character (%00), which no field
    of this platform holds and PostgreSQL refuses in any text (it would answer 500 deep in a query)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for where, raw in (("(path)", scope.get("raw_path") or scope.get("path", "").encode()), ("(query)", scope.get("query_string", b""))):
                if b"\x00" in unquote_to_bytes(raw):
                    refusal = Refusal(422, INVALID_REQUEST, errors=[Issue(where, "errors.request.nul_in_url")])
                    await _answer(send, refusal, scope_locale(scope))
                    return
        await self.app(scope, receive, send)


async def _answer(send: Send, refusal: Refusal, locale: str) -> None:
    """The refusal's error body in the reader's language, answered before the app sees the request."""
    payload = json.dumps(refusal.body(locale), ensure_ascii=False).encode()
    languages = [(name.lower().encode(), value.encode()) for name, value in language_headers(locale).items()]
    await send({
        "type": "http.response.start",
        "status": refusal.status_code,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"), *languages],
    })
    await send({"type": "http.response.body", "body": payload})
