"""Notification HTTP API: the web inbox the console reads, and the contacts e-mail and SMS go to.
Parse, authorise, delegate: the use cases are in ``service_layer.contacts``, the read models in ``views``.

Whose mailboxes a caller reads is decided by the token and the data: an employer its own; county staff
their county's; city and province staff those of the counties they cover. A notification outside them
answers 404, exactly like one that does not exist; auditors have no inbox (403)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import ConfigDict, Field, field_validator

from services.notification import views
from services.notification.domain.contacts import EMAIL_LENGTH, PHONE_LENGTH, email_problem, phone_problem
from services.notification.service_layer import contacts
from shared.auth import Principal
from shared.contracts import RequestModel
from shared.errors import Refusal, once_more_after_a_race
from shared.http import CurrentPrincipal, LimitQuery, OffsetQuery, StaffPrincipal, UnitOfWorkDep
from shared.identifiers import county_region_problem
from shared.jurisdiction import region_prefix

router = APIRouter(tags=["inbox 通知"])
log = logging.getLogger(__name__)

NotificationIdPath = Annotated[str, Path(min_length=1, max_length=36, description="the notification's id")]
CountyPath = Annotated[str, Path(min_length=6, max_length=6, description="GB/T 2260 county code, e.g. 141029")]
ROLE = {"auditor": "审计人员", "employer": "用人单位", "county": "县", "city": "市", "province": "省"}  # a token's role, named as a term
_INBOX_RESPONSES: dict[int | str, dict[str, Any]] = {403: {"description": "an auditor's token: the inbox is for employers and supervision staff"}}


def mailboxes_of(principal: Principal) -> views.Mailboxes:
    """The mailboxes the caller reads; 403 for an auditor."""
    if principal.role == "employer":
        return views.Mailboxes("employer", recipient=principal.credit_code)
    if principal.is_staff and principal.region_code:
        return views.Mailboxes("county", region_prefix=region_prefix(principal.region_code))
    raise Refusal(403, "notification.error.inbox_not_for_role", {"role": ROLE.get(principal.role, principal.role)})


@router.get("/inbox", summary="The caller's notifications, newest first, with the count of unread ones", responses=_INBOX_RESPONSES,
            description="An employer reads its own; county staff their county's mailbox; city and province staff the mailboxes of "
            "the counties they cover. Read marks are each reader's own (`read_at`: when this reader marked it read).")
async def get_inbox(
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    unread: Annotated[bool | None, Query(description="true: only the notifications this reader has not read")] = None,
    limit: LimitQuery = 50,
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    mailboxes = mailboxes_of(principal)
    return await uow.run(lambda u: views.inbox(u.session, mailboxes, principal.subject, bool(unread), limit, offset))


@router.post("/inbox/{notification_id}/read", summary="Mark a notification read (for this reader)",
             responses={**_INBOX_RESPONSES, 404: {"description": "no such notification, or not in the caller's mailboxes"}})
async def post_read(notification_id: NotificationIdPath, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> dict[str, Any]:
    mailboxes = mailboxes_of(principal)

    async def read() -> dict[str, Any]:
        return await uow.run(lambda u: views.notification_for(
            u.session, contacts.mark_read(u, notification_id, principal.subject, mailboxes.covers), principal.subject))

    try:
        return await once_more_after_a_race(read)
    except contacts.NotificationNotFound as error:
        raise Refusal(404, error.code, error.params) from None


# --------------------------------------------------------------------------- contacts


class ContactIn(RequestModel):
    """Where notifications are e-mailed and texted; null (or absent) clears one. Replaces what was on file."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, min_length=1, max_length=EMAIL_LENGTH, description="e-mail address, ASCII, e.g. zhang.san@example.cn")
    phone: str | None = Field(default=None, min_length=1, max_length=PHONE_LENGTH, pattern=r"^\+?[0-9]+$",
                              description="mobile number for SMS: digits, optionally after a leading +")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and (problem := email_problem(value)):
            raise ValueError(problem)
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and (problem := phone_problem(value)):
            raise ValueError(problem)
        return value


def _employer(principal: Principal) -> str:
    if principal.role != "employer" or not principal.credit_code:
        raise Refusal(403, "notification.error.contact_for_employers")
    return principal.credit_code


def _county(principal: Principal, region_code: str) -> str:
    if problem := county_region_problem(region_code):
        code = getattr(problem, "code", None)  # a check that says itself with a code (shared.problems.Problem): its own
        if code:
            raise Refusal(422, code, getattr(problem, "params", {}), field="region_code")
        raise Refusal(422, "notification.error.region_code_invalid", {"region_code": region_code, "problem": str(problem)}, field="region_code")
    if not principal.covers_region(region_code):
        raise Refusal(404, "notification.error.mailbox_not_found", {"region_code": region_code})
    return region_code


_EMPLOYER_ONLY: dict[int | str, dict[str, Any]] = {403: {"description": "not an employer's token"}}
_STAFF_ONLY: dict[int | str, dict[str, Any]] = {403: {"description": "not supervision staff"},
                                                404: {"description": "the county lies outside the token's jurisdiction"}}


@router.get("/contacts/me", tags=["contacts 联系方式"], summary="The employer's own e-mail address and phone", responses=_EMPLOYER_ONLY)
async def get_my_contact(principal: CurrentPrincipal, uow: UnitOfWorkDep) -> dict[str, Any]:
    credit_code = _employer(principal)
    return await uow.run(lambda u: views.contact(u.session, "employer", credit_code))


@router.put("/contacts/me", tags=["contacts 联系方式"], summary="Set the employer's own e-mail address and phone", responses=_EMPLOYER_ONLY,
            description="Notifications already in the inbox and not yet e-mailed go to the new address; notifications raised "
            "before any contact existed stay in the inbox only.")
async def put_my_contact(body: ContactIn, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> dict[str, Any]:
    credit_code = _employer(principal)
    result = await uow.run(lambda u: views.contact(
        u.session, "employer", contacts.put_contact(u, "employer", credit_code, body.email, body.phone, principal.describe()).recipient))
    log.info("contact of employer %s set by %s", credit_code, principal.describe())
    return result


@router.get("/contacts/regions/{region_code}", tags=["contacts 联系方式"], summary="A county supervision mailbox's e-mail address and phone",
            responses=_STAFF_ONLY)
async def get_region_contact(region_code: CountyPath, principal: StaffPrincipal, uow: UnitOfWorkDep) -> dict[str, Any]:
    county = _county(principal, region_code)
    return await uow.run(lambda u: views.contact(u.session, "county", county))


@router.put("/contacts/regions/{region_code}", tags=["contacts 联系方式"], summary="Set a county supervision mailbox's e-mail address and phone",
            responses=_STAFF_ONLY, description="County staff set their own county's; city and province staff those of the counties they cover.")
async def put_region_contact(region_code: CountyPath, body: ContactIn, principal: StaffPrincipal, uow: UnitOfWorkDep) -> dict[str, Any]:
    county = _county(principal, region_code)
    result = await uow.run(lambda u: views.contact(
        u.session, "county", contacts.put_contact(u, "county", county, body.email, body.phone, principal.describe()).recipient))
    log.info("contact of county mailbox %s set by %s", county, principal.describe())
    return result
