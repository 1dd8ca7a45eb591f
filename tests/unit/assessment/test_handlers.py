"""The assessment's use cases told as stories, on a fake unit of work (no database, no broker).

A report is submitted (who may, is it coherent), accepted once (a duplicate is a no-op, another
report under the same id a conflict), then classified or rejected when ``ohs.reports.submitted``
comes back; a disqualified organisation's reports are refused at the door and rejected in the pipeline.
"""

from __future__ import annotations

import copy
import uuid
from datetime import date, datetime, timezone
from typing import Any

import pytest

from services.assessment.adapters.rules import load_assessment_rules
from services.assessment.service_layer import handlers
from shared.auth import Principal
from shared.contracts import AssessmentClassified, OrgDisqualified, Report, ReportRejected, ReportSubmitted
from shared.identifiers import credit_code_check_character
from tests.examples import EXAMPLE_REPORT
from tests.unit.assessment.fakes import FakeUnitOfWork

RULES = load_assessment_rules()
EMPLOYER = EXAMPLE_REPORT["enterprise"]["credit_code"]
ORG_BODY = "91140100MA0K5XQ88"  # a technical service organisation registered in 太原
ORG = ORG_BODY + credit_code_check_character(ORG_BODY)
COUNTY = Principal(subject="c1", name="乡宁县 王科员", role="county", region_code="141029")
OTHER_COUNTY = Principal(subject="c2", name="洪洞县 赵科员", role="county", region_code="141024")
AUDITOR = Principal(subject="a1", name="临汾市 审计", role="auditor", region_code="141000")
ANOTHER_EMPLOYER = Principal(subject="e2", name="另一家企业", role="employer", credit_code="91141024MA0AAAAA1X")


def report(**changes: Any) -> Report:
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["submission_id"] = str(uuid.uuid4())
    data.update(changes)
    return Report.model_validate(data)


def by_org(**changes: Any) -> Report:
    return report(assessor={"type": "organisation", "org_id": ORG, "org_name": "某职业卫生技术服务有限公司"}, **changes)


def submitted(accepted: handlers.Accepted, received: date) -> ReportSubmitted:
    """The ``ohs.reports.submitted`` event of an accepted report, as it comes back from Kafka."""
    return ReportSubmitted(
        producer="assessment", credit_code=accepted.submission.credit_code,
        submission_id=uuid.UUID(accepted.submission.submission_id),
        received_at=datetime(received.year, received.month, received.day, 9, tzinfo=timezone.utc),
        report=Report.model_validate(accepted.submission.report),
    )


def disqualified(decided_on: date, until: date | None = None) -> OrgDisqualified:
    return OrgDisqualified(
        producer="penalty", credit_code=ORG, org_name="某职业卫生技术服务有限公司",
        decision_no="晋卫监罚〔2026〕12号", decided_on=decided_on, until=until, reason="出具虚假评估报告",
    )


# --------------------------------------------------------------------------- accepting a report


def test_an_accepted_report_is_kept_and_announced_in_one_commit() -> None:
    uow = FakeUnitOfWork()
    accepted = handlers.submit_report(uow, report(), COUNTY, date(2023, 6, 12))
    assert accepted.new and uow.committed
    assert uow.submissions.get(accepted.submission.submission_id).status == "accepted"
    [event] = uow.published
    assert isinstance(event, ReportSubmitted)
    assert (event.credit_code, str(event.submission_id)) == (EMPLOYER, accepted.submission.submission_id)


def test_the_same_report_sent_again_is_acknowledged_but_not_accepted_twice() -> None:
    uow = FakeUnitOfWork()
    first = handlers.accept_report(uow, report(), date(2023, 6, 12))
    again = handlers.accept_report(uow, report(), date(2023, 6, 13))  # a new submission id, the same content
    assert first.new and not again.new
    assert again.submission.submission_id == first.submission.submission_id
    assert len(uow.submissions) == 1 and uow.published_topics() == ["ohs.reports.submitted"]


def test_a_submission_id_cannot_carry_another_report() -> None:
    uow = FakeUnitOfWork()
    original = report()
    handlers.accept_report(uow, original, date(2023, 6, 12))
    other = Report.model_validate({**original.model_dump(mode="json"), "signed_by": "李四"})
    with pytest.raises(handlers.SubmissionConflict, match=str(original.submission_id)):
        handlers.accept_report(uow, other, date(2023, 6, 13))
    assert len(uow.published) == 1


def test_who_may_submit_is_decided_before_anything_is_stored() -> None:
    for principal, reason in ((AUDITOR, "auditor"), (ANOTHER_EMPLOYER, "own"), (OTHER_COUNTY, "141024")):
        uow = FakeUnitOfWork()
        with pytest.raises(handlers.SubmissionRefused, match=reason):
            handlers.submit_report(uow, report(), principal, date(2023, 6, 12))
        assert not uow.committed and not uow.published and len(uow.submissions) == 0


