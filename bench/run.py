"""`make bench`: every performance figure of the platform in one run, each printed beside its target.

* in-process figures (``bench/inprocess.py``: classification, sampling draws and their verification,
  case codes …), measured in this process;
* system figures (``bench/system.py``): a fresh broker, a fresh PostgreSQL and the four services as
  processes — raw Kafka baseline, end-to-end reports/s, HTTP intake, latency at a fixed load, registry
  replay, peak RSS of each service.
* console figures (``bench/console.py``): another fresh system with an archive of 10⁵ employers (2,000 quick)
  and the console: the list and dashboard pages' p50/p95, one client and 4.
* monitoring figures (``bench/monitoring.py``): a fresh broker and PostgreSQL, the monitoring and sampling services:
  readings/s through ``POST /readings:batch`` on PostgreSQL and SQLite, reading-over-a-limit → ExceedanceDetected and
  → the verification task (TaskAssigned) p50/p99 at 800 readings/s, and a back-fill of 10⁶ readings of one day.

Prints a table ``figure | measured | target | met`` and writes every figure with the machine (cores, RAM,
CPU, Python, Kafka version, git commit, the date in China) to ``bench/results/<YYYY-MM-DD>.json``
(``<date>-quick.json`` for ``--quick``, a smoke run with small sizes). docs/performance.md explains
each figure.

    .venv/bin/python bench/run.py                      # the full run (~10-15 min on 2 cores)
    .venv/bin/python bench/run.py --quick              # smoke run
    .venv/bin/python bench/run.py --employers 1000000   # pools of 10⁶ employers for the draws
    .venv/bin/python bench/run.py --inprocess-only     # no broker, no PostgreSQL
    .venv/bin/python bench/run.py --console-only       # the console's pages over an archive of 10⁵ employers (bench/console.py)
    .venv/bin/python bench/run.py --monitoring-only    # readings/s, back-fill, reading → exceedance and → verification task (bench/monitoring.py)
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for path in (REPO, REPO / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from shared.dates import CHINA, china_today

RESULTS = REPO / "bench" / "results"
KEYS = ("name", "value", "unit", "target", "higher_is_better", "met", "notes")


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=20, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu, ram = None, None
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), None)
        ram_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:"))
        ram = round(ram_kb / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        pass
    pom = (REPO / "deploy" / "kafka" / "pom.xml").read_text()
    kafka = m.group(1) if (m := re.search(r"<kafka.version>(.*?)</kafka.version>", pom)) else None
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    status = _git("status", "--porcelain")
    return {
        "cores": os.cpu_count(),
        "ram_gib": ram,
        "cpu": cpu or platform.processor() or platform.machine(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "kafka": kafka,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "load_average_at_start": load,
    }


def inprocess_figures(quick: bool, employers: int) -> list[dict[str, Any]] | None:
    """bench/inprocess.py's figures, or None when that module is not there."""
    try:
        import inprocess  # type: ignore[import-not-found]
    except ImportError as error:
        if getattr(error, "name", None) != "inprocess":
            raise
        return None
    # the draw and its verification are judged over a pool of 10⁶ (the size) unless quick, whatever
    # --employers says about the system part; a larger --employers makes the pool larger still
    options: dict[str, Any] = {"quick": quick, "large": not quick}
    if employers > 1_000_000 and "employers" in inspect.signature(inprocess.figures).parameters:
        options["employers"] = employers
    return list(inprocess.figures(**options))


def _number(value: float) -> str:
    if isinstance(value, float) and not value.is_integer() and abs(value) < 1000:
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def shown_value(figure: dict[str, Any]) -> str:
    if figure["value"] is None:
        return "not available"
    return f"{_number(figure['value'])} {figure['unit']}"


def shown_target(figure: dict[str, Any]) -> str:
    if figure["target"] is None:
        return "—"
    return f"{'≥' if figure['higher_is_better'] else '≤'} {_number(figure['target'])} {figure['unit']}"


def shown_met(figure: dict[str, Any]) -> str:
    return {True: "yes", False: "NO", None: "—"}[figure["met"]]


