"""The demonstration's agency file (deploy/demo/rules, `make run`'s $OHS_RULES_DIR) is the packaged limits table
with three shifts for 浙江, nothing else: it cannot drift from the national values it claims to repeat, and the
monitoring service loads it as an agency's override."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from services.monitoring.adapters.rules import load_limits

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "deploy/demo/rules"


def test_the_demo_limits_are_the_packaged_ones_with_three_shifts_for_zhejiang() -> None:
    packaged = json.loads((REPO / "services/monitoring/rules/limits-national-2019.json").read_text(encoding="utf-8"))
    demo = json.loads((DEMO / "monitoring/limits-330000-demo.json").read_text(encoding="utf-8"))
    changed = {"jurisdiction", "version", "effective_from", "source", "shifts"}
    assert {k: v for k, v in demo.items() if k not in changed} == {k: v for k, v in packaged.items() if k not in changed}
    assert (demo["jurisdiction"], demo["provisional"], demo["source"][:2]) == ("330000", True, "示例")
    assert sum(s["hours"] for s in demo["shifts"]) == 24

    book = load_limits(DEMO)
    assert book.in_force("330106", date(2026, 12, 7)).version == "demo.1"
    assert book.in_force("141029", date(2026, 12, 7)).jurisdiction == "CN", "山西 keeps the national table"
