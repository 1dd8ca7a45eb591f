"""The sampling use cases on an in-memory unit of work (tests/unit/sampling/fakes.py), no database:
the pools follow the registry's announcements, and plans, draws and results are committed with
their events."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest

from services.sampling.domain.draw import DrawRefused
from services.sampling.domain.rules import SamplingDefaults, SamplingRules
from services.sampling.service_layer.commands import ConflictIn, PlanIn, ResultIn, RosterIn
from services.sampling.service_layer import handlers, plans, results, roster
from services.sampling.service_layer.errors import Conflict, Invalid
from shared.contracts import (
    ClassificationChanged, DrawPublished, ExemptionChanged, InspectionRecorded, PlanCommitted, TaskAssigned, ViolationRecorded,
)
from shared.identifiers import credit_code_check_character
from tests.unit.sampling.fakes import FakeUnitOfWork

COUNTY = "141024"
RULES = SamplingRules([SamplingDefaults(
    jurisdiction="CN", version="test", effective_from=date(2020, 1, 1), provisional=True,
    ratios={"甲": "0.03", "乙": "0.1", "丙": "0.3"}, full_coverage_industries=[{"code_prefix": "C30", "name": "建材"}],
)])
INSPECTORS = RosterIn.model_validate({"inspectors": [{"id": f"hd-{k}", "name": f"检查员{k}"} for k in range(1, 5)]})


def code(n: int, region: str = COUNTY) -> str:
    body = f"91{region}MA{n:07d}"
    return body + credit_code_check_character(body)


CEMENT = code(1)  # 洪洞县示例水泥有限公司: 建材 (C3011) at first


def changed(version: int, category: str = "丙", *, credit_code: str = CEMENT, region: str = COUNTY, industries: list[str] | None = None,
            name: str = "洪洞县示例水泥有限公司", employees: int | None = None, previous: str | None = None,
            what: list[str] | None = None) -> ClassificationChanged:
    return ClassificationChanged(
        producer="registry", credit_code=credit_code, enterprise_name=name, region_code=region, archive_version=version,
        previous_category=previous, category=category, hazard_grade=None, management_grade=None, submission_id=None,  # type: ignore[arg-type]
        reason="test", industry_codes=["C3011"] if industries is None else industries, employees=employees, changed=what,
    )


def exemption(exempt: bool, exemption_id: uuid.UUID, credit_code: str = CEMENT) -> ExemptionChanged:
    return ExemptionChanged(producer="registry", credit_code=credit_code, exemption_id=exemption_id, region_code=COUNTY, exempt=exempt,
                            valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31), reason="信用 A 级")


def full_coverage_of_a_new_plan(uow: FakeUnitOfWork) -> set[str]:
    """Draw a new plan of the county and answer who was taken as full coverage (全覆盖)."""
    plan_id = plans.create_plan(uow, PlanIn(region_code=COUNTY, period="2026"), RULES, "test")
    assert plans.draw(uow, plan_id, "test") is True
    record = json.loads(uow.plans.draw(plan_id).record)
    taken = {t["credit_code"] for t in record["targets"] if t["selection"] == "full_coverage"}
    assert taken == {e["credit_code"] for e in record["pool"] if e["full_coverage"]}
    return taken


@pytest.fixture
def uow() -> FakeUnitOfWork:
    fake = FakeUnitOfWork()
    roster.replace_roster(fake, COUNTY, INSPECTORS)
    fake.committed = False
    return fake


# --------------------------------------------------------------------------- the pools follow the registry


def test_the_first_announcement_places_the_employer_and_the_consumer_commits(uow: FakeUnitOfWork) -> None:
    handlers.place_in_pool(uow, changed(1, employees=120))
    member = uow.pools.member(CEMENT)
    assert (member.region_code, member.category, member.archive_version, member.employees) == (COUNTY, "丙", 1, 120)
    assert json.loads(member.industry_codes) == ["C3011"]
    assert uow.pools.version() == 1, "every change raises the pool version"
    assert uow.committed is False, "a handler never commits: the consumer does, with the inbox mark"


def test_a_new_industry_with_the_same_category_takes_the_employer_out_of_full_coverage(uow: FakeUnitOfWork) -> None:
    handlers.place_in_pool(uow, changed(1, industries=["C3011"]))
    assert full_coverage_of_a_new_plan(uow) == {CEMENT}, "建材 (C30): taken in full"

    handlers.place_in_pool(uow, changed(2, previous="丙", industries=["C1391"], what=["industry_codes"]))  # same category

    assert json.loads(uow.pools.member(CEMENT).industry_codes) == ["C1391"]
    assert full_coverage_of_a_new_plan(uow) == set(), "no longer 建材: drawn at random like the others"


def test_moving_into_cement_puts_the_employer_into_full_coverage(uow: FakeUnitOfWork) -> None:
    handlers.place_in_pool(uow, changed(1, industries=["C1391"]))
    assert full_coverage_of_a_new_plan(uow) == set()

    handlers.place_in_pool(uow, changed(2, previous="丙", industries=["C3021"], what=["industry_codes"]))

    assert full_coverage_of_a_new_plan(uow) == {CEMENT}


def test_a_change_of_name_region_or_headcount_alone_reaches_the_pool(uow: FakeUnitOfWork) -> None:
    handlers.place_in_pool(uow, changed(1, employees=120))
    handlers.place_in_pool(uow, changed(2, previous="丙", name="洪洞县新水泥有限公司", region="141029", employees=80,
                                        what=["enterprise_name", "region_code", "employees"]))
    member = uow.pools.member(CEMENT)
    assert (member.enterprise_name, member.region_code, member.category, member.employees) == ("洪洞县新水泥有限公司", "141029", "丙", 80)
    assert uow.pools.counties_with_members("141000") == ["141029"], "in one pool only: the new county's"

    handlers.place_in_pool(uow, changed(3, previous="丙", region="141029"))  # an announcement without the headcount
    assert uow.pools.member(CEMENT).employees == 80, "the headcount held is kept"


@pytest.mark.parametrize("replayed", [1, 2], ids=["older", "equal"])
def test_an_older_or_equal_announcement_changes_nothing(uow: FakeUnitOfWork, replayed: int) -> None:
    handlers.place_in_pool(uow, changed(1, employees=120))
    handlers.place_in_pool(uow, changed(2, "乙", previous="丙", industries=["C1391"], employees=90))
    handlers.place_in_pool(uow, changed(replayed, "甲", region="141029", industries=["C3011"], employees=5))
    member = uow.pools.member(CEMENT)
    assert (member.region_code, member.category, json.loads(member.industry_codes), member.employees) == (COUNTY, "乙", ["C1391"], 90)
    assert uow.pools.version() == 2, "an ignored announcement does not raise the pool version"


def test_an_exempted_employer_leaves_the_draw_and_comes_back_when_the_exemption_ends(uow: FakeUnitOfWork) -> None:
    handlers.place_in_pool(uow, changed(1))
    granted = uuid.uuid4()
    handlers.apply_exemption(uow, exemption(True, granted))
    assert CEMENT in uow.pools.snapshot(COUNTY).exempt

    handlers.apply_exemption(uow, exemption(False, granted))
    handlers.apply_exemption(uow, exemption(True, granted))  # a replayed start after the end: ignored
    assert uow.pools.snapshot(COUNTY).exempt == {} and uow.pools.version() == 3
    assert uow.committed is False


# --------------------------------------------------------------------------- plans, draws, results


def test_a_plan_commits_its_seed_and_announces_the_commitment(uow: FakeUnitOfWork) -> None:
    plan_id = plans.create_plan(uow, PlanIn(region_code=COUNTY, period="2026Q1", ratios={"丙": 0.5}), RULES, "洪洞县 张三")
    assert uow.committed
    [announced] = uow.events(PlanCommitted)
    plan = uow.plans.get(plan_id)
    assert (str(announced.plan_id), announced.commitment, announced.ratios["丙"]) == (plan_id, plan.commitment, 0.5)
    assert plan.seed not in announced.model_dump_json(), "the seed stays private until the draw"


def test_a_plan_handed_down_gives_each_county_with_employers_its_own(uow: FakeUnitOfWork) -> None:
    handlers.place_in_pool(uow, changed(1))
    handlers.place_in_pool(uow, changed(1, credit_code=code(2, "141029"), region="141029"))
    parent = plans.create_plan(uow, PlanIn(region_code="140000", period="2026", hand_down=True), RULES, "山西省")
    children = uow.plans.children(parent)
    assert [c.region_code for c in children] == [COUNTY, "141029"] and len(uow.events(PlanCommitted)) == 3
    with pytest.raises(Conflict, match="已下发至各县"):
        plans.draw(uow, parent, "山西省")
    with pytest.raises(Invalid):
        plans.create_plan(uow, PlanIn(region_code=COUNTY, period="2026", hand_down=True), RULES, "洪洞县")


def test_a_plan_is_drawn_once_with_its_tasks_announced(uow: FakeUnitOfWork) -> None:
    for n in range(1, 11):
        handlers.place_in_pool(uow, changed(1, credit_code=code(n), industries=["C1391"]))
    plan_id = plans.create_plan(uow, PlanIn(region_code=COUNTY, period="2026"), RULES, "test")

    assert plans.draw(uow, plan_id, "test") is True
    [published] = uow.events(DrawPublished)
    assert published.targets == {"甲": 0, "乙": 0, "丙": 3} and published.pool_version == 10
    assigned = uow.events(TaskAssigned)
    assert len(assigned) == 3 and all(len(t.inspectors) == 2 for t in assigned)
    assert set(uow.plans.tasks) == {plans.task_id_for(plan_id, t.credit_code) for t in assigned}

    assert plans.draw(uow, plan_id, "test") is False, "drawn already: the first draw stands"
    assert len(uow.events(DrawPublished)) == 1
    assert plans.draw(uow, str(uuid.uuid4()), "test") is None


def test_a_draw_without_enough_inspectors_without_a_conflict_is_refused(uow: FakeUnitOfWork) -> None:
    handlers.place_in_pool(uow, changed(1))
    for inspector in ("hd-1", "hd-2", "hd-3"):
        roster.add_conflict(uow, COUNTY, ConflictIn(inspector_id=inspector, credit_code=CEMENT, reason="亲属任职"))
    plan_id = plans.create_plan(uow, PlanIn(region_code=COUNTY, period="2026"), RULES, "test")
    with pytest.raises(DrawRefused):
        plans.draw(uow, plan_id, "test")
    assert uow.plans.draw(plan_id) is None and uow.events(DrawPublished) == []
    with pytest.raises(Invalid):
        roster.add_conflict(uow, COUNTY, ConflictIn(inspector_id="nobody", credit_code=CEMENT, reason="r"))


def test_a_result_with_violations_opens_one_case_each_and_is_not_changed(uow: FakeUnitOfWork) -> None:
    handlers.place_in_pool(uow, changed(1))
    plan_id = plans.create_plan(uow, PlanIn(region_code=COUNTY, period="2026"), RULES, "test")
    plans.draw(uow, plan_id, "test")
    task_id = plans.task_id_for(plan_id, CEMENT)
    found = ResultIn.model_validate({"outcome": "violations", "inspected_on": "2026-03-02", "violations": [
        {"item_code": "70-4", "harm": "none"}, {"item_code": "72-2", "harm": "serious", "major": True}]})

    assert results.record_result(uow, task_id, found, "检查员1") is True
    cases = uow.events(ViolationRecorded)
    assert [c.case_id for c in cases] == [results.case_id_for(task_id, "70-4"), results.case_id_for(task_id, "72-2")]
    [inspection] = uow.events(InspectionRecorded)
    assert inspection.case_ids == [c.case_id for c in cases] and inspection.item_codes == ["70-4", "72-2"]

    assert results.record_result(uow, task_id, found, "检查员1") is False, "the same result again: nothing new"
    assert len(uow.events(ViolationRecorded)) == 2
    with pytest.raises(Conflict):
        results.record_result(uow, task_id, ResultIn(outcome="compliant", inspected_on=date(2026, 3, 2)), "检查员1")
    assert results.record_result(uow, str(uuid.uuid4()), found, "检查员1") is None
