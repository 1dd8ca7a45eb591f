"""Overrides and 免检 as a supervisor sees them: four service processes, a real broker, HTTP only.

An employer's report makes it 甲; a county supervisor upgrades it (乙), a major violation decided
by penalty raises it again (丙), each step reaching the sampling pool; a 免检 takes it out of the
pool, and its revocation brings it back."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest

from services.registry.domain.exemptions import china_today
from shared import topics
from shared.contracts import PenaltyDecided
from tests.support import (
    auth,
    eventually_get,
    jia_report_for,
    new_credit_code,
    produce,
    report_for,
)

pytestmark = pytest.mark.e2e

COUNTY, CITY = auth("county", name="乡宁县 张三"), auth("city", name="临汾市 李四")


def members(pool: dict, category: str) -> list[str]:
    return [m["credit_code"] for m in pool["members"][category]]


def test_an_upgrade_and_an_exemption_reach_the_sampling_pool(system, kafka_bootstrap: str) -> None:
    code = new_credit_code("141029")
    good = jia_report_for(code)
    httpx.post(f"{system['assessment']}/reports", json=good, timeout=10, headers=COUNTY).raise_for_status()
    eventually_get(f"{system['registry']}/enterprises/{code}", lambda r: r.status_code == 200 and r.json()["category"] == "甲", headers=COUNTY)
    eventually_get(f"{system['sampling']}/pools/141029", lambda r: code in members(r.json(), "甲"), headers=COUNTY)

    # a supervisor's enforcement upgrade: 甲 → 乙, in the archive and in the pool
    upgraded = httpx.post(f"{system['registry']}/enterprises/{code}/upgrade", timeout=10, headers=COUNTY,
                          json={"reason": "瞒报接触人数", "steps": 1, "case_ref": "乡卫罚〔2026〕7号"})
    assert upgraded.status_code == 201, upgraded.text
    archive = httpx.get(f"{system['registry']}/enterprises/{code}", headers=COUNTY).json()
    assert (archive["category"], archive["effective_category"], archive["report_category"]) == ("乙", "乙", "甲")
    assert archive["overrides"][0]["actor"].startswith("乡宁县 张三 (county 141029")
    pool = eventually_get(f"{system['sampling']}/pools/141029", lambda r: code in members(r.json(), "乙"), headers=COUNTY).json()
    assert code not in members(pool, "甲")

    # a major violation decided by penalty: one more step, 乙 → 丙, named by its case
    case_id = uuid.uuid4()
    decided = PenaltyDecided(producer="penalty", credit_code=code, case_id=case_id, item_code="72-1", decision="penalty",
                             major=True, reasons=["超标且未改正"], trace=[])
    asyncio.run(produce(kafka_bootstrap, topics.PENALTY_DECIDED, decided.model_dump_json().encode(), code.encode()))
    archive = eventually_get(f"{system['registry']}/enterprises/{code}", lambda r: r.json()["category"] == "丙", headers=COUNTY).json()
    assert [o["case_ref"] for o in archive["overrides"]] == ["乡卫罚〔2026〕7号", str(case_id)]
    assert archive["overrides"][1]["actor"] == f"system:penalty event {decided.event_id}"
    eventually_get(f"{system['sampling']}/pools/141029", lambda r: code in members(r.json(), "丙"), headers=COUNTY)

    # 免检: the employer leaves the pool (listed apart, not counted) …
    today = china_today()
    granted = httpx.post(f"{system['registry']}/enterprises/{code}/exemptions", timeout=10, headers=CITY,
                         json={"valid_from": today.isoformat(), "valid_until": (today + timedelta(days=180)).isoformat(),
                               "reason": "信用评价 A 级", "basis": "临卫信〔2026〕1号"})
    assert granted.status_code == 201, granted.text
    exemption = granted.json()
    assert exemption["status"] == "in_force"
    pool = eventually_get(f"{system['sampling']}/pools/141029", lambda r: code in [m["credit_code"] for m in r.json()["exempted"]], headers=COUNTY).json()
    assert code not in members(pool, "丙")
    assert pool["counts"]["丙"] == len(pool["members"]["丙"]) and pool["total"] == sum(pool["counts"].values())
    city_pool = httpx.get(f"{system['sampling']}/pools/141000", headers=CITY).json()
    assert code in [m["credit_code"] for m in city_pool["exempted"]]

    # … and comes back, in its current category, when the exemption is revoked
    revoked = httpx.post(f"{system['registry']}/enterprises/{code}/exemptions/{exemption['id']}/revoke", timeout=10, headers=COUNTY,
                         json={"reason": "发现新的违法行为"})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    pool = eventually_get(f"{system['sampling']}/pools/141029", lambda r: code in members(r.json(), "丙"), headers=COUNTY).json()
    assert code not in [m["credit_code"] for m in pool["exempted"]]

    # every step is in 乡宁县's hash chain, with its actor, and the chain holds
    chain = httpx.get(f"{system['registry']}/audit/chain/141029", params={"limit": 1000}, headers=COUNTY).json()
    steps = [(e["change"], e["actor"].split(" (")[0]) for e in chain["items"] if e["credit_code"] == code]
    assert [change for change, _ in steps] == ["archived", "override", "override", "exemption_granted", "exemption_revoked"]
    assert steps[1][1] == "乡宁县 张三" and steps[3][1] == "临汾市 李四"
    assert httpx.get(f"{system['registry']}/audit/chain/141029/verify", headers=COUNTY).json()["ok"] is True


def test_an_exemption_that_runs_out_returns_the_employer_to_the_pool(system) -> None:
    """The daily sweep (here the operator's cron command, run for tomorrow) ends a 免检 on its last day."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO
    from tests.support import TEST_AUTH_SECRET

    code = new_credit_code("141029")
    httpx.post(f"{system['assessment']}/reports", json=report_for(code, "141029"), timeout=10, headers=COUNTY).raise_for_status()
    eventually_get(f"{system['sampling']}/pools/141029", lambda r: code in members(r.json(), "丙"), headers=COUNTY)

    today = china_today()
    granted = httpx.post(f"{system['registry']}/enterprises/{code}/exemptions", timeout=10, headers=CITY,
                         json={"valid_from": today.isoformat(), "valid_until": today.isoformat(),
                               "reason": "信用评价 A 级", "basis": "临卫信〔2026〕2号"})
    assert granted.status_code == 201, granted.text
    eventually_get(f"{system['sampling']}/pools/141029", lambda r: code in [m["credit_code"] for m in r.json()["exempted"]], headers=COUNTY)

    tomorrow = (today + timedelta(days=1)).isoformat()
    sweep = subprocess.run(
        [sys.executable, "-m", "services.registry.sweep", "--today", tomorrow, "--database-url", system["registry_database_url"]],
        cwd=REPO, env=dict(os.environ, OHS_AUTH_SECRET=TEST_AUTH_SECRET), capture_output=True, text=True, timeout=60,
    )
    assert sweep.returncode == 0, sweep.stderr
    # the sweep's event waits in the registry's outbox; the running registry publishes it, sampling re-admits
    pool = eventually_get(f"{system['sampling']}/pools/141029", lambda r: code in members(r.json(), "丙"), headers=COUNTY).json()
    assert code not in [m["credit_code"] for m in pool["exempted"]]
    chain = httpx.get(f"{system['registry']}/audit/chain/141029", params={"limit": 1000}, headers=COUNTY).json()
    assert [e["change"] for e in chain["items"] if e["credit_code"] == code][-1] == "exemption_expired"
