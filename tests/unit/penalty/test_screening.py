"""Screening a classified report's shortcomings against 附件5 (issue 13), on a unit of work in memory: the
outcome per shortcoming with its trace, first time by the same rule as cases (an earlier case, an earlier
corrected screening), the rectification items followed, a case opened from a screening judged as any case;
and the shortcoming map as rule data (a bad file stops start-up; a province extends the national map)."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from services.penalty.adapters.rules import Rulebook
from services.penalty.domain.screening import screening_id
from services.penalty.service_layer import handlers, screening
from shared.auth import Principal
from shared.contracts import (
    AssessmentClassified,
    FactorGrade,
    Flag,
    LostPoints,
    PenaltyDecided,
    RectificationProgressed,
    RuleSetRef,
    ScreeningRecorded,
    TraceEntry,
    ViolationRecorded,
)
from shared.identifiers import credit_code_check_character
from shared.rule_data import RuleDataError
from tests.unit.penalty.fakes import FakeUnitOfWork

RULES = Rulebook.load()
COUNTY = Principal("county-1", "乡宁县 张三", "county", region_code="141029")
CHECKLIST = {"4.3": "检测、评价结果存档、上报、公布", "4.1": "定期检测", "1.6": "经费保障"}


def credit_code(region: str = "141029") -> str:
    body = f"91{region}MA{uuid.uuid4().int % 10**7:07d}"
    return body + credit_code_check_character(body)


def classified_on(day: date, code: str, *, lost: tuple[str, ...] = (), expired: tuple[str, ...] = (), flags: tuple[str, ...] = (),
                  region: str = "141029") -> AssessmentClassified:
    """A report classified on ``day`` (China): at 01:00 China time, still the day before in UTC."""
    factors = [FactorGrade(factor=f, nature="严重", nature_source="catalogue", compliant=False, declared_compliant=True,
                           test_status="expired", exposed=12, headcount_band="10-49", grade="Ⅲ") for f in expired]
    return AssessmentClassified(
        producer="assessment", credit_code=code, submission_id=uuid.uuid4(), enterprise_name="乡宁县示例水泥有限公司", region_code=region,
        employees=86, assessed_on=day - timedelta(days=20), hazard_grade="Ⅲ", management_grade="B", score=82.5, category="丙",
        factors=factors, lost_points=[LostPoints(item=i, title=CHECKLIST.get(i, "item"), earned=0, points=3) for i in lost],
        flags=[Flag(code=f, message=f"{f}: as the report shows") for f in flags],
        rule_set=RuleSetRef(jurisdiction="CN", version="2022.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[TraceEntry(rule="附件3 matrix", detail="Ⅲ × B → 丙")],
        occurred_at=datetime(day.year, day.month, day.day, 1, 0, tzinfo=timezone(timedelta(hours=8))).astimezone(timezone.utc),
    )


def screened(uow: FakeUnitOfWork, event: AssessmentClassified, rules: Rulebook = RULES) -> ScreeningRecorded:
    screening.screen_report(uow, event, rules)
    return uow.events(ScreeningRecorded)[-1]


def progressed(event: ScreeningRecorded, step: str, status: str, on: date, **changes: object) -> RectificationProgressed:
    result = event.results[0]
    fields = dict(producer="registry", credit_code=event.credit_code, item_id=uuid.uuid5(result.screening_id, "item"),
                  region_code=event.region_code, shortcoming_code=result.shortcoming.code, shortcoming_text=result.shortcoming.text,
                  submission_id=event.submission_id, screening_id=result.screening_id, step=step, status=status, on=on,
                  deadline=result.deadline, actor="乡宁县 李四")
    return RectificationProgressed(**{**fields, **changes})  # type: ignore[arg-type]


def details(trace: list[TraceEntry]) -> str:
    return "\n".join(f"{t.rule}: {t.detail}" for t in trace)


# --------------------------------------------------------------------------- outcomes


def test_a_report_whose_checklist_lost_points_on_4_3_is_eligible_if_corrected_by_a_working_day_deadline() -> None:
    uow = FakeUnitOfWork()
    event = classified_on(date(2024, 9, 27), credit_code(), lost=("4.3",))
    assert event.occurred_at.date() == date(2024, 9, 26), "the China day, not the UTC one, is the screening day"

    announced = screened(uow, event)

    [result] = announced.results
    assert (result.outcome, result.item_code, result.provision_code) == ("eligible_if_corrected", "70-1", "70-1")
    # 10 working days from Friday 27 September 2024: Sunday 29 September is a make-up working day, 1–7 October the National Day holiday
    assert announced.screened_on == date(2024, 9, 27) and result.deadline == date(2024, 10, 16)
    assert result.reasons == [] and result.earlier is None
    text = details(result.trace)
    assert "违法行为对照表 CN v2021.1" in text and "首违不罚清单 CN v2021.1" in text
    assert "于2024年10月16日前改正的，可不予处罚" in text and "行政处罚法 第三十三条" in text and "→ 初次违法" in text
    assert result.code == "penalty.screening.outcome.eligible_if_corrected" and result.params == {"deadline": "2024-10-16"}
    assert result.text("en").startswith("no penalty if corrected by 2024-10-16")
    assert "第二十六条第三款" in result.duty
    row = uow.screenings.get(str(result.screening_id))
    assert row is not None and result.screening_id == screening_id(event.submission_id, "checklist:4.3")
    assert (row.region_code, row.outcome, row.deadline, row.shortcoming["text"]) == ("141029", "eligible_if_corrected", date(2024, 10, 16),
                                                                                      result.shortcoming.text)
    assert not uow.committed, "the consumer commits, with the inbox mark"


def test_an_out_of_date_test_is_not_eligible_citing_article_72() -> None:
    uow = FakeUnitOfWork()
    [result] = screened(uow, classified_on(date(2024, 9, 27), credit_code(), expired=("矽尘",))).results
    assert (result.shortcoming.code, result.outcome, result.item_code, result.provision_code) == (
        "test_expired:矽尘", "not_eligible", None, "72-4")
    assert result.reasons == ["不在附件5清单内（职业病防治法 第七十二条第(四)项）"]
    assert result.reason_texts("en") == ["not on the Annex 5 list (职业病防治法 第七十二条第(四)项)"]
    assert "72-4 不在清单内 → 不适用首违不罚" in details(result.trace)


def test_a_short_publicity_is_no_violation_with_a_recommendation_and_still_a_deadline() -> None:
    uow = FakeUnitOfWork()
    [result] = screened(uow, classified_on(date(2024, 9, 27), credit_code(), flags=("publicity_short",))).results
    assert (result.outcome, result.item_code, result.provision_code, result.reasons) == ("no_violation", None, None, [])
    assert result.deadline == date(2024, 10, 16)
    assert "建议：下一次报送评估报告前，将评估结果在公告栏公示不少于5个工作日" in details(result.trace)  # the map's recommendation, as the rule data words it
    assert result.text() == "不构成违法：仅提出整改建议，无须处罚；仍列为整改事项，请于2024年10月16日前改正"


def test_a_shortcoming_the_map_does_not_name_is_no_violation_saying_so() -> None:
    uow = FakeUnitOfWork()
    [result] = screened(uow, classified_on(date(2024, 9, 27), credit_code(), lost=("9.9",))).results
    assert result.outcome == "no_violation"
    assert "未列明 checklist:9.9 对应的法定义务" in details(result.trace)


def test_the_employers_county_is_the_archives_when_penalty_knows_it() -> None:
    uow = FakeUnitOfWork()
    code = credit_code()
    uow.archived_employers.add(uow.archived_employers.model(credit_code=code, region_code="141024", archive_version=3))
    announced = screened(uow, classified_on(date(2024, 9, 27), code, lost=("4.3",)))
    assert announced.region_code == "141024"
    assert uow.screenings.get(str(announced.results[0].screening_id)).region_code == "141024"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- first time, by the same rule as cases


def test_the_same_shortcoming_a_year_after_it_was_corrected_is_a_repeat_naming_the_earlier_screening() -> None:
    uow = FakeUnitOfWork()
    code = credit_code()
    first = screened(uow, classified_on(date(2024, 3, 1), code, lost=("4.3",)))
    screening.record_rectification(uow, progressed(first, "raised", "open", date(2024, 3, 1)))
    screening.record_rectification(uow, progressed(first, "cleared", "cleared", date(2024, 3, 11), corrected_on=date(2024, 3, 8),
                                                   corrected_in_time=True))
    row = uow.screenings.get(str(first.results[0].screening_id))
    assert row is not None and (row.rectification_status, row.corrected_on, row.corrected_in_time) == ("cleared", date(2024, 3, 8), True)
    assert "→ 及时改正" in row.trace[-1]["detail"] and row.trace[-1]["code"] == "penalty.screening.trace.rectification.cleared_in_time"

    [again] = screened(uow, classified_on(date(2025, 3, 3), code, lost=("4.3",))).results

    named = f"报告 {first.submission_id} 的先前筛查（2024年3月1日），已于2024年3月8日改正"
    assert (again.outcome, again.item_code, again.reasons, again.earlier) == ("not_eligible", "70-1", [f"非初次违法：{named}"], named)
    assert again.earlier_text("en") == f"earlier screening of report {first.submission_id} (2024-03-01), corrected on 2024-03-08"
    assert "→ 非初次违法" in details(again.trace)


def test_a_later_report_describing_the_days_before_the_correction_is_no_repeat() -> None:
    uow = FakeUnitOfWork()
    code = credit_code()
    first = screened(uow, classified_on(date(2024, 3, 1), code, lost=("4.3",)))
    screening.record_rectification(uow, progressed(first, "cleared", "cleared", date(2024, 3, 20), corrected_on=date(2024, 3, 18),
                                                   corrected_in_time=True))
    stale = classified_on(date(2024, 3, 25), code, lost=("4.3",))  # assessed 2024-03-05: before the correction of 03-18
    assert stale.assessed_on < date(2024, 3, 18)

    [result] = screened(uow, stale).results

    assert (result.outcome, result.earlier) == ("eligible_if_corrected", None)
    assert "晚于本报告所述之日（2024年3月5日）：不视为再次违法" in details(result.trace)


def test_after_an_earlier_case_of_the_same_provision_the_screening_is_a_repeat_naming_the_case() -> None:
    uow = FakeUnitOfWork()
    code = credit_code()
    inspection = ViolationRecorded(producer="sampling", credit_code=code, case_id=uuid.uuid4(), item_code="70-1", found_on=date(2024, 5, 6),
                                   harm="none", corrected_on=date(2024, 5, 6), rectification_deadline=None)
    handlers.decide_case(uow, inspection, RULES)
    case = uow.cases.get(str(inspection.case_id))
    assert case is not None and case.case_code

    [result] = screened(uow, classified_on(date(2025, 3, 3), code, lost=("4.3",))).results

    assert result.outcome == "not_eligible"
    assert result.reasons == [f"非初次违法：先前案件 {case.case_code}（2024年5月6日）"] and result.earlier == f"先前案件 {case.case_code}（2024年5月6日）"
    assert result.reason_codes[0].params["case_id"] == case.id


def test_an_inspection_case_after_a_screening_corrected_under_the_rule_is_no_longer_a_first_time() -> None:
    """The leniency of 行政处罚法 art. 33 is used once: a case's judgement counts the corrected screening too."""
    uow = FakeUnitOfWork()
    code = credit_code()
    first = screened(uow, classified_on(date(2024, 3, 1), code, lost=("4.3",)))
    screening.record_rectification(uow, progressed(first, "cleared", "cleared", date(2024, 3, 11), corrected_on=date(2024, 3, 8),
                                                   corrected_in_time=True))
    inspection = ViolationRecorded(producer="sampling", credit_code=code, case_id=uuid.uuid4(), item_code="70-1", found_on=date(2025, 5, 6),
                                   harm="none", corrected_on=date(2025, 5, 6), rectification_deadline=None)

    handlers.decide_case(uow, inspection, RULES)

    case = uow.cases.get(str(inspection.case_id))
    assert case is not None and (case.decision, case.first_time) == ("penalty", False)
    assert f"报告 {first.submission_id}" in "; ".join(case.reasons)


