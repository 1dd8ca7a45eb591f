"""Accepting reports: resubmission, conflicts and disqualified organisations (assessment's service layer and its
unit of work on SQLite; tests/unit/assessment/test_handlers.py tells the same stories on a fake unit of work)."""

from __future__ import annotations

import copy
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from services.assessment.adapters.orm import MODELS, Submission
from services.assessment.adapters.rules import load_assessment_rules
from services.assessment import views
from services.assessment.service_layer import handlers
from services.assessment.service_layer.unit_of_work import AssessmentUnitOfWork
from shared import i18n
from shared.contracts import AssessmentClassified, OrgDisqualified, Report, ReportSubmitted, utc_now
from shared.db import OutboxMessage, create_tables, make_engine
from shared.identifiers import credit_code_check_character
from shared.localize import localized
from tests.examples import EXAMPLE_REPORT

ORG_BODY = "91140100MA0K5XQ88"  # a technical service organisation registered in 太原
ORG = ORG_BODY + credit_code_check_character(ORG_BODY)


@pytest.fixture
def uow(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'assessment.db'}")
    create_tables(engine, MODELS)
    with AssessmentUnitOfWork(engine) as u:
        yield u


def report(**changes) -> Report:
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["submission_id"] = str(uuid.uuid4())
    data.update(changes)
    return Report.model_validate(data)


def outbox_topics(uow: AssessmentUnitOfWork) -> list[str]:
    return [m.topic for m in uow.session.exec(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_the_same_report_sent_again_under_a_new_id_is_a_no_op(uow):
    first = handlers.accept_report(uow, report(), date(2026, 1, 5))
    again = handlers.accept_report(uow, report(), date(2026, 1, 6))
    assert first.new and not again.new
    assert again.submission.submission_id == first.submission.submission_id
    assert outbox_topics(uow) == ["ohs.reports.submitted"]


def test_a_changed_report_is_a_new_submission_that_will_supersede_the_old(uow):
    handlers.accept_report(uow, report(), date(2026, 1, 5))
    changed = report(self_check={"score": 91})
    assert handlers.accept_report(uow, changed, date(2026, 1, 6)).new
    assert len(uow.session.exec(select(Submission)).all()) == 2


def test_going_back_to_an_older_version_is_a_new_submission(uow):
    handlers.accept_report(uow, report(), date(2026, 1, 5))
    handlers.accept_report(uow, report(self_check={"score": 91}), date(2026, 1, 6))
    assert handlers.accept_report(uow, report(), date(2026, 1, 7)).new, "only the latest counts as 'identical'"


def test_one_submission_id_cannot_carry_two_reports(uow):
    original = report()
    handlers.accept_report(uow, original, date(2026, 1, 5))
    other = Report.model_validate({**original.model_dump(mode="json"), "signed_by": "李四"})
    with pytest.raises(handlers.SubmissionConflict):
        handlers.accept_report(uow, other, date(2026, 1, 6))


def disqualify(uow: AssessmentUnitOfWork, decided_on: date, until: date | None = None) -> None:
    handlers.record_disqualification(
        uow,
        OrgDisqualified(
            producer="penalty", credit_code=ORG, org_name="某职业卫生技术服务有限公司",
            decision_no="晋卫监罚〔2026〕12号", decided_on=decided_on, until=until, reason="出具虚假评估报告",
        ),
    )
    uow.commit()


def by_org(**changes) -> Report:
    return report(assessor={"type": "organisation", "org_id": ORG, "org_name": "某职业卫生技术服务有限公司"}, **changes)


def test_a_disqualified_organisation_cannot_submit_and_the_refusal_names_the_decision(uow):
    disqualify(uow, date(2026, 3, 1))
    with pytest.raises(handlers.AssessorDisqualified, match="晋卫监罚〔2026〕12号"):
        handlers.accept_report(uow, by_org(), date(2026, 3, 2))
    assert handlers.accept_report(uow, by_org(), date(2026, 2, 28)).new, "before the decision it could"


def test_a_disqualification_with_an_end_date_lapses(uow):
    disqualify(uow, date(2026, 3, 1), until=date(2026, 8, 31))
    with pytest.raises(handlers.AssessorDisqualified):
        handlers.accept_report(uow, by_org(), date(2026, 8, 31))
    assert handlers.accept_report(uow, by_org(), date(2026, 9, 1)).new


def test_a_report_already_in_the_pipeline_is_rejected_when_its_organisation_is_disqualified(uow):
    accepted = handlers.accept_report(uow, by_org(), date(2026, 3, 1))
    disqualify(uow, date(2026, 3, 1))
    event = ReportSubmitted(
        producer="assessment", credit_code=EXAMPLE_REPORT["enterprise"]["credit_code"],
        submission_id=uuid.UUID(accepted.submission.submission_id), received_at=utc_now().replace(year=2026, month=3, day=2),
        report=Report.model_validate(accepted.submission.report),
    )
    handlers.classify_submission(uow, event, load_assessment_rules())
    uow.commit()
    decided = uow.session.get(Submission, accepted.submission.submission_id)
    assert decided.status == "rejected"
    assert any("晋卫监罚〔2026〕12号" in reason and reason.startswith("assessor.org_id") for reason in decided.reasons)
    assert outbox_topics(uow)[-1] == "ohs.reports.rejected"
    # the reasons keep their codes, so a reader asking for English gets them in English (shared/localize.py)
    [shown] = views.submission_view(decided)["reason_messages"]
    assert shown["field"] == "assessor.org_id" and shown["code"].startswith("assessment.") and "晋卫监罚〔2026〕12号" in shown["message"]
    english = localized(shown, i18n.EN)["message"]
    assert english.startswith("technical service organisation") and "晋卫监罚〔2026〕12号" in english


def test_an_older_decision_arriving_late_does_not_replace_a_newer_one(uow):
    disqualify(uow, date(2026, 5, 1), until=None)
    disqualify(uow, date(2026, 3, 1), until=date(2026, 4, 1))
    with pytest.raises(handlers.AssessorDisqualified):
        handlers.accept_report(uow, by_org(), date(2026, 6, 1))


def test_a_classified_report_announces_its_deadlines_for_the_reminders(uow):
    accepted = handlers.accept_report(uow, report(), date(2023, 6, 12))
    event = ReportSubmitted(
        producer="assessment", credit_code=EXAMPLE_REPORT["enterprise"]["credit_code"],
        submission_id=uuid.UUID(accepted.submission.submission_id), received_at=utc_now().replace(year=2023, month=6, day=12),
        report=Report.model_validate(accepted.submission.report),
    )
    handlers.classify_submission(uow, event, load_assessment_rules())
    uow.commit()
    [message] = [m for m in uow.session.exec(select(OutboxMessage)) if m.topic == "ohs.assessments.classified"]
    classified = AssessmentClassified.model_validate_json(message.payload)
    assert (classified.next_assessment_due, classified.production_started_on) == (date(2026, 6, 1), date(2016, 4, 1))
