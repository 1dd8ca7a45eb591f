"""Registry HTTP API for 免检 (credit-based exemption from inspection, RULES §6).

County, city and province staff grant and revoke exemptions for archived employers of their
jurisdiction (auditors and employers: 403); staff, auditors and the employer itself list them.
An exemption runs from ``valid_from`` to ``valid_until`` inclusive (China dates) and ends by
itself after ``valid_until`` (the registry's daily sweep, ``ohs registry sweep exemptions``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from services.registry import views
from services.registry.domain.exemptions import china_today
from services.registry.entrypoints.http import archive_not_found
from services.registry.entrypoints.overrides import REFUSALS
from services.registry.service_layer import exemptions, overrides
from shared.contracts import TEXT_LENGTH, FreeText, RequestModel, SaneDate
from shared.errors import Refusal, refusal_of
from shared.http import CreditCodePath, CurrentPrincipal, StaffPrincipal, UnitOfWorkDep

router = APIRouter(tags=["免检 exemptions"])


class ExemptionIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    valid_from: SaneDate = Field(description="first exempt day (China date)")
    valid_until: SaneDate = Field(description="last exempt day, included (China date)")
    reason: FreeText
    basis: FreeText = Field(description="the credit assessment or decision the exemption rests on")


class RevocationIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: FreeText


ExemptionIdPath = Annotated[str, Path(min_length=1, max_length=64, description="the exemption's id")]


@router.post(
    "/enterprises/{credit_code}/exemptions",
    status_code=201,
    summary="Grant a 免检: the employer leaves the sampling pool from valid_from to valid_until (inclusive)",
    description="409 when it overlaps an exemption that is granted or in force; 422 when valid_until is before "
    "valid_from or already past.",
    responses=REFUSALS,
)
async def post_exemption(principal: StaffPrincipal, credit_code: CreditCodePath, body: ExemptionIn, uow: UnitOfWorkDep) -> Any:
    try:
        row = await uow.run(lambda u: views.exemption_view(exemptions.grant_by_staff(
            u, principal, credit_code, valid_from=body.valid_from, valid_until=body.valid_until, reason=body.reason, basis=body.basis,
            today=china_today(),
        )))
    except overrides.NotInArchive as error:
        raise archive_not_found(credit_code) from error
    except exemptions.InvalidPeriod as error:
        raise refusal_of(error, 422, "errors.exemption.invalid_period", field="valid_until") from error
    except exemptions.ExemptionConflict as error:
        raise refusal_of(error, 409, "errors.exemption.conflict") from error
    return JSONResponse(status_code=201, content=row)


async def _revoke(uow: UnitOfWorkDep, principal: StaffPrincipal, credit_code: str, exemption_id: str, reason: str) -> Any:
    try:
        return await uow.run(
            lambda u: views.exemption_view(exemptions.revoke_by_staff(u, principal, credit_code, exemption_id, reason=reason))
        )
    except overrides.NotInArchive as error:
        raise archive_not_found(credit_code) from error
    except LookupError as error:
        raise Refusal(404, "errors.exemption.not_found", {"exemption_id": exemption_id, "credit_code": credit_code}) from error
    except exemptions.ExemptionConflict as error:
        raise refusal_of(error, 409, "errors.exemption.conflict") from error


@router.post(
    "/enterprises/{credit_code}/exemptions/{exemption_id}/revoke",
    summary="Revoke a 免检: the employer returns to the sampling pool",
    description="409 when the exemption has already ended (revoked or expired).",
    responses=REFUSALS,
)
async def post_revocation(
    principal: StaffPrincipal, credit_code: CreditCodePath, exemption_id: ExemptionIdPath, body: RevocationIn, uow: UnitOfWorkDep
) -> Any:
    return await _revoke(uow, principal, credit_code, exemption_id, body.reason)


@router.delete(
    "/enterprises/{credit_code}/exemptions/{exemption_id}",
    summary="Revoke a 免检 (the same as POST …/revoke; the reason as a query parameter)",
    responses=REFUSALS,
)
async def delete_exemption(
    principal: StaffPrincipal,
    credit_code: CreditCodePath,
    exemption_id: ExemptionIdPath,
    uow: UnitOfWorkDep,
    reason: str = Query(min_length=1, max_length=TEXT_LENGTH, description="why it is revoked"),
) -> Any:
    return await _revoke(uow, principal, credit_code, exemption_id, reason)


@router.get(
    "/enterprises/{credit_code}/exemptions",
    summary="An employer's exemptions, in the order granted, with their status (granted, in_force, revoked, expired)",
)
async def get_exemptions(principal: CurrentPrincipal, credit_code: CreditCodePath, uow: UnitOfWorkDep) -> dict[str, Any]:
    def load(u: Any) -> dict[str, Any] | None:
        region_code = views.readable_region(u.session, credit_code)
        if region_code is None or not principal.can_read(credit_code, region_code):
            return None
        return {"credit_code": credit_code, "items": views.exemptions(u.session, credit_code)}

    found = await uow.run(load)
    if found is None:
        raise archive_not_found(credit_code)
    return found