def test_an_earlier_screening_still_uncorrected_is_not_a_repeat_the_finding_continues() -> None:
    uow = FakeUnitOfWork()
    code = credit_code()
    first = screened(uow, classified_on(date(2024, 3, 1), code, lost=("4.3",)))
    screening.record_rectification(uow, progressed(first, "raised", "open", date(2024, 3, 1)))

    [again] = screened(uow, classified_on(date(2024, 6, 3), code, lost=("4.3",))).results

    assert (again.outcome, again.reasons, again.earlier) == ("eligible_if_corrected", [], None)
    assert f"报告 {first.submission_id} 的先前筛查（2024年3月1日）在本次筛查之日前未改正（整改状态：待整改）：本次发现是其延续" \
        in details(again.trace)


# --------------------------------------------------------------------------- replay and the event


def test_the_same_report_twice_gives_one_set_of_rows_and_one_event_and_a_replay_the_same_ids() -> None:
    uow = FakeUnitOfWork()
    event = classified_on(date(2024, 9, 27), credit_code(), lost=("4.3", "1.6"), expired=("矽尘",))
    first = screened(uow, event)
    screening.screen_report(uow, event, RULES)
    assert len(uow.events(ScreeningRecorded)) == 1 and len(uow.screenings.rows) == 3
    assert [r.outcome for r in first.results] == ["eligible_if_corrected", "no_violation", "not_eligible"]

    replayed = screened(FakeUnitOfWork(), event)  # the topics replayed into an empty service
    assert replayed.event_id == first.event_id and [r.screening_id for r in replayed.results] == [r.screening_id for r in first.results]


