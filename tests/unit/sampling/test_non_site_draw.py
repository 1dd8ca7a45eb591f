"""Non-site supervision in the draw (RULES §6, §10 浙江): an employer whose online monitoring covers its hazards
well enough, as the jurisdiction's rule data says, is left out of the random draw (exempt) or inspected non-site
when drawn; the publication lists who was treated so and why, beside the pool, and still verifies."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from services.sampling import verify as verify_cli
from services.sampling import views
from services.sampling.bootstrap import bootstrap
from services.sampling.domain.publication import FORMAT, verify
from services.sampling.domain.rules import SamplingDefaults, SamplingRules
from services.sampling.service_layer import plans, roster
from services.sampling.service_layer.commands import PlanIn, RosterIn
from services.sampling.service_layer.handlers import place_in_pool
from services.sampling.service_layer.verification import record_coverage
from shared.contracts import ClassificationChanged, utc_now
from shared.contracts.monitoring import FactorCoverage, MonitoringCoverage
from shared.dates import china_today
from shared.identifiers import credit_code_check_character
from tests.support import app_without_broker, auth
from tests.unit.console.test_draw_verify_js import node
from tests.unit.sampling.fakes import FakeUnitOfWork

HANGZHOU = "330106"  # 西湖区: the packaged 浙江 defaults (treatment non_site)


def code(n: int, region: str = HANGZHOU) -> str:
    body = f"91{region}MA{n:07d}"
    return body + credit_code_check_character(body)


CLEAN, GAP, EXCEEDED, SILENT_DEVICES, UNMONITORED = code(1), code(2), code(3), code(4), code(5)


def classified(credit_code: str, region: str = HANGZHOU) -> ClassificationChanged:
    return ClassificationChanged(
        producer="test", credit_code=credit_code, enterprise_name=f"企业{credit_code[-4:]}", region_code=region, archive_version=1,
        previous_category=None, category="丙", hazard_grade="Ⅲ", management_grade="B", submission_id=None, reason="test",  # type: ignore[arg-type]
        industry_codes=["C3399"])


def coverage(credit_code: str, *, hazards: tuple[str, ...] = ("矽尘", "噪声"), noise_devices: int = 2, reporting: int = 2,
             exceedances: int = 0, days: int = 40, region: str = HANGZHOU) -> MonitoringCoverage:
    end = china_today() - timedelta(days=1)
    return MonitoringCoverage(
        producer="monitoring", credit_code=credit_code, region_code=region, period_start=end - timedelta(days=days - 1), period_end=end,
        hazards=list(hazards), factors=[FactorCoverage(factor="矽尘", devices=2, reporting=reporting, exceedances=exceedances),
                                        FactorCoverage(factor="噪声", devices=noise_devices, reporting=min(noise_devices, 2), exceedances=0)])


def feed(uow: Any) -> None:
    for credit_code in (CLEAN, GAP, EXCEEDED, SILENT_DEVICES, UNMONITORED):
        place_in_pool(uow, classified(credit_code))
    record_coverage(uow, coverage(CLEAN))
    record_coverage(uow, coverage(GAP, noise_devices=0))  # 噪声 declared, not monitored
    record_coverage(uow, coverage(EXCEEDED, exceedances=1))
    record_coverage(uow, coverage(SILENT_DEVICES, reporting=0))  # 2 of 4 devices report: under 0.9


ROSTER = {"inspectors": [{"id": f"xh-{k}", "name": f"检查员{k}"} for k in range(1, 5)]}
STAFF = auth("county", HANGZHOU)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Any]:
    app = app_without_broker(bootstrap, "sampling", tmp_path)
    with app.state.runtime.uow() as uow:
        feed(uow)
        uow.commit()
    yield app
    app.state.runtime.engine.dispose()


def test_a_fully_monitored_clean_employer_is_drawn_but_inspected_non_site_and_the_publication_says_why_and_verifies(
        app: Any, tmp_path: Path) -> None:
    client = TestClient(app)
    assert client.put(f"/inspectors/{HANGZHOU}", json=ROSTER, headers=STAFF).status_code == 200
    members = {m["credit_code"]: m for m in client.get(f"/pools/{HANGZHOU}", headers=STAFF).json()["members"]["丙"]}
    assert members[CLEAN]["monitoring"]["factors"][0] == {"factor": "矽尘", "devices": 2, "reporting": 2, "exceedances": 0}
    assert members[UNMONITORED]["monitoring"] is None, "before the draw, the county sees whose monitoring the rule will weigh"
    plan = client.post("/plans", json={"region_code": HANGZHOU, "period": "2026", "ratios": {"甲": 1, "乙": 1, "丙": 1}}, headers=STAFF).json()
    assert plan["non_site"]["treatment"] == "non_site" and plan["defaults_from"]["jurisdiction"] == "330000"
    assert client.post(f"/plans/{plan['id']}/draw", headers=STAFF).status_code == 201

    publication = client.get(f"/plans/{plan['id']}/publication").json()
    record = publication["draw"]
    assert len(record["pool"]) == 5, "non_site keeps the employer in the pool the draw used"
    [treated] = record["non_site"]["treated"]
    assert (treated["credit_code"], treated["treatment"], treated["rule_set"]["version"]) == (CLEAN, "non_site", "2026.1")
    assert all(step["passed"] for step in treated["trace"]) and treated["facts"]["factors"][0]["devices"] == 2
    assert treated["trace"][0]["rule"] == "sampling_defaults 330000 2026.1 non_site"
    targets = {t["credit_code"]: t for t in record["targets"]}
    assert targets[CLEAN]["on_site"] is True, "the draw's own on_site, as the verifier recomputes it"
    assert targets[CLEAN]["mode"] == "non_site" and all("mode" not in targets[c] for c in (GAP, EXCEEDED, SILENT_DEVICES, UNMONITORED))
    tasks = {t["credit_code"]: t for t in client.get("/tasks", params={"plan_id": plan["id"]}, headers=STAFF).json()["items"]}
    assert tasks[CLEAN]["on_site"] is False and tasks[GAP]["on_site"] is True
    assert tasks[CLEAN]["non_site"]["treatment"] == "non_site"

    assert client.post("/verify", json=publication).json() == {"match": True}
    [in_the_browser] = node("verify", [publication])  # the console's draw-verify.js, unchanged
    assert (in_the_browser["result"], in_the_browser["firstDifference"]) == ("match", None)
    book = load_workbook(io.BytesIO(client.get(f"/plans/{plan['id']}/publication.xlsx").content), read_only=True)
    assert book.sheetnames == ["计划", "名录", "抽取结果", "检查结果", "非现场监管"]
    [_, row] = list(book["非现场监管"].iter_rows(values_only=True))
    assert (row[0], row[3], row[4]) == (CLEAN, "抽中后实行非现场检查", "330000（版本 2026.1）")
    assert "4 台设备中 4 台" in row[5]
    saved = tmp_path / "publication.json"
    saved.write_text(json.dumps(publication, ensure_ascii=False), encoding="utf-8")
    assert verify_cli.main([str(saved)]) == 0
    record["pool"] = [m for m in record["pool"] if m["credit_code"] != GAP]  # a pool not the one hashed: caught as before
    assert client.post("/verify", json=publication).json()["match"] is False


def exempting_rules() -> SamplingRules:
    return SamplingRules([SamplingDefaults(
        jurisdiction="330000", version="test-exempt", effective_from=date(2020, 1, 1), provisional=True,
        ratios={"甲": "1", "乙": "1", "丙": "1"},
        non_site={"every_hazard_monitored": True, "min_reporting_ratio": "0.9", "no_exceedance_days": 30, "treatment": "exempt"},  # type: ignore[arg-type]
    )])


def publication_of(uow: FakeUnitOfWork, plan_id: str) -> dict[str, Any]:
    """The publication as views.publication builds it (plan, commitment, algorithm, draw record)."""
    plan = uow.plans.get(plan_id)
    return {"format": FORMAT, "plan": views.plan_public(plan), "commitment": plan.commitment, "algorithm_version": plan.algorithm_version,
            "draw": json.loads(uow.plans.draw(plan_id).record)}


def test_with_the_exempt_treatment_the_covered_employer_is_left_out_of_the_pool_listed_beside_it_and_the_draw_verifies() -> None:
    uow = FakeUnitOfWork()
    roster.replace_roster(uow, HANGZHOU, RosterIn.model_validate(ROSTER))
    feed(uow)
    record_coverage(uow, coverage(UNMONITORED, days=20))  # clean but too short a period (30 days needed)
    stale = coverage(GAP)  # an older announcement does not replace the newer one held
    stale.occurred_at = utc_now() - timedelta(days=1)
    stale.factors[1].devices = 2
    record_coverage(uow, stale)
    plan_id = plans.create_plan(uow, PlanIn(region_code=HANGZHOU, period="2026"), exempting_rules(), "test")
    assert plans.draw(uow, plan_id, "test") is True

    publication = publication_of(uow, plan_id)
    record = publication["draw"]
    assert CLEAN not in {m["credit_code"] for m in record["pool"]} and len(record["pool"]) == 4
    assert CLEAN not in {t["credit_code"] for t in record["targets"]}, "exempt: never drawn"
    assert [t["credit_code"] for t in record["non_site"]["treated"]] == [CLEAN]
    assert record["non_site"]["rule"]["treatment"] == "exempt" and record["non_site"]["rule_set"]["version"] == "test-exempt"
    assert verify(publication) == {"match": True}

    record["pool"].append({"credit_code": CLEAN, "category": "丙", "full_coverage": False})  # smuggled back: the hash no longer holds
    record["pool"].sort(key=lambda m: m["credit_code"])
    assert verify(publication)["code"] == "sampling.draw.verify.pool_hash"


def test_without_a_non_site_rule_nobody_is_treated() -> None:
    uow = FakeUnitOfWork()
    roster.replace_roster(uow, "141024", RosterIn.model_validate(ROSTER))
    place_in_pool(uow, classified(code(1, "141024"), "141024"))
    record_coverage(uow, coverage(code(1, "141024"), region="141024"))
    rules = SamplingRules([SamplingDefaults(jurisdiction="CN", version="t", effective_from=date(2020, 1, 1), provisional=True,
                                            ratios={"甲": "1", "乙": "1", "丙": "1"})])
    plan_id = plans.create_plan(uow, PlanIn(region_code="141024", period="2026"), rules, "test")
    plans.draw(uow, plan_id, "test")
    record = json.loads(uow.plans.draw(plan_id).record)
    assert "non_site" not in record and [t["credit_code"] for t in record["targets"]] == [code(1, "141024")]
    assert next(iter(uow.plans.tasks.values())).on_site is True
