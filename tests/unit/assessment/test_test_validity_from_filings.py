"""Test validity from organisations' filings (issue 17 item 4): an organisation's test report contradicting an
employer's claimed test → the classification's trace shows it.

The example report declares two tests under one report number, JC-2023-0511 (2023-05-10): 矽尘 not compliant, 噪声
compliant. The testing organisation filed that report (ohs.orgs.test-reports): 矽尘 tested on 2023-04-02 — another day
than the employer claims — and 噪声 as declared. Classified, the report's trace says 矽尘: contradicted, naming the
organisation, the number and the filed date, and raises a flag for supervisors; 噪声: confirmed. A report whose tests
nobody has filed yet says unverified, and changes nothing else in the classification."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from pathlib import Path

from services.assessment.bootstrap import bootstrap
from services.assessment.domain import test_filings
from services.assessment.service_layer import handlers
from shared.contracts import AssessmentClassified, Report, ReportSubmitted
from shared.contracts import TestReportFiled as ReportFiled  # (a Test… name would look like a test class to pytest)
from shared.identifiers import credit_code_check_character
from tests.support import app_without_broker
from tests.unit.assessment.fakes import FakeUnitOfWork
from tests.unit.assessment.test_handlers import RULES, report

LAB_BODY = "91140100MA0LAB001"
LAB = LAB_BODY + credit_code_check_character(LAB_BODY)
EMPLOYER = "91141029MA0GRT8U3L"


UnitOfWork = FakeUnitOfWork  # with the organisations' filed test reports in a dict


def filed(factor: str, tested_on: date, compliant: bool, report_no: str = "JC-2023-0511", employer: str = EMPLOYER) -> ReportFiled:
    return ReportFiled(producer="penalty", credit_code=employer, org_id=LAB, report_no=report_no, factor=factor, post="破碎工",
                       compliant=compliant, result="C-TWA 1.8 mg/m³", tested_on=tested_on, filed_on=date(2023, 5, 20))


def classify(uow: UnitOfWork, the_report: Report) -> AssessmentClassified:
    accepted = handlers.accept_report(uow, the_report, date(2023, 6, 12))
    handlers.classify_submission(uow, ReportSubmitted(
        producer="assessment", credit_code=EMPLOYER, submission_id=uuid.UUID(accepted.submission.submission_id),
        received_at=datetime(2023, 6, 12, 9, tzinfo=timezone.utc), report=the_report), RULES)
    [event] = [e for e in uow.published if isinstance(e, AssessmentClassified)]
    return event


def published(uow: object) -> list:
    """The events the use cases run on ``uow`` publish from now on (they still go to its outbox)."""
    events: list = []
    publish = uow.publish  # type: ignore[attr-defined]

    def keep(event: object) -> None:
        events.append(event)
        publish(event)

    uow.publish = keep  # type: ignore[attr-defined]
    return events


def filing_lines(event: AssessmentClassified) -> list[tuple[str | None, dict]]:
    return [(t.code, t.params) for t in event.trace if t.rule == test_filings.RULE]


def test_an_organisations_test_report_contradicting_the_claimed_test_shows_in_the_trace() -> None:
    uow = UnitOfWork()
    for event in (filed("矽尘", date(2023, 4, 2), False), filed("噪声", date(2023, 5, 10), True), filed("矽尘", date(2023, 4, 2), False)):
        handlers.record_filed_test_report(uow, event)  # the same filing delivered twice is kept once
    assert len(uow.filed_tests.rows) == 2

    classified = classify(uow, report())

    [(silica, silica_params), (noise, _)] = filing_lines(classified)
    assert silica == "assessment.trace.test_filing.contradicted_another_date" and noise == "assessment.trace.test_filing.confirmed"
    assert (silica_params["org_id"], silica_params["filed_report_no"], silica_params["filed_tested_on"]) == (LAB, "JC-2023-0511", "2023-04-02")
    line = next(t for t in classified.trace if t.code == silica)
    assert LAB in line.detail and "JC-2023-0511" in line.detail and "2023年4月2日" in line.detail and "相矛盾" in line.detail
    assert "contradicted" in line.text("en")
    [flag] = [f for f in classified.flags if f.code == "test_report_contradicted"]
    assert flag.params["factor"] == "矽尘" and LAB in flag.message


def test_the_other_result_under_the_same_number_is_a_contradiction_too() -> None:
    uow = UnitOfWork()
    handlers.record_filed_test_report(uow, filed("噪声", date(2023, 5, 10), False))  # the organisation says: over the limit
    [_, (noise, params)] = filing_lines(classify(uow, report()))
    assert noise == "assessment.trace.test_filing.contradicted_another_result" and params["filed_result"] == "不符合"


def test_tests_nobody_filed_are_unverified_and_change_nothing_else() -> None:
    nothing_filed, checked = UnitOfWork(), UnitOfWork()
    handlers.record_filed_test_report(checked, filed("矽尘", date(2023, 5, 10), False, report_no="JC-OTHER"))  # another number
    before, after = classify(nothing_filed, report()), classify(checked, report())
    assert [code for code, _ in filing_lines(after)] == ["assessment.trace.test_filing.unverified"] * 2
    assert not [f for f in after.flags if f.code == "test_report_contradicted"]
    assert (after.category, after.hazard_grade, after.score) == (before.category, before.hazard_grade, before.score)
    assert filing_lines(before) == filing_lines(after), "a filing under another number verifies nothing"


def test_the_same_number_filed_for_another_employer_contradicts() -> None:
    other = "91141024MA0AAAAA1" + credit_code_check_character("91141024MA0AAAAA1")
    checks = test_filings.check(EMPLOYER, list(report().hazards), [filed("矽尘", date(2023, 5, 10), False, employer=other)])
    assert [c.validity for c in checks] == ["contradicted", "unverified"]
    assert checks[0].code == "assessment.trace.test_filing.contradicted_another_employer"


def test_the_service_keeps_the_filings_and_checks_against_them_in_its_database(tmp_path: Path) -> None:
    """The same story on the assessment's own database (SQLite, migrated by its migrations), as bootstrap wires it."""
    app = app_without_broker(bootstrap, "assessment", tmp_path)
    try:
        with app.state.runtime.uow() as uow:
            handlers.record_filed_test_report(uow, filed("矽尘", date(2023, 4, 2), False))
            handlers.record_filed_test_report(uow, filed("噪声", date(2023, 5, 10), True, employer="91141024MA0AAAAA1" + credit_code_check_character("91141024MA0AAAAA1")))
            uow.commit()
        with app.state.runtime.uow() as uow:
            handlers.record_filed_test_report(uow, filed("矽尘", date(2023, 4, 2), False))  # delivered again: kept once
            the_report = report()
            accepted = handlers.accept_report(uow, the_report, date(2023, 6, 12))
            events = published(uow)
            handlers.classify_submission(uow, ReportSubmitted(
                producer="assessment", credit_code=EMPLOYER, submission_id=uuid.UUID(accepted.submission.submission_id),
                received_at=datetime(2023, 6, 12, 9, tzinfo=timezone.utc), report=the_report), RULES)
            uow.commit()
        [classified] = [e for e in events if isinstance(e, AssessmentClassified)]
        assert [code for code, _ in filing_lines(classified)] == ["assessment.trace.test_filing.contradicted_another_date",
                                                                  "assessment.trace.test_filing.contradicted_another_employer"]
        assert len([f for f in classified.flags if f.code == "test_report_contradicted"]) == 2
    finally:
        app.state.runtime.engine.dispose()
