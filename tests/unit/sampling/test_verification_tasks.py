"""Verification tasks (核查处置, RULES §10): an open exceedance episode of online monitoring becomes one task of the
employer's county, with its reason, a deadline in working days and two inspectors chosen like a drawn task's
(conflicts 回避, the least loaded first counting open tasks); its result goes the way of a drawn task's."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from services.sampling.adapters.orm import Task
from services.sampling.adapters.rules import load_sampling_rules
from services.sampling.bootstrap import bootstrap
from services.sampling.domain.draw import RosterInspector, Target, assign_inspectors, assign_inspectors_reference
from services.sampling.service_layer import roster
from services.sampling.service_layer.commands import RosterIn
from services.sampling.service_layer.handlers import place_in_pool
from services.sampling.service_layer.verification import open_verification_task, task_id_for_episode
from shared import i18n, topics
from shared.contracts import ClassificationChanged, TaskAssigned
from shared.contracts.monitoring import ExceedanceDetected
from shared.dates import CHINA, china_today
from shared.db import OutboxMessage
from shared.identifiers import credit_code_check_character
from tests.support import app_without_broker, auth
from tests.unit.sampling.fakes import FakeUnitOfWork

COUNTY = "141024"
RULES = load_sampling_rules()  # the packaged defaults: 5 working days, 2 inspectors per task


def code(n: int, region: str = COUNTY) -> str:
    body = f"91{region}MA{n:07d}"
    return body + credit_code_check_character(body)


FOUNDRY = code(7)


def episode(episode_id: uuid.UUID, status: str = "open", *, credit_code: str = FOUNDRY, started: datetime | None = None,
            measure: str = "twa") -> ExceedanceDetected:
    started = started or datetime(2026, 9, 30, 10, 0, tzinfo=CHINA)
    return ExceedanceDetected(
        producer="monitoring", credit_code=credit_code, episode_id=episode_id, status=status, region_code=COUNTY,  # type: ignore[arg-type]
        device_id="gw1:dust-03", factor="矽尘", kind="dust", post="破碎岗", measure=measure, limit=1.0, unit="mg/m³",  # type: ignore[arg-type]
        observed=2.4, started_at=started, shift_day=started.date(),
        rule_set={"jurisdiction": "CN", "version": "2026.1", "effective_from": "2026-01-01", "provisional": True},  # type: ignore[arg-type]
        trace=[],
    )


def open_task(uow: FakeUnitOfWork, n: int, inspectors: list[str]) -> None:
    """An open drawn task of the county held by these inspectors (their load)."""
    uow.plans.add_task(Task(id=str(uuid.uuid4()), plan_id="p", draw_id="d", position=n, credit_code=code(100 + n), enterprise_name="x",
                            region_code=COUNTY, category="乙", selection="random", on_site=True,
                            inspectors=json.dumps([{"id": i, "name": i} for i in inspectors])))


def with_roster(ids: list[str], conflicts: dict[str, str] | None = None) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    roster.replace_roster(uow, COUNTY, RosterIn.model_validate({"inspectors": [
        {"id": i, "name": f"检查员{i}", "conflicts": [{"credit_code": conflicts[i], "reason": "亲属任职"}] if conflicts and i in conflicts else []}
        for i in ids]}))
    uow.published.clear()
    return uow


def test_an_open_episode_makes_one_staffed_task_with_a_working_day_deadline_and_a_repeat_or_a_close_changes_nothing() -> None:
    uow = with_roster(["hd-1", "hd-2", "hd-3", "hd-4"], conflicts={"hd-1": FOUNDRY})  # hd-1 must stay away (回避)
    open_task(uow, 1, ["hd-2", "hd-3"])
    open_task(uow, 2, ["hd-2", "hd-1"])  # hd-2 holds two open tasks, hd-3 one, hd-4 none
    first = uuid.uuid4()

    open_verification_task(uow, episode(first), RULES)
    uow.commit()

    task = uow.plans.task(task_id_for_episode(str(first)))
    assert task is not None and task.kind == "verification" and task.plan_id is None and task.episode_id == str(first)
    assert {i["id"] for i in json.loads(task.inspectors)} == {"hd-3", "hd-4"}, "no conflicted inspector; the least loaded"
    # 2026-09-30 + 5 working days: the National Day holiday (10-01 … 10-07) is skipped, Saturday 10-10 is a 调休 working day
    assert task.deadline == date(2026, 10, 13)
    reason = json.loads(task.reason)
    assert reason["code"] == "sampling.verification.reason.twa" and reason["rule_set"]["jurisdiction"] == "CN"
    assert "2.4" in i18n.text(reason["code"], reason["params"]) and "矽尘" in i18n.text(reason["code"], reason["params"], i18n.EN)
    [announced] = uow.published
    assert isinstance(announced, TaskAssigned)
    assert (announced.kind, announced.plan_id, announced.deadline, announced.episode_id) == ("verification", None, date(2026, 10, 13), first)
    assert announced.reason is not None and announced.reason.code == reason["code"]

    open_verification_task(uow, episode(first), RULES)  # redelivered under another event id: the episode has its task
    open_verification_task(uow, episode(uuid.uuid4(), status="closed"), RULES)  # a closed episode makes none
    uow.commit()
    assert sum(t.kind == "verification" for t in uow.plans.tasks.values()) == 1 and len(uow.published) == 1

    second = uuid.uuid4()  # another episode: open loads hd-1 1 (conflicted), hd-2 2, hd-3 2, hd-4 1
    open_verification_task(uow, episode(second, measure="silent"), RULES)
    again = uow.plans.task(task_id_for_episode(str(second)))
    chosen = [i["id"] for i in json.loads(again.inspectors)]
    assert len(chosen) == 2 and "hd-4" in chosen and "hd-1" not in chosen
    assert json.loads(again.reason)["code"] == "sampling.verification.reason.silent"


def test_a_county_that_cannot_staff_it_keeps_the_task_unassigned_with_the_reason() -> None:
    uow = with_roster(["hd-1", "hd-2"], conflicts={"hd-2": FOUNDRY})
    found = uuid.uuid4()
    open_verification_task(uow, episode(found), RULES)
    uow.commit()
    task = uow.plans.task(task_id_for_episode(str(found)))
    assert task is not None and json.loads(task.inspectors) == []
    problem = json.loads(task.unassigned)
    assert problem["code"] == "sampling.verification.unassigned.conflicts" and problem["params"]["conflicts"] == "hd-2"
    assert uow.published == [], "announced once staffed, never with no inspectors"

    roster.replace_roster(uow, COUNTY, RosterIn.model_validate({"inspectors": [  # the county's roster grows: the task is staffed now
        {"id": "hd-1", "name": "检查员1"}, {"id": "hd-2", "name": "检查员2", "conflicts": [{"credit_code": FOUNDRY, "reason": "亲属任职"}]},
        {"id": "hd-3", "name": "检查员3"}]}))
    assert task.unassigned is None and [i["id"] for i in json.loads(task.inspectors)] in (["hd-1", "hd-3"], ["hd-3", "hd-1"])
    [announced] = uow.published
    assert isinstance(announced, TaskAssigned) and announced.task_id == uuid.UUID(task.id) and announced.kind == "verification"

    empty = with_roster([])
    open_verification_task(empty, episode(found), RULES)
    assert json.loads(empty.plans.task(task_id_for_episode(str(found))).unassigned)["code"] == "sampling.verification.unassigned.roster"


# --------------------------------------------------------------------------- HTTP: the employer's tasks, the result

STAFF = auth("county", COUNTY, name="洪洞县 张三")
OTHER_COUNTY = auth("county", "141029")


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    app = app_without_broker(bootstrap, "sampling", tmp_path)
    with app.state.runtime.uow() as uow:
        for n in range(1, 11):
            place_in_pool(uow, ClassificationChanged(
                producer="test", credit_code=code(n), enterprise_name=f"企业{n}", region_code=COUNTY, archive_version=1,
                previous_category=None, category="丙", hazard_grade="Ⅲ", management_grade="B", submission_id=None, reason="test",
                industry_codes=["C3399"]))
        uow.commit()
    yield app
    app.state.runtime.engine.dispose()


def outbox(app: Any, topic: str) -> list[dict[str, Any]]:
    with Session(app.state.runtime.engine) as session:
        return [json.loads(r.payload) for r in session.exec(select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(OutboxMessage.id))]


def test_staff_list_an_employers_drawn_and_verification_tasks_and_record_a_verifications_violation_like_a_drawn_tasks(app: Any) -> None:
    client = TestClient(app)
    early = uuid.uuid4()  # an exceedance before the county has a roster: the task waits, unassigned, for staff to see
    with app.state.runtime.uow() as uow:
        open_verification_task(uow, episode(early, credit_code=code(8)), app.state.sampling_rules)
        uow.commit()
    [waiting] = client.get("/tasks", params={"credit_code": code(8)}, headers=STAFF).json()["items"]
    assert (waiting["status"], waiting["inspectors"], waiting["unassigned"]["code"]) == (
        "unassigned", [], "sampling.verification.unassigned.roster")
    assert "0" in waiting["unassigned"]["text"]
    assert client.put(f"/inspectors/{COUNTY}", json={"inspectors": [{"id": f"hd-{k}", "name": f"检查员{k}"} for k in range(1, 5)]},
                      headers=STAFF).status_code == 200
    [staffed] = client.get("/tasks", params={"credit_code": code(8)}, headers=STAFF).json()["items"]
    assert (staffed["status"], len(staffed["inspectors"]), staffed["unassigned"]) == ("open", 2, None)
    plan = client.post("/plans", json={"region_code": COUNTY, "period": "2026", "ratios": {"甲": 1, "乙": 1, "丙": 1}}, headers=STAFF).json()
    assert client.post(f"/plans/{plan['id']}/draw", headers=STAFF).status_code == 201  # every employer drawn: FOUNDRY has a random task
    found = uuid.uuid4()
    with app.state.runtime.uow() as uow:
        open_verification_task(uow, episode(found, started=datetime.now(CHINA) - timedelta(hours=2)), app.state.sampling_rules)
        uow.commit()

    listed = client.get("/tasks", params={"credit_code": FOUNDRY}, headers=STAFF)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [t["kind"] for t in items] == ["verification", "random"], "newest first"
    check, drawn = items
    assert (check["status"], check["plan_id"], len(check["inspectors"]), check["episode_id"]) == ("open", None, 2, str(found))
    assert check["reason"]["code"] == "sampling.verification.reason.twa" and "破碎岗" in check["reason"]["text"]
    assert check["deadline"] > china_today().isoformat()
    assert (drawn["plan_id"], drawn["reason"], drawn["status"]) == (plan["id"], None, "open")
    english = client.get("/tasks", params={"credit_code": FOUNDRY}, headers={**STAFF, "Accept-Language": "en"}).json()["items"][0]
    assert english["reason"]["text"].startswith("online monitoring")

    assert client.get("/tasks", params={"credit_code": FOUNDRY}, headers=OTHER_COUNTY).status_code == 404, "another county's: as missing"
    assert client.get("/tasks", params={"credit_code": code(99)}, headers=STAFF).status_code == 404
    for params in ({}, {"credit_code": FOUNDRY, "plan_id": plan["id"]}):
        refused = client.get("/tasks", params=params, headers=STAFF)
        assert refused.status_code == 422 and refused.json()["code"] == "sampling.error.tasks_query", refused.text
    bad = client.get("/tasks", params={"credit_code": FOUNDRY[:-1] + "0"}, headers=STAFF)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "credit_code"

    violation = {"outcome": "violations", "inspected_on": str(china_today()),
                 "violations": [{"item_code": "72-2", "harm": "minor", "description": "粉尘超标岗位未提供防尘口罩"}]}
    recorded = client.post(f"/tasks/{check['id']}/result", json=violation, headers=STAFF)
    assert recorded.status_code == 201, recorded.text
    [case] = outbox(app, topics.VIOLATION_RECORDED)
    assert (case["task_id"], case["plan_id"], case["credit_code"], case["item_code"]) == (check["id"], None, FOUNDRY, "72-2")
    assert case["inspectors"] == [i["id"] for i in check["inspectors"]]
    [inspection] = outbox(app, topics.INSPECTION_RECORDED)
    assert (inspection["kind"], inspection["outcome"], inspection["plan_id"]) == ("verification", "violations", None)
    assert client.get("/tasks", params={"credit_code": FOUNDRY}, headers=STAFF).json()["items"][0]["status"] == "recorded"
    assigned = [e for e in outbox(app, topics.TASK_ASSIGNED) if e["kind"] == "verification"]
    assert [e["task_id"] for e in assigned] == [staffed["id"], check["id"]]


def test_starting_loads_choose_alike_in_the_fast_assignment_and_the_rule_as_written() -> None:
    roster_ = [RosterInspector(f"hd-{k}", f"检查员{k}", frozenset({code(k)}) if k % 3 == 0 else frozenset()) for k in range(1, 13)]
    targets = [Target(code(n), "丙", "random", "", True) for n in range(1, 30)]
    for loads in ({}, {"hd-1": 3, "hd-2": 1, "hd-7": 5}, {f"hd-{k}": k % 4 for k in range(1, 13)}):
        fast = assign_inspectors("seed", targets, roster_, 2, loads)
        assert fast == assign_inspectors_reference("seed", targets, roster_, 2, loads), loads
    heavy = assign_inspectors("seed", targets[:1], roster_, 2, {f"hd-{k}": 9 for k in range(1, 13) if k not in (4, 5)})
    assert set(heavy[0].inspectors) == {"hd-4", "hd-5"}, "the least loaded first"