def test_an_incoherent_report_is_refused_naming_every_field_at_fault() -> None:
    uow = FakeUnitOfWork()
    bad = report(assessed_on="2023-06-01", publicity={"start": "2023-05-31", "end": "2023-06-08"})
    bad = bad.model_copy(update={"hazards": [bad.hazards[0].model_copy(update={"exposed": 87}), bad.hazards[1]]})
    with pytest.raises(handlers.ReportInvalid) as refused:
        handlers.submit_report(uow, bad, COUNTY, date(2023, 6, 12))
    assert [p.field for p in refused.value.problems] == ["publicity.start", "hazards[0].exposed"]
    assert not uow.committed and not uow.published


# --------------------------------------------------------------------------- classifying it


def test_a_submitted_report_is_classified_and_the_classification_announced() -> None:
    uow = FakeUnitOfWork()
    accepted = handlers.accept_report(uow, report(), date(2023, 6, 12))
    uow.committed = False
    handlers.classify_submission(uow, submitted(accepted, date(2023, 6, 12)), RULES)
    assert not uow.committed, "the consumer commits, with the inbox mark"
    stored = uow.submissions.get(accepted.submission.submission_id)
    [_, classified] = uow.published
    assert isinstance(classified, AssessmentClassified)
    assert (classified.hazard_grade, classified.management_grade, classified.category) == ("Ⅲ", "B", "丙")
    assert classified.next_assessment_due == date(2026, 6, 1)
    assert stored.status == "classified" and stored.result == classified.model_dump(mode="json")


def test_a_report_that_cannot_be_classified_is_rejected_with_its_reasons() -> None:
    uow = FakeUnitOfWork()
    unknown = report(hazards=[{"factor": "某新型粉尘", "exposed": 3, "compliant": True, "tested_on": "2023-05-10"}])
    accepted = handlers.accept_report(uow, unknown, date(2023, 6, 12))
    handlers.classify_submission(uow, submitted(accepted, date(2023, 6, 12)), RULES)
    [_, rejected] = uow.published
    assert isinstance(rejected, ReportRejected)
    stored = uow.submissions.get(accepted.submission.submission_id)
    assert stored.status == "rejected" and stored.reasons == rejected.reasons
    assert any("某新型粉尘" in reason for reason in rejected.reasons)


def test_a_report_arriving_from_another_channel_is_recorded_and_decided_once() -> None:
    uow = FakeUnitOfWork()
    sent = report()
    elsewhere = ReportSubmitted(
        producer="assessment", credit_code=EMPLOYER, submission_id=sent.submission_id,
        received_at=datetime(2023, 6, 12, 9, tzinfo=timezone.utc), report=sent,
    )
    handlers.classify_submission(uow, elsewhere, RULES)
    handlers.classify_submission(uow, elsewhere, RULES)  # delivered again: already decided
    assert uow.submissions.get(str(elsewhere.submission_id)).status == "classified"
    assert uow.published_topics() == ["ohs.assessments.classified"]


# --------------------------------------------------------------------------- disqualified organisations


def test_a_disqualified_organisation_cannot_submit_while_the_decision_is_in_force() -> None:
    uow = FakeUnitOfWork()
    handlers.record_disqualification(uow, disqualified(date(2026, 3, 1), until=date(2026, 8, 31)))
    assert not uow.committed, "the consumer commits, with the inbox mark"
    with pytest.raises(handlers.AssessorDisqualified, match="晋卫监罚〔2026〕12号"):
        handlers.accept_report(uow, by_org(), date(2026, 3, 2))
    assert handlers.accept_report(uow, by_org(), date(2026, 2, 28)).new, "before the decision it could"
    assert handlers.accept_report(uow, by_org(signed_by="李四"), date(2026, 9, 1)).new, "and after it lapsed"


def test_a_report_already_in_the_pipeline_is_rejected_once_its_organisation_is_disqualified() -> None:
    uow = FakeUnitOfWork()
    accepted = handlers.accept_report(uow, by_org(), date(2026, 3, 1))
    handlers.record_disqualification(uow, disqualified(date(2026, 3, 1)))
    handlers.classify_submission(uow, submitted(accepted, date(2026, 3, 2)), RULES)
    [_, rejected] = uow.published
    assert isinstance(rejected, ReportRejected)
    assert any(reason.startswith("assessor.org_id") and "晋卫监罚〔2026〕12号" in reason for reason in rejected.reasons)


def test_an_older_decision_arriving_late_does_not_replace_a_newer_one() -> None:
    uow = FakeUnitOfWork()
    handlers.record_disqualification(uow, disqualified(date(2026, 5, 1)))
    handlers.record_disqualification(uow, disqualified(date(2026, 3, 1), until=date(2026, 4, 1)))
    assert uow.disqualified_orgs.get(ORG).decided_on == date(2026, 5, 1)
    with pytest.raises(handlers.AssessorDisqualified):
        handlers.accept_report(uow, by_org(), date(2026, 6, 1))
