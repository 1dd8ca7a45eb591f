"""The penalty use cases on a unit of work in memory (no database): a violation from an inspection
decided, a step of the 三步法, the escalation sweep, a disqualification."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from services.penalty.domain.procedure import StepNotAllowed
from services.penalty.service_layer import handlers, orgs
from services.penalty.service_layer.handlers import Rulebook
from shared.contracts import CaseProgressed, OrgDisqualified, PenaltyDecided, ViolationRecorded
from shared.identifiers import credit_code_check_character
from tests.unit.penalty.fakes import FakeUnitOfWork

RULES = Rulebook.load()
TODAY = date(2026, 11, 20)
STAFF = "乡宁县 张三"


def credit_code(region: str = "141029") -> str:
    body = f"91{region}MA{uuid.uuid4().int % 10**7:07d}"
    return body + credit_code_check_character(body)


def found_at_inspection(code: str, item: str = "70-4", found_on: date = date(2024, 9, 20), **changes: object) -> ViolationRecorded:
    base = dict(producer="sampling", credit_code=code, case_id=uuid.uuid4(), item_code=item, found_on=found_on, harm="none",
                corrected_on=None, rectification_deadline=None, task_id=uuid.uuid4(), inspectors=["insp-7"])
    return ViolationRecorded(**{**base, **changes})  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- a violation from an inspection


def test_a_first_time_minor_violation_corrected_on_the_spot_is_not_penalised() -> None:
    uow = FakeUnitOfWork()
    event = found_at_inspection(credit_code(), corrected_on=date(2024, 9, 20))

    handlers.decide_case(uow, event, RULES)

    case = uow.cases.get(str(event.case_id))
    assert case is not None and (case.status, case.decision, case.procedure) == ("closed", "no_penalty", "on_the_spot")
    assert case.case_code is not None and case.case_code.startswith("141029")
    assert [d.decision for d in uow.events(PenaltyDecided)] == ["no_penalty"]
    assert uow.steps_of(case.id) == ["opened", "educated", "correction_verified", "decided", "closed"]
    assert [e.step for e in uow.events(CaseProgressed)] == uow.steps_of(case.id)
    assert uow.cases.timeline(case.id)[0].actor == "insp-7"
    assert not uow.committed, "the consumer commits the event's unit of work, with its inbox mark"


def test_a_repeat_violation_is_penalised_and_the_earlier_case_is_named() -> None:
    uow = FakeUnitOfWork()
    code = credit_code()
    first = found_at_inspection(code, found_on=date(2024, 3, 1), corrected_on=date(2024, 3, 1))
    handlers.decide_case(uow, first, RULES)
    earlier = uow.cases.get(str(first.case_id))
    assert earlier is not None and earlier.decision == "no_penalty"

    again = found_at_inspection(code, found_on=date(2024, 9, 20), corrected_on=date(2024, 9, 20))
    handlers.decide_case(uow, again, RULES)

    case = uow.cases.get(str(again.case_id))
    assert case is not None and (case.status, case.decision, case.first_time) == ("penalty_pending", "penalty", False)
    assert case.reasons[0] == f"非初次违法：案件 {earlier.case_code}已于2024年3月1日查处同一事项"
    assert case.circumstance == "repeated" and case.proposed_fine is not None
    decided = uow.events(PenaltyDecided)[-1]
    assert (decided.case_id, decided.decision) == (again.case_id, "penalty")
    assert decided.reason_codes[0].code == "penalty.reason.repeat_case" and decided.reason_codes[0].params["case_id"] == earlier.id
    assert decided.reason_texts("en") == [f"not the first time: case {earlier.case_code} found the same item on 2024-03-01"]
    assert uow.steps_of(case.id) == ["opened", "decided", "penalty_proposed"]


def test_the_same_violation_again_changes_nothing() -> None:
    uow = FakeUnitOfWork()
    event = found_at_inspection(credit_code(), corrected_on=date(2024, 9, 20))
    handlers.decide_case(uow, event, RULES)
    before = list(uow.published)

    handlers.decide_case(uow, event, RULES)

    assert uow.published == before


def test_staff_recording_a_violation_open_a_case_and_announce_it() -> None:
    uow = FakeUnitOfWork()
    violation = handlers.NewViolation(credit_code=credit_code(), item_code="70-4", found_on=date(2024, 9, 20), harm="none")

    case = handlers.record_new_violation(uow, violation, RULES, actor=STAFF, today=TODAY)

    assert uow.committed and case.status == "open" and case.case_code == uow.cases.get(case.id).case_code  # type: ignore[union-attr]
    [recorded] = uow.events(ViolationRecorded)
    assert (str(recorded.case_id), recorded.producer, recorded.credit_code) == (case.id, "penalty", violation.credit_code)
    assert uow.cases.timeline(case.id)[0].actor == STAFF


# ---------------------------------------------------------------------------- a step of the 三步法


def open_case(uow: FakeUnitOfWork, region: str = "141029") -> str:
    case = handlers.record_new_violation(
        uow, handlers.NewViolation(credit_code=credit_code(region), item_code="70-4", found_on=date(2024, 9, 20), harm="none"),
        RULES, actor=STAFF, today=TODAY)
    uow.committed = False
    uow.published.clear()
    return case.id


def test_education_then_an_order_gives_a_deadline_counted_in_working_days() -> None:
    uow = FakeUnitOfWork()
    case_id = open_case(uow)

    handlers.take_step(uow, case_id, lambda u, c: handlers.record_education(u, c, date(2024, 9, 20), STAFF, "讲解培训要求", today=TODAY))
    assert uow.committed
    case = handlers.take_step(uow, case_id, lambda u, c: handlers.order_rectification(u, c, date(2024, 9, 23), None, STAFF, RULES, today=TODAY))

    assert (case.status, case.procedure) == ("rectifying", "three_step")
    assert case.rectification_deadline == date(2024, 10, 11)  # 10 working days: 09-29 (Sunday) worked, National Day off
    assert [(e.step, e.deadline) for e in uow.events(CaseProgressed)] == [("educated", None), ("rectification_ordered", date(2024, 10, 11))]


def test_a_step_out_of_order_is_refused_and_nothing_is_committed() -> None:
    uow = FakeUnitOfWork()
    case_id = open_case(uow)

    with pytest.raises(StepNotAllowed, match="案件当前状态为已立案，不能进行责令限期改正；下一步可以：教育引导、告知承诺") as refused:
        handlers.take_step(uow, case_id, lambda u, c: handlers.order_rectification(u, c, date(2024, 9, 23), None, STAFF, RULES, today=TODAY))

    assert refused.value.code == "penalty.error.step_not_allowed"
    assert not uow.committed and uow.published == []


def test_a_case_the_caller_may_not_act_for_reads_as_missing() -> None:
    uow = FakeUnitOfWork()
    case_id = open_case(uow)
    educate = lambda u, c: handlers.record_education(u, c, date(2024, 9, 20), STAFF, "x", today=TODAY)  # noqa: E731

    with pytest.raises(handlers.CaseNotFound):
        handlers.take_step(uow, case_id, educate, may_act=lambda case: False)
    with pytest.raises(handlers.CaseNotFound, match="没有案件 no-such-case"):
        handlers.take_step(uow, "no-such-case", educate)
    assert not uow.committed


# ---------------------------------------------------------------------------- the escalation sweep


def rectifying(uow: FakeUnitOfWork, region: str = "141029") -> str:
    """A case ordered on 2024-09-23 to correct within 4 working days: deadline Friday 2024-09-27."""
    case_id = open_case(uow, region)
    handlers.take_step(uow, case_id, lambda u, c: handlers.record_education(u, c, date(2024, 9, 20), STAFF, "教育", today=TODAY))
    handlers.take_step(uow, case_id, lambda u, c: handlers.order_rectification(u, c, date(2024, 9, 23), 4, STAFF, RULES, today=TODAY))
    uow.committed = False
    uow.published.clear()
    return case_id


def test_the_sweep_escalates_a_case_whose_deadline_passed_once() -> None:
    uow = FakeUnitOfWork()
    case_id = rectifying(uow)

    assert handlers.sweep_escalations(uow, date(2024, 9, 27), RULES) == []  # the deadline day itself is in time
    done = handlers.sweep_escalations(uow, date(2024, 9, 30), RULES)

    case = uow.cases.get(case_id)
    assert case is not None and len(done) == 1 and case.case_code in done[0]
    assert (case.status, case.decision, case.circumstance) == ("penalty_pending", "penalty", "first_overdue")
    assert case.reasons[0] == "整改期限2024年9月27日已过，未经复查确认改正"
    assert uow.committed
    escalated = [e for e in uow.events(CaseProgressed) if e.step == "escalated"]
    assert len(escalated) == 1 and (escalated[0].actor, escalated[0].on) == ("system", date(2024, 9, 30))
    assert [d.decision for d in uow.events(PenaltyDecided)] == ["penalty"]

    published = len(uow.published)
    assert handlers.sweep_escalations(uow, date(2024, 10, 9), RULES) == []  # again: nothing more
    assert len(uow.published) == published


def test_a_sweep_for_a_jurisdiction_leaves_the_others_cases_alone() -> None:
    uow = FakeUnitOfWork()
    here, elsewhere = rectifying(uow, "141029"), rectifying(uow, "141024")

    done = handlers.sweep_escalations(uow, date(2024, 9, 30), RULES, region_prefix="141029")

    assert len(done) == 1 and here in done[0]
    assert uow.cases.get(elsewhere).status == "rectifying"  # type: ignore[union-attr]


# ---------------------------------------------------------------------------- organisations


def test_the_province_disqualifies_an_organisation_once_on_a_serious_finding() -> None:
    uow = FakeUnitOfWork()
    org = credit_code("140100")
    new = orgs.NewFinding(org_credit_code=org, org_name="某检测公司", region_code="141029", employer_credit_code=None,
                          submission_id=None, misstated=["exposure"], description="未到现场采样", severity="serious",
                          found_on=date(2026, 3, 1))
    finding, none_yet = orgs.record_finding(uow, new, recorded_by="乡宁县 张三", role="county", deciding_region="141029",
                                            decision=None, today=TODAY)
    assert none_yet is None and finding.status == "referred" and uow.committed

    decision = orgs.Decision(decision_no="晋卫监罚〔2026〕12号", decided_on=date(2026, 4, 1), until=None, reason=None)
    first = orgs.disqualify(uow, org, decision, [finding.id], role="province", decided_by="山西省 王五", region_code="140000", today=TODAY)
    again = orgs.disqualify(uow, org, decision, [finding.id], role="province", decided_by="山西省 王五", region_code="140000", today=TODAY)

    assert again is first and finding.status == "disqualified"
    [announced] = uow.events(OrgDisqualified)
    assert (announced.credit_code, announced.decision_no) == (org, "晋卫监罚〔2026〕12号")
