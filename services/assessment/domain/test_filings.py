"""Test validity against organisations' filings (issue 17 item 4): is a report's declared test (``tested_on`` /
``test_report_no`` of a hazard) what the technical service organisation itself filed?

For each hazard that declares a test (a date, a number or both), against the filed test reports
(``ohs.orgs.test-reports``):

* **confirmed** — a filing with the report's number for this factor (or, when the hazard gives no number, a
  filing for this employer, factor and declared day) whose employer, test day and compliance are the report's;
* **contradicted** — a filing with that number for this factor exists, but for another test day or the other
  compliance result (符合 / 不符合), or only for another employer (numbers are the organisations' own: two
  organisations numbering alike would read as a contradiction, which a supervisor then checks); or, without a number, the only filings of this factor on the
  declared day state the other compliance result. The trace names the filing (organisation, number, its date);
* **unverified** — no filing bears the number for this factor (nor, without one, matches the factor and day)
  yet. One 检测报告 covers several factors, each filed as a line: the number filed for other factors only is
  unverified for this one. The report does not name the testing organisation (only the assessor), so "the
  organisation filed no such report" cannot be told from "it has not filed yet": that is unverified too.

Pure: the filings are passed in. Factor names are compared as written (stripped).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

Validity = Literal["confirmed", "contradicted", "unverified"]
RULE = "检测报告核对（机构报送）"


class DeclaredTest(Protocol):
    factor: str
    compliant: bool
    tested_on: date | None
    test_report_no: str | None


class Filing(Protocol):
    org_id: str
    report_no: str
    credit_code: str
    factor: str
    tested_on: date
    compliant: bool


@dataclass(frozen=True)
class TestCheck:
    __test__ = False  # not a pytest class

    factor: str
    validity: Validity
    code: str  # the trace's message code
    params: dict[str, object]


def _params(hazard: DeclaredTest, filing: Filing | None) -> dict[str, object]:
    params: dict[str, object] = {"factor": hazard.factor, "report_no": hazard.test_report_no or "—",
                                 "tested_on": hazard.tested_on.isoformat() if hazard.tested_on else "—",
                                 "declared": "符合" if hazard.compliant else "不符合"}
    if filing is not None:
        params.update(org_id=filing.org_id, filed_report_no=filing.report_no, filed_tested_on=filing.tested_on.isoformat(),
                      filed_result="符合" if filing.compliant else "不符合", filed_factor=filing.factor)
    return params


def _disagreement(hazard: DeclaredTest, filing: Filing, credit_code: str) -> str | None:
    if filing.credit_code != credit_code:
        return "another_employer"
    if hazard.tested_on is not None and filing.tested_on != hazard.tested_on:
        return "another_date"
    if filing.compliant != hazard.compliant:
        return "another_result"
    return None


def check(credit_code: str, hazards: list[DeclaredTest], filings: list[Filing]) -> list[TestCheck]:
    """One check per hazard that declares a test, in the report's order."""
    checks: list[TestCheck] = []
    for hazard in hazards:
        if hazard.tested_on is None and not hazard.test_report_no:
            continue
        if hazard.test_report_no:
            numbered = sorted((f for f in filings if f.report_no == hazard.test_report_no.strip() and f.factor.strip() == hazard.factor.strip()),
                              key=lambda f: f.credit_code != credit_code)  # the employer's own filing names the reason first
            agreeing = [f for f in numbered if _disagreement(hazard, f, credit_code) is None]
            if agreeing:
                checks.append(TestCheck(hazard.factor, "confirmed", "assessment.trace.test_filing.confirmed", _params(hazard, agreeing[0])))
            elif numbered:
                why = _disagreement(hazard, numbered[0], credit_code)
                checks.append(TestCheck(hazard.factor, "contradicted", f"assessment.trace.test_filing.contradicted_{why}",
                                        _params(hazard, numbered[0])))
            else:
                checks.append(TestCheck(hazard.factor, "unverified", "assessment.trace.test_filing.unverified", _params(hazard, None)))
            continue
        same_day = [f for f in filings if f.credit_code == credit_code and f.factor.strip() == hazard.factor.strip()
                    and f.tested_on == hazard.tested_on]
        agreeing = [f for f in same_day if f.compliant == hazard.compliant]
        if agreeing:
            checks.append(TestCheck(hazard.factor, "confirmed", "assessment.trace.test_filing.confirmed", _params(hazard, agreeing[0])))
        elif same_day:
            checks.append(TestCheck(hazard.factor, "contradicted", "assessment.trace.test_filing.contradicted_another_result",
                                    _params(hazard, same_day[0])))
        else:
            checks.append(TestCheck(hazard.factor, "unverified", "assessment.trace.test_filing.unverified", _params(hazard, None)))
    return checks
