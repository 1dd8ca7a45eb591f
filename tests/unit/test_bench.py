"""`make bench` keeps working: its quick run prints one figure per hot path (the figures themselves
are not asserted — speed belongs in the benchmark, not in unit tests)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_the_benchmark_runs_and_prints_every_figure() -> None:
    run = subprocess.run([sys.executable, "bench/bench.py", "--quick"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    figures = [line.split()[0] for line in run.stdout.splitlines()[1:]]
    assert figures == ["classification", "draw", "case"], run.stdout
    assert "verify" in run.stdout and "reports/s" in run.stdout
