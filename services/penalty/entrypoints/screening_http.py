"""Screenings of classified reports against 附件5 through HTTP (issue 13): list and read them (staff their
region's employers, an employer its own), and open a case from one (staff). Parse, check access, delegate
to ``service_layer.screening``; the read models are in ``views``."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query

from services.penalty import views
from services.penalty.entrypoints.http import RulebookDep
from services.penalty.service_layer import screening
from shared.auth import Principal
from shared.contracts import ScreeningOutcome
from shared.errors import Refusal
from shared.http import CurrentPrincipal, LimitQuery, OffsetQuery, StaffPrincipal, UnitOfWorkDep, valid_credit_code

router = APIRouter(tags=["screenings 附件5 筛查"])
log = logging.getLogger(__name__)

ScreeningIdPath = Annotated[UUID, Path(description="the screening id (a UUID)")]


def _may_read(principal: Principal, found: dict[str, Any] | None) -> bool:
    return found is not None and principal.can_read(found["credit_code"], found["region_code"])


@router.get(
    "/screenings",
    summary="Screenings of classified reports against 附件5, newest first: staff see their region's employers, an employer its own",
    description="Each disclosed shortcoming of a classified report, screened against the no-penalty list (附件5) in force: "
    "eligible_if_corrected (no penalty if corrected by the deadline), not_eligible (the reasons: not on the list, repeat, major) "
    "or no_violation (a recommendation only), with the trace. Staff and auditors: every employer of the token's region, or "
    "one (credit_code). An employer: its own (another credit_code lists nothing).",
)
async def list_screenings(
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    credit_code: Annotated[str | None, Query(min_length=1, max_length=64, description="统一社会信用代码 of one employer")] = None,
    outcome: Annotated[ScreeningOutcome | None, Query(description="only this outcome")] = None,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    if credit_code is not None:
        credit_code = valid_credit_code(credit_code)  # the same check (and 422) as a {credit_code} path parameter
    if principal.role == "employer":
        if credit_code is not None and credit_code != principal.credit_code:
            return {"credit_code": credit_code, "total": 0, "limit": limit, "offset": offset, "items": []}
        own = principal.credit_code
        listed = await uow.run(lambda u: views.screenings(u.session, credit_code=own, region=None, outcome=outcome, limit=limit, offset=offset))
        return {"credit_code": own, **listed}
    region = principal.region_code
    if region is None or principal.role == "organisation":  # staff and auditors have a region; an organisation reads no employer's
        return {"credit_code": credit_code, "total": 0, "limit": limit, "offset": offset, "items": []}
    listed = await uow.run(lambda u: views.screenings(u.session, credit_code=credit_code, region=region, outcome=outcome,
                                                       limit=limit, offset=offset))
    return {"credit_code": credit_code, "region_code": region, **listed}


@router.get("/screenings/{screening_id}", summary="One screening: outcome, deadline, rectification, case and trace",
            responses={404: {"description": "no such screening, or outside the token's scope"}})
async def get_screening(screening_id: ScreeningIdPath, principal: CurrentPrincipal, uow: UnitOfWorkDep) -> dict[str, Any]:
    found = await uow.run(lambda u: views.screening_by_id(u.session, str(screening_id)))
    if not _may_read(principal, found):
        raise Refusal(404, "penalty.error.screening_not_found", {"screening_id": str(screening_id)})
    assert found is not None
    return found


@router.post(
    "/screenings/{screening_id}/case",
    status_code=201,
    summary="Open a case from a screening (staff): the existing judgement then decides",
    description="Item = the screening's provision, found on the screening day, no harm, the screening's deadline, its correction "
    "when corrected in time; the case's opened step carries the screening's trace and GET /cases/{id} shows the screening. "
    "A county only for its own employers (the archive's county).",
    responses={
        403: {"description": "not supervision staff"},
        404: {"description": "no such screening, or an employer outside the token's jurisdiction"},
        409: {"description": "the screening already has its case (named)"},
        422: {"description": "no violation: a recommendation only (or a bad id)"},
    },
)
async def post_case(screening_id: ScreeningIdPath, principal: StaffPrincipal, uow: UnitOfWorkDep, rules: RulebookDep) -> Any:
    def open_case(u: Any) -> dict[str, Any]:
        case = screening.open_case_from_screening(u, principal, str(screening_id), rules)
        return views.case_detail(u.session, case)

    try:
        view = await uow.run(open_case)
    except screening.ScreeningNotFound as error:
        raise Refusal(404, error.code, error.params) from error
    except screening.NothingToOpen as error:
        raise Refusal(422, error.code, error.params, field="screening_id") from error
    except screening.CaseAlreadyOpened as error:
        raise Refusal(409, error.code, error.params) from error
    log.info("case %s (%s) opened from screening %s by %s", view["case_code"], view["credit_code"], screening_id, principal.describe())
    return {**view, "links": {"case": f"/cases/{view['id']}", "screening": f"/screenings/{screening_id}"}}
