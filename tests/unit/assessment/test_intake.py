"""Accepting reports: resubmission, conflicts and disqualified organisations (assessment's service layer on SQLite)."""

from __future__ import annotations

import copy
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from services.assessment.adapters.orm import MODELS, Submission
from services.assessment.service_layer import handlers
from shared.contracts import AssessmentClassified, OrgDisqualified, Report, ReportSubmitted, utc_now
from shared.db import OutboxMessage, create_tables, make_engine
from shared.identifiers import credit_code_check_character
from tests.examples import EXAMPLE_REPORT

ORG_BODY = "91140100MA0K5XQ88"  # a technical service organisation registered in 太原
ORG = ORG_BODY + credit_code_check_character(ORG_BODY)


@pytest.fixture
def session(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'assessment.db'}")
    create_tables(engine, MODELS)
    with Session(engine) as s:
        yield s


def report(**changes) -> Report:
    data = copy.deepcopy(EXAMPLE_REPORT)
    data["submission_id"] = str(uuid.uuid4())
    data.update(changes)
    return Report.model_validate(data)


def outbox_topics(session: Session) -> list[str]:
    return [m.topic for m in session.exec(select(OutboxMessage).order_by(OutboxMessage.id))]


def test_the_same_report_sent_again_under_a_new_id_is_a_no_op(session):
    first = handlers.accept_report(session, report(), date(2026, 1, 5))
    session.commit()
    again = handlers.accept_report(session, report(), date(2026, 1, 6))
    assert first.new and not again.new
    assert again.submission.submission_id == first.submission.submission_id
    assert outbox_topics(session) == ["ohs.reports.submitted"]


def test_a_changed_report_is_a_new_submission_that_will_supersede_the_old(session):
    handlers.accept_report(session, report(), date(2026, 1, 5))
    session.commit()
    changed = report(self_check={"score": 91})
    assert handlers.accept_report(session, changed, date(2026, 1, 6)).new
    session.commit()
    assert len(session.exec(select(Submission)).all()) == 2


def test_going_back_to_an_older_version_is_a_new_submission(session):
    handlers.accept_report(session, report(), date(2026, 1, 5))
    session.commit()
    handlers.accept_report(session, report(self_check={"score": 91}), date(2026, 1, 6))
    session.commit()
    assert handlers.accept_report(session, report(), date(2026, 1, 7)).new, "only the latest counts as 'identical'"


def test_one_submission_id_cannot_carry_two_reports(session):
    original = report()
    handlers.accept_report(session, original, date(2026, 1, 5))
    session.commit()
    other = Report.model_validate({**original.model_dump(mode="json"), "signed_by": "李四"})
    with pytest.raises(handlers.SubmissionConflict):
        handlers.accept_report(session, other, date(2026, 1, 6))


def disqualify(session: Session, decided_on: date, until: date | None = None) -> None:
    handlers.record_disqualification(
        session,
        OrgDisqualified(
            producer="penalty", credit_code=ORG, org_name="某职业卫生技术服务有限公司",
            decision_no="晋卫监罚〔2026〕12号", decided_on=decided_on, until=until, reason="出具虚假评估报告",
        ),
    )
    session.commit()


def by_org(**changes) -> Report:
    return report(assessor={"type": "organisation", "org_id": ORG, "org_name": "某职业卫生技术服务有限公司"}, **changes)


def test_a_disqualified_organisation_cannot_submit_and_the_refusal_names_the_decision(session):
    disqualify(session, date(2026, 3, 1))
    with pytest.raises(handlers.AssessorDisqualified, match="晋卫监罚〔2026〕12号"):
        handlers.accept_report(session, by_org(), date(2026, 3, 2))
    assert handlers.accept_report(session, by_org(), date(2026, 2, 28)).new, "before the decision it could"


def test_a_disqualification_with_an_end_date_lapses(session):
    disqualify(session, date(2026, 3, 1), until=date(2026, 8, 31))
    with pytest.raises(handlers.AssessorDisqualified):
        handlers.accept_report(session, by_org(), date(2026, 8, 31))
    assert handlers.accept_report(session, by_org(), date(2026, 9, 1)).new


def test_a_report_already_in_the_pipeline_is_rejected_when_its_organisation_is_disqualified(session):
    accepted = handlers.accept_report(session, by_org(), date(2026, 3, 1))
    session.commit()
    disqualify(session, date(2026, 3, 1))
    event = ReportSubmitted(
        producer="assessment", credit_code=EXAMPLE_REPORT["enterprise"]["credit_code"],
        submission_id=uuid.UUID(accepted.submission.submission_id), received_at=utc_now().replace(year=2026, month=3, day=2),
        report=Report.model_validate(accepted.submission.report),
    )
    handlers.classify_submission(session, event, handlers.AssessmentRules.load())
    session.commit()
    decided = session.get(Submission, accepted.submission.submission_id)
    assert decided.status == "rejected"
    assert any("晋卫监罚〔2026〕12号" in reason and reason.startswith("assessor.org_id") for reason in decided.reasons)
    assert outbox_topics(session)[-1] == "ohs.reports.rejected"


def test_an_older_decision_arriving_late_does_not_replace_a_newer_one(session):
    disqualify(session, date(2026, 5, 1), until=None)
    disqualify(session, date(2026, 3, 1), until=date(2026, 4, 1))
    with pytest.raises(handlers.AssessorDisqualified):
        handlers.accept_report(session, by_org(), date(2026, 6, 1))


def test_a_classified_report_announces_its_deadlines_for_the_reminders(session):
    accepted = handlers.accept_report(session, report(), date(2023, 6, 12))
    session.commit()
    event = ReportSubmitted(
        producer="assessment", credit_code=EXAMPLE_REPORT["enterprise"]["credit_code"],
        submission_id=uuid.UUID(accepted.submission.submission_id), received_at=utc_now().replace(year=2023, month=6, day=12),
        report=Report.model_validate(accepted.submission.report),
    )
    handlers.classify_submission(session, event, handlers.AssessmentRules.load())
    session.commit()
    [message] = [m for m in session.exec(select(OutboxMessage)) if m.topic == "ohs.assessments.classified"]
    classified = AssessmentClassified.model_validate_json(message.payload)
    assert (classified.next_assessment_due, classified.production_started_on) == (date(2026, 6, 1), date(2016, 4, 1))