def test_a_report_with_nothing_to_put_right_is_announced_all_the_same() -> None:
    uow = FakeUnitOfWork()
    announced = screened(uow, classified_on(date(2024, 9, 27), credit_code()))
    assert announced.results == [] and uow.screenings.reports[str(announced.submission_id)].results == 0


# --------------------------------------------------------------------------- a case opened from a screening


def test_corrected_in_time_then_a_case_from_the_screening_decides_no_penalty_and_carries_the_trace() -> None:
    uow = FakeUnitOfWork()
    announced = screened(uow, classified_on(date(2024, 9, 27), credit_code(), lost=("4.3",)))
    screening.record_rectification(uow, progressed(announced, "cleared", "cleared", date(2024, 10, 15), corrected_on=date(2024, 10, 14),
                                                   corrected_in_time=True))
    sid = str(announced.results[0].screening_id)

    case = screening.open_case_from_screening(uow, COUNTY, sid, RULES, today=date(2024, 10, 20))

    assert (case.item_code, case.found_on, case.harm, case.rectification_deadline, case.corrected_on) == (
        "70-1", date(2024, 9, 27), "none", date(2024, 10, 16), date(2024, 10, 14))
    assert (case.decision, case.status) == ("no_penalty", "closed") and uow.committed
    assert case.description is not None and f"（报告 {announced.submission_id} 自报）" in case.description
    opened = uow.cases.timeline(case.id)[0]
    assert opened.step == "opened" and f"来源于报告 {announced.submission_id} 的筛查 {sid}" in opened.detail
    assert "于2024年10月16日前改正的，可不予处罚" in opened.detail
    row = uow.screenings.get(sid)
    assert row is not None and (row.case_id, row.case_code) == (case.id, case.case_code)
    assert [d.decision for d in uow.events(PenaltyDecided)] == ["no_penalty"]
    assert uow.events(ViolationRecorded)[-1].case_id == uuid.UUID(case.id)

    with pytest.raises(screening.CaseAlreadyOpened, match=str(case.case_code)):
        screening.open_case_from_screening(uow, COUNTY, sid, RULES, today=date(2024, 10, 20))


