"""The case procedure (三步法, 告知承诺, escalation, the fine) through the service layer on SQLite,
migrated by the service's own migrations: every path, the events, the sweep at the deadline boundary."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import col, select

from services.penalty import views
from services.penalty.adapters.orm import Case
from services.penalty.domain.case_codes import case_code_problem
from services.penalty.domain.procedure import StepNotAllowed
from services.penalty.service_layer import handlers
from services.penalty.service_layer.handlers import Rulebook, StepProblem
from services.penalty.service_layer.unit_of_work import PenaltyUnitOfWork
from shared import topics
from shared.contracts import ViolationRecorded
from shared.db import OutboxMessage, make_engine
from shared.identifiers import credit_code_check_character
from shared.migrations import upgrade

RULES = Rulebook.load()
TODAY = date(2026, 11, 20)  # "today" for every step: the dates below are in the past
STAFF = "乡宁县 张三"


def credit_code(region: str = "141029", serial: int | None = None) -> str:
    body = f"91{region}MA{(serial if serial is not None else uuid.uuid4().int % 10**7):07d}"
    return body + credit_code_check_character(body)


@pytest.fixture
def uow(tmp_path: Path) -> Iterator[PenaltyUnitOfWork]:
    engine = make_engine(f"sqlite:///{tmp_path / 'penalty.db'}")
    upgrade("penalty", engine)
    with PenaltyUnitOfWork(engine) as uow:
        yield uow
    engine.dispose()


def event(code: str, item: str = "70-4", found_on: date = date(2024, 9, 20), producer: str = "penalty", **changes: object) -> ViolationRecorded:
    base = dict(producer=producer, credit_code=code, case_id=uuid.uuid4(), item_code=item, found_on=found_on, harm="none",
                corrected_on=None, rectification_deadline=None, region_code=None)
    return ViolationRecorded(**{**base, **changes})  # type: ignore[arg-type]


def record(uow: PenaltyUnitOfWork, ev: ViolationRecorded, major: bool = False) -> Case:
    case = handlers.record_violation(uow, ev.model_copy(update={"major": major}) if major else ev, RULES, actor=STAFF, today=TODAY)
    uow.commit()
    return case


def steps(uow: PenaltyUnitOfWork, case: Case) -> list[str]:
    return [s.step for s in handlers.timeline(uow, case.id)]


def published(uow: PenaltyUnitOfWork, topic: str, case: Case) -> list[dict]:
    rows = uow.session.exec(select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(col(OutboxMessage.id)))
    return [p for p in (json.loads(r.payload) for r in rows) if p.get("case_id") == case.id]


# ---------------------------------------------------------------------------- every path


def test_corrected_on_the_spot_is_closed_without_penalty_at_once(uow: PenaltyUnitOfWork) -> None:
    case = record(uow, event(credit_code(), corrected_on=date(2024, 9, 20)))
    assert (case.status, case.decision, case.procedure) == ("closed", "no_penalty", "on_the_spot")
    assert steps(uow, case) == ["opened", "educated", "correction_verified", "decided", "closed"]
    assert [p["step"] for p in published(uow, topics.CASE_PROGRESSED, case)] == steps(uow, case)
    decided = published(uow, topics.PENALTY_DECIDED, case)
    assert len(decided) == 1 and decided[0]["decision"] == "no_penalty" and decided[0]["case_code"] == case.case_code
    assert len(published(uow, topics.VIOLATION_RECORDED, case)) == 1


def test_education_order_and_correction_in_time_close_the_case_without_penalty(uow: PenaltyUnitOfWork) -> None:
    case = record(uow, event(credit_code()))
    assert (case.status, case.decision) == ("open", None)
    assert published(uow, topics.PENALTY_DECIDED, case) == []
    handlers.record_education(uow, case, date(2024, 9, 20), STAFF, "讲解职业卫生培训要求", today=TODAY)
    handlers.order_rectification(uow, case, date(2024, 9, 23), None, STAFF, RULES, today=TODAY)
    assert case.rectification_deadline == date(2024, 10, 11)  # 10 working days: 09-29 (Sunday) worked, National Day 10-01…07 off
    handlers.verify_correction(uow, case, date(2024, 10, 11), True, date(2024, 10, 11), STAFF, RULES, today=TODAY)
    uow.commit()
    assert (case.status, case.decision) == ("closed", "no_penalty")
    assert steps(uow, case) == ["opened", "educated", "rectification_ordered", "correction_verified", "decided", "closed"]
    progressed = published(uow, topics.CASE_PROGRESSED, case)
    assert progressed[2]["deadline"] == "2024-10-11" and progressed[2]["actor"] == STAFF
    assert [p["decision"] for p in published(uow, topics.PENALTY_DECIDED, case)] == ["no_penalty"]


def test_not_corrected_at_verification_after_the_deadline_escalates_to_a_penalty_case_then_the_fine_closes_it(uow: PenaltyUnitOfWork) -> None:
    case = record(uow, event(credit_code()))
    handlers.record_education(uow, case, date(2024, 9, 20), STAFF, "教育", today=TODAY)
    handlers.order_rectification(uow, case, date(2024, 9, 23), 4, STAFF, RULES, today=TODAY)  # deadline Fri 09-27
    with pytest.raises(StepNotAllowed, match="整改期限2024年9月27日未届满"):
        handlers.verify_correction(uow, case, date(2024, 9, 27), False, None, STAFF, RULES, today=TODAY)
    handlers.verify_correction(uow, case, date(2024, 9, 30), False, None, STAFF, RULES, today=TODAY)
    uow.commit()
    assert (case.status, case.decision, case.circumstance) == ("penalty_pending", "penalty", "first_overdue")
    assert case.reasons[0] == "整改期限2024年9月27日已过，未经复查确认改正"
    assert case.proposed_fine and (case.proposed_fine["min_yuan"], case.proposed_fine["max_yuan"]) == (10000, 30000)
    assert steps(uow, case)[-4:] == ["correction_failed", "escalated", "decided", "penalty_proposed"]
    with pytest.raises(StepProblem) as refused:
        handlers.record_fine(uow, case, 50000, None, None, STAFF, RULES, on=TODAY)
    assert refused.value.field == "departure_reason"
    handlers.record_fine(uow, case, 50000, None, "拒不改正", STAFF, RULES, on=TODAY)
    uow.commit()
    assert (case.status, case.fine_yuan, case.departure_reason) == ("closed", 50000, "拒不改正")
    closed = published(uow, topics.CASE_PROGRESSED, case)[-1]
    assert closed["step"] == "closed" and closed["fine_yuan"] == 50000 and "拒不改正" in closed["detail"]
    assert len(published(uow, topics.PENALTY_DECIDED, case)) == 1, "the decision is announced once, not again with the fine"


def test_corrected_after_the_deadline_escalates(uow: PenaltyUnitOfWork) -> None:
    case = record(uow, event(credit_code()))
    handlers.record_education(uow, case, date(2024, 9, 20), STAFF, "教育", today=TODAY)
    handlers.order_rectification(uow, case, date(2024, 9, 23), 4, STAFF, RULES, today=TODAY)
    handlers.verify_correction(uow, case, date(2024, 10, 9), True, date(2024, 10, 8), STAFF, RULES, today=TODAY)
    assert case.decision == "penalty" and "2024年10月8日改正，晚于整改期限2024年9月27日" in case.reasons
    assert steps(uow, case)[-4:] == ["correction_verified", "escalated", "decided", "penalty_proposed"]


def test_a_commitment_where_enabled_replaces_education_and_order_and_a_breach_escalates(uow: PenaltyUnitOfWork) -> None:
    case = record(uow, event(credit_code("330106"), item="71-4"))  # an item of the (illustrative) 浙江 extension
    assert case.status == "open"
    handlers.sign_commitment(uow, case, date(2024, 9, 23), None, "杭州 王五", RULES, today=TODAY)
    assert (case.status, case.procedure, case.rectification_deadline) == ("committed", "commitment", date(2024, 10, 17))  # 15 working days
    assert handlers.sweep_escalations(uow, date(2024, 10, 17), RULES) == []
    assert len(handlers.sweep_escalations(uow, date(2024, 10, 18), RULES)) == 1
    uow.commit()
    assert (case.status, case.decision) == ("penalty_pending", "penalty")
    assert steps(uow, case) == ["opened", "commitment_signed", "escalated", "decided", "penalty_proposed"]
    assert (case.proposed_fine or {})["provision"] == "职业病防治法 第七十一条"


def test_a_kept_commitment_closes_without_penalty(uow: PenaltyUnitOfWork) -> None:
    case = record(uow, event(credit_code("330106"), item="70-4"))
    handlers.sign_commitment(uow, case, date(2024, 9, 23), 5, "杭州 王五", RULES, today=TODAY)
    handlers.verify_correction(uow, case, date(2024, 10, 8), True, date(2024, 9, 29), "杭州 王五", RULES, today=TODAY)
    assert (case.status, case.decision) == ("closed", "no_penalty")


def test_a_commitment_where_the_jurisdiction_does_not_enable_it_is_refused(uow: PenaltyUnitOfWork) -> None:
    case = record(uow, event(credit_code("141029")))
    with pytest.raises(StepNotAllowed, match="地区 141029 未启用告知承诺"):
        handlers.sign_commitment(uow, case, date(2024, 9, 23), None, STAFF, RULES, today=TODAY)


@pytest.mark.parametrize(("action", "status"), [
    ("order", "open"), ("verify", "open"), ("fine", "open"), ("education twice", "educated"), ("commit after education", "educated"),
])
def test_a_step_out_of_order_is_refused_naming_the_status_and_what_is_allowed(uow: PenaltyUnitOfWork, action: str, status: str) -> None:
    case = record(uow, event(credit_code("330106")))
    if status == "educated":
        handlers.record_education(uow, case, date(2024, 9, 20), STAFF, "教育", today=TODAY)
    calls = {
        "order": lambda: handlers.order_rectification(uow, case, date(2024, 9, 23), None, STAFF, RULES, today=TODAY),
        "verify": lambda: handlers.verify_correction(uow, case, date(2024, 9, 30), True, date(2024, 9, 25), STAFF, RULES, today=TODAY),
        "fine": lambda: handlers.record_fine(uow, case, 10000, None, None, STAFF, RULES, on=TODAY),
        "education twice": lambda: handlers.record_education(uow, case, date(2024, 9, 21), STAFF, "again", today=TODAY),
        "commit after education": lambda: handlers.sign_commitment(uow, case, date(2024, 9, 23), None, STAFF, RULES, today=TODAY),
    }
    named = {"open": "已立案", "educated": "已教育引导"}[status]
    with pytest.raises(StepNotAllowed, match=f"案件当前状态为{named}，不能进行.*；下一步可以：") as refused:
        calls[action]()
    assert refused.value.status == status and refused.value.code == "penalty.error.step_not_allowed"


@pytest.mark.parametrize(("call", "field"), [
    (lambda s, c: handlers.record_education(s, c, date(2024, 9, 19), STAFF, "x", today=TODAY), "on"),
    (lambda s, c: handlers.record_education(s, c, date(2026, 11, 21), STAFF, "x", today=TODAY), "on"),
])
def test_a_step_dated_before_the_finding_or_in_the_future_names_the_field(uow: PenaltyUnitOfWork, call, field: str) -> None:  # noqa: ANN001
    case = record(uow, event(credit_code()))
    with pytest.raises(StepProblem) as refused:
        call(uow, case)
    assert refused.value.field == field


def test_an_order_before_the_education_is_refused(uow: PenaltyUnitOfWork) -> None:
    case = record(uow, event(credit_code()))
    handlers.record_education(uow, case, date(2024, 9, 23), STAFF, "x", today=TODAY)
    with pytest.raises(StepProblem, match="早于教育引导之日"):
        handlers.order_rectification(uow, case, date(2024, 9, 21), None, STAFF, RULES, today=TODAY)


# ---------------------------------------------------------------------------- decided at once: not eligible


@pytest.mark.parametrize(("item", "harm", "major", "earlier", "circumstance", "proposed"), [
    ("72-1", "none", False, False, "first_overdue", (50000, 100000)),  # not listed
    ("70-4", "serious", False, False, "harm_caused", (60000, 100000)),  # harm
    ("70-4", "none", False, True, "repeated", (30000, 60000)),  # not the first time
    ("70-4", "none", True, False, "first_overdue", (10000, 30000)),  # major
])
def test_a_case_that_is_not_eligible_is_a_penalty_case_at_once_with_its_proposed_range(
    uow: PenaltyUnitOfWork, item: str, harm: str, major: bool, earlier: bool, circumstance: str, proposed: tuple[int, int]
) -> None:
    code = credit_code()
    if earlier:
        first = record(uow, event(code, item=item, found_on=date(2023, 5, 1), corrected_on=date(2023, 5, 1)))
        assert first.decision == "no_penalty"
    case = record(uow, event(code, item=item, harm=harm), major=major)
    assert (case.status, case.decision, case.circumstance) == ("penalty_pending", "penalty", circumstance)
    assert case.proposed_fine and (case.proposed_fine["min_yuan"], case.proposed_fine["max_yuan"]) == proposed
    assert steps(uow, case) == ["opened", "decided", "penalty_proposed"]
    decided = published(uow, topics.PENALTY_DECIDED, case)
    assert len(decided) == 1 and decided[0]["major"] is major and decided[0]["region_code"] == "141029"
    if earlier:
        assert f"案件 {first.case_code}已于2023年5月1日" in case.reasons[0]
        assert decided[0]["reason_codes"][0]["params"]["case_id"] == first.id


def test_a_violation_from_another_service_opens_a_case_judged_against_the_whole_history(uow: PenaltyUnitOfWork) -> None:
    code = credit_code()
    earlier = record(uow, event(code, found_on=date(2024, 3, 1), corrected_on=date(2024, 3, 1)))
    from_sampling = event(code, found_on=date(2024, 9, 20), producer="sampling", task_id=uuid.uuid4(), inspectors=["insp-7"],
                          description="培训记录缺失")
    handlers.decide_case(uow, from_sampling, RULES)
    uow.commit()
    case = uow.session.get(Case, str(from_sampling.case_id))
    assert case is not None and case.producer == "sampling" and case.task_id == str(from_sampling.task_id)
    assert case.decision == "penalty" and f"案件 {earlier.case_code}已于2024年3月1日" in case.reasons[0]
    assert handlers.timeline(uow, case.id)[0].actor == "insp-7"
    handlers.decide_case(uow, from_sampling, RULES)  # the same event again: nothing new
    uow.commit()
    assert len(published(uow, topics.PENALTY_DECIDED, case)) == 1
    assert len(handlers.timeline(uow, case.id)) == 3


def test_a_major_violation_found_by_an_inspection_is_never_unpenalised_and_says_so_to_the_registry(uow: PenaltyUnitOfWork) -> None:
    from_sampling = event(credit_code(), producer="sampling", task_id=uuid.uuid4(), inspectors=["insp-1", "insp-2"],
                          corrected_on=date(2024, 9, 20), major=True)
    handlers.decide_case(uow, from_sampling, RULES)
    uow.commit()
    case = uow.session.get(Case, str(from_sampling.case_id))
    assert case is not None and (case.major, case.decision) == (True, "penalty")
    [decided] = published(uow, topics.PENALTY_DECIDED, case)
    assert decided["major"] is True


def test_a_violation_recorded_here_is_not_decided_twice_when_its_own_event_comes_back(uow: PenaltyUnitOfWork) -> None:
    ev = event(credit_code(), corrected_on=date(2024, 9, 20))
    case = record(uow, ev)
    handlers.decide_case(uow, ev, RULES)
    uow.commit()
    assert len(published(uow, topics.PENALTY_DECIDED, case)) == 1


# ---------------------------------------------------------------------------- the sweep at the deadline boundary


def test_the_sweep_escalates_only_after_the_deadline_day_counted_in_working_days(uow: PenaltyUnitOfWork) -> None:
    case = record(uow, event(credit_code()))
    handlers.record_education(uow, case, date(2024, 9, 20), STAFF, "教育", today=TODAY)
    handlers.order_rectification(uow, case, date(2024, 9, 23), 5, STAFF, RULES, today=TODAY)
    uow.commit()
    assert case.rectification_deadline == date(2024, 9, 29)  # the 5th working day is Sunday 09-29 (调休 before National Day)
    assert handlers.sweep_escalations(uow, date(2024, 9, 27), RULES) == []  # the working day before
    assert handlers.sweep_escalations(uow, date(2024, 9, 29), RULES) == []  # the deadline day itself
    assert case.status == "rectifying"
    done = handlers.sweep_escalations(uow, date(2024, 9, 30), RULES)  # the day after
    uow.commit()
    assert len(done) == 1 and case.case_code in done[0]
    assert (case.status, case.decision) == ("penalty_pending", "penalty")
    escalated = [p for p in published(uow, topics.CASE_PROGRESSED, case) if p["step"] == "escalated"]
    assert len(escalated) == 1 and escalated[0]["actor"] == "system" and escalated[0]["on"] == "2024-09-30"
    before = uow.session.exec(select(OutboxMessage)).all()
    assert handlers.sweep_escalations(uow, date(2024, 9, 30), RULES) == []  # twice: nothing more
    assert handlers.sweep_escalations(uow, date(2024, 10, 9), RULES) == []
    uow.commit()
    assert len(uow.session.exec(select(OutboxMessage)).all()) == len(before)
    assert len(published(uow, topics.PENALTY_DECIDED, case)) == 1


def test_the_sweep_cli_escalates_and_a_second_run_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from services.penalty import sweep

    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")  # the command line speaks Chinese (English under LANG=en_*)

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade("penalty", engine)
    with PenaltyUnitOfWork(engine) as uow:
        case = record(uow, event(credit_code()))
        handlers.record_education(uow, case, date(2024, 9, 20), STAFF, "教育", today=TODAY)
        handlers.order_rectification(uow, case, date(2024, 9, 23), 4, STAFF, RULES, today=TODAY)
        uow.commit()
    engine.dispose()
    assert sweep.main(["--today", "2024-09-30", "--database-url", url]) == 0
    assert "2024年9月30日：1 个案件升级为处罚案件" in capsys.readouterr().out
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert sweep.main(["--today", "2024-09-30", "--database-url", url]) == 0
    assert "0 case(s) escalated for 2024-09-30" in capsys.readouterr().out


# ---------------------------------------------------------------------------- codes and review


def test_cases_get_consecutive_valid_codes_per_region_and_year_and_coverage_is_reported(uow: PenaltyUnitOfWork) -> None:
    cases = [record(uow, event(credit_code(region))) for region in ("141029", "141029", "141024", "141029")]
    assert [c.case_code[10:16] for c in cases] == ["000001", "000002", "000001", "000003"]  # type: ignore[index]
    assert all(case_code_problem(c.case_code) is None and c.case_code.startswith(f"{c.region_code}2026") for c in cases)  # type: ignore[union-attr]
    report = views.code_coverage(uow.session, "141000")
    assert (report["total"], report["with_code"], report["coverage"], report["without"]) == (4, 4, 1.0, [])
    cases[0].case_code = None
    uow.session.add(cases[0])
    uow.commit()
    report = views.code_coverage(uow.session, "141029")
    assert (report["total"], report["with_code"], report["coverage"]) == (3, 2, 0.6667)
    assert report["without"][0]["id"] == cases[0].id


def test_the_review_lists_every_case_with_its_timeline_and_flags_a_penalty_left_without_fine(uow: PenaltyUnitOfWork) -> None:
    done = record(uow, event(credit_code(), corrected_on=date(2024, 9, 20)))
    waiting = handlers.record_violation(uow, event(credit_code(), item="72-1"), RULES, actor=STAFF, today=date(2024, 9, 20))
    fresh = record(uow, event(credit_code(), item="72-1"))  # decided today: the fine is not yet due
    uow.commit()
    files = {f["id"]: f for f in views.case_files(uow.session, "141029", None, None, RULES, TODAY)}
    assert files[done.id]["flags"] == [] and [s["step"] for s in files[done.id]["timeline"]][0] == "opened"
    assert files[waiting.id]["flags"] == ["penalty_without_fine"]
    assert files[fresh.id]["flags"] == []
    assert views.case_files(uow.session, "141029", date(2024, 9, 21), None, RULES, TODAY) == []  # found 2024-09-20: outside the period


def test_the_migration_gives_cases_decided_before_the_procedure_a_code_and_a_status(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import text

    from shared.migrations import config

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        cfg = config("penalty")
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "bd538afd5403")  # the schema before case codes and the procedure
        for i, (decision, region) in enumerate((("no_penalty", "141029"), ("penalty", None), ("no_penalty", "141029"))):
            connection.execute(text(
                "INSERT INTO penalty_case (id, credit_code, region_code, item_code, found_on, harm, status, decision, reasons, trace, created_at) "
                f"VALUES ('old-{i}', '91141024MA0AAAAA1X', :region, '70-4', '2025-03-01', 'none', 'decided', :decision, '[]', '[]', "
                f"'2025-03-0{i + 1} 08:00:00')"), {"region": region, "decision": decision})
    upgrade("penalty", engine)
    with PenaltyUnitOfWork(engine) as uow:
        cases = {c.id: c for c in uow.session.exec(select(Case))}
        assert [cases[f"old-{i}"].status for i in range(3)] == ["closed", "penalty_pending", "closed"]
        assert [cases[f"old-{i}"].case_code[:16] for i in range(3)] == ["1410292025000001", "1410242025000001", "1410292025000002"]  # type: ignore[index]
        assert all(case_code_problem(c.case_code) is None for c in cases.values())
        new = handlers.record_violation(uow, event(credit_code(), found_on=date(2025, 6, 1)), RULES, today=date(2025, 6, 1))
        assert new.case_code is not None and new.case_code[10:16] == "000003"  # the counter continues after the old cases
    engine.dispose()


def test_ohs_penalty_sweep_is_the_same_command(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from services.penalty.entrypoints.cli import app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade("penalty", engine)
    with PenaltyUnitOfWork(engine) as uow:
        case = record(uow, event(credit_code()))
        handlers.record_education(uow, case, date(2024, 9, 20), STAFF, "教育", today=TODAY)
        handlers.order_rectification(uow, case, date(2024, 9, 23), 4, STAFF, RULES, today=TODAY)
        uow.commit()
        code = case.case_code
    engine.dispose()
    chinese = CliRunner(env={"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "zh_CN.UTF-8"})
    result = chinese.invoke(app, ["sweep", "--today", "2024-09-30", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert code in result.output and "2024年9月30日：1 个案件升级为处罚案件" in result.output
    refused = chinese.invoke(app, ["sweep", "--today", "not-a-day", "--database-url", url])
    assert refused.exit_code == 2 and "日期应写作 YYYY-MM-DD" in refused.output
