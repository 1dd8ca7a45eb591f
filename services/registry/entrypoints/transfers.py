"""Registry HTTP API for moves between counties (迁移, RULES §5a).

A report naming another region than the archive's asks for a move; the employer stays where the
archive has it until the receiving region's staff (its county, or a city or province covering it)
accept. Both regions see the transfer: on ``GET /enterprises/{credit_code}`` (readable by the
receiving region while it is pending) and on ``GET /transfers``, incoming and outgoing.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from services.registry import views
from services.registry.domain.regions import RegionTree
from services.registry.service_layer import overrides, transfers
from shared.contracts import RequestModel
from shared.errors import Refusal, refusal_of
from shared.http import listed_region, RegionQuery, LimitQuery, OffsetQuery, CreditCodePath, ReaderPrincipal, StaffPrincipal, UnitOfWorkDep

router = APIRouter(tags=["transfers 迁移"])


def region_tree(request: Request) -> RegionTree:
    return request.app.state.regions  # loaded once by bootstrap


Regions = Annotated[RegionTree, Depends(region_tree)]


class TransferDecisionIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["accept", "refuse"] = Field(description="accept: the employer moves to your region; refuse: it stays")
    reason: str | None = Field(default=None, max_length=2000, description="why (required to refuse: both regions see it)")


@router.post(
    "/enterprises/{credit_code}/transfer",
    summary="Accept or refuse the pending move of an employer into your region (迁移, RULES §5a)",
    description="Staff of the receiving region only (its county, or a city or province covering it). Accepting moves the "
    "employer: a new archive version, an entry in both counties' change logs, ClassificationChanged with "
    'changed = ["region_code"]. Refusing closes it; the employer stays.',
    responses={
        403: {"description": "not staff, or staff of the region the employer is in: the receiving region decides"},
        404: {"description": "no archive, or neither the employer's region nor the receiving one is the token's"},
        409: {"description": "no pending transfer, or the region cannot receive it"},
        422: {"description": "a refusal without its reason"},
    },
)
async def post_transfer_decision(
    principal: StaffPrincipal, credit_code: CreditCodePath, body: TransferDecisionIn, uow: UnitOfWorkDep, tree: Regions
) -> Any:
    if body.decision == "refuse" and not body.reason:
        raise Refusal(422, "errors.transfer.refusal_needs_reason", field="reason")

    def decide(u: Any) -> dict[str, Any]:
        record, row = transfers.decide_by_staff(u, principal, credit_code, body.decision, body.reason, tree)
        return {"credit_code": credit_code, "region_code": record.region_code, "archive_version": record.archive_version,
                "transfer": views.transfer_view(row)}

    try:
        content = await uow.run(decide)
    except overrides.NotInArchive as error:
        raise Refusal(404, "errors.archive.not_found", {"credit_code": credit_code}) from error
    except transfers.TransferForbidden as error:
        raise refusal_of(error, 403, "errors.transfer.forbidden", {"credit_code": credit_code}) from error
    except overrides.ArchiveConflict as error:
        raise refusal_of(error, 409, "errors.archive.conflict", {"credit_code": credit_code}) from error
    return JSONResponse(status_code=200, content=content)


@router.get(
    "/transfers",
    summary="Moves between counties into and out of a region: incoming, outgoing (and within a city or province)",
    description="Staff and auditors, inside their jurisdiction (default: all of it).",
    responses={403: {"description": "region_code is outside the token's jurisdiction"}},
)
async def list_transfers(
    principal: ReaderPrincipal,
    uow: UnitOfWorkDep,
    region_code: RegionQuery = None,
    status: Literal["pending", "accepted", "refused", "superseded"] | None = Query(default=None),
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    region = listed_region(principal, region_code)
    total, items = await uow.run(lambda u: views.transfers(u.session, region, status, limit, offset))
    return {"region_code": region, "total": total, "limit": limit, "offset": offset, "items": items}