def test_overdue_it_is_listed_and_a_case_from_it_decides_per_the_list() -> None:
    uow = FakeUnitOfWork()
    announced = screened(uow, classified_on(date(2024, 9, 27), credit_code(), lost=("4.3",)))
    screening.record_rectification(uow, progressed(announced, "overdue", "overdue", date(2024, 10, 17)))
    sid = str(announced.results[0].screening_id)
    row = uow.screenings.get(sid)
    assert row is not None and (row.rectification_status, row.listed_on, row.corrected_on) == ("overdue", date(2024, 10, 17), None)
    assert "列入执法清单" in row.trace[-1]["detail"]

    case = screening.open_case_from_screening(uow, COUNTY, sid, RULES, today=date(2024, 10, 20))
    # listed (70-1), first time, not corrected: eligible pending correction, under its past deadline …
    assert (case.status, case.decision, case.rectification_deadline) == ("rectifying", None, date(2024, 10, 16))
    # … so the sweep escalates it: the list's conditions fail (not corrected by the deadline)
    handlers.sweep_escalations(uow, date(2024, 10, 21), RULES)
    assert (case.decision, case.status) == ("penalty", "penalty_pending")
    assert "未改正" in case.reasons


def test_no_case_from_a_no_violation_screening_nor_for_another_county() -> None:
    uow = FakeUnitOfWork()
    announced = screened(uow, classified_on(date(2024, 9, 27), credit_code(), lost=("4.3",), flags=("submission_late",)))
    listed, advice = (str(r.screening_id) for r in announced.results)
    with pytest.raises(screening.NothingToOpen, match="不构成违法，仅提出整改建议"):
        screening.open_case_from_screening(uow, COUNTY, advice, RULES)
    other = Principal("county-2", "洪洞县 王五", "county", region_code="141024")
    with pytest.raises(screening.ScreeningNotFound):
        screening.open_case_from_screening(uow, other, listed, RULES)
    assert not uow.cases.cases and not uow.committed


