"""Sampling plans through the HTTP API (TestClient, no lifespan, SQLite): plan, draw, publication,
verification, results, statistics, roster; the events they leave in the outbox."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from services.sampling import roster as roster_cli
from services.sampling import verify as verify_cli
from services.sampling.bootstrap import bootstrap
from services.sampling.service_layer.handlers import apply_exemption, place_in_pool
from services.sampling.service_layer.results import CASE_NAMESPACE
from services.sampling.service_layer.unit_of_work import SamplingUnitOfWork
from shared import topics
from shared.contracts import ClassificationChanged, ExemptionChanged
from shared.dates import china_today
from shared.db import OutboxMessage
from shared.identifiers import credit_code_check_character
from tests.support import app_without_broker, auth

COUNTY = auth("county", "141024", name="洪洞县 张三")
PROVINCE, AUDITOR, EMPLOYER = auth("province"), auth("auditor", "141000"), auth("employer")


def code(n: int, region: str = "141024") -> str:
    body = f"91{region}MA{n:07d}"
    return body + credit_code_check_character(body)


def classify(uow: SamplingUnitOfWork, credit_code: str, category: str, region: str = "141024", version: int = 1,
             industries: list[str] | None = None) -> None:
    place_in_pool(uow, ClassificationChanged(
        producer="test", credit_code=credit_code, enterprise_name=f"企业 {credit_code[-6:]}", region_code=region,
        archive_version=version, previous_category=None, category=category, hazard_grade="Ⅲ", management_grade="B",
        submission_id=None, reason="test", industry_codes=industries or ["C3399"],
    ))


ROSTER = {"inspectors": [{"id": f"hd-{k}", "name": f"检查员{k}"} for k in range(1, 5)]}


@pytest.fixture
def app_and_client(tmp_path: Path) -> Iterator[tuple[Any, TestClient]]:
    app = app_without_broker(bootstrap, "sampling", tmp_path)
    runtime = app.state.runtime
    with runtime.uow() as uow:
        for n in range(1, 31):
            classify(uow, code(n), "甲")
        for n in range(31, 51):
            classify(uow, code(n), "乙")
        for n in range(51, 61):
            classify(uow, code(n), "丙", industries=["C2614"] if n == 60 else None)  # 60: 化工, full coverage
        classify(uow, code(61, "141029"), "丙", region="141029")  # another county
        uow.commit()
    yield app, TestClient(app)
    runtime.engine.dispose()


@pytest.fixture
def client(app_and_client: tuple[Any, TestClient]) -> TestClient:
    return app_and_client[1]


def outbox(app: Any, topic: str) -> list[dict[str, Any]]:
    with Session(app.state.runtime.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.topic == topic).order_by(OutboxMessage.id)).all()
        return [json.loads(r.payload) for r in rows]


def plan(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/plans", json={"region_code": "141024", "period": "2026", **body}, headers=COUNTY)
    assert response.status_code == 201, response.text
    return response.json()


def drawn(client: TestClient, **body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    assert client.put("/inspectors/141024", json=ROSTER, headers=COUNTY).status_code == 200
    created = plan(client, **body)
    response = client.post(f"/plans/{created['id']}/draw", headers=COUNTY)
    assert response.status_code == 201, response.text
    return created, response.json()


def test_a_plan_commits_its_seed_and_takes_its_defaults_from_the_rule_file(app_and_client: tuple[Any, TestClient]) -> None:
    app, client = app_and_client
    created = plan(client)
    assert created["ratios"] == {"甲": "0.03", "乙": "0.1", "丙": "0.3"}
    assert created["defaults_from"]["jurisdiction"] == "CN" and created["defaults_from"]["provisional"] is True
    assert created["full_coverage_industries"] == ["C30", "C26"] and created["jia_non_site"] is True
    assert created["status"] == "committed" and len(created["commitment"]) == 64 and "seed" not in json.dumps(created)
    [event] = outbox(app, topics.PLAN_COMMITTED)
    assert (event["plan_id"], event["commitment"], event["region_code"]) == (created["id"], created["commitment"], "141024")
    overridden = plan(client, ratios={"丙": 0.5}, minimums={"甲": 2}, jia_non_site=False)
    assert overridden["ratios"]["丙"] == "0.5" and overridden["ratios"]["甲"] == "0.03" and overridden["minimums"]["甲"] == 2
    assert set(overridden["overridden"]) == {"ratios", "minimums", "jia_non_site"}


@pytest.mark.parametrize(
    ("body", "field"),
    [({"period": "2026Q5"}, "period"), ({"ratios": {"丙": 1.5}}, "ratios"), ({"ratios": {"丁": 0.1}}, "ratios"),
     ({"region_code": "14102"}, "region_code"), ({"inspectors_per_task": 1}, "inspectors_per_task"),
     ({"exclusions": [{"credit_code": "91141024MA0000001X", "reason": "注销"}]}, "exclusions[0].credit_code"),
     ({"hand_down": True}, "hand_down")],
)
def test_an_invalid_plan_is_refused_naming_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post("/plans", json={"region_code": "141024", "period": "2026", **body}, headers=COUNTY)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_the_draw_honours_the_ratios_takes_full_coverage_and_assigns_two_inspectors(app_and_client: tuple[Any, TestClient]) -> None:
    app, client = app_and_client
    created, draw = drawn(client)
    assert draw["quotas"] == {"甲": 1, "乙": 2, "丙": 3}  # ceil(0.03×30), ceil(0.1×20), ceil(0.3×10)
    assert draw["pool_sizes"] == {"甲": 30, "乙": 20, "丙": 10}
    assert code(61, "141029") not in {e["credit_code"] for e in draw["pool"]}, "a county plan: that county only"
    assert [t["credit_code"] for t in draw["targets"] if t["selection"] == "full_coverage"] == [code(60)]
    assert all(len(t["inspectors"]) == 2 for t in draw["targets"])
    assert {t["on_site"] for t in draw["targets"] if t["category"] == "甲"} == {False}
    assert hashlib.sha256(draw["seed"].encode()).hexdigest() == created["commitment"]
    assigned = outbox(app, topics.TASK_ASSIGNED)
    assert sorted(e["credit_code"] for e in assigned) == sorted(t["credit_code"] for t in draw["targets"])
    [published] = outbox(app, topics.DRAW_PUBLISHED)
    assert (published["seed"], published["pool_hash"], published["targets"]) == (draw["seed"], draw["pool_hash"], draw["quotas"])

    again = client.post(f"/plans/{created['id']}/draw", headers=COUNTY)
    assert again.status_code == 200 and again.json() == draw, "drawing twice returns the first draw"
    assert len(outbox(app, topics.DRAW_PUBLISHED)) == 1 and len(outbox(app, topics.TASK_ASSIGNED)) == len(draw["targets"])


def test_without_enough_inspectors_the_draw_is_refused_naming_the_target(client: TestClient) -> None:
    created = plan(client)
    response = client.post(f"/plans/{created['id']}/draw", headers=COUNTY)
    assert response.status_code == 422 and "PUT /inspectors/141024" in response.text
    client.put("/inspectors/141024", json={"inspectors": ROSTER["inspectors"][:3]}, headers=COUNTY)
    for inspector in ("hd-1", "hd-2"):
        assert client.post("/inspectors/141024/conflicts", headers=COUNTY,
                           json={"inspector_id": inspector, "credit_code": code(60), "reason": "亲属任职"}).status_code == 201
    response = client.post(f"/plans/{created['id']}/draw", headers=COUNTY)
    assert response.status_code == 422, response.text
    [short] = response.json()["errors"]
    assert (short["field"], short["code"]) == ("inspectors", "sampling.draw.too_few_inspectors")
    assert short["message"] == f"{code(60)}：名录库3名人员中无回避冲突的只有1名（回避：hd-1、hd-2），每项任务需要2名"
    english = client.post(f"/plans/{created['id']}/draw", headers={**COUNTY, "Accept-Language": "en"})
    assert english.json()["errors"][0]["message"] == f"{code(60)}: 1 eligible inspector(s) of 3 (conflicts: hd-1, hd-2), 2 needed"
    assert client.get(f"/plans/{created['id']}/publication").json()["draw"] is None, "a refused draw leaves nothing"
    unknown = client.post("/inspectors/141024/conflicts", headers=COUNTY, json={"inspector_id": "x", "credit_code": code(1), "reason": "r"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "inspector_id"


def test_a_declared_conflict_is_respected_and_published(client: TestClient) -> None:
    client.put("/inspectors/141024", headers=COUNTY, json={"inspectors": [
        {**i, "conflicts": [{"credit_code": code(60), "reason": "曾在该单位任职"}] if i["id"] in ("hd-1", "hd-2") else []}
        for i in ROSTER["inspectors"]]})
    created = plan(client)
    draw = client.post(f"/plans/{created['id']}/draw", headers=COUNTY).json()
    target = next(t for t in draw["targets"] if t["credit_code"] == code(60))
    assert {i["id"] for i in target["inspectors"]} == {"hd-3", "hd-4"}
    roster = {i["id"]: i["conflicts"] for i in client.get(f"/plans/{created['id']}/publication").json()["draw"]["roster"]}
    assert roster["hd-1"] == [code(60)], "the conflicts are published (credit codes, not the reasons)"


def test_the_publication_is_public_reveals_the_seed_only_after_the_draw_and_verifies(app_and_client: tuple[Any, TestClient]) -> None:
    app, client = app_and_client
    client.put("/inspectors/141024", json=ROSTER, headers=COUNTY)
    created = plan(client, exclusions=[{"credit_code": code(2), "reason": "注销"}])
    before = client.get(f"/plans/{created['id']}/publication")  # no token
    assert before.status_code == 200 and before.json()["draw"] is None and before.json()["commitment"] == created["commitment"]
    assert "seed" not in before.text
    client.post(f"/plans/{created['id']}/draw", headers=COUNTY)
    doc = client.get(f"/plans/{created['id']}/publication").json()
    assert doc["draw"]["seed"] and doc["status"] == "drawn" and doc["algorithm_version"] == "ohs-draw-v1"
    assert code(2) not in {e["credit_code"] for e in doc["draw"]["pool"]}, "an excluded employer is out of the pool"
    assert client.post("/verify", json=doc).json() == {"match": True}
    first = doc["draw"]["targets"][0]["credit_code"]
    doc["draw"]["targets"][0]["credit_code"] = next(e["credit_code"] for e in doc["draw"]["pool"] if e["credit_code"] != first)
    mismatch = client.post("/verify", json=doc).json()
    assert mismatch["match"] is False and "targets[0]" in mismatch["reason"]
    assert client.post("/verify", json={"nothing": 1}).status_code == 422
    assert client.get(f"/plans/{uuid.uuid4()}/publication").status_code == 404


def test_a_late_pool_change_does_not_alter_a_published_draw(app_and_client: tuple[Any, TestClient]) -> None:
    app, client = app_and_client
    created, draw = drawn(client)
    with app.state.runtime.uow() as uow:
        classify(uow, code(77), "丙")
        classify(uow, code(55), "甲", version=2)
        apply_exemption(uow, ExemptionChanged(
            producer="test", credit_code=code(31), exemption_id=uuid.uuid4(), region_code="141024", exempt=True,
            valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31), reason="信用 A 级"))
        uow.commit()
    doc = client.get(f"/plans/{created['id']}/publication").json()
    assert doc["draw"]["pool"] == draw["pool"] and doc["draw"]["pool_version"] == draw["pool_version"]
    assert client.post("/verify", json=doc).json() == {"match": True}
    later = plan(client)
    client.post(f"/plans/{later['id']}/draw", headers=COUNTY)
    later_doc = client.get(f"/plans/{later['id']}/publication").json()["draw"]
    assert later_doc["pool_version"] == draw["pool_version"] + 3, "each change raised the pool version"
    pool = {e["credit_code"]: e["category"] for e in later_doc["pool"]}
    assert pool[code(77)] == "丙" and pool[code(55)] == "甲" and code(31) not in pool, "免检 in force: out of the pool"


def test_results_go_to_penalty_and_into_the_statistics(app_and_client: tuple[Any, TestClient]) -> None:
    app, client = app_and_client
    created, draw = drawn(client)
    tasks = client.get(f"/tasks?plan_id={created['id']}", headers=COUNTY).json()["items"]
    assert [t["credit_code"] for t in tasks] == [t["credit_code"] for t in draw["targets"]]
    today = china_today()
    bad = [
        ({"outcome": "violations", "inspected_on": str(today)}, "violations"),
        ({"outcome": "not_inspected"}, "reason"),
        ({"outcome": "compliant"}, "inspected_on"),
        ({"outcome": "compliant", "inspected_on": str(today + timedelta(days=2))}, "inspected_on"),
        ({"outcome": "violations", "inspected_on": str(today), "violations": [{"item_code": "70", "harm": "none"}]}, "violations[0].item_code"),
        ({"outcome": "done"}, "outcome"),
    ]
    for body, field in bad:
        response = client.post(f"/tasks/{tasks[0]['id']}/result", json=body, headers=COUNTY)
        assert response.status_code == 422, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (body, response.json())
    violation = {"outcome": "violations", "inspected_on": str(today),
                 "violations": [{"item_code": "70-4", "harm": "none", "description": "未按规定公布检测结果",
                                 "rectification_deadline": str(today + timedelta(days=15))},
                                {"item_code": "72-2", "harm": "serious", "description": "粉尘岗位未提供防尘口罩", "major": True}]}
    first = client.post(f"/tasks/{tasks[0]['id']}/result", json=violation, headers=COUNTY)
    assert first.status_code == 201, first.text
    expected_case = str(uuid.uuid5(CASE_NAMESPACE, f"{tasks[0]['id']}|70-4"))
    assert first.json()["case_ids"] == [expected_case, str(uuid.uuid5(CASE_NAMESPACE, f"{tasks[0]['id']}|72-2"))]
    recorded, major = outbox(app, topics.VIOLATION_RECORDED)
    assert (recorded["major"], major["major"], major["harm"]) == (False, True, "serious")
    assert (recorded["case_id"], recorded["credit_code"], recorded["region_code"], recorded["item_code"]) == (
        expected_case, tasks[0]["credit_code"], "141024", "70-4")
    assert (recorded["task_id"], recorded["plan_id"]) == (tasks[0]["id"], created["id"])
    assert recorded["inspectors"] == [i["id"] for i in tasks[0]["inspectors"]]
    assert client.post(f"/tasks/{tasks[0]['id']}/result", json=violation, headers=COUNTY).status_code == 200, "the same again: no-op"
    assert len(outbox(app, topics.VIOLATION_RECORDED)) == 2
    assert client.post(f"/tasks/{tasks[0]['id']}/result", json={"outcome": "compliant", "inspected_on": str(today)},
                       headers=COUNTY).status_code == 409
    assert client.post(f"/tasks/{tasks[1]['id']}/result", json={"outcome": "compliant", "inspected_on": str(today)},
                       headers=COUNTY).status_code == 201
    assert client.post(f"/tasks/{tasks[2]['id']}/result", json={"outcome": "not_inspected", "reason": "停产"},
                       headers=COUNTY).status_code == 201
    [inspection, *_] = outbox(app, topics.INSPECTION_RECORDED)
    assert inspection["case_ids"] == first.json()["case_ids"] and inspection["outcome"] == "violations"
    assert inspection["item_codes"] == ["70-4", "72-2"]

    stats = client.get(f"/plans/{created['id']}/statistics", headers=COUNTY).json()
    assert stats["total"] == {"pool": 60, "drawn": 6, "recorded": 3, "inspected": 2, "not_inspected": 1, "with_violations": 1,
                              "coverage_rate": 0.1, "completion_rate": round(2 / 6, 4), "violation_rate": 0.5}
    assert stats["by_county"]["141024"]["drawn"] == 6
    assert sum(v["drawn"] for v in stats["by_category"].values()) == 6
    region = client.get("/statistics/141000?period=2026", headers=auth("city")).json()
    assert region["total"]["drawn"] == 6 and region["plans"] == 1
    doc = client.get(f"/plans/{created['id']}/publication").json()
    assert [r["outcome"] for r in doc["results"]] == ["violations", "compliant", "not_inspected"]
    assert client.post("/verify", json=doc).json() == {"match": True}, "results do not disturb verification"


def test_a_province_hands_a_plan_down_to_its_counties(app_and_client: tuple[Any, TestClient]) -> None:
    app, client = app_and_client
    response = client.post("/plans", json={"region_code": "140000", "period": "2026Q2", "ratios": {"丙": 0.5}, "hand_down": True},
                           headers=PROVINCE)
    assert response.status_code == 201, response.text
    parent = response.json()
    assert parent["status"] == "handed_down"
    children = {c["region_code"]: c for c in parent["children"]}
    assert set(children) == {"141024", "141029"}
    assert len({c["commitment"] for c in children.values()}) == 2, "each county its own seed"
    assert client.post(f"/plans/{parent['id']}/draw", headers=PROVINCE).status_code == 409
    child = client.get(f"/plans/{children['141029']['id']}", headers=auth("county", "141029")).json()
    assert child["parent_plan_id"] == parent["id"] and child["ratios"]["丙"] == "0.5"
    assert client.get(f"/plans/{children['141024']['id']}", headers=auth("county", "141029")).status_code == 404
    assert len(outbox(app, topics.PLAN_COMMITTED)) == 3


def test_access_to_plans(client: TestClient) -> None:
    client.put("/inspectors/141024", json=ROSTER, headers=COUNTY)
    assert client.post("/plans", json={"region_code": "141029", "period": "2026"}, headers=COUNTY).status_code == 403
    assert client.post("/plans", json={"region_code": "141024", "period": "2026"}, headers=AUDITOR).status_code == 403
    assert client.post("/plans", json={"region_code": "141024", "period": "2026"}, headers=EMPLOYER).status_code == 403
    created = plan(client)
    assert client.get(f"/plans/{created['id']}", headers=auth("county", "141029")).status_code == 404
    assert client.post(f"/plans/{created['id']}/draw", headers=auth("county", "141029")).status_code == 404
    assert client.post(f"/plans/{created['id']}/draw", headers=AUDITOR).status_code == 403
    assert client.get(f"/plans/{created['id']}", headers=AUDITOR).status_code == 200
    assert client.put("/inspectors/141029", json=ROSTER, headers=COUNTY).status_code == 403
    assert client.get("/inspectors/141029", headers=COUNTY).status_code == 404


def test_the_xlsx_export_has_the_four_sheets(client: TestClient) -> None:
    from openpyxl import load_workbook

    created, draw = drawn(client)
    response = client.get(f"/plans/{created['id']}/publication.xlsx")
    assert response.status_code == 200 and "filename*=UTF-8''" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["计划", "名录", "抽取结果", "检查结果"]
    assert book["名录"].max_row == 1 + len(draw["pool"]) and book["抽取结果"].max_row == 1 + len(draw["targets"])
    plan_rows = {row[0]: row[1] for row in book["计划"].iter_rows(values_only=True)}
    assert plan_rows["随机种子"] == draw["seed"] and plan_rows["名录哈希"] == draw["pool_hash"]  # as published: anyone can check them
    assert next(book["抽取结果"].iter_rows(values_only=True))[2] == "统一社会信用代码"


def test_the_verify_cli_exit_codes(client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")  # the command line in English (Chinese unless LANG=en_*)
    created, _ = drawn(client)
    doc = client.get(f"/plans/{created['id']}/publication").json()
    good = tmp_path / "publication.json"
    good.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert verify_cli.main([str(good)]) == 0 and capsys.readouterr().out.startswith("match")
    doc["draw"]["seed"] = "0" * 64
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    assert verify_cli.main([str(bad)]) == 1 and "seed" in capsys.readouterr().out
    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    assert verify_cli.main([str(junk)]) == 2
    assert verify_cli.main([str(tmp_path / "missing.json")]) == 2


def test_the_roster_cli_loads_csv_and_the_demo_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")  # the command line in English (Chinese unless LANG=en_*)
    url = f"sqlite:///{tmp_path}/cli.db"
    csv = tmp_path / "roster.csv"
    csv.write_text(f"id,name,active,conflicts\nA1,王一,true,{code(1)}:亲属\nA2,王二,,\nA3,王三,false,\n", encoding="utf-8")
    assert roster_cli.main(["load", str(csv), "--region", "141024", "--database-url", url]) == 0
    demo = Path(__file__).resolve().parents[3] / "deploy" / "demo" / "inspectors.json"
    assert roster_cli.main(["load", str(demo), "--database-url", url]) == 0
    assert "141029: 4 inspectors loaded" in capsys.readouterr().out
    from services.sampling.views import roster as roster_view
    from shared.db import make_engine

    engine = make_engine(url)
    with Session(engine) as session:
        view = roster_view(session, "141024")
    engine.dispose()
    assert [i["id"] for i in view["inspectors"]] == ["141024-01", "141024-02", "141024-03", "141024-04"], "the demo file replaced it"
    assert roster_cli.main(["load", str(csv), "--database-url", url]) == 2, "a CSV needs --region"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"inspectors": [{"id": "x"}]}))
    assert roster_cli.main(["load", str(broken), "--region", "141024", "--database-url", url]) == 2
    assert "name" in capsys.readouterr().err


def test_the_third_partys_reimplementation_reproduces_fresh_publications(client: TestClient) -> None:
    from tests.unit.sampling.test_third_party import reproduce

    client.put("/inspectors/141024", headers=COUNTY, json={"inspectors": [
        {**i, "conflicts": [{"credit_code": code(n), "reason": "回避"} for n in range(1, 61, 3)] if i["id"] == "hd-2" else []}
        for i in ROSTER["inspectors"]]})
    for body in ({}, {"ratios": {"甲": 0.5, "乙": 0.35, "丙": 1}}, {"minimums": {"甲": 7}, "inspectors_per_task": 3, "jia_non_site": False}):
        created = plan(client, **body)
        assert client.post(f"/plans/{created['id']}/draw", headers=COUNTY).status_code == 201
        assert reproduce(client.get(f"/plans/{created['id']}/publication").json()) == (True, ""), body


def test_two_draws_at_once_make_one_draw(app_and_client: tuple[Any, TestClient]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    app, client = app_and_client
    client.put("/inspectors/141024", json=ROSTER, headers=COUNTY)
    created = plan(client)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: client.post(f"/plans/{created['id']}/draw", headers=COUNTY), range(4)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201], [a.text[:200] for a in answers]
    assert len({a.json()["draw_id"] for a in answers}) == 1
    assert len(outbox(app, topics.DRAW_PUBLISHED)) == 1
