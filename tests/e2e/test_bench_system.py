"""`make bench`'s system, console and monitoring parts, end to end: `bench/run.py --quick` starts its own broker, PostgreSQL and
the services (deploy/kafka/kafka.sh, deploy/postgres/pg.sh), measures, stops them, and writes
every system figure with a number. The figures are not asserted against their targets: that is the
benchmark's report (docs/performance.md), not a test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import console as console_bench
import monitoring as monitoring_bench
import system

sys.path.remove(str(REPO / "bench"))


def test_the_quick_bench_measures_every_system_figure(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--out", str(tmp_path)], check=False, cwd=REPO, capture_output=True, text=True, timeout=1200,
    )
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-5000:]
    [written] = tmp_path.glob("*-quick.json")
    figures = {f["name"]: f for f in json.loads(written.read_text(encoding="utf-8"))["figures"] if f["source"] == "system"}
    assert set(figures) == set(system.FIGURE_NAMES), run.stdout
    for name, figure in figures.items():
        assert name in run.stdout  # a row of the table
        if name == system.BATCH and figure["value"] is None:
            assert figure["notes"].startswith("not available"), figure  # the batch endpoint answered 404/405
            continue
        assert isinstance(figure["value"], (int, float)) and figure["value"] > 0, figure
        assert figure["unit"]
    for name in (system.E2E, system.E2E_SHARE, system.BATCH, system.FIXED_HTTP_P99, system.ARCHIVED_P99, system.REPLAY):
        assert figures[name]["target"] is not None, name
    # the console's pages over a seeded archive (issue 15): every figure measured, every page answered 200
    pages = [f for f in json.loads(written.read_text(encoding="utf-8"))["figures"] if f["source"] == "console"]
    assert [f["name"] for f in pages] == console_bench.figure_names(2_000), run.stdout
    for figure in pages:
        assert isinstance(figure["value"], (int, float)) and figure["value"] > 0 and "NOT 200" not in figure["notes"], figure
    monitoring_figures_are_all_there(json.loads(written.read_text(encoding="utf-8"))["figures"], run.stdout)


def monitoring_figures_are_all_there(written: list[dict], stdout: str) -> None:
    """Issue 17's figures: readings/s, the back-fill, and a reading over a limit → its exceedance → its verification task,
    every spike's task staffed with the two inspectors of the county's roster."""
    figures = {f["name"]: f for f in written if f["source"] == "monitoring"}
    assert list(figures) == list(monitoring_bench.FIGURE_NAMES), stdout
    for name, figure in figures.items():
        assert name in stdout  # a row of the table
        assert isinstance(figure["value"], (int, float)) and figure["value"] > 0, figure
    assert figures[monitoring_bench.TASK_P99]["target"] == 5_000 and figures[monitoring_bench.BACKFILL]["target"] == 20_000
    spikes, tasks = figures[monitoring_bench.TASK_P99]["notes"].split(" spikes' verification tasks")[0].split(" of ")
    assert spikes == tasks and "with 2 inspectors" in figures[monitoring_bench.TASK_P99]["notes"], figures[monitoring_bench.TASK_P99]
