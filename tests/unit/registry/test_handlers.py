"""The registry's event handlers and staff commands on a unit of work in memory (no database):
what each does to the archive, what it announces, and that a handler leaves the commit to the
consumer while a command commits."""

from __future__ import annotations

import json
from datetime import date
from uuid import UUID, uuid4

import pytest

from services.registry.service_layer import credit_feed, exemptions, overrides
from services.registry.service_layer.handlers import archive_classification
from shared.auth import Principal
from shared.contracts import AssessmentClassified, ClassificationChanged, ExemptionChanged, PenaltyDecided
from tests.unit.registry.fakes import FakeUnitOfWork
from tests.unit.registry.test_override_handlers import CODE, OTHER, classified, major

COUNTY = Principal(role="county", name="乡宁县 张三", subject="u-1", region_code="141029")
ELSEWHERE = Principal(role="county", name="洪洞县 李四", subject="u-2", region_code="141024")


def report(category: str = "乙", assessed_on: date = date(2026, 6, 1), **changes: object) -> AssessmentClassified:
    """A classified report of the employer (乡宁县, C3021, 86 workers unless changed)."""
    return classified(category, assessed_on).model_copy(update={"submission_id": uuid4(), **changes})


def announced(uow: FakeUnitOfWork) -> list[ClassificationChanged]:
    return [e for e in uow.published if isinstance(e, ClassificationChanged)]


def archived(*events: AssessmentClassified) -> FakeUnitOfWork:
    """A unit of work whose archive holds the reports, with nothing published yet."""
    uow = FakeUnitOfWork()
    for event in events:
        archive_classification(uow, event)
    uow.published.clear()
    return uow


def cloud_event_types(uow: FakeUnitOfWork) -> list[str]:
    return [json.loads(p["payload"])["type"] for p in uow.payloads]


# --------------------------------------------------------------------------- archiving a report


def test_a_first_report_is_archived_current_and_announced_with_its_category() -> None:
    uow = FakeUnitOfWork()

    archive_classification(uow, report("乙"))

    record = uow.enterprises.get(CODE)
    assert (record.category, record.archive_version, record.latest_version, record.source) == ("乙", 1, 1, "report")
    [change] = announced(uow)
    assert (change.previous_category, change.category, change.archive_version) == (None, "乙", 1)
    assert change.changed == ["category"]
    assert (change.industry_codes, change.employees) == (["C3021"], 86)
    assert [e.change for e in uow.change_log.of("141029")] == ["archived"]
    assert not uow.committed, "the consumer commits, with the inbox mark"


def test_the_same_report_again_changes_nothing() -> None:
    event = report()
    uow = archived(event)

    archive_classification(uow, event)

    assert uow.published == [] and len(uow.versions.rows) == 1


def test_a_new_report_with_nothing_new_for_the_others_is_archived_silently() -> None:
    uow = archived(report("乙"))

    archive_classification(uow, report("乙", date(2027, 6, 1)))

    assert uow.enterprises.get(CODE).latest_version == 2  # type: ignore[union-attr]
    assert announced(uow) == []


def test_the_same_category_with_another_industry_is_announced_as_an_industry_change() -> None:
    """The stale-pool defect: sampling keeps the industry codes of its pool members (full-coverage
    industries), so a change of the industry alone must reach it."""
    uow = archived(report("乙"))

    archive_classification(uow, report("乙", date(2027, 6, 1), industry_codes=["B0610"]))

    [change] = announced(uow)
    assert change.changed == ["industry_codes"]
    assert change.industry_codes == ["B0610"]
    assert (change.previous_category, change.category, change.archive_version) == ("乙", "乙", 2)
    assert change.reason.endswith("变更了用人单位的行业代码；综合风险类别仍为 乙")
    assert change.text("en").endswith("changed the employer's industry codes; category stays 乙 (category B)")


def test_a_new_name_and_headcount_are_announced_together() -> None:
    uow = archived(report("乙"))

    archive_classification(uow, report("乙", date(2027, 6, 1), enterprise_name="乡宁县示例建材有限公司", employees=120))

    [change] = announced(uow)
    assert change.changed == ["enterprise_name", "employees"]
    assert (change.enterprise_name, change.employees) == ("乡宁县示例建材有限公司", 120)


def test_a_category_change_names_the_category() -> None:
    uow = archived(report("乙"))

    archive_classification(uow, report("丙", date(2027, 6, 1), hazard_grade="Ⅲ"))

    [change] = announced(uow)
    assert change.changed == ["category"]
    assert (change.previous_category, change.category) == ("乙", "丙")


def test_an_older_report_arriving_late_goes_to_history_and_announces_nothing() -> None:
    uow = archived(report("乙", date(2026, 6, 1)))

    archive_classification(uow, report("丙", date(2025, 6, 1), industry_codes=["B0610"]))

    assert uow.enterprises.get(CODE).industry_codes == ["C3021"]  # type: ignore[union-attr]
    assert announced(uow) == []
    assert [v.became_current for v in uow.versions.rows] == [True, False]


# --------------------------------------------------------------------------- an enforcement upgrade


