"""Overrides in the registry's own database (SQLite, migrated by the registry's migrations):
every step is stored with who, when and why, logged in the hash chain, and a change of the
effective category is announced with a higher archive version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlmodel import Session, col, select

from services.registry import views
from services.registry.adapters.orm import ChangeLogEntry, EnterpriseRecord, OverrideRecord
from services.registry.adapters.rules import load_industry_catalogues
from services.registry.domain.overrides import IndustryCatalogues, NoIndustryMatch
from services.registry.service_layer import chain_log, overrides
from services.registry.service_layer.handlers import archive_classification
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.contracts import AssessmentClassified, FactorGrade, PenaltyDecided, RuleSetRef, TraceEntry
from shared.db import OutboxMessage, make_engine
from shared.identifiers import credit_code_check_character
from shared.migrations import upgrade

uow_of = RegistryUnitOfWork.joining  # the registry's use cases in a session the test owns and commits

CODE = "91141029MA0GRT8U3L"
OTHER = "91141029MA0000001" + credit_code_check_character("91141029MA0000001")
STAFF = "乡宁县 张三 (county 141029, u-1)"
TODAY = date(2026, 11, 20)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    upgrade("registry", engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


@pytest.fixture(scope="module")
def catalogues() -> IndustryCatalogues:
    return load_industry_catalogues()


def classified(category: str, assessed_on: date, code: str = CODE, region: str = "141029") -> AssessmentClassified:
    grades = {"甲": ("Ⅰ", "A"), "乙": ("Ⅱ", "B"), "丙": ("Ⅲ", "B")}[category]
    return AssessmentClassified(
        producer="assessment", credit_code=code, submission_id=uuid4(), enterprise_name="乡宁县示例水泥有限公司",
        region_code=region, industry_codes=["C3021"], employees=86, assessed_on=assessed_on, hazard_grade=grades[0],
        management_grade=grades[1], score=82.5, category=category,
        factors=[FactorGrade(factor="矽尘", nature="严重", nature_source="catalogue", compliant=False, exposed=24,
                             headcount_band="10–49", grade=grades[0])],
        rule_set=RuleSetRef(jurisdiction="CN", version="2022.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[TraceEntry(rule="附件3", detail=f"→ {category}")],
    )


def major(case_id: UUID | None = None, is_major: bool = True, code: str = CODE) -> PenaltyDecided:
    return PenaltyDecided(producer="penalty", credit_code=code, case_id=case_id or uuid4(), item_code="72-1", decision="penalty",
                          major=is_major, reasons=["not first-time"], trace=[])


def announced(session: Session) -> list[dict]:
    rows = session.exec(select(OutboxMessage).where(OutboxMessage.topic == "ohs.registry.classification-changed").order_by(col(OutboxMessage.id)))
    return [json.loads(r.payload) for r in rows]


def changes(session: Session, region: str = "141029") -> list[ChangeLogEntry]:
    return chain_log.region_entries(session, region)


def test_a_major_violation_raises_the_category_one_step_naming_the_case(session: Session) -> None:
    archive_classification(uow_of(session), classified("乙", date(2026, 6, 1)))
    event = major()
    overrides.upgrade_for_major_violation(uow_of(session), event)
    session.commit()

    record = session.get(EnterpriseRecord, CODE)
    assert (record.category, record.report_category, record.archive_version, record.latest_version) == ("丙", "乙", 2, 2)
    first, second = announced(session)
    assert (second["previous_category"], second["category"], second["archive_version"]) == ("乙", "丙", 2)
    assert str(event.case_id) in second["reason"] and second["hazard_grade"] == "Ⅱ"
    entry = changes(session)[-1]
    assert (entry.change, entry.category_before, entry.category_after) == ("override", "乙", "丙")
    assert entry.actor == f"system:penalty event {event.event_id}" and str(event.case_id) in entry.reason
    view = views.enterprise(session, CODE)
    assert (view["category"], view["effective_category"], view["report_category"]) == ("丙", "丙", "乙")
    [override] = view["overrides"]
    assert (override["kind"], override["before"], override["after"], override["case_ref"], override["active"]) == (
        "enforcement_upgrade", "乙", "丙", str(event.case_id), True)
    assert view["effective_trace"][-1] == "有效综合风险类别 丙"
    assert chain_log.verify_region(session, "141029").ok


def test_a_minor_decision_changes_nothing_and_a_case_upgrades_once(session: Session) -> None:
    archive_classification(uow_of(session), classified("甲", date(2026, 6, 1)))
    overrides.upgrade_for_major_violation(uow_of(session), major(is_major=False))
    case = uuid4()
    overrides.upgrade_for_major_violation(uow_of(session), major(case))
    overrides.upgrade_for_major_violation(uow_of(session), major(case))  # the same case decided again, as another event
    session.commit()
    assert session.get(EnterpriseRecord, CODE).category == "乙"
    assert len(session.exec(select(OverrideRecord)).all()) == 1


def test_an_employer_without_archive_is_not_upgraded(session: Session) -> None:
    overrides.upgrade_for_major_violation(uow_of(session), major())
    session.commit()
    assert session.exec(select(OverrideRecord)).all() == [] and announced(session) == []


def test_bing_stays_bing_and_the_upgrade_is_still_recorded_not_announced(session: Session) -> None:
    archive_classification(uow_of(session), classified("丙", date(2026, 6, 1)))
    row = overrides.upgrade(uow_of(session), CODE, steps=2, reason="瞒报接触人数", actor=STAFF, case_ref="乡卫罚〔2026〕7号")
    session.commit()
    assert (row.category_before, row.category_after, row.steps, row.actor) == ("丙", "丙", 2, STAFF)
    assert len(announced(session)) == 1, "only the first archive: the category did not change"
    entry = changes(session)[-1]
    assert entry.change == "override" and entry.reason == "执法升级 2 级（案件 乡卫罚〔2026〕7号）：瞒报接触人数；升级受限：丙 → 丙，丙为最高类别"
    assert session.get(EnterpriseRecord, CODE).archive_version == 2


def test_a_newer_report_clears_the_upgrades_and_the_trace_says_so(session: Session) -> None:
    archive_classification(uow_of(session), classified("乙", date(2026, 6, 1)))
    overrides.upgrade(uow_of(session), CODE, steps=1, reason="major violation", actor=STAFF, case_ref="C-1")
    older = classified("甲", date(2026, 5, 1))  # a late, older report: history only, clears nothing
    archive_classification(uow_of(session), older)
    assert session.get(EnterpriseRecord, CODE).category == "丙"

    newer = classified("乙", date(2026, 9, 1))
    archive_classification(uow_of(session), newer)
    session.commit()
    record = session.get(EnterpriseRecord, CODE)
    assert (record.category, record.report_category, record.submission_id) == ("乙", "乙", str(newer.submission_id))
    assert (record.archive_version, record.latest_version) == (4, 4)
    last = announced(session)[-1]
    assert (last["previous_category"], last["category"], last["archive_version"]) == ("丙", "乙", 4)
    entry = changes(session)[-1]
    assert entry.change == "archived" and "撤销档案版本 2 的执法升级（乙 → 丙，案件 C-1）" in entry.reason
    assert entry.payload["cleared"] == [entry.reason.split("；")[1]]
    [upgrade_row] = views.enterprise(session, CODE)["overrides"]
    assert upgrade_row["active"] is False and upgrade_row["cleared_by"] == f"评估报告 {newer.submission_id}（档案版本 4）"
    assert chain_log.verify_region(session, "141029").ok


def test_an_upgrade_after_the_new_report_applies_to_it(session: Session) -> None:
    archive_classification(uow_of(session), classified("甲", date(2026, 6, 1)))
    overrides.upgrade(uow_of(session), CODE, steps=2, reason="first", actor=STAFF)
    archive_classification(uow_of(session), classified("丙", date(2026, 9, 1)))  # same effective category 丙: not announced
    session.commit()  # the outbox rows are written with the commit
    assert len(announced(session)) == 2
    overrides.upgrade(uow_of(session), CODE, steps=1, reason="second", actor=STAFF)
    archive_classification(uow_of(session), classified("甲", date(2026, 10, 1)))
    overrides.upgrade(uow_of(session), CODE, steps=2, reason="third", actor=STAFF)
    session.commit()
    view = views.enterprise(session, CODE)
    assert [(o["reason"], o["active"]) for o in view["overrides"]] == [("first", False), ("second", False), ("third", True)]
    assert (view["category"], view["report_category"]) == ("丙", "甲")
    assert [a["archive_version"] for a in announced(session)] == sorted(a["archive_version"] for a in announced(session))


def test_the_industry_default_archives_an_employer_without_a_report(session: Session, catalogues: IndustryCatalogues) -> None:
    request = overrides.IndustryClassification(CODE, "乡宁县示例水泥有限公司", "141029", ["C3021", "C1391"], 86, "未提交评估报告")
    row = overrides.classify_by_industry(uow_of(session), catalogues, request, STAFF, TODAY)
    session.commit()
    record = session.get(EnterpriseRecord, CODE)
    assert (record.category, record.source, record.report_category, record.hazard_grade, record.archive_version) == ("丙", "industry", None, None, 1)
    assert [m["entry"] for m in row.details["matches"]] == ["C302", "C13"]
    [event] = announced(session)
    assert (event["category"], event["previous_category"], event["hazard_grade"], event["submission_id"]) == ("丙", None, None, None)
    entry = changes(session)[-1]
    assert (entry.change, entry.actor) == ("industry_default", STAFF)
    assert "C3021 → C302 石膏、水泥制品及类似制品制造（严重）" in entry.reason
    view = views.enterprise(session, CODE)
    assert view["source"] == "industry" and view["rule_set"]["version"] == "2021.1" and view["history"] == []
    assert any("C302" in t["detail"] for t in view["trace"]) and view["assessed_on"] is None
    # an upgrade applies to the industry basis too
    overrides.upgrade(uow_of(session), CODE, steps=1, reason="x", actor=STAFF)
    # a report replaces the industry default and its upgrade: it starts from its own result
    report = classified("甲", date(2026, 10, 1))
    archive_classification(uow_of(session), report)
    session.commit()
    view = views.enterprise(session, CODE)
    assert (view["category"], view["source"], view["report_category"]) == ("甲", "report", "甲")
    assert all(not o["active"] for o in view["overrides"])
    assert "取代档案版本 1 的行业默认分类（丙）" in changes(session)[-1].reason
    assert announced(session)[-1]["previous_category"] == "丙" and announced(session)[-1]["category"] == "甲"
    # and now the employer has a report: no industry default any more
    with pytest.raises(overrides.ArchiveConflict, match="already classifies"):
        overrides.classify_by_industry(uow_of(session), catalogues, request, STAFF, TODAY)
    assert chain_log.verify_region(session, "141029").ok


def test_an_industry_default_needs_a_known_industry(session: Session, catalogues: IndustryCatalogues) -> None:
    request = overrides.IndustryClassification(CODE, "x", "141029", ["F5111"], 3, "no report")
    with pytest.raises(NoIndustryMatch):
        overrides.classify_by_industry(uow_of(session), catalogues, request, STAFF, TODAY)


def test_a_new_industry_classification_in_another_county_moves_the_employer(session: Session, catalogues: IndustryCatalogues) -> None:
    first = overrides.IndustryClassification(CODE, "x", "141029", ["C1391"], 10, "no report")
    overrides.classify_by_industry(uow_of(session), catalogues, first, STAFF, TODAY)
    moved = overrides.IndustryClassification(CODE, "x", "141024", ["C1391"], 10, "moved to 洪洞县")
    overrides.classify_by_industry(uow_of(session), catalogues, moved, STAFF, TODAY)
    session.commit()
    assert session.get(EnterpriseRecord, CODE).region_code == "141024"
    assert changes(session, "141029")[-1].change == "region_left"
    assert announced(session)[-1]["region_code"] == "141024" and announced(session)[-1]["category"] == "乙"
    assert chain_log.verify_region(session, "141029").ok and chain_log.verify_region(session, "141024").ok


def test_a_dispute_is_verified_and_a_resubmission_shows_until_the_new_report(session: Session, catalogues: IndustryCatalogues) -> None:
    report = classified("甲", date(2026, 6, 1))
    archive_classification(uow_of(session), report)
    overrides.dispute(uow_of(session), CODE, reason="接触人数与现场不符", actor=STAFF)
    with pytest.raises(overrides.ArchiveConflict, match="already disputed"):
        overrides.dispute(uow_of(session), CODE, reason="again", actor=STAFF)
    overrides.verify(uow_of(session), CODE, finding="现场接触人数 40 人, 报告 24 人", resubmission_requested=True, actor=STAFF)
    session.commit()
    view = views.enterprise(session, CODE)
    assert view["dispute"]["status"] == "resubmission_requested" and view["dispute"]["label"] == "已要求重新提交"
    assert view["dispute"]["submission_id"] == str(report.submission_id)
    assert [h["kind"] for h in view["dispute"]["history"]] == ["dispute", "verification"]
    assert view["category"] == "甲" and view["overrides"] == [], "a dispute does not change the category"
    assert [e.change for e in changes(session)] == ["archived", "dispute", "verification"]
    assert len(announced(session)) == 1
    with pytest.raises(overrides.ArchiveConflict, match="resubmission is already requested"):
        overrides.dispute(uow_of(session), CODE, reason="again", actor=STAFF)

    archive_classification(uow_of(session), classified("乙", date(2026, 9, 1)))
    session.commit()
    view = views.enterprise(session, CODE)
    assert view["dispute"]["status"] is None and view["dispute"]["label"] == "无异议"
    assert [h["active"] for h in view["dispute"]["history"]] == [False, False], "kept, closed by the new report"
    assert "结束对评估报告" in changes(session)[-1].reason and "的异议（已要求重新提交）" in changes(session)[-1].reason
    with pytest.raises(overrides.ArchiveConflict, match="only a disputed report"):
        overrides.verify(uow_of(session), CODE, finding="x", resubmission_requested=False, actor=STAFF)


def test_an_industry_default_cannot_be_disputed(session: Session, catalogues: IndustryCatalogues) -> None:
    overrides.classify_by_industry(uow_of(session), catalogues, overrides.IndustryClassification(CODE, "x", "141029", ["B0610"], 3, "r"), STAFF, TODAY)
    with pytest.raises(overrides.ArchiveConflict, match="no report to dispute"):
        overrides.dispute(uow_of(session), CODE, reason="r", actor=STAFF)
    with pytest.raises(overrides.NotInArchive):
        overrides.upgrade(uow_of(session), OTHER, steps=1, reason="r", actor=STAFF)
