"""Registry HTTP API for 免检 (credit-based exemption from inspection, RULES §6).

County, city and province staff grant and revoke exemptions for archived employers of their
jurisdiction (auditors and employers: 403); staff, auditors and the employer itself list them.
An exemption runs from ``valid_from`` to ``valid_until`` inclusive (China dates) and ends by
itself after ``valid_until`` (the registry's daily sweep, ``python -m services.registry.sweep``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from services.registry.adapters.orm import EnterpriseRecord
from services.registry.domain.exemptions import china_today
from services.registry.entrypoints.overrides import REFUSALS, check_credit_code, readable_record, staff_only
from services.registry.service_layer import exemptions
from shared.auth import Principal, authenticate, not_found
from shared.db import in_session
from shared.runtime import invalid

router = APIRouter(tags=["免检 exemptions"])


class ExemptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    valid_from: date = Field(description="first exempt day (China date)")
    valid_until: date = Field(description="last exempt day, included (China date)")
    reason: str = Field(min_length=1)
    basis: str = Field(min_length=1, description="the credit assessment or decision the exemption rests on")


class RevocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1)


@router.post(
    "/enterprises/{credit_code}/exemptions",
    status_code=201,
    summary="Grant a 免检: the employer leaves the sampling pool from valid_from to valid_until (inclusive)",
    description="409 when it overlaps an exemption that is granted or in force; 422 when valid_until is before "
    "valid_from or already past.",
    responses=REFUSALS,
)
async def post_exemption(credit_code: str, body: ExemptionIn, request: Request, principal: Principal = Depends(authenticate)) -> Any:
    check_credit_code(credit_code)
    staff_only(principal, "grant exemptions")

    def work(session: Session) -> Any:
        readable_record(session, principal, credit_code)
        try:
            row = exemptions.grant(
                session, credit_code, valid_from=body.valid_from, valid_until=body.valid_until, reason=body.reason,
                basis=body.basis, actor=principal.describe(), today=china_today(),
            )
        except exemptions.InvalidPeriod as error:
            return invalid([{"field": "valid_until", "message": str(error)}], "the exemption is invalid")
        session.commit()
        return exemptions.view(row)

    return await _act(request, work, 201)


async def _act(request: Request, work: Any, status_code: int) -> Any:
    try:
        body = await in_session(request.app.state.runtime.engine, work)
    except exemptions.ExemptionConflict as error:
        raise HTTPException(status_code=409, detail=str(error)) from error
    if isinstance(body, JSONResponse):
        return body
    await request.app.state.runtime.relay.flush()
    return JSONResponse(status_code=status_code, content=body)


def _revoke(request: Request, principal: Principal, credit_code: str, exemption_id: str, reason: str) -> Any:
    check_credit_code(credit_code)
    staff_only(principal, "revoke exemptions")

    def work(session: Session) -> Any:
        readable_record(session, principal, credit_code)
        try:
            row = exemptions.revoke(session, credit_code, exemption_id, reason=reason, actor=principal.describe())
        except LookupError as error:
            raise not_found(f"exemption {exemption_id} for {credit_code}") from error
        session.commit()
        return exemptions.view(row)

    return _act(request, work, 200)


@router.post(
    "/enterprises/{credit_code}/exemptions/{exemption_id}/revoke",
    summary="Revoke a 免检: the employer returns to the sampling pool",
    description="409 when the exemption has already ended (revoked or expired).",
    responses=REFUSALS,
)
async def post_revocation(
    credit_code: str, exemption_id: str, body: RevocationIn, request: Request, principal: Principal = Depends(authenticate)
) -> Any:
    return await _revoke(request, principal, credit_code, exemption_id, body.reason)


@router.delete(
    "/enterprises/{credit_code}/exemptions/{exemption_id}",
    summary="Revoke a 免检 (the same as POST …/revoke; the reason as a query parameter)",
    responses=REFUSALS,
)
async def delete_exemption(
    credit_code: str,
    exemption_id: str,
    request: Request,
    principal: Principal = Depends(authenticate),
    reason: str = Query(min_length=1, description="why it is revoked"),
) -> Any:
    return await _revoke(request, principal, credit_code, exemption_id, reason)


@router.get(
    "/enterprises/{credit_code}/exemptions",
    summary="An employer's exemptions, in the order granted, with their status (granted, in_force, revoked, expired)",
)
async def get_exemptions(credit_code: str, request: Request, principal: Principal = Depends(authenticate)) -> dict[str, Any]:
    check_credit_code(credit_code)

    def load(session: Session) -> dict[str, Any] | None:
        record = session.get(EnterpriseRecord, credit_code)
        if record is None or not principal.can_read(credit_code, record.region_code):
            return None
        return {"credit_code": credit_code, "items": [exemptions.view(r) for r in exemptions.for_employer(session, credit_code)]}

    found = await in_session(request.app.state.runtime.engine, load)
    if found is None:
        raise not_found(f"archive for {credit_code}")
    return found
