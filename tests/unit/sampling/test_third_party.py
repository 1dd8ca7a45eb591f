"""A third party reproduces a published draw with nothing but the publication and docs/api.md's
description of ohs-draw-v1: this module imports nothing from services.sampling.

``data/publication-141024-2026.json`` is a real publication (GET /plans/{id}/publication) of a
洪洞县 plan: 72 employers, 5 inspectors, one with a declared conflict, two full-coverage (建材)
employers, a minimum count for 甲. test_plans_http runs ``reproduce`` on fresh publications too.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

PUBLICATION = Path(__file__).resolve().parent / "data" / "publication-141024-2026.json"


def h(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def reproduce(pub: dict) -> tuple[bool, str]:
    """The algorithm of docs/api.md, written from its prose: (True, "") or (False, what differs)."""
    plan, d = pub["plan"], pub["draw"]
    seed = d["seed"]
    if h(seed) != pub["commitment"]:
        return False, "commitment"
    canonical = json.dumps(d["pool"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if hashlib.sha256(canonical).hexdigest() != d["pool_hash"]:
        return False, "pool hash"
    targets = []
    for cat in ("甲", "乙", "丙"):
        members = [m for m in d["pool"] if m["category"] == cat]
        n = min(len(members), max(plan["minimums"][cat], math.ceil(Fraction(Decimal(plan["ratios"][cat])) * len(members))))
        full = [m for m in members if m["full_coverage"]]
        ranked = sorted((m for m in members if not m["full_coverage"]), key=lambda m: h(f"{seed}|{cat}|{m['credit_code']}"))
        chosen = [(m, "full_coverage") for m in full] + [(m, "random") for m in ranked[: max(0, n - len(full))]]
        chosen.sort(key=lambda pair: h(f"{seed}|{cat}|{pair[0]['credit_code']}"))
        on_site = not (cat == "甲" and plan["jia_non_site"])
        targets += [{"credit_code": m["credit_code"], "category": cat, "selection": how, "on_site": on_site} for m, how in chosen]
    load = {i["id"]: 0 for i in d["roster"]}
    for t in targets:
        eligible = [i["id"] for i in d["roster"] if t["credit_code"] not in i["conflicts"]]
        eligible.sort(key=lambda i: (load[i], h(f"{seed}|inspector|{t['credit_code']}|{i}")))
        t["inspectors"] = eligible[: plan["inspectors_per_task"]]
        for i in t["inspectors"]:
            load[i] += 1
    published = [{"credit_code": t["credit_code"], "category": t["category"], "selection": t["selection"], "on_site": t["on_site"],
                  "inspectors": [i["id"] for i in t["inspectors"]]} for t in d["targets"]]
    return (True, "") if published == targets else (False, "targets")


def test_a_third_party_reproduces_the_published_draw_exactly() -> None:
    pub = json.loads(PUBLICATION.read_text(encoding="utf-8"))
    assert reproduce(pub) == (True, "")
    selections = [t["selection"] for t in pub["draw"]["targets"]]
    assert "full_coverage" in selections and "random" in selections, "the file exercises both kinds of selection"
    assert any(i["conflicts"] for i in pub["draw"]["roster"]), "… and a declared conflict"


def test_the_third_party_sees_a_tampered_publication() -> None:
    pub = json.loads(PUBLICATION.read_text(encoding="utf-8"))
    seed = copy.deepcopy(pub)
    seed["draw"]["seed"] = "0" * 64
    assert reproduce(seed) == (False, "commitment")
    pool = copy.deepcopy(pub)
    pool["draw"]["pool"][0]["category"] = "丙" if pool["draw"]["pool"][0]["category"] != "丙" else "甲"
    assert reproduce(pool) == (False, "pool hash")
    inspectors = copy.deepcopy(pub)
    inspectors["draw"]["targets"][-1]["inspectors"].reverse()
    assert reproduce(inspectors) == (False, "targets")
