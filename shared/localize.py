"""JSON answers in the reader's language: coded texts re-rendered for ``Accept-Language: en``.

Read models hold the texts of decisions as they were written, in Chinese, together with the code and
parameters they were written from (trace entries, flags, reasons, screening results, case steps; see
``shared.i18n``). A reader asking for English gets every such object's text rendered from its code:
an object ``{"code": <message code>, "params": {…}, <text>: …}`` has its ``detail``, ``message``,
``text`` or ``reason`` replaced by the English text; a flag (``{"code": "submission_late", "message",
"params"}``) is rendered from ``assessment.flag.<code>``. Everything else is left as it is (names,
stored texts without a code, keys). Chinese readers get the answer untouched, byte for byte.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import i18n

TEXT_FIELDS = ("detail", "message", "text", "reason")
MAX_LOCALIZED_BYTES = 16 * 2**20  # a larger answer (an export) is sent as it is
_CODE = re.compile(i18n.CODE_PATTERN)
_FLAG = re.compile(r"^[a-z][a-z0-9_]*$")


def localized(value: Any, locale: str) -> Any:
    """``value`` (parsed JSON) with every coded text rendered in ``locale``."""
    if isinstance(value, list):
        return [localized(item, locale) for item in value]
    if not isinstance(value, dict):
        return value
    found = {key: localized(item, locale) for key, item in value.items()}
    code, params = found.get("code"), found.get("params")
    if isinstance(code, str) and isinstance(params, dict):
        message_code = code if _CODE.match(code) else f"assessment.flag.{code}" if _FLAG.match(code) else None
        for field in TEXT_FIELDS:
            if message_code and isinstance(found.get(field), str):
                found[field] = i18n.text_or(message_code, params, found[field], locale)
                break
    return found


def scope_locale(scope: Scope) -> str:
    """The reader's language of an ASGI request (its ``Accept-Language``), for middleware that has no ``Request``."""
    header = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"accept-language"), None)
    return i18n.negotiate(header)


class LocalizedAnswers:
    """ASGI middleware: a JSON answer to a reader whose ``Accept-Language`` picks English is re-rendered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        locale = scope_locale(scope)
        if locale == i18n.DEFAULT_LOCALE:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def held(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                kind = next((v for k, v in message.get("headers", []) if k == b"content-type"), b"")
                if kind.startswith(b"application/json"):
                    start = message
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            if len(body) <= MAX_LOCALIZED_BYTES:
                try:
                    body = json.dumps(localized(json.loads(body), locale), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                except ValueError:
                    pass  # not JSON after all: as it is
            headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, held)
