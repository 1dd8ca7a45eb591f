"""Organisations' filings (test reports, examination summaries) and their star rating (星级评定, issue 17).

The commands commit their unit of work. Every change that can move a rating (a filing, a finding, a
disqualification, a public-credit input, the organisation's kind) calls :func:`rerate`, which recomputes the
stars with the rule data in force for the organisation's region and announces ``OrgRated`` when they changed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.penalty.adapters.orm_org_filings import Org, OrgEngagement, OrgFiling
from services.penalty.domain import org_rating as domain
from services.penalty.domain.case_codes import case_region
from services.penalty.service_layer.unit_of_work import AbstractPenaltyUnitOfWork
from shared.contracts import AssessmentClassified, ExamSummaryFiled, OrgRated, TestReportFiled, TraceEntry
from shared.dates import china_today
from shared.jurisdiction import region_prefix

PRODUCER = "penalty"


class FilingRefused(ValueError):
    """A filing that cannot be accepted: ``status`` (403 / 404 / 409 / 422), the field, a message code and its params."""

    def __init__(self, status: int, code: str, params: dict[str, Any] | None = None, field: str | None = None) -> None:
        super().__init__(code)
        self.status, self.code, self.params, self.field = status, code, dict(params or {}), field


@dataclass(frozen=True)
class Filer:
    """The organisation filing, as its token names it (never the body)."""

    org_id: str
    name: str
    region_code: str  # where it is accredited
    described: str

    def covers(self, county: str) -> bool:
        return county.startswith(region_prefix(self.region_code))


@dataclass(frozen=True)
class NewFiling:
    kind: str  # test_report | exam_summary
    number: str
    employer_credit_code: str
    region_code: str | None  # the employer's county when the body gives it
    done_on: date
    details: dict[str, Any]


def _org_for(uow: AbstractPenaltyUnitOfWork, org: Org | None, filer: Filer, filing_kind: str, county: str) -> Org:
    """The filing organisation, checked: its kind files ``filing_kind`` (409), the employer's county is inside the region
    its token names and, once its kind is known (declared by the province or by its first filing), inside the region
    recorded for it (403: a token does not widen what the province declared)."""
    kind = domain.FILED_BY[filing_kind]
    if not filer.covers(county):
        raise FilingRefused(403, "penalty.error.org.outside_region", {"region_code": county, "org_region": filer.region_code},
                            field="credit_code")
    if org is None:
        org = Org(org_id=filer.org_id, name=filer.name, kind=kind, region_code=filer.region_code)
        uow.org_filings.add_org(org)
        return org
    if domain.filing_kind_problem(org.kind, filing_kind):
        raise FilingRefused(409, "penalty.error.org.wrong_kind", {"kind": domain.WORD[org.kind or ""], "filing": domain.WORD[filing_kind]}, field="kind")
    if org.kind is None:  # known only from findings or assessment reports until now: the first filing declares it
        org.kind, org.region_code = kind, filer.region_code
    elif not county.startswith(region_prefix(org.region_code)):
        raise FilingRefused(403, "penalty.error.org.outside_region", {"region_code": county, "org_region": org.region_code},
                            field="credit_code")
    return org


def _employer_county(uow: AbstractPenaltyUnitOfWork, credit_code: str, given: str | None) -> str:
    """The employer's county: the registry's archive, else the registering authority in its credit code when that is a
    county, else the body's ``region_code``. An organisation does not place an employer: a ``region_code`` naming
    another county than the archive's or the credit code's is 422 (it would let it file outside its region)."""
    archived = uow.archived_employers.get(credit_code)
    known = archived.region_code if archived is not None else case_region(None, credit_code)
    if known is not None:
        if given is not None and given != known:
            raise FilingRefused(422, "penalty.error.org.region_contradicts", {"county": known, "region_code": given}, field="region_code")
        return known
    if given is None:
        raise FilingRefused(422, "penalty.error.region_needed", {"registration_region": credit_code[2:8]}, field="region_code")
    return given


def _same(filing: OrgFiling, new: NewFiling) -> bool:
    return (filing.employer_credit_code, filing.done_on, filing.details) == (new.employer_credit_code, new.done_on, new.details)


def file(uow: AbstractPenaltyUnitOfWork, filer: Filer, new: NewFiling, *, today: date, rules: domain.OrgRatingRuleBook) -> tuple[OrgFiling, bool]:
    """Record a filing and announce it (TestReportFiled / ExamSummaryFiled); the same number (and, for a test report, factor)
    again with the same content is the filing made (``False``: not new), with other content 409."""
    if new.done_on > today:
        raise FilingRefused(422, "penalty.error.day_in_future", {"day": new.done_on.isoformat(), "today": today.isoformat()},
                            field="tested_on" if new.kind == "test_report" else "examined_on")
    subject = new.details.get("factor", "") if new.kind == "test_report" else ""
    org = uow.org_filings.org(filer.org_id, for_update=True)  # first: two filings of one organisation take turns
    existing = uow.org_filings.filing(filer.org_id, new.kind, new.number, subject)
    if existing is not None:
        if not _same(existing, new):
            raise FilingRefused(409, "penalty.error.org.number_used", {"number": new.number, "filed_on": existing.filed_on.isoformat()},
                                field="report_no" if new.kind == "test_report" else "summary_no")
        return existing, False
    county = _employer_county(uow, new.employer_credit_code, new.region_code)
    org = _org_for(uow, org, filer, new.kind, county)
    complete = domain.report_complete(new.details.get("post", ""), new.details.get("result", "")) if new.kind == "test_report" else True
    filing = OrgFiling(id=str(uuid.uuid4()), org_id=filer.org_id, kind=new.kind, number=new.number, subject=subject,
                       employer_credit_code=new.employer_credit_code, region_code=county, done_on=new.done_on, filed_on=today,
                       details=dict(new.details), complete=complete, filed_by=filer.described)
    uow.org_filings.add_filing(filing)
    common = dict(event_id=uuid.UUID(filing.id), producer=PRODUCER, credit_code=new.employer_credit_code, org_id=filer.org_id, filed_on=today)
    if new.kind == "test_report":
        d = new.details
        uow.publish(TestReportFiled(**common, report_no=new.number, factor=d["factor"], post=d["post"], compliant=d["compliant"],
                                    result=d["result"], tested_on=new.done_on))
    else:
        d = new.details
        uow.publish(ExamSummaryFiled(**common, summary_no=new.number, examined_on=new.done_on, examined=d["examined"],
                                     abnormal=d["abnormal"], suspected_occupational_disease=d["suspected_occupational_disease"]))
    rerate(uow, org, rules, today)
    uow.commit()
    return filing, True


def describe_org(uow: AbstractPenaltyUnitOfWork, org_id: str, name: str, kind: str, region_code: str, *, rules: domain.OrgRatingRuleBook,
                 today: date, jurisdiction: str) -> Org:
    """Province staff of ``jurisdiction``: an organisation's name, kind and accreditation region (``PUT /orgs/{org_id}``).
    An organisation recorded in another province's region is 404, as if unknown (it is that province's to describe)."""
    org = uow.org_filings.org(org_id, for_update=True)
    if org is not None and not org.region_code.startswith(region_prefix(jurisdiction)):
        raise FilingRefused(404, "penalty.error.org.not_found", {"org_id": org_id})
    if org is None:
        org = Org(org_id=org_id, name=name, kind=kind, region_code=region_code)
        uow.org_filings.add_org(org)
    else:
        filed = {f.kind for f in uow.org_filings.filings_of(org_id)}
        clash = [k for k in filed if domain.FILED_BY[k] != kind]
        if clash:
            raise FilingRefused(409, "penalty.error.org.kind_contradicts_filings", {"kind": domain.WORD[kind], "filing": domain.WORD[clash[0]]}, field="kind")
        org.name, org.kind, org.region_code = name, kind, region_code
    rerate(uow, org, rules, today)
    uow.commit()
    return org


def set_public_credit(uow: AbstractPenaltyUnitOfWork, org_id: str, level: str, source: str, as_of: date, *,
                      rules: domain.OrgRatingRuleBook, today: date, jurisdiction: str) -> Org:
    """Province staff of ``jurisdiction``: the organisation's public-credit level (公共信用评价) as another system gave it
    (404 for an organisation unknown or recorded outside the jurisdiction)."""
    org = uow.org_filings.org(org_id, for_update=True)
    if org is None or not org.region_code.startswith(region_prefix(jurisdiction)):
        raise FilingRefused(404, "penalty.error.org.not_found", {"org_id": org_id})
    org.public_credit_level, org.public_credit_source, org.public_credit_as_of = level, source, as_of
    rerate(uow, org, rules, today)
    uow.commit()
    return org


def inputs_of(uow: AbstractPenaltyUnitOfWork, org: Org, today: date) -> domain.RatingInputs:
    findings = [domain.FindingFact(f.severity, f.found_on) for f in uow.org_filings.findings_of(org.org_id)]
    in_force = [d for d in uow.org_filings.disqualifications_of(org.org_id) if d.decided_on <= today and (d.until is None or d.until >= today)]
    filings = [domain.FilingFact(f.kind, f.done_on, f.filed_on, f.complete, f.employer_credit_code) for f in uow.org_filings.filings_of(org.org_id)]
    served = [domain.ServedFact(e.employer_credit_code, e.assessed_on) for e in uow.org_filings.engagements_of(org.org_id)]
    credit = None
    if org.public_credit_level and org.public_credit_as_of:
        credit = domain.PublicCredit(org.public_credit_level, org.public_credit_source or "", org.public_credit_as_of)
    return domain.RatingInputs(org.org_id, findings, in_force[0].decision_no if in_force else None, filings, credit, served)


def rerate(uow: AbstractPenaltyUnitOfWork, org: Org, rules: domain.OrgRatingRuleBook, today: date) -> bool:
    """Recompute the organisation's rating; announce OrgRated when its stars changed (and its kind is known).
    True when announced. Does not commit (the calling command does)."""
    in_force = rules.in_force(org.region_code, today)
    result = domain.rating(inputs_of(uow, org, today), in_force, today)
    org.stars, org.points, org.rated_on = result.stars, result.points, today
    org.rule_set = in_force.ref().model_dump(mode="json")
    org.trace = [t.model_dump(mode="json") for t in result.trace]
    if org.kind is None or org.published_stars == result.stars:
        return False
    uow.publish(OrgRated(producer=PRODUCER, credit_code=org.org_id, org_kind=org.kind, org_name=org.name, stars=result.stars,  # type: ignore[arg-type]
                         previous_stars=org.published_stars, rated_on=today, rule_set=in_force.ref(),
                         trace=[TraceEntry.model_validate(t) for t in org.trace]))
    org.published_stars = result.stars
    return True


def rerate_known(uow: AbstractPenaltyUnitOfWork, org_id: str, org_name: str, region_code: str, rules: domain.OrgRatingRuleBook,
                 today: date) -> None:
    """After a finding or a disqualification: the organisation's rating again (known from the finding when it never filed:
    its region until it is declared is the finding's county)."""
    org = uow.org_filings.org(org_id, for_update=True)
    if org is None:
        org = Org(org_id=org_id, name=org_name, kind=None, region_code=region_code)
        uow.org_filings.add_org(org)
    rerate(uow, org, rules, today)


