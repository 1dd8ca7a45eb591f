"""Organisations' filings and star rating (issue 17): an organisation's token files test reports or examination
summaries for employers of its accreditation region and reads its own; province staff describe organisations and
give their public-credit input; anyone reads the public list of ratings."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field, field_validator

from services.penalty.adapters.orm_org_filings import Org, OrgFiling, filings_page, rated_page
from services.penalty.domain.org_rating import OrgKind, PublicCreditLevel
from services.penalty.entrypoints.http import RulebookDep
from services.penalty.service_layer import org_filings
from services.penalty.service_layer.unit_of_work import AbstractPenaltyUnitOfWork
from shared.auth import ORGANISATION, Principal
from shared.contracts import NAME_LENGTH, RequestModel, SaneDate, validate_county_code, validate_credit_code
from shared.dates import china_today
from shared.errors import Issue, Refusal, once_more_after_a_race
from shared.http import CreditCodePath, CurrentPrincipal, LimitQuery, OffsetQuery, StaffPrincipal, UnitOfWorkDep
from shared.identifiers import region_problem
from shared.jurisdiction import jurisdiction_level, region_prefix

router = APIRouter(tags=["organisations' filings and star rating 机构报送与星级评定"])
log = logging.getLogger(__name__)
COUNT_MAX = 1_000_000


async def require_organisation(principal: CurrentPrincipal) -> Principal:
    """The caller, who must be an organisation's token (``--role organisation``), else 403."""
    if principal.role != ORGANISATION or not principal.credit_code or not principal.region_code:
        raise Refusal(403, "penalty.error.org.organisation_only")
    return principal


OrganisationPrincipal = Annotated[Principal, Depends(require_organisation)]


class _Filing(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    credit_code: str = Field(min_length=18, max_length=18, description="the employer's 统一社会信用代码")
    region_code: str | None = Field(default=None, max_length=6, description="the employer's county, when penalty has no archive "
                                    "of it and its credit code names no county (an archived employer's county is the archive's)")

    _credit = field_validator("credit_code")(validate_credit_code)

    @field_validator("region_code")
    @classmethod
    def _county(cls, value: str | None) -> str | None:
        return None if value is None else validate_county_code(value)


class TestReportIn(_Filing):
    """A test report (检测报告) on one hazard factor at one post."""

    __test__ = False  # not a pytest class

    report_no: str = Field(min_length=1, max_length=64, pattern=r"^[^\s]+$", description="the report's number, unique per organisation")
    factor: str = Field(min_length=1, max_length=64, description="the hazard factor as in the catalogue, e.g. 矽尘, 噪声")
    post: str = Field(default="", max_length=100, description="the post (岗位) tested; empty counts as incomplete in the rating")
    compliant: bool = Field(description="the result within the occupational exposure limit")
    result: str = Field(default="", max_length=200, description="the measured result as the report states it (e.g. C-TWA 1.8 mg/m³)")
    tested_on: SaneDate = Field(description="the day of testing (not in the future)")


class ExamSummaryIn(_Filing):
    """A summary of one round of occupational health examinations at an employer."""

    summary_no: str = Field(min_length=1, max_length=64, pattern=r"^[^\s]+$", description="the summary's number, unique per institution")
    examined_on: SaneDate = Field(description="the (last) day of the examinations (not in the future)")
    examined: int = Field(ge=1, le=COUNT_MAX, description="workers examined")
    abnormal: int = Field(ge=0, le=COUNT_MAX, description="of whom with abnormal results (≤ examined)")
    suspected_occupational_disease: int = Field(ge=0, le=COUNT_MAX, description="of whom suspected of an occupational disease (≤ abnormal)")

    def count_problems(self) -> list[Issue]:
        """abnormal ≤ examined, suspected ≤ abnormal: each a problem of its own field."""
        problems = []
        if self.abnormal > self.examined:
            problems.append(Issue("abnormal", "penalty.error.org.count_exceeds", {"field": "abnormal", "count": self.abnormal,
                                                                                    "other": "examined", "limit": self.examined}))
        if self.suspected_occupational_disease > self.abnormal:
            problems.append(Issue("suspected_occupational_disease", "penalty.error.org.count_exceeds", {
                "field": "suspected_occupational_disease", "count": self.suspected_occupational_disease, "other": "abnormal",
                "limit": self.abnormal}))
        return problems


class OrgIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=NAME_LENGTH)
    kind: OrgKind
    region_code: str = Field(min_length=6, max_length=6, description="the province or city where it is accredited")

    def region_refusal(self) -> Refusal | None:
        """A region that is no GB/T 2260 code, or a county's: 422 naming region_code."""
        if problem := region_problem(self.region_code):
            return Refusal(422, problem.code, problem.params, field="region_code")
        if jurisdiction_level(self.region_code) not in (1, 2):
            return Refusal(422, "penalty.error.org.region_level", {"region_code": self.region_code}, field="region_code")
        return None


class PublicCreditIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    level: PublicCreditLevel = Field(description="公共信用评价 level, A (best) to D")
    source: str = Field(min_length=1, max_length=200, description="the system or document that gave it")
    as_of: SaneDate = Field(description="the day the level was given (not in the future)")


def _refused(error: org_filings.FilingRefused) -> Refusal:
    return Refusal(error.status, error.code, error.params, field=error.field)


def _not_after_today(day: date, field: str) -> None:
    today = china_today()
    if day > today:
        raise Refusal(422, "penalty.error.day_in_future", {"day": day.isoformat(), "today": today.isoformat()}, field=field)


def filing_view(filing: OrgFiling) -> dict[str, Any]:
    return {"id": filing.id, "org_id": filing.org_id, "kind": filing.kind, "number": filing.number,
            "credit_code": filing.employer_credit_code, "region_code": filing.region_code, "done_on": filing.done_on.isoformat(),
            "filed_on": filing.filed_on.isoformat(), "complete": filing.complete, **filing.details}


def rating_view(org: Org) -> dict[str, Any]:
    return {"org_id": org.org_id, "name": org.name, "kind": org.kind, "region_code": org.region_code, "stars": org.stars,
            "points": org.points, "rated_on": org.rated_on.isoformat() if org.rated_on else None,
            "public_credit": None if org.public_credit_level is None else {
                "level": org.public_credit_level, "source": org.public_credit_source,
                "as_of": org.public_credit_as_of.isoformat() if org.public_credit_as_of else None},
            "rule_set": org.rule_set, "trace": org.trace}


async def _file(principal: Principal, new: org_filings.NewFiling, uow: UnitOfWorkDep, rulebook: Any) -> tuple[dict[str, Any], bool]:
    filer = org_filings.Filer(principal.credit_code or "", principal.name, principal.region_code or "", principal.describe())
    today = china_today()

    def run(u: AbstractPenaltyUnitOfWork) -> tuple[dict[str, Any], bool]:
        filing, created = org_filings.file(u, filer, new, today=today, rules=rulebook.org_rating)
        return filing_view(filing), created

    try:
        return await once_more_after_a_race(lambda: uow.run(run))  # the same number at once: the filing made
    except org_filings.FilingRefused as error:
        raise _refused(error) from error


@router.post("/org/test-reports", status_code=201, summary="An organisation files a test report (检测报告) on an employer's hazard",
             description="A technical service organisation's token only, for employers of the region it is accredited in (403 "
             "outside it). Idempotent on (organisation, report_no): the same report again answers 200 with the filing made; "
             "other content under the same number 409. Announced on ohs.orgs.test-reports (the assessment's test-validity check).")
async def post_test_report(principal: OrganisationPrincipal, body: TestReportIn, uow: UnitOfWorkDep, rulebook: RulebookDep) -> Any:
    new = org_filings.NewFiling("test_report", body.report_no, body.credit_code, body.region_code, body.tested_on,
                                {"factor": body.factor, "post": body.post, "compliant": body.compliant, "result": body.result})
    view, created = await _file(principal, new, uow, rulebook)
    if created:
        log.info("test report %s filed by %s", body.report_no, principal.describe())
    return view if created else _ok(view)


@router.post("/org/exam-summaries", status_code=201, summary="An examination institution files an examination summary",
             description="An examination institution's token only, for employers of the region it is accredited in. Idempotent on "
             "(institution, summary_no). Announced on ohs.orgs.exam-summaries.")
async def post_exam_summary(principal: OrganisationPrincipal, body: ExamSummaryIn, uow: UnitOfWorkDep, rulebook: RulebookDep) -> Any:
    if problems := body.count_problems():
        if len(problems) == 1:
            raise Refusal(422, problems[0].code, problems[0].params, field=problems[0].field)
        raise Refusal(422, "errors.request.invalid", errors=problems)
    new = org_filings.NewFiling("exam_summary", body.summary_no, body.credit_code, body.region_code, body.examined_on,
                                {"examined": body.examined, "abnormal": body.abnormal,
                                 "suspected_occupational_disease": body.suspected_occupational_disease})
    view, created = await _file(principal, new, uow, rulebook)
    return view if created else _ok(view)


def _ok(view: dict[str, Any]) -> JSONResponse:
    """The filing made, answered again (200, not 201)."""
    return JSONResponse(view, status_code=200)


@router.get("/org/filings", summary="The calling organisation's own filings, newest first")
async def get_own_filings(principal: OrganisationPrincipal, uow: UnitOfWorkDep, limit: LimitQuery = 100, offset: OffsetQuery = 0) -> Any:
    org_id = principal.credit_code or ""

    def read(u: AbstractPenaltyUnitOfWork) -> dict[str, Any]:
        rows, total = filings_page(u.session, org_id, limit, offset)  # type: ignore[attr-defined]
        return {"org_id": org_id, "total": total, "limit": limit, "offset": offset, "items": [filing_view(r) for r in rows]}

    return await uow.run(read)


