"""Registry HTTP API for the risk portrait (风险画像, 一企一案): the employer's six dimensions, each with its
level and the shortcomings behind it, and the versions kept.

Readable by the employer itself and by staff (and auditors) whose jurisdiction covers the county the
archive has the employer in; anyone else gets 404, exactly as for an employer without a portrait.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from services.registry import views
from shared.auth import Principal
from shared.errors import Refusal
from shared.http import CreditCodePath, CurrentPrincipal, ReaderLocale, UnitOfWorkDep

router = APIRouter(tags=["portrait 风险画像"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "no portrait yet, or an employer outside the token's jurisdiction (or another employer's token)"},
}
VersionPath = Annotated[int, Path(ge=1, le=1_000_000, description="a version of the portrait (1, 2, …)")]


def _readable(principal: Principal, credit_code: str, found: dict[str, Any] | None, version: int | None = None) -> dict[str, Any]:
    """``found`` when the caller may read the employer (the archive's county), else 404 as for no portrait."""
    if found is None or not principal.can_read(credit_code, found["region_code"]):
        if version is not None:
            raise Refusal(404, "errors.portrait.version_not_found", {"credit_code": credit_code, "version": version})
        raise Refusal(404, "errors.portrait.not_found", {"credit_code": credit_code})
    return found


@router.get(
    "/enterprises/{credit_code}/portrait",
    summary="The employer's current risk portrait: six dimensions, each with its level (low 低 / medium 中 / high 高) "
    "and the shortcomings behind it (code, text, source, since)",
    description="Recomputed from the events on every classified report, rectification step and penalty decision; "
    "a new version only when its content changes. `rule_set` names the provisional portrait rules used; `trace` says "
    "why each level.",
    responses=_RESPONSES,
)
async def get_portrait(principal: CurrentPrincipal, credit_code: CreditCodePath, uow: UnitOfWorkDep, locale: ReaderLocale) -> dict[str, Any]:
    return _readable(principal, credit_code, await uow.run(lambda u: views.portrait(u.session, credit_code, None, locale)))


@router.get(
    "/enterprises/{credit_code}/portrait/versions",
    summary="Every version of the employer's portrait, newest first: when, why, and the level of each dimension",
    responses=_RESPONSES,
)
async def get_portrait_versions(principal: CurrentPrincipal, credit_code: CreditCodePath, uow: UnitOfWorkDep) -> dict[str, Any]:
    return _readable(principal, credit_code, await uow.run(lambda u: views.portrait_versions(u.session, credit_code)))


@router.get(
    "/enterprises/{credit_code}/portrait/versions/{version}",
    summary="One version of the employer's portrait, in full",
    responses=_RESPONSES,
)
async def get_portrait_version(principal: CurrentPrincipal, credit_code: CreditCodePath, version: VersionPath,
                               uow: UnitOfWorkDep, locale: ReaderLocale) -> dict[str, Any]:
    return _readable(principal, credit_code, await uow.run(lambda u: views.portrait(u.session, credit_code, version, locale)), version)
