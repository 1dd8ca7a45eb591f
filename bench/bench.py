"""`make bench`: speed and memory of the platform's hot paths, printed as figures (not asserted).

* classification: reports classified per second by the pure classifier (附件1–3 rules);
* sampling: a differentiated draw and its inspector assignment over county-, city- and
  province-sized pools, and the time a third party needs to verify it (pool hash + redraw);
* case codes: 行政行为码 check characters computed per second.

Each figure is the best of a few runs (less noise from the machine); memory is tracemalloc's peak
for one run. Run: `make bench` (or `.venv/bin/python bench/bench.py --quick`).
"""

from __future__ import annotations

import argparse
import copy
import random
import secrets
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from services.assessment.domain.classifier import classify  # noqa: E402
from services.assessment.adapters.rules import load_rule_book  # noqa: E402
from services.penalty.domain import case_codes  # noqa: E402
from services.sampling.domain import draw as sampling  # noqa: E402
from shared.contracts import Report  # noqa: E402
from shared.identifiers import credit_code_check_character  # noqa: E402
from tests.examples import EXAMPLE_REPORT  # noqa: E402


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def peak_memory(work: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def credit_code(serial: int, region: str) -> str:
    body = f"91{region}MA{serial:07d}"
    return body + credit_code_check_character(body)


def bench_classification(count: int) -> None:
    rules = load_rule_book().for_region("141029", date(2023, 6, 1))
    factors = [("矽尘", True), ("噪声", False), ("煤尘", True), ("高温", True)]
    reports = []
    rng = random.Random(7)
    for _ in range(count):
        data = copy.deepcopy(EXAMPLE_REPORT)
        data["enterprise"]["employees"] = 500
        data["hazards"] = [
            {"factor": f, "exposed": rng.randint(1, 200), "compliant": ok if rng.random() < 0.7 else not ok, "tested_on": "2023-05-10"}
            for f, ok in rng.sample(factors, rng.randint(1, 4))
        ]
        data["self_check"] = {"score": rng.randint(50, 100)}
        reports.append(Report.model_validate(data))
    seconds, _ = best_of(3, lambda: [classify(r, rules) for r in reports])
    print(f"classification      {count:>7} reports   {seconds * 1000:8.1f} ms   {count / seconds:10,.0f} reports/s")


def bench_draw(size: int, roster_size: int) -> None:
    rng = random.Random(size)
    region = "141000"
    pool = [
        sampling.PoolEntry(credit_code(i, region), rng.choices(sampling.CATEGORIES, weights=(5, 3, 2))[0], rng.random() < 0.02)
        for i in range(size)
    ]
    roster = [
        sampling.RosterInspector(f"insp-{n:03d}", f"检查员{n}", frozenset(rng.sample([p.credit_code for p in pool], min(3, size))))
        for n in range(roster_size)
    ]
    params = sampling.Parameters(ratios={"甲": "0.03", "乙": "0.1", "丙": "0.3"}, minimums={"甲": 0, "乙": 0, "丙": 0})
    seed = secrets.token_hex(32)
    seconds, result = best_of(3, lambda: sampling.draw(seed, pool, roster, params))
    memory = peak_memory(lambda: sampling.draw(seed, pool, roster, params))

    def third_party() -> bool:  # what verification costs: hash the published pool, redraw, compare
        canonical = sampling.canonical_pool(pool)
        sampling.pool_hash(canonical)
        again = sampling.draw(seed, [sampling.PoolEntry(**e) for e in canonical], roster, params)
        return [t.public() for t in again.targets] == [t.public() for t in result.targets]

    verify_seconds, same = best_of(3, third_party)
    assert same
    print(f"draw                {size:>7} employers {seconds * 1000:8.1f} ms   {len(result.targets):>6} targets, "
          f"{roster_size} inspectors, peak {memory:6.1f} MiB; verify {verify_seconds * 1000:.1f} ms")


def bench_case_codes(count: int) -> None:
    seconds, _ = best_of(3, lambda: [case_codes.make_code("141029", 2026, n) for n in range(1, count + 1)])
    print(f"case codes          {count:>7} codes     {seconds * 1000:8.1f} ms   {count / seconds:10,.0f} codes/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    quick = parser.parse_args().quick
    print("figure              size                time          throughput / notes")
    bench_classification(500 if quick else 5_000)
    for size, roster in ([(1_000, 8)] if quick else [(1_000, 8), (20_000, 40), (100_000, 200)]):
        bench_draw(size, roster)
    bench_case_codes(10_000 if quick else 100_000)


if __name__ == "__main__":
    main()
