"""The classification archive: versions, the current entry, what is announced."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlmodel import Session, select

from services.registry.adapters.orm import MODELS, ClassificationVersion, EnterpriseRecord
from services.registry.domain.archive import ArchiveDecision, CurrentClassification, archive
from services.registry.service_layer.handlers import archive_classification
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.contracts import AssessmentClassified, ClassificationChanged, FactorGrade, RuleSetRef, TraceEntry
from shared.db import OutboxMessage, create_tables, make_engine
from shared.topics import CLASSIFICATION_CHANGED

uow_of = RegistryUnitOfWork.joining  # the registry's use cases in a session the test owns and commits

CREDIT_CODE = "91141029MA0GRT8U3L"
JUNE = date(2023, 6, 1)
CURRENT = CurrentClassification(category="丙", region_code="141029", assessed_on=JUNE, latest_version=2)


# ---------------------------------------------------------------------------- pure rules


def test_the_first_archive_is_version_1_current_and_announced_with_no_previous_category() -> None:
    assert archive(None, "丙", "141029", JUNE) == ArchiveDecision(1, True, True, None)


def test_a_later_report_with_the_same_category_becomes_current_silently() -> None:
    assert archive(CURRENT, "丙", "141029", date(2024, 6, 1)) == ArchiveDecision(3, True, False, "丙")


def test_a_later_report_that_changes_the_category_is_announced_with_the_previous_one() -> None:
    assert archive(CURRENT, "乙", "141029", date(2024, 6, 1)) == ArchiveDecision(3, True, True, "丙")


def test_an_employer_that_moved_region_is_announced_even_with_the_same_category() -> None:
    decision = archive(CURRENT, "丙", "141081", date(2024, 6, 1))
    assert decision.becomes_current and decision.announce


def test_a_report_with_the_same_assessment_date_arriving_later_wins() -> None:
    decision = archive(CURRENT, "乙", "141029", JUNE)
    assert decision.becomes_current and decision.announce


def test_an_older_assessment_arriving_late_goes_to_history_only() -> None:
    decision = archive(CURRENT, "甲", "141081", date(2022, 6, 1))
    assert decision == ArchiveDecision(3, False, False, "丙")


@pytest.mark.parametrize(
    ("decision", "category", "chinese", "english"),
    [
        (ArchiveDecision(1, True, True, None), "丙", "首次建档：评估报告 S-1", "first archive from report S-1"),
        (ArchiveDecision(2, True, True, "丙"), "乙", "评估报告 S-1 将综合风险类别由 丙 调整为 乙",
         "report S-1 moved the category 丙 (category C, highest risk) → 乙 (category B)"),
        (ArchiveDecision(2, True, True, "丙"), "丙", "评估报告 S-1 使用人单位所在地区变更；综合风险类别仍为 丙",
         "report S-1 moved the employer to another region; category stays 丙 (category C, highest risk)"),
    ],
    ids=["first", "category changed", "region moved"],
)
def test_the_reason_names_the_submission(decision: ArchiveDecision, category: str, chinese: str, english: str) -> None:
    reason = decision.reason("S-1", category)
    assert reason.code.startswith("registry.archive.reason.") and reason.params["submission_id"] == "S-1"
    assert reason.text() == chinese and reason.text("en") == english


# ---------------------------------------------------------------------------- handler on SQLite


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path}/r.db")
    create_tables(engine, MODELS)
    with Session(engine) as s:
        yield s
    engine.dispose()


def classified(category: str, assessed_on: date, submission_id: UUID | None = None) -> AssessmentClassified:
    hazard, management = {"丙": ("Ⅲ", "B"), "乙": ("Ⅱ", "B"), "甲": ("Ⅰ", "A")}[category]
    return AssessmentClassified(
        producer="assessment",
        credit_code=CREDIT_CODE,
        submission_id=submission_id or uuid4(),
        enterprise_name="乡宁县示例水泥有限公司",
        region_code="141029",
        industry_codes=["C3011"],
        employees=86,
        assessed_on=assessed_on,
        hazard_grade=hazard,
        management_grade=management,
        score=82.5,
        category=category,
        factors=[
            FactorGrade(
                factor="矽尘", nature="严重", nature_source="catalogue", compliant=False, exposed=24, headcount_band="10-49", grade=hazard
            )
        ],
        rule_set=RuleSetRef(jurisdiction="CN", version="2022.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[TraceEntry(rule="附件3 matrix", detail=f"{hazard} × {management} → {category}")],
    )


def apply(session: Session, event: AssessmentClassified) -> None:
    archive_classification(uow_of(session), event)
    session.commit()


def announcements(session: Session) -> list[ClassificationChanged]:
    rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert {r.topic for r in rows} <= {CLASSIFICATION_CHANGED}
    return [ClassificationChanged.model_validate_json(r.payload) for r in rows]


def test_a_changed_category_becomes_current_and_both_versions_are_announced_in_order(session: Session) -> None:
    first, second = classified("丙", JUNE), classified("乙", date(2024, 6, 1))
    apply(session, first)
    apply(session, second)

    record = session.get(EnterpriseRecord, CREDIT_CODE)
    assert record is not None
    assert (record.category, record.archive_version, record.latest_version) == ("乙", 2, 2)
    assert record.submission_id == str(second.submission_id)

    versions = session.exec(select(ClassificationVersion).order_by(ClassificationVersion.version)).all()
    assert [(v.version, v.category, v.became_current) for v in versions] == [(1, "丙", True), (2, "乙", True)]

    sent = announcements(session)
    assert [(m.previous_category, m.category, m.archive_version) for m in sent] == [(None, "丙", 1), ("丙", "乙", 2)]
    assert str(second.submission_id) in sent[1].reason
    assert all(m.credit_code == CREDIT_CODE and m.producer == "registry" for m in sent)


def test_reapplying_a_classified_report_adds_nothing(session: Session) -> None:
    event = classified("丙", JUNE)
    apply(session, event)
    apply(session, event)
    # a re-published classification of the same report, with a fresh event id
    apply(session, event.model_copy(update={"event_id": uuid4()}))

    assert len(session.exec(select(ClassificationVersion)).all()) == 1
    assert len(announcements(session)) == 1
    assert session.get(EnterpriseRecord, CREDIT_CODE).latest_version == 1  # type: ignore[union-attr]


def test_an_older_report_arriving_late_is_kept_but_does_not_replace_the_current_one(session: Session) -> None:
    apply(session, classified("乙", date(2024, 6, 1)))
    late = classified("丙", JUNE)
    apply(session, late)

    record = session.get(EnterpriseRecord, CREDIT_CODE)
    assert record is not None
    assert (record.category, record.archive_version, record.latest_version) == ("乙", 1, 2)
    late_row = session.exec(select(ClassificationVersion).where(ClassificationVersion.submission_id == str(late.submission_id))).one()
    assert (late_row.version, late_row.became_current) == (2, False)
    assert len(announcements(session)) == 1
