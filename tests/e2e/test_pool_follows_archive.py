"""The sampling pool follows the archive, not only the category: four service processes, a real
broker, HTTP only.

A 大宁县 141030 cement works (建材, GB/T 4754 C3011) reports, is archived 丙 and lands in the pool,
and a new plan takes it in full (建材 is a full-coverage industry by default). It then reports again:
the same category, but it now makes food (C1391). The pool shows its new industry codes, and the
next plan draws it at random like any other 丙 employer, no longer in full.

The topics replay from offset 0 across tests and parametrisations, so the pool of 141030 may hold
employers of an earlier run too: the test looks only at its own employer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support import auth, eventually_get, new_credit_code, report_for

pytestmark = pytest.mark.e2e

REGION = "141030"  # 大宁县, in 临汾市
COUNTY = auth("county", REGION, name="大宁县 赵六")
CEMENT, FOOD = "C3011", "C1391"  # 水泥制造 (建材: C30, full coverage by default), 其他食品制造 (C13)


def report_in(code: str, industry: str) -> dict[str, Any]:
    report = report_for(code, REGION)
    report["enterprise"]["industry_codes"] = [industry]
    return report


def pool_member(response: httpx.Response, code: str) -> dict[str, Any] | None:
    return next((m for members in response.json()["members"].values() for m in members if m["credit_code"] == code), None)


def new_plan_drawn(system: dict[str, str]) -> dict[str, Any]:
    """A new plan for 141030 with the default parameters, drawn: the draw lists the pool it used,
    each member with ``full_coverage``."""
    created = httpx.post(f"{system['sampling']}/plans", headers=COUNTY, timeout=10, json={"region_code": REGION, "period": "2026"})
    assert created.status_code == 201, created.text
    assert "C30" in created.json()["full_coverage_industries"], "建材 is taken in full by default"
    drawn = httpx.post(f"{system['sampling']}/plans/{created.json()['id']}/draw", headers=COUNTY, timeout=10)
    assert drawn.status_code == 201, drawn.text
    return drawn.json()


def full_coverage(draw: dict[str, Any]) -> set[str]:
    return {entry["credit_code"] for entry in draw["pool"] if entry["full_coverage"]}


def test_an_employer_that_changes_industry_leaves_the_full_coverage_set_of_new_plans(system) -> None:
    roster = {"inspectors": [{"id": f"dn-{k}", "name": f"大宁县检查员{k}"} for k in range(1, 4)]}
    assert httpx.put(f"{system['sampling']}/inspectors/{REGION}", json=roster, headers=COUNTY, timeout=10).status_code == 200

    # a cement works reports: archived 丙, pooled, and taken in full by a new plan
    code = new_credit_code(REGION)
    httpx.post(f"{system['assessment']}/reports", json=report_in(code, CEMENT), timeout=10, headers=COUNTY).raise_for_status()
    archive = eventually_get(f"{system['registry']}/enterprises/{code}", lambda r: r.status_code == 200, headers=COUNTY).json()
    assert (archive["category"], archive["industry_codes"]) == ("丙", [CEMENT])
    eventually_get(f"{system['sampling']}/pools/{REGION}", lambda r: r.status_code == 200 and pool_member(r, code) is not None,
                   timeout=30, headers=COUNTY)
    draw = new_plan_drawn(system)
    assert code in full_coverage(draw)
    assert {t["credit_code"]: t["selection"] for t in draw["targets"]}[code] == "full_coverage"

    # it reports again: the same category, another industry (food)
    httpx.post(f"{system['assessment']}/reports", json=report_in(code, FOOD), timeout=10, headers=COUNTY).raise_for_status()
    archive = eventually_get(f"{system['registry']}/enterprises/{code}", lambda r: len(r.json()["history"]) == 2, headers=COUNTY).json()
    assert [v["category"] for v in archive["history"]] == ["丙", "丙"] and archive["category"] == "丙"
    assert archive["industry_codes"] == [FOOD]

    # the pool follows the archive: the member shows its new industry …
    pool = eventually_get(f"{system['sampling']}/pools/{REGION}",
                          lambda r: (pool_member(r, code) or {}).get("industry_codes") == [FOOD], timeout=30, headers=COUNTY)
    assert code in [m["credit_code"] for m in pool.json()["members"]["丙"]], "still 丙, still in the pool"

    # … and a new plan no longer takes it in full (it may still be drawn at random)
    draw = new_plan_drawn(system)
    assert code in {entry["credit_code"] for entry in draw["pool"]}
    assert code not in full_coverage(draw)
    assert {t["credit_code"]: t["selection"] for t in draw["targets"]}.get(code, "random") == "random"
