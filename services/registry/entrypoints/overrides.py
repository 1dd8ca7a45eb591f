"""Registry HTTP API for overrides (RULES §5): industry default, enforcement upgrade, dispute and
on-site verification. County, city and province staff act for employers of their jurisdiction;
auditors and employers get 403; an employer outside the jurisdiction answers 404 as if absent.
Who acted (``principal.describe()``), when and why is kept with the entry and in the change log.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field, field_validator

from services.registry import views
from services.registry.domain.exemptions import china_today
from services.registry.domain.overrides import IndustryCatalogues, NoIndustryMatch
from services.registry.service_layer import overrides
from shared.contracts import (
    NAME_LENGTH,
    REF_LENGTH,
    FreeText,
    Headcount,
    RequestModel,
    SaneDate,
    validate_county_code,
)
from shared.errors import Refusal, refusal_of
from shared.http import CreditCodePath, StaffPrincipal, UnitOfWorkDep
from shared.problems import refusal
from shared.rule_data import NoApplicableRules

router = APIRouter(tags=["overrides 档案调整"])

REFUSALS = {
    403: {"description": "an auditor's or an employer's token: only supervision staff change the archive"},
    404: {"description": "no archive for the employer, or it is outside the token's jurisdiction"},
    409: {"description": "not possible in the archive's current state (the answer says why)"},
}


class _In(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class IndustryClassificationIn(_In):
    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    region_code: str = Field(max_length=6, description="county-level GB/T 2260 code")
    industry_codes: list[Annotated[str, Field(max_length=5)]] = Field(
        min_length=1, max_length=20, description="GB/T 4754-2017 codes, e.g. C3021 (at most 20)")
    employees: Headcount = Field(description="职工总数, 0 … 1,000,000")
    reason: FreeText = Field(description="why there is no usable report")
    production_started_on: SaneDate | None = Field(
        default=None, description="a new employer: the day production started; its first assessment is due 2 months later (reminders)"
    )

    _region = field_validator("region_code")(validate_county_code)

    @field_validator("industry_codes")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if not (1 <= len(code) <= 5 and code[0].isalpha() and code[0].isupper() and code[1:].isdigit()):
                raise refusal("errors.field.industry_code", value=repr(code))
        return codes


class UpgradeIn(_In):
    reason: FreeText
    steps: Literal[1, 2] = Field(default=1, description="how many steps up (甲 → 乙 → 丙); 丙 stays 丙")
    case_ref: str | None = Field(default=None, max_length=REF_LENGTH, description="the deciding case, e.g. a penalty case id or 文书号")


class DisputeIn(_In):
    reason: FreeText


class VerificationIn(_In):
    finding: FreeText = Field(description="what the on-site verification found")
    resubmission_requested: bool


def industry_catalogues(request: Request) -> IndustryCatalogues:
    return request.app.state.industries  # loaded once by bootstrap


Catalogues = Annotated[IndustryCatalogues, Depends(industry_catalogues)]


async def answer(credit_code: str, work: Awaitable[Any], status_code: int = 201) -> JSONResponse:
    """Run a staff command and answer: 404 outside the jurisdiction or without an archive, 409 when
    the archive's state does not allow it."""
    try:
        content = await work
    except overrides.NotInArchive as error:
        raise Refusal(404, "errors.archive.not_found", {"credit_code": credit_code}) from error
    except overrides.ArchiveConflict as error:
        raise refusal_of(error, 409, "errors.archive.conflict", {"credit_code": credit_code}) from error
    return JSONResponse(status_code=status_code, content=content)


@router.post(
    "/enterprises/{credit_code}/industry-classification",
    status_code=201,
    summary="Archive an employer without a usable report by its industries (industry default, RULES §5)",
    description="严重 industry → 丙, 一般 → 乙, several industries: the higher; each code matched to the catalogue entry "
    "with the longest prefix. 409 when the archive already holds a report-based classification; 422 when no "
    "industry is in the catalogue.",
    responses={**REFUSALS, 403: {"description": "not staff, or region_code outside the token's jurisdiction"}},
)
async def post_industry_classification(
    principal: StaffPrincipal, credit_code: CreditCodePath, body: IndustryClassificationIn, uow: UnitOfWorkDep, catalogues: Catalogues
) -> JSONResponse:
    if not principal.can_act_for(credit_code, body.region_code):
        raise Refusal(403, "errors.auth.region_outside_jurisdiction", {"region_code": body.region_code, "token_region": principal.region_code})
    command = overrides.IndustryClassification(
        credit_code, body.name, body.region_code, body.industry_codes, body.employees, body.reason, body.production_started_on
    )
    try:
        return await answer(credit_code, uow.run(
            lambda u: views.override_outcome(*overrides.classify_by_industry_by_staff(u, catalogues, command, principal, china_today()))
        ))
    except NoIndustryMatch as error:
        raise Refusal(422, "errors.industry.no_match", {"industry_codes": list(body.industry_codes)}, field="industry_codes") from error
    except NoApplicableRules as error:
        raise Refusal(422, "errors.industry.no_catalogue", {"region_code": body.region_code, "day": china_today().isoformat()},
                      field="region_code") from error


@router.post(
    "/enterprises/{credit_code}/upgrade",
    status_code=201,
    summary="Enforcement upgrade: raise the category by 1 or 2 steps (甲 → 乙 → 丙), with the reason and the case",
    description="Applies to the current report (or industry default); a newer report starts again from its own result "
    "and clears the upgrade (kept in the history). An upgrade of a 丙 employer is still recorded.",
    responses=REFUSALS,
)
async def post_upgrade(principal: StaffPrincipal, credit_code: CreditCodePath, body: UpgradeIn, uow: UnitOfWorkDep) -> JSONResponse:
    return await answer(credit_code, uow.run(lambda u: views.override_outcome(
        *overrides.upgrade_by_staff(u, principal, credit_code, steps=body.steps, reason=body.reason, case_ref=body.case_ref)
    )))


@router.post(
    "/enterprises/{credit_code}/dispute",
    status_code=201,
    summary="Mark the current report disputed (to be verified on site)",
    responses=REFUSALS,
)
async def post_dispute(principal: StaffPrincipal, credit_code: CreditCodePath, body: DisputeIn, uow: UnitOfWorkDep) -> JSONResponse:
    return await answer(credit_code, uow.run(
        lambda u: views.override_outcome(*overrides.dispute_by_staff(u, principal, credit_code, reason=body.reason))
    ))


@router.post(
    "/enterprises/{credit_code}/verification",
    status_code=201,
    summary="Record the on-site verification of a disputed report; optionally request a resubmission",
    description="With resubmission_requested the archive shows “resubmission requested” until a new report arrives.",
    responses=REFUSALS,
)
async def post_verification(principal: StaffPrincipal, credit_code: CreditCodePath, body: VerificationIn, uow: UnitOfWorkDep) -> JSONResponse:
    return await answer(credit_code, uow.run(lambda u: views.override_outcome(
        *overrides.verify_by_staff(u, principal, credit_code, finding=body.finding, resubmission_requested=body.resubmission_requested)
    )))