def table(figures: list[dict[str, Any]]) -> str:
    rows = [("figure", "measured", "target", "met")] + [(f["name"], shown_value(f), shown_target(f), shown_met(f)) for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [" | ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def checked(figures: list[dict[str, Any]], source: str) -> list[dict[str, Any]]:
    for figure in figures:
        missing = [key for key in KEYS if key not in figure]
        if missing:
            raise ValueError(f"{source}: figure {figure.get('name')!r} lacks {', '.join(missing)}")
        figure["source"] = source
    return figures


def _stop_on_sigterm() -> None:
    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: small sizes, a few minutes")
    parser.add_argument("--employers", type=int, default=100_000,
                        help="employers of the synthetic province: pool size for the draws, distinct employers end to end (default 10⁵)")
    parser.add_argument("--events", type=int, default=None, help="end-to-end events M (default 20,000; 2,000 quick)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--inprocess-only", action="store_true", help="skip the system figures (no broker, no PostgreSQL)")
    which.add_argument("--system-only", action="store_true", help="skip the in-process figures")
    which.add_argument("--console-only", action="store_true", help="only the console's list and dashboard pages (bench/console.py)")
    which.add_argument("--monitoring-only", action="store_true", help="only the monitoring figures: readings/s, back-fill, reading → exceedance → verification task (bench/monitoring.py)")
    parser.add_argument("--console-employers", type=int, default=None, help="employers in the console's archive (default 10⁵; 2,000 quick)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of the results JSON (default bench/results)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the system run's temporary folder (service and broker logs)")
    args = parser.parse_args(argv)
    _stop_on_sigterm()

    started = time.monotonic()
    today = china_today()
    print(f"bench: {'quick' if args.quick else 'full'} run, {args.employers:,} employers, {today} (Asia/Shanghai)", flush=True)
    info = machine()
    print(f"bench: {info['cores']} cores, {info['ram_gib']} GiB, {info['cpu']}; Python {info['python']}, Kafka {info['kafka']}, "
          f"commit {(info['git_commit'] or '?')[:10]}{' (uncommitted changes)' if info['git_dirty'] else ''}", flush=True)

    figures: list[dict[str, Any]] = []
    unavailable: list[str] = []
    if not (args.system_only or args.console_only or args.monitoring_only):
        print("bench: in-process figures …", flush=True)
        found = inprocess_figures(args.quick, args.employers)
        if found is None:
            print("in-process figures: not available (bench/inprocess.py is missing)", flush=True)
            unavailable.append("in-process")
        else:
            figures += checked(found, "in-process")
            print(f"bench: {len(found)} in-process figures ({time.monotonic() - started:.0f} s): "
                  + "; ".join(f"{f['name']} {shown_value(f)}" for f in found), flush=True)
    if not (args.inprocess_only or args.console_only or args.monitoring_only):
        print("bench: system figures (a fresh broker, PostgreSQL and the four services) …", flush=True)
        import system

        figures += checked(system.figures(quick=args.quick, employers=args.employers, events=args.events, keep=args.keep_logs), "system")
    if not (args.inprocess_only or args.monitoring_only):
        print("bench: console figures (another fresh broker and PostgreSQL, an archive seeded through the pipeline, the console) …", flush=True)
        import console

        figures += checked(console.figures(quick=args.quick, employers=args.console_employers, keep=args.keep_logs), "console")
    if not (args.inprocess_only or args.console_only or args.system_only):
        print("bench: monitoring figures (another fresh broker and PostgreSQL, the monitoring service on PostgreSQL then SQLite, the sampling service) …", flush=True)
        import monitoring

        figures += checked(monitoring.figures(quick=args.quick, keep=args.keep_logs), "monitoring")

    print()
    print(table(figures))
    unmet = [f["name"] for f in figures if f["met"] is False]
    print(f"\n{sum(f['met'] is True for f in figures)} met, {len(unmet)} not met, "
          f"{sum(f['met'] is None for f in figures)} without a target" + (f"; not met: {', '.join(unmet)}" if unmet else ""))

    result = {
        "date": today.isoformat(),
        "finished_at": datetime.now(UTC).astimezone(CHINA).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "run": {"quick": args.quick, "employers": args.employers, "events": args.events,
                "parts": ["in-process"] * (not (args.system_only or args.console_only or args.monitoring_only))
                + ["system"] * (not (args.inprocess_only or args.console_only or args.monitoring_only))
                + ["console"] * (not (args.inprocess_only or args.monitoring_only))
                + ["monitoring"] * (not (args.inprocess_only or args.console_only or args.system_only)),
                "console_employers": args.console_employers, "unavailable": unavailable},
        "machine": info,
        "figures": figures,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{today.isoformat()}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    shown = path.relative_to(REPO) if path.resolve().is_relative_to(REPO) else path
    print(f"bench: written to {shown} ({result['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nbench: interrupted; everything it started is stopped", file=sys.stderr)
        sys.exit(130)
