"""The star rating through its use cases, on an in-memory unit of work (no HTTP, no database).

The story: the province declares a technical service organisation (5 stars, OrgRated once); a county records a minor
false-report finding through ``orgs.record_finding`` and the rating moves to 4 (OrgRated 5 → 4, its trace naming the
rule version and the points lost); the daily pass on the same day, run twice, announces nothing more. The organisation
then assesses two employers (``ohs.assessments.classified`` naming it as assessor; one event redelivered): two employers
served, recorded once each, not counted within the filing time; after it, with a test report filed for one of them
only, half of the rules' ``served`` points are lost (95: still 5 stars, nothing announced); a third employer served and
not filed for: 93.33 points, 4 stars, announced. The domain function itself is pure (same inputs, same rating), whatever the day it is called."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

from services.penalty.adapters.orm_org_filings import AbstractOrgFilingRepository, Org, OrgEngagement, OrgFiling
from services.penalty.adapters.orm_orgs import OrgDisqualification, OrgFinding
from services.penalty.adapters.rules import load_org_rating_rules
from services.penalty.domain.org_rating import FilingFact, RatingInputs, ServedFact, rating
from services.penalty.service_layer import org_filings, orgs
from shared.contracts import AssessmentClassified, OrgRated, RuleSetRef, TraceEntry
from shared.contracts.assessment import Assessor
from shared.identifiers import credit_code_check_character
from tests.unit.penalty.fakes import FakeUnitOfWork

RULES = load_org_rating_rules()
DAY = date(2026, 6, 1)


def code(serial: int, region: str = "141000") -> str:
    body = f"91{region}MA{serial:07d}"
    return body + credit_code_check_character(body)


LAB, EMPLOYER_A, EMPLOYER_B = code(7001), code(11, "141029"), code(12, "141029")


class FakeOrgFilingRepository(AbstractOrgFilingRepository):
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.orgs: dict[str, Org] = {}
        self.filings: list[OrgFiling] = []
        self.engagements: dict[str, OrgEngagement] = {}

    def org(self, org_id: str, *, for_update: bool = False) -> Org | None:
        return self.orgs.get(org_id)

    def add_org(self, org: Org) -> None:
        self.orgs[org.org_id] = org

    def filing(self, org_id: str, kind: str, number: str, subject: str) -> OrgFiling | None:
        return next((f for f in self.filings if (f.org_id, f.kind, f.number, f.subject) == (org_id, kind, number, subject)), None)

    def add_filing(self, filing: OrgFiling) -> None:
        self.filings.append(filing)

    def filings_of(self, org_id: str) -> list[OrgFiling]:
        return [f for f in self.filings if f.org_id == org_id]

    def findings_of(self, org_id: str) -> list[OrgFinding]:
        return [f for f in self.uow.orgs.found.values() if f.org_credit_code == org_id]

    def disqualifications_of(self, org_id: str) -> list[OrgDisqualification]:
        return [d for d in self.uow.orgs.disqualifications.values() if d.org_credit_code == org_id]

    def all_orgs(self) -> list[Org]:
        return sorted(self.orgs.values(), key=lambda o: o.org_id)

    def engagement(self, submission_id: str) -> OrgEngagement | None:
        return self.engagements.get(submission_id)

    def add_engagement(self, engagement: OrgEngagement) -> None:
        self.engagements[engagement.submission_id] = engagement

    def engagements_of(self, org_id: str) -> list[OrgEngagement]:
        return [e for e in self.engagements.values() if e.org_id == org_id]


def unit_of_work() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.org_filings = FakeOrgFilingRepository(uow)
    return uow


def rated(uow: FakeUnitOfWork) -> list[tuple[int | None, int]]:
    return [(e.previous_stars, e.stars) for e in uow.events(OrgRated)]


def assessed(employer: str, on: date, assessor: str | None = LAB) -> AssessmentClassified:
    return AssessmentClassified(
        producer="assessment", credit_code=employer, submission_id=uuid.uuid4(), enterprise_name="乡宁县示例水泥有限公司",
        region_code="141029", employees=86, assessed_on=on, hazard_grade="Ⅲ", management_grade="B", score=82.5, category="丙",
        factors=[], assessor=Assessor(type="organisation", org_id=assessor, org_name="山西示例检测有限公司") if assessor else Assessor(type="self"),
        rule_set=RuleSetRef(jurisdiction="CN", version="2022.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[TraceEntry(rule="附件3 matrix", detail="Ⅲ × B → 丙")],
        occurred_at=datetime(on.year, on.month, on.day, 9, 0, tzinfo=timezone(timedelta(hours=8))),
    )


def test_a_finding_moves_the_rating_and_redelivery_announces_nothing_twice() -> None:
    uow = unit_of_work()
    org_filings.describe_org(uow, LAB, "山西示例检测有限公司", "technical_service", "140000", rules=RULES, today=DAY, jurisdiction="140000")
    assert rated(uow) == [(None, 5)] and uow.committed

    new = orgs.NewFinding(org_credit_code=LAB, org_name="山西示例检测有限公司", region_code="141029", employer_credit_code=EMPLOYER_A,
                          submission_id=None, misstated=["exposure"], description="检测结果与原始记录不符", severity="minor", found_on=DAY)
    orgs.record_finding(uow, new, recorded_by="乡宁县 李四", role="county", deciding_region="141029", decision=None, today=DAY,
                        rating_rules=RULES)
    assert rated(uow) == [(None, 5), (5, 4)]
    moved = uow.events(OrgRated)[-1]
    assert moved.rule_set.version == "2026.1" and all(t.rule == "星级评定 CN 2026.1" for t in moved.trace)
    [lost] = [t for t in moved.trace if t.code == "penalty.rating.findings_minor"]
    assert lost.params["lost"] == 10 and "10" in (lost.detail or "")

    assert org_filings.rerate_all(uow, RULES, DAY) == 0  # the daily pass, twice: nothing changed, nothing announced
    assert org_filings.rerate_all(uow, RULES, DAY) == 0
    assert rated(uow) == [(None, 5), (5, 4)]


def test_employers_served_without_a_test_report_cost_points_pro_rata() -> None:
    uow = unit_of_work()
    org_filings.describe_org(uow, LAB, "山西示例检测有限公司", "technical_service", "140000", rules=RULES, today=DAY, jurisdiction="140000")
    first, second = assessed(EMPLOYER_A, DAY), assessed(EMPLOYER_B, DAY)
    for event in (first, second, first):  # the first redelivered: still one engagement
        org_filings.record_engagement(uow, event, rules=RULES)
    org_filings.record_engagement(uow, assessed(code(13, "141029"), DAY, assessor=None), rules=RULES)  # the employer's own: none
    assert sorted(e.employer_credit_code for e in uow.org_filings.engagements.values()) == sorted([EMPLOYER_A, EMPLOYER_B])
    assert rated(uow) == [(None, 5)]  # within the filing time: not counted yet

    filer = org_filings.Filer(LAB, "山西示例检测有限公司", "140000", "山西示例检测有限公司 (organisation)")
    org_filings.file(uow, filer, org_filings.NewFiling("test_report", "R-1", EMPLOYER_A, None, DAY - timedelta(days=10),
                                                       {"factor": "矽尘", "post": "破碎工", "compliant": True, "result": "0.8 mg/m³"}),
                     today=DAY, rules=RULES)
    later = DAY + timedelta(days=RULES.in_force("140000", DAY).timely_days["test_report"] + 1)
    assert org_filings.rerate_all(uow, RULES, later) == 0  # 95 points: still 5 stars, nothing announced
    org = uow.org_filings.orgs[LAB]
    [served] = [t for t in org.trace if t["code"] == "penalty.rating.served"]
    assert (served["params"]["served"], served["params"]["unfiled"], served["params"]["lost"]) == (2, 1, 5.0)
    assert EMPLOYER_B not in served["detail"]  # counts only: the trace goes to the public credit feed
    # the one test report was filed 10 days after testing (in time) and complete: 100 - 10 × 1/2 = 95
    assert (org.points, org.stars) == (95.0, 5)

    org_filings.record_engagement(uow, assessed(code(14, "141029"), DAY), rules=RULES)  # a third employer, never filed for
    org_filings.rerate_all(uow, RULES, later)
    assert (uow.org_filings.orgs[LAB].points, uow.org_filings.orgs[LAB].stars) == (93.33, 4)
    assert rated(uow)[-1] == (5, 4)


def test_the_rating_is_a_pure_function_of_its_inputs() -> None:
    rules = RULES.in_force("140000", DAY)
    inputs = RatingInputs(LAB, filings=[FilingFact("test_report", DAY - timedelta(days=500), DAY - timedelta(days=490), True, EMPLOYER_A)],
                          served=[ServedFact(EMPLOYER_A, DAY - timedelta(days=60))])
    once, again = rating(inputs, rules, DAY), rating(inputs, rules, DAY)
    assert once == again
    # the test report is older than the served rule's window before the assessment: the employer counts as not filed for
    assert [t.params["unfiled"] for t in once.trace if t.code == "penalty.rating.served"] == [1]
    assert rating(inputs, rules, date(2028, 2, 29)).trace[0].rule == "星级评定 CN 2026.1"  # a 29 February: no error