def record_engagement(uow: AbstractPenaltyUnitOfWork, event: AssessmentClassified, rules: domain.OrgRatingRuleBook) -> None:
    """A classified assessment report naming a technical service organisation as its assessor: an employer it served
    (the rating's share of employers served that it filed test reports for), and its rating again. A report recorded
    already changes nothing (redelivery); a report by the employer itself is not an engagement."""
    assessor = event.assessor
    if assessor is None or assessor.type != "organisation" or not assessor.org_id:
        return
    submission = str(event.submission_id)
    if uow.org_filings.engagement(submission) is not None:
        return
    uow.org_filings.add_engagement(OrgEngagement(submission_id=submission, org_id=assessor.org_id, employer_credit_code=event.credit_code,
                                                 region_code=event.region_code, assessed_on=event.assessed_on))
    rerate_known(uow, assessor.org_id, assessor.org_name or assessor.org_id, event.region_code, rules, china_today(event.occurred_at))
    # a Kafka handler: the consumer commits this with the inbox mark


def rerate_all(uow: AbstractPenaltyUnitOfWork, rules: domain.OrgRatingRuleBook, today: date) -> int:
    """The daily pass: every organisation rated again on ``today`` (a disqualification ended, a finding older than the
    rules count, rule data of a new version in force); OrgRated only where the stars changed. Commits; how many moved."""
    moved = sum(1 for org in uow.org_filings.all_orgs() if rerate(uow, org, rules, today))
    uow.commit()
    return moved