# --------------------------------------------------------------------------- the map as rule data


def write(folder: Path, name: str, document: dict) -> None:
    (folder / "penalty").mkdir(parents=True, exist_ok=True)
    (folder / "penalty" / name).write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


EXTENSION = {"kind": "shortcoming_map", "jurisdiction": "330000", "extends": "CN", "version": "2022.1", "effective_from": "2022-01-01",
             "provisional": True, "source": "test: a province's extension"}


def test_a_bad_map_file_stops_start_up_naming_the_file_and_the_problem(tmp_path: Path) -> None:
    write(tmp_path, "typo.json", {**EXTENSION, "entries": [
        {"rule_key": "checklist:4.1", "violation": True, "duty_provision": "第二十六条", "penalty_provision": "第七十二条第(四)项",
         "item_code": "72-4"}]})
    with pytest.raises(RuleDataError, match=r"typo\.json.*checklist:4\.1: item_code 72-4 is not on the no-penalty list"):
        Rulebook.load(tmp_path)
    write(tmp_path, "typo.json", {**EXTENSION, "entries": [{"rule_key": "checklist:4.1", "violation": True}]})
    with pytest.raises(RuleDataError, match=r"typo\.json is invalid:\n.*needs its provision_code"):
        Rulebook.load(tmp_path)
    write(tmp_path, "typo.json", {**EXTENSION, "entries": [{"rule_key": "test_late", "violation": False, "recommendation": "x"}]})
    with pytest.raises(RuleDataError, match=r"'test_late' is no shortcoming rule key"):
        Rulebook.load(tmp_path)


def test_a_province_extends_the_national_map_with_effective_dates(tmp_path: Path) -> None:
    write(tmp_path, "zhejiang-map.json", {**EXTENSION, "entries": [
        {"rule_key": "checklist:7.2", "violation": True, "duty_provision": "职业病防治法 第三十五条第一款",
         "penalty_provision": "职业病防治法 第七十一条第(四)项", "item_code": "71-4"},
        {"rule_key": "checklist:4.3", "violation": True, "duty_provision": "职业病防治法 第二十六条第三款",
         "penalty_provision": "职业病防治法 第七十条第(一)项", "item_code": "70-1", "major": True}]})
    rules = Rulebook.load(tmp_path)
    assert rules.shortcomings.in_force("330106", date(2024, 6, 3)).label() == (
        "shortcoming map CN v2021.1 (effective 2021-07-15, provisional) + 330000 v2022.1 (effective 2022-01-01, provisional, extends CN)")
    assert rules.shortcomings.in_force("330106", date(2021, 12, 31)).version == "2021.1"

    uow = FakeUnitOfWork()
    zhejiang = screened(uow, classified_on(date(2024, 6, 3), credit_code("330106"), lost=("7.2", "4.3", "1.1"), region="330106"), rules)
    assert [(r.outcome, r.item_code) for r in zhejiang.results] == [("eligible_if_corrected", "71-4"), ("not_eligible", "70-1"),
                                                                     ("eligible_if_corrected", "70-2a")]
    assert zhejiang.results[1].reasons == ["重大违法：违法行为对照表将其列为重大违法，不得不予处罚"]
    assert zhejiang.rule_set.version == "2021.1+2022.1"
    shanxi = screened(uow, classified_on(date(2024, 6, 3), credit_code(), lost=("7.2", "4.3")), rules)
    assert [(r.outcome, r.item_code) for r in shanxi.results] == [("not_eligible", None), ("eligible_if_corrected", "70-1")]
