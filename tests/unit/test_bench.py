"""`make bench` keeps working (bench/run.py): its quick in-process run prints the table of figures
beside their targets and writes the results JSON with every figure and the machine. The figures
themselves are not asserted — speed belongs in the benchmark, not in unit tests. The system part
(a broker, PostgreSQL and the four services) runs in tests/e2e/test_bench_system.py.

The synthetic province (bench/province.py) that seeds the reports is checked here too: every report
validates, passes the business rules, classifies, and the categories are a mix of 甲/乙/丙."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

FIGURE_KEYS = {"name", "value", "unit", "target", "higher_is_better", "met", "notes"}


def test_the_quick_in_process_run_prints_the_table_and_writes_every_figure(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--inprocess-only", "--out", str(tmp_path)],
        check=False, cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "figure" in run.stdout and "| measured" in run.stdout and "| target" in run.stdout and "| met" in run.stdout, run.stdout

    [written] = tmp_path.glob("*-quick.json")
    result = json.loads(written.read_text(encoding="utf-8"))
    assert {"cores", "ram_gib", "cpu", "python", "kafka", "git_commit"} <= set(result["machine"])
    assert written.name == f"{result['date']}-quick.json"
    figures = result["figures"]
    if (REPO / "bench" / "inprocess.py").exists():
        assert figures, run.stdout
    else:
        assert "in-process figures: not available" in run.stdout
    for figure in figures:
        assert FIGURE_KEYS <= set(figure), figure
        assert "target" in figure and isinstance(figure["higher_is_better"], bool)
        assert figure["name"] in run.stdout  # every figure is a row of the table


def test_the_synthetic_province_validates_and_classifies_to_a_mix_of_categories() -> None:
    run = subprocess.run([sys.executable, "bench/province.py", "--check", "--count", "500"], check=False, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 failing" in run.stdout and "甲" in run.stdout and "乙" in run.stdout and "丙" in run.stdout


def test_the_synthetic_province_is_seeded() -> None:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from province import synthetic_reports
    finally:
        sys.path.remove(str(REPO / "bench"))
    from datetime import date

    first = list(synthetic_reports(50, seed=7, as_of=date(2025, 6, 30)))
    assert first == list(synthetic_reports(50, seed=7, as_of=date(2025, 6, 30)))
    assert first[10:] == list(synthetic_reports(40, seed=7, start=10, as_of=date(2025, 6, 30)))  # employer i is always the same
    assert first != list(synthetic_reports(50, seed=8, as_of=date(2025, 6, 30)))
    assert len({r["enterprise"]["credit_code"] for r in first}) == 50
