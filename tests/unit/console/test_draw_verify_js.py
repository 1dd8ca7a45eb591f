"""The browser's verifier of a published draw (services/console/static/js/draw-verify.js, run by Node's WebCrypto)
agrees with the sampling service: on publications the service itself produced (plans drawn through its HTTP API,
read back from GET /plans/{id}/publication), the script says "match" and recomputes exactly what the Python domain
computes (pool hash, quotas, targets with their rank keys and inspectors); on tampered copies it says "mismatch",
as the service's verifier does, and names the first difference in Chinese; public-plan.js marks the page.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.sampling.bootstrap import bootstrap
from services.sampling.domain.draw import ALGORITHM, PoolEntry, RosterInspector, assign_inspectors, pool_hash, select_targets
from services.sampling.domain.publication import parameters_of, verify
from services.sampling.service_layer.handlers import place_in_pool
from shared.contracts import ClassificationChanged
from shared.identifiers import credit_code_check_character
from tests.support import app_without_broker, auth

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "verify_runner.mjs"
REAL_PUBLICATION = HERE.parent / "sampling" / "data" / "publication-141024-2026.json"  # a 洪洞县 draw, with a conflict
STAFF = auth("province", "140000", name="山西省 王五")
NODE = shutil.which("node")


def code(n: int, region: str) -> str:
    body = f"91{region}MA{n:07d}"
    return body + credit_code_check_character(body)


def node(mode: str, payload: Any) -> Any:
    assert NODE, "node (20 or later) is on every machine of this project"
    done = subprocess.run([NODE, str(RUNNER), mode], input=json.dumps(payload, ensure_ascii=False), capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --------------------------------------------------------------------------- publications made by the service


def employers(region: str, counts: dict[str, int], full_coverage: frozenset[int] = frozenset()) -> list[ClassificationChanged]:
    """``counts`` employers per category in ``region``, numbered from 1; those in ``full_coverage`` in 化工 (C2614)."""
    events, n = [], 0
    for category, count in counts.items():
        for _ in range(count):
            n += 1
            events.append(ClassificationChanged(
                producer="test", credit_code=code(n, region), enterprise_name=f"{region} 企业 {n}", region_code=region,
                archive_version=1, previous_category=None, category=category, hazard_grade="Ⅲ", management_grade="B",
                submission_id=None, reason="test", industry_codes=["C2614"] if n in full_coverage else ["C3399"]))
    return events


def roster(region: str, size: int, conflicts: dict[int, list[str]] | None = None, inactive: int | None = None) -> dict[str, Any]:
    return {"inspectors": [
        {"id": f"{region}-{k:02d}", "name": f"检查员{k}", "active": k != inactive,
         "conflicts": [{"credit_code": c, "reason": "亲属任职"} for c in (conflicts or {}).get(k, [])]}
        for k in range(1, size + 1)]}


@pytest.fixture(scope="module")
def sampling(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = app_without_broker(bootstrap, "sampling", tmp_path_factory.mktemp("sampling"))
    with app.state.runtime.uow() as uow:
        for event in (employers("141024", {"甲": 30, "乙": 30, "丙": 10}, full_coverage=frozenset({61, 62}))  # 洪洞县
                      + employers("141029", {"甲": 3, "乙": 1})  # 乡宁县: a small pool
                      + employers("141021", {"甲": 90, "乙": 210, "丙": 300}, full_coverage=frozenset({5, 400, 401}))):  # 曲沃县
            place_in_pool(uow, event)
        uow.commit()
    client = TestClient(app)
    # 洪洞县: inspector 1 may not inspect any 丙 employer (回避); inspector 6 is inactive, left out of the draw
    assert client.put("/inspectors/141024", json=roster("141024", 6, {1: [code(n, "141024") for n in range(61, 71)]}, inactive=6),
                      headers=STAFF).status_code == 200
    assert client.put("/inspectors/141029", json=roster("141029", 4, {2: [code(1, "141029")], 3: [code(2, "141029")]}),
                      headers=STAFF).status_code == 200
    assert client.put("/inspectors/141021", json=roster("141021", 12, {k: [code(n, "141021") for n in range(k, 600, 7)] for k in (1, 5)}),
                      headers=STAFF).status_code == 200
    yield client
    app.state.runtime.engine.dispose()


def publish(client: TestClient, region: str, period: str, draw: bool = True, **body: Any) -> dict[str, Any]:
    created = client.post("/plans", json={"region_code": region, "period": period, **body}, headers=STAFF)
    assert created.status_code == 201, created.text
    plan_id = created.json()["id"]
    if draw:
        drawn = client.post(f"/plans/{plan_id}/draw", headers=STAFF)
        assert drawn.status_code == 201, drawn.text
    response = client.get(f"/plans/{plan_id}/publication")  # no token: what the public page embeds
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def genuine(sampling: TestClient) -> dict[str, dict[str, Any]]:
    return {
        # 0.1 × 30 is 3, never 4; two full-coverage 丙 (化工) count toward ceil(0.3 × 10) = 3; 甲 non-site
        "洪洞县": publish(sampling, "141024", "2026", ratios={"甲": "0.03", "乙": "0.1", "丙": "0.3"}),
        # the pool smaller than the quota (甲: minimum 5 of 3, 乙: 1 of 1, 丙: none); 3 inspectors per task, 2 conflicts
        "乡宁县": publish(sampling, "141029", "2026Q1", minimums={"甲": 5}, ratios={"乙": 1}, inspectors_per_task=3, jia_non_site=False),
        # 600 employers, 12 inspectors with many conflicts: the loads must be followed exactly; 0.07 × 300 is 21, where
        # binary floating point says 21.000000000000004
        "曲沃县": publish(sampling, "141021", "2026", ratios={"甲": "0.15", "乙": "0.07", "丙": "0.07"}, minimums={"乙": 20}),
        # no employer and no inspector at all: nothing drawn, nobody assigned
        "翼城县": publish(sampling, "141022", "2026"),
        # a real publication kept with the sampling tests
        "文件": json.loads(REAL_PUBLICATION.read_text(encoding="utf-8")),
    }


def python_recomputes(publication: dict[str, Any]) -> dict[str, Any]:
    """The draw as the Python domain computes it from the publication (services/sampling/domain/draw.py)."""
    record = publication["draw"]
    pool = [PoolEntry(m["credit_code"], m["category"], m["full_coverage"]) for m in record["pool"]]
    inspectors = [RosterInspector(i["id"], i["name"], frozenset(i["conflicts"])) for i in record["roster"]]
    params = parameters_of(publication["plan"])
    result = select_targets(record["seed"], pool, params)
    targets = assign_inspectors(record["seed"], result.targets, inspectors, params.inspectors_per_task)
    return {"poolHash": pool_hash([e.public() for e in pool]), "quotas": result.quotas, "poolSizes": result.pool_sizes,
            "targets": [{"credit_code": t.credit_code, "category": t.category, "selection": t.selection, "on_site": t.on_site,
                         "rank_key": t.rank_key, "inspectors": list(t.inspectors)} for t in targets]}


# --------------------------------------------------------------------------- genuine: match, and the same arithmetic


def test_every_genuine_publication_verifies_in_the_browser_with_the_python_arithmetic(genuine: dict[str, dict[str, Any]]) -> None:
    names = list(genuine)
    outcomes = dict(zip(names, node("verify", [genuine[n] for n in names]), strict=True))
    for name, publication in genuine.items():
        outcome = outcomes[name]
        assert verify(publication) == {"match": True}, name
        assert (outcome["result"], outcome["firstDifference"]) == ("match", None), (name, outcome["firstDifference"])
        recomputed = outcome["recomputed"]
        assert recomputed["commitment"] == publication["commitment"]
        assert {k: recomputed[k] for k in ("poolHash", "quotas", "poolSizes", "targets")} == python_recomputes(publication), name
        assert outcome["text"].startswith("核验通过") and f"{len(publication['draw']['targets'])} 个抽中单位" in outcome["text"]

    hongdong, xiangning = outcomes["洪洞县"]["recomputed"], outcomes["乡宁县"]["recomputed"]
    assert hongdong["quotas"] == {"甲": 1, "乙": 3, "丙": 3}, "0.1 × 30 is exactly 3"
    assert [t["selection"] for t in hongdong["targets"]].count("full_coverage") == 2
    assert all("141024-01" not in t["inspectors"] for t in hongdong["targets"] if t["category"] == "丙"), "回避"
    assert all("141024-06" not in t["inspectors"] for t in hongdong["targets"]), "an inactive inspector is not on the roster"
    assert xiangning["quotas"] == {"甲": 3, "乙": 1, "丙": 0} and {len(t["inspectors"]) for t in xiangning["targets"]} == {3}
    assert {t["on_site"] for t in xiangning["targets"]} == {True} and {t["on_site"] for t in hongdong["targets"] if t["category"] == "甲"} == {False}
    assert outcomes["曲沃县"]["recomputed"]["quotas"] == {"甲": 14, "乙": 20, "丙": 21}, "ceil(0.15×90), minimum 20, 0.07×300"
    assert outcomes["翼城县"]["recomputed"]["targets"] == [] and genuine["翼城县"]["draw"]["roster"] == []


def test_ratios_are_exact_decimal_text_in_the_browser_as_in_python(genuine: dict[str, dict[str, Any]]) -> None:
    """The quota of each category for ratio texts where binary floating point would be off by one (the copies no longer
    match their draw; what matters is that both sides recompute the same quotas)."""
    texts = ["0.1", "0.10", "1E-1", "0.0333", "0.3", "1", "0", "0.14", 0.56, "1_0E-2", " 0.68 ", "0.999999999999999999999", "7e-2"]
    copies = []
    for text in texts:
        publication = copy.deepcopy(genuine["曲沃县"])
        publication["plan"]["ratios"] = {"甲": text, "乙": text, "丙": text}
        publication["plan"]["minimums"] = {"甲": 0, "乙": 0, "丙": 0}
        copies.append(publication)
    for text, publication, outcome in zip(texts, copies, node("verify", copies), strict=True):
        params = parameters_of(publication["plan"])
        pool = [PoolEntry(m["credit_code"], m["category"], m["full_coverage"]) for m in publication["draw"]["pool"]]
        assert outcome["recomputed"]["quotas"] == select_targets(publication["draw"]["seed"], pool, params).quotas, text
    quotas = [o["recomputed"]["quotas"] for o in node("verify", copies[:3] + copies[-1:])]
    assert quotas[0] == quotas[1] == quotas[2] == {"甲": 9, "乙": 21, "丙": 30}
    assert quotas[3] == {"甲": 7, "乙": 15, "丙": 21}, "7e-2 × 300 is 21 (binary floating point: 21.000000000000004)"


# --------------------------------------------------------------------------- tampered: mismatch, the first difference named


def tamper(publication: dict[str, Any], how: str) -> tuple[dict[str, Any], list[str]]:
    """A tampered copy and the words its first difference must contain."""
    forged = copy.deepcopy(publication)
    record = forged["draw"]
    targets = record["targets"]
    drawn = {t["credit_code"] for t in targets}
    if how == "targets swapped":
        targets[0], targets[1] = targets[1], targets[0]
        return forged, ["第1个抽中单位不一致", f"公布为 {targets[0]['credit_code']}", f"重算为 {targets[1]['credit_code']}"]
    if how == "a target replaced":
        last = targets[-1]
        other = next(m["credit_code"] for m in record["pool"] if m["category"] == last["category"] and m["credit_code"] not in drawn)
        wanted, last["credit_code"] = last["credit_code"], other
        return forged, [f"第{len(targets)}个抽中单位不一致", f"公布为 {other}", f"重算为 {wanted}"]
    if how == "seed changed":
        record["seed"] = "0" * 64
        return forged, ["随机种子与承诺值不符", forged["commitment"]]
    if how == "commitment changed":
        forged["commitment"] = "f" * 64
        return forged, ["随机种子与承诺值不符", "f" * 64]
    if how == "inspector changed":
        target = targets[-1]
        assigned = {i["id"] for i in target["inspectors"]}
        stranger = next(i for i in record["roster"] if i["id"] not in assigned)
        target["inspectors"][0] = {"id": stranger["id"], "name": stranger["name"]}
        return forged, [f"第{len(targets)}个抽中单位（{target['credit_code']}）的检查人员不一致", f"公布为 {stranger['name']}（{stranger['id']}）"]
    if how == "a pool member removed":
        removed = next(m for m in record["pool"] if m["credit_code"] not in drawn)
        record["pool"].remove(removed)
        return forged, ["名录库与公布的名录库哈希不符", f"{len(record['pool'])} 家单位", record["pool_hash"]]
    if how == "a drawn member removed from the pool, hash recomputed":
        record["pool"] = [m for m in record["pool"] if m["credit_code"] != targets[0]["credit_code"]]
        record["pool_hash"] = pool_hash(record["pool"])
        return forged, ["第1个抽中单位不一致", f"公布为 {targets[0]['credit_code']}"]
    if how == "pool out of order":
        record["pool"][0], record["pool"][1] = record["pool"][1], record["pool"][0]
        return forged, ["名录库未按统一社会信用代码排序", "第1项"]
    if how == "category changed":
        target = targets[0]
        target["category"] = "丙" if target["category"] != "丙" else "乙"
        return forged, [f"第1个抽中单位（{target['credit_code']}）的类别不一致", f"公布为 {target['category']}"]
    if how == "on_site flipped":
        target = targets[0]
        target["on_site"] = not target["on_site"]
        return forged, ["第1个抽中单位", "检查方式不一致"]
    if how == "a target dropped":
        dropped = targets.pop()
        return forged, ["抽中单位的数量不一致", f"公布 {len(targets)} 个，重算 {len(targets) + 1} 个", dropped["credit_code"], "未公布"]
    if how == "ratio raised":
        forged["plan"]["ratios"]["乙"] = "0.5"
        return forged, ["抽中单位"]
    raise AssertionError(how)


TAMPERING = ["targets swapped", "a target replaced", "seed changed", "commitment changed", "inspector changed", "a pool member removed",
             "a drawn member removed from the pool, hash recomputed", "pool out of order", "category changed", "on_site flipped",
             "a target dropped", "ratio raised"]


@pytest.mark.parametrize("base", ["洪洞县", "曲沃县", "文件"])
def test_a_tampered_publication_is_a_mismatch_naming_the_first_difference(genuine: dict[str, dict[str, Any]], base: str) -> None:
    forged = [tamper(genuine[base], how) for how in TAMPERING]
    outcomes = node("verify", [publication for publication, _ in forged])
    for how, (publication, words), outcome in zip(TAMPERING, forged, outcomes, strict=True):
        python = verify(publication)
        assert python["match"] is False, how
        assert outcome["result"] == "mismatch", (how, outcome)
        assert all(w in outcome["firstDifference"] for w in words), (how, outcome["firstDifference"], words)
        assert outcome["text"] == f"核验未通过：{outcome['firstDifference']}。"
        if python["code"] == "sampling.draw.verify.target":  # the same target as the service's verifier names
            assert outcome["firstDifference"].startswith(f"第{python['params']['index'] + 1}个抽中单位"), (how, python, outcome)


def test_what_cannot_be_verified_is_said_and_not_called_a_match(sampling: TestClient, genuine: dict[str, dict[str, Any]]) -> None:
    committed = publish(sampling, "141024", "2027", draw=False)  # the seed is still secret
    handed_down = sampling.post("/plans", json={"region_code": "141000", "period": "2027Q2", "hand_down": True}, headers=STAFF).json()
    parent = sampling.get(f"/plans/{handed_down['id']}/publication").json()
    newer = copy.deepcopy(genuine["洪洞县"])
    newer["algorithm_version"] = "ohs-draw-v2"
    no_draw = copy.deepcopy(genuine["洪洞县"])
    no_draw["draw"] = None  # "drawn", yet without its draw
    shortage = copy.deepcopy(genuine["乡宁县"])
    shortage["draw"]["roster"] = shortage["draw"]["roster"][:2]  # 3 inspectors per task, 2 on the roster
    outcomes = node("verify", [committed, parent, newer, no_draw, shortage, [1, 2]])
    said = [(o["result"], o["firstDifference"]) for o in outcomes]
    assert said[0][0] == "unsupported" and "尚未抽取" in said[0][1] and committed["commitment"] in said[0][1]
    assert said[1][0] == "unsupported" and "下发" in said[1][1]
    assert said[2][0] == "unsupported" and "ohs-draw-v2" in said[2][1] and ALGORITHM in said[2][1]
    assert said[3][0] == "mismatch" and "已抽取" in said[3][1]
    assert said[4][0] == "mismatch" and "第1个抽中单位" in said[4][1] and "每项任务需要 3 名" in said[4][1]
    assert verify(shortage)["code"] == "sampling.draw.verify.not_recomputable"
    assert said[5][0] == "unsupported"
    assert all(o["text"].startswith("无法核验：") for o in (outcomes[0], outcomes[1], outcomes[2], outcomes[5]))
    [blind] = node("verify-without-webcrypto", [genuine["洪洞县"]])
    assert blind["result"] == "unsupported" and "WebCrypto" in blind["firstDifference"], "never a match without computing"


# --------------------------------------------------------------------------- the page


def test_the_page_verifies_on_load_and_again_on_the_button(genuine: dict[str, dict[str, Any]]) -> None:
    publication = genuine["洪洞县"]
    forged, _ = tamper(publication, "inspector changed")
    first, second = node("page", {"genuine": json.dumps(publication, ensure_ascii=False),
                                  "tampered": json.dumps(forged, ensure_ascii=False)})["runs"]
    assert first["states"] == ["pending", "match"] and first["attribute"] == "match"
    assert first["disabledWhilePending"] == [True] and first["disabledAfter"] is False, "no second click while it runs"
    assert first["text"].startswith("核验通过")
    assert second["states"] == ["pending", "mismatch"] and second["attribute"] == "mismatch"
    assert second["text"] == f"核验未通过：{second['result']['firstDifference']}。" and "检查人员不一致" in second["text"]
