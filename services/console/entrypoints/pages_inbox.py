"""通知 (the notification service's web inbox) in the console: one's notifications, newest first; opening one
marks it read (for this reader) and goes to the matter it is about. An employer also keeps its own e-mail
address and phone for the notifications here."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.console.entrypoints.web import (
    CheckedVisitor,
    SignedInVisitor,
    field_problems,
    render,
    safe_next,
    see_other,
)
from shared.errors import Refusal

router = APIRouter()
PAGE = 30
NOTIFICATION_ID = re.compile(r"^[0-9a-f-]{36}$")


@router.get("/inbox", response_class=HTMLResponse, summary="One's notifications (the notification service's inbox)")
async def inbox(request: Request, visitor: SignedInVisitor, page: Annotated[int, Query(ge=1, le=10_000)] = 1,
                unread: Annotated[bool, Query()] = False) -> HTMLResponse:
    calls = {"inbox": ("notification", "/inbox", {"limit": PAGE, "offset": (page - 1) * PAGE, "unread": "true" if unread else None})}
    if visitor.role == "employer":
        calls["contact"] = ("notification", "/contacts/me", {})
    panels = await visitor.panels(**calls)
    return render(request, "inbox/inbox.html", visitor, panels=panels, page=page, unread=unread, size=PAGE, problems={}, values={})


@router.post("/inbox/{notification_id}/open", summary="Mark a notification read and go to what it is about")
async def open_notification(visitor: CheckedVisitor, notification_id: str) -> Response:
    if not NOTIFICATION_ID.match(notification_id):
        raise Refusal(404, "console.page.not_found")
    answer = await visitor.call("notification", "POST", f"/inbox/{notification_id}/read")
    if not answer.ok:
        raise Refusal(404, "console.page.not_found")
    return see_other(safe_next((answer.body or {}).get("link")) if (answer.body or {}).get("link") else "/inbox")


@router.post("/inbox/contact", response_class=HTMLResponse, summary="An employer sets its e-mail address and phone for notifications")
async def set_contact(request: Request, visitor: CheckedVisitor, email: Annotated[str, Form(max_length=254)] = "",
                      phone: Annotated[str, Form(max_length=32)] = "") -> Response:
    if visitor.role != "employer":
        raise Refusal(404, "console.page.not_found")
    values = {"email": email.strip(), "phone": phone.strip()}
    answer = await visitor.call("notification", "PUT", "/contacts/me", json={k: v or None for k, v in values.items()})
    if answer.ok:
        return see_other("/inbox?saved=1")
    panels = await visitor.panels(inbox=("notification", "/inbox", {"limit": PAGE, "offset": 0}))
    return render(request, "inbox/inbox.html", visitor, 422, panels=panels, page=1, unread=False, size=PAGE,
                  problems=field_problems(answer) or {"form": answer.detail}, values=values)