def test_a_major_violation_raises_the_category_one_step_once_per_case() -> None:
    uow = archived(report("乙"))
    decision = major()

    overrides.upgrade_for_major_violation(uow, decision)
    overrides.upgrade_for_major_violation(uow, decision)  # re-published: one upgrade per case

    record = uow.enterprises.get(CODE)
    assert (record.category, record.report_category, record.archive_version) == ("丙", "乙", 2)  # type: ignore[union-attr]
    [row] = uow.overrides.rows
    assert (row.kind, row.category_before, row.category_after, row.case_ref) == ("enforcement_upgrade", "乙", "丙", str(decision.case_id))
    [change] = announced(uow)
    assert (change.previous_category, change.category, change.changed) == ("乙", "丙", ["category"])
    assert uow.change_log.of("141029")[-1].change == "override"
    assert not uow.committed


def test_a_decision_that_is_not_major_or_for_an_unknown_employer_changes_nothing() -> None:
    uow = archived(report("乙"))

    overrides.upgrade_for_major_violation(uow, major(is_major=False))
    overrides.upgrade_for_major_violation(uow, major(code=OTHER))

    assert uow.overrides.rows == [] and uow.published == []


def test_a_new_report_clears_the_upgrade_and_starts_from_its_own_result() -> None:
    uow = archived(report("乙"))
    overrides.upgrade_for_major_violation(uow, major())
    uow.published.clear()

    archive_classification(uow, report("乙", date(2027, 6, 1)))

    assert uow.enterprises.get(CODE).category == "乙"  # type: ignore[union-attr]
    assert uow.overrides.rows[0].cleared_at is not None
    [change] = announced(uow)
    assert (change.previous_category, change.category, change.changed) == ("丙", "乙", ["category"])


# --------------------------------------------------------------------------- staff commands


def test_a_staff_upgrade_commits_and_answers_with_the_entry() -> None:
    uow = archived(report("甲", hazard_grade="Ⅰ", management_grade="A"))

    record, row = overrides.upgrade_by_staff(uow, COUNTY, CODE, steps=2, reason="拒不整改", case_ref="晋卫罚〔2026〕1号")

    assert uow.committed
    assert (record.category, row.steps, row.actor) == ("丙", 2, COUNTY.describe())
    assert [(c.previous_category, c.category) for c in announced(uow)] == [("甲", "丙")]


def test_staff_of_another_county_are_told_there_is_no_archive() -> None:
    uow = archived(report("乙"))

    with pytest.raises(overrides.NotInArchive):
        overrides.dispute_by_staff(uow, ELSEWHERE, CODE, reason="x")
    assert not uow.committed and uow.overrides.rows == []


def test_a_granted_exemption_in_force_today_is_announced_and_committed() -> None:
    uow = archived(report("乙"))

    row = exemptions.grant_by_staff(uow, COUNTY, CODE, valid_from=date(2026, 11, 20), valid_until=date(2027, 11, 19), reason="信用 A 级",
                                    basis="晋卫信〔2026〕3号", today=date(2026, 11, 20))

    assert uow.committed and row.status == "in_force"
    [started] = [e for e in uow.published if isinstance(e, ExemptionChanged)]
    assert (started.exempt, started.exemption_id) == (True, UUID(row.id))


# --------------------------------------------------------------------------- the credit feed


def test_the_credit_feed_publishes_a_category_change_and_not_an_industry_change() -> None:
    archive = archived(report("乙"))
    archive_classification(archive, report("乙", date(2027, 6, 1), industry_codes=["B0610"]))
    archive_classification(archive, report("丙", date(2028, 6, 1), hazard_grade="Ⅲ"))
    industry_only, category = announced(archive)
    feed = FakeUnitOfWork()

    credit_feed.classification_changed(feed, industry_only)
    assert feed.payloads == [], "a credit system is told about categories and regions only"

    credit_feed.classification_changed(feed, category)
    assert cloud_event_types(feed) == ["cn.gov.ohs.classification.changed"]
    assert json.loads(feed.payloads[0]["payload"])["data"]["category_after"] == "丙"


def test_an_event_from_before_changed_was_added_is_published_as_before() -> None:
    feed = FakeUnitOfWork()
    old = ClassificationChanged(
        producer="registry", credit_code=CODE, enterprise_name="乡宁县示例水泥有限公司", region_code="141029", archive_version=2,
        previous_category="乙", category="乙", hazard_grade="Ⅱ", management_grade="B", submission_id=uuid4(),
        reason="report moved the employer to another region; category stays 乙",
    )
    assert old.changed is None

    credit_feed.classification_changed(feed, old)

    assert cloud_event_types(feed) == ["cn.gov.ohs.classification.changed"]


def test_each_credit_input_becomes_one_cloud_event_even_when_delivered_twice() -> None:
    feed = FakeUnitOfWork()
    decided = PenaltyDecided(producer="penalty", credit_code=CODE, case_id=uuid4(), item_code="72-1", decision="penalty", major=True,
                             reasons=["not first-time"], trace=[])

    credit_feed.penalty_decided(feed, decided)
    credit_feed.penalty_decided(feed, decided)

    assert cloud_event_types(feed) == ["cn.gov.ohs.penalty.decided"]
    assert feed.payloads[0]["key"] == CODE and not feed.committed