def _province(principal: Principal) -> None:
    if principal.role != "province":
        raise Refusal(403, "penalty.error.org.province_only")


@router.put("/orgs/{credit_code}", summary="Province staff: an organisation's name, kind and accreditation region",
            description="Declares (or corrects) what the organisation is: technical_service files test reports, examination files "
            "examination summaries (an organisation unknown here declares its kind by its first filing). 409 when the kind "
            "contradicts what it has filed; 404 for an organisation recorded in another province. The path is the "
            "organisation's 统一社会信用代码 (as `GET /orgs/{credit_code}`).")
async def put_org(principal: StaffPrincipal, credit_code: CreditCodePath, body: OrgIn, uow: UnitOfWorkDep, rulebook: RulebookDep) -> Any:
    org_id = credit_code
    _province(principal)
    if refusal := body.region_refusal():
        raise refusal
    if not body.region_code.startswith(region_prefix(principal.region_code or "")):
        raise Refusal(403, "errors.auth.region_outside_jurisdiction", {"region_code": body.region_code, "token_region": principal.region_code})
    today = china_today()

    def run(u: AbstractPenaltyUnitOfWork) -> dict[str, Any]:
        return rating_view(org_filings.describe_org(u, org_id, body.name, body.kind, body.region_code, rules=rulebook.org_rating, today=today,
                                                    jurisdiction=principal.region_code or ""))

    try:
        return await once_more_after_a_race(lambda: uow.run(run))
    except org_filings.FilingRefused as error:
        raise _refused(error) from error


@router.put("/orgs/{credit_code}/public-credit", summary="Province staff: an organisation's public-credit level (公共信用评价)",
            description="An input of the star rating; the rating is recomputed at once (OrgRated when its stars change). 404 for an "
            "organisation unknown here or recorded in another province.")
async def put_public_credit(principal: StaffPrincipal, credit_code: CreditCodePath, body: PublicCreditIn, uow: UnitOfWorkDep,
                            rulebook: RulebookDep) -> Any:
    _province(principal)
    _not_after_today(body.as_of, "as_of")
    today = china_today()

    def run(u: AbstractPenaltyUnitOfWork) -> dict[str, Any]:
        return rating_view(org_filings.set_public_credit(u, credit_code, body.level, body.source, body.as_of, rules=rulebook.org_rating,
                                                         today=today, jurisdiction=principal.region_code or ""))

    try:
        return await uow.run(run)
    except org_filings.FilingRefused as error:
        raise _refused(error) from error


@router.get("/orgs/{credit_code}/rating", summary="An organisation's star rating with its trace",
            description="Province staff (organisations accredited in the province) and the organisation itself; anyone else 404 "
            "(another organisation) or 403 (other roles).")
async def get_rating(principal: CurrentPrincipal, credit_code: CreditCodePath, uow: UnitOfWorkDep) -> Any:
    org_id = credit_code
    if principal.role not in ("province", ORGANISATION):
        raise Refusal(403, "penalty.error.org.province_only")

    def read(u: AbstractPenaltyUnitOfWork) -> dict[str, Any]:
        org = u.org_filings.org(org_id)
        own = principal.role == ORGANISATION and principal.credit_code == org_id
        in_province = principal.role == "province" and org is not None and org.region_code.startswith(region_prefix(principal.region_code or ""))
        if org is None or org.stars is None or not (own or in_province):
            raise org_filings.FilingRefused(404, "penalty.error.org.not_found", {"org_id": org_id})
        return rating_view(org)

    try:
        return await uow.run(read)
    except org_filings.FilingRefused as error:
        raise _refused(error) from error


@router.get("/public/org-ratings", summary="Public: organisations' star ratings (星级评定), the most stars first",
            description="No token. Organisations whose kind is known and which have been rated; a page at a time.")
async def public_ratings(uow: UnitOfWorkDep, kind: Literal["technical_service", "examination"] | None = Query(None),
                         limit: Annotated[int, Query(ge=1, le=200, description="1–200")] = 50, offset: OffsetQuery = 0) -> Any:
    def read(u: AbstractPenaltyUnitOfWork) -> dict[str, Any]:
        rows, total = rated_page(u.session, kind, limit, offset)  # type: ignore[attr-defined]
        return {"total": total, "limit": limit, "offset": offset, "items": [
            {"org_id": o.org_id, "name": o.name, "kind": o.kind, "stars": o.stars, "rated_on": o.rated_on.isoformat() if o.rated_on else None,
             "provisional": bool(o.rule_set.get("provisional"))} for o in rows]}

    return await uow.run(read)
