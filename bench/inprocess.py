"""In-process figures: the pure hot paths, measured in this process (no broker, no database).

* classification: reports per second through ``classify(report, rules)`` (附件1–3), on already
  parsed reports — what a batch consumer does after parsing; parsing and the rule-set lookup are
  not timed. The reports are the seeded synthetic province of ``bench/province.py`` (counties,
  industries, hazard mixes, scores, a tenth with item-by-item checklists), or, when that module is
  missing, varied copies of the example report;
* the differentiated draw (targets + inspectors) over a province pool, with a roster of one inspector
  per 500 employers (2,000 for 10⁶) and the packaged sampling defaults (ratios 0.03/0.10/0.30,
  2 inspectors per task, 2 % full coverage), and its target selection alone;
* its third-party verification: ``services.sampling.domain.publication.verify`` on the publication
  (commitment, pool order, pool hash, redraw, compare);
* the draw's peak memory (tracemalloc), case codes per second.

``figures(quick, large, employers)``: one dict per figure (name, value, unit, target, higher_is_better,
met, notes). Sizes: 10⁴ reports and pools when ``quick``; else 10⁶ reports, and pools of ``employers``
(default 10⁶ when ``large``, else 10⁵). A target is judged (``met``) only at the size it is set for
(10⁶), else ``met`` is None. Timings are wall-clock, the best of a few runs when a run is short.

    .venv/bin/python bench/inprocess.py [--quick] [--large] [--employers N]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for path in (REPO, REPO / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from services.assessment.adapters.rules import load_rule_book  # noqa: E402
from services.assessment.domain.classifier import classify  # noqa: E402
from services.penalty.domain import case_codes  # noqa: E402
from services.sampling.adapters.rules import load_sampling_rules  # noqa: E402
from services.sampling.domain import draw as sampling  # noqa: E402
from services.sampling.domain.publication import verify  # noqa: E402
from shared.contracts import Report  # noqa: E402
from shared.identifiers import credit_code_check_character  # noqa: E402
from tests.examples import EXAMPLE_REPORT  # noqa: E402

try:
    from province import synthetic_reports as _province_reports  # type: ignore[import-not-found]
except ImportError:  # bench/province.py not there: varied copies of the example report
    _province_reports = None

CLASSIFICATION_TARGET = 100_000.0  # reports/s, in process, 10⁶ reports
DRAW_TARGET = 2.0  # seconds, draw over a 10⁶ pool
VERIFY_TARGET = 2.0  # seconds, verification of that draw
TARGET_SIZE = 1_000_000
EMPLOYERS_PER_INSPECTOR = 500  # a 10⁶-employer province: 2,000 inspectors
CATEGORY_MIX = (37, 31, 32)  # 甲/乙/丙 %, as bench/province.py's reports classify
FULL_COVERAGE_SHARE = 0.02
CHUNK = 10_000  # reports parsed, then classified, at a time (10⁶ parsed reports would not fit in memory)


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def figure(name: str, value: float, unit: str, target: float | None, higher_is_better: bool, judged: bool, notes: str) -> dict[str, Any]:
    met = None if target is None or not judged else (value >= target if higher_is_better else value <= target)
    return {"name": name, "value": value, "unit": unit, "target": target, "higher_is_better": higher_is_better, "met": met, "notes": notes}


# --------------------------------------------------------------------------- classification


def example_reports(count: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """Varied copies of the example report (when bench/province.py is missing): factors from the catalogue,
    headcounts, test dates (some missing or old), stated scores, a tenth with the checklist answered."""
    rules = load_rule_book().for_region("141029", date(2023, 6, 1))
    factors = sorted(rules.factor_catalogue.factors)
    items = rules.self_check_checklist.items()
    rng = random.Random(seed)
    for _ in range(count):
        data = copy.deepcopy(EXAMPLE_REPORT)
        data["enterprise"]["employees"] = 500
        data["hazards"] = [
            {"factor": factor, "exposed": rng.randint(0, 300), "compliant": rng.random() < 0.85,
             "tested_on": rng.choice(["2023-05-10", "2022-09-01", "2021-03-15", None])}
            for factor in rng.sample(factors, rng.randint(1, 6))
        ]
        if rng.random() < 0.1:
            data["self_check"] = {"items": {i.id: (i.points if rng.random() < 0.8 else round(rng.uniform(0, i.points), 1)) for i in items}}
        else:
            data["self_check"] = {"score": round(rng.gauss(84, 7), 1) % 100}
        yield data


def classification(count: int) -> dict[str, Any]:
    book = load_rule_book()
    source = _province_reports(count, seed=1) if _province_reports else example_reports(count)
    seconds, classified, entries, batch = 0.0, 0, 0, []
    categories: dict[str, int] = {}

    def run(batch: list[dict[str, Any]]) -> None:
        nonlocal seconds, classified, entries
        reports = [Report.model_validate(data) for data in batch]  # parsing: before the consumer classifies
        rule_sets = [book.for_region(r.enterprise.region_code, r.assessed_on) for r in reports]
        started = time.perf_counter()
        outcomes = [classify(report, rules) for report, rules in zip(reports, rule_sets)]
        seconds += time.perf_counter() - started
        classified += len(outcomes)
        for outcome in outcomes:
            category = getattr(outcome, "category", "rejected")
            categories[category] = categories.get(category, 0) + 1
            entries += len(getattr(outcome, "trace", ()))

    for data in source:
        batch.append(data)
        if len(batch) == CHUNK:
            run(batch)
            batch = []
    if batch:
        run(batch)
    mix = ", ".join(f"{c} {n * 100 / classified:.0f} %" for c, n in sorted(categories.items()))
    return figure(
        f"classification, {count:,} reports", classified / seconds, "reports/s", CLASSIFICATION_TARGET, True, count >= TARGET_SIZE,
        f"classify() on parsed reports ({'bench/province.py' if _province_reports else 'varied example reports'}, seed 1: {mix}; "
        f"{entries / classified:.1f} trace lines a report); {seconds:.1f} s in all, parsing and rule-set lookup not timed",
    )


# --------------------------------------------------------------------------- sampling


def credit_code(serial: int, region: str = "140000") -> str:
    body = f"91{region}MA{serial:07d}"
    return body + credit_code_check_character(body)


def province_pool(size: int, roster_size: int, seed: int = 1) -> tuple[list[sampling.PoolEntry], list[sampling.RosterInspector]]:
    """``size`` employers (categories in the synthetic province's mix, 2 % full coverage) and ``roster_size``
    inspectors, each with 0–3 declared conflicts (回避) with employers of the pool."""
    rng = random.Random(seed)
    categories = rng.choices(sampling.CATEGORIES, weights=CATEGORY_MIX, k=size)
    pool = [sampling.PoolEntry(credit_code(n), category, rng.random() < FULL_COVERAGE_SHARE) for n, category in enumerate(categories)]
    roster = [
        sampling.RosterInspector(f"insp-{n:05d}", f"检查员{n}", frozenset(pool[rng.randrange(size)].credit_code for _ in range(rng.randint(0, 3))))
        for n in range(roster_size)
    ]
    return pool, roster


def default_parameters() -> sampling.Parameters:
    defaults = load_sampling_rules().in_force("140000", date(2026, 1, 1))
    return sampling.Parameters(ratios=defaults.ratios, minimums=defaults.minimums, inspectors_per_task=defaults.inspectors_per_task,
                               jia_non_site=defaults.jia_non_site)


def publication(seed: str, pool: list[sampling.PoolEntry], roster: list[sampling.RosterInspector], params: sampling.Parameters,
                result: sampling.DrawResult) -> dict[str, Any]:
    """The publication a third party downloads (the parts ``verify`` reads)."""
    canonical = sampling.canonical_pool(pool)
    return {
        "format": "ohs-sampling-publication/1", "algorithm_version": sampling.ALGORITHM, "commitment": sampling.commitment_of(seed),
        "plan": {"ratios": params.ratios, "minimums": params.minimums, "inspectors_per_task": params.inspectors_per_task,
                 "jia_non_site": params.jia_non_site},
        "draw": {"seed": seed, "pool_hash": sampling.pool_hash(canonical), "pool": canonical, "roster": sampling.canonical_roster(roster),
                 "targets": [{**t.public(), "inspectors": [{"id": i, "name": ""} for i in t.inspectors]} for t in result.targets]},
    }


def draw_figures(size: int, roster_size: int) -> list[dict[str, Any]]:
    pool, roster = province_pool(size, roster_size)
    params = default_parameters()
    seed = hashlib.sha256(b"bench/inprocess.py").hexdigest()
    runs = 3 if size <= 100_000 else 1
    judged = size >= TARGET_SIZE
    select_seconds, selected = best_of(runs, lambda: sampling.select_targets(seed, pool, params))
    seconds, result = best_of(runs, lambda: sampling.draw(seed, pool, roster, params))
    targets = len(result.targets)
    hashes = targets * roster_size // 2  # inspector keys hashed: the eligible least-loaded inspectors, half the roster on average
    where = f"{size:,} employers, {roster_size:,} inspectors, {targets:,} targets"
    document = publication(seed, pool, roster, params, result)
    verify_seconds, verdict = best_of(runs, lambda: verify(document))
    assert verdict == {"match": True}, verdict
    memory_roster = roster if size <= 100_000 else roster[:20]

    def traced() -> float:
        tracemalloc.start()
        try:
            sampling.draw(seed, pool, memory_roster, params)
            return tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()

    memory = traced()
    return [
        figure(f"draw, pool of {size:,}", seconds, "s", DRAW_TARGET, False, judged,
               f"targets + inspectors ({where}; ratios {'/'.join(params.ratios[c] for c in sampling.CATEGORIES)}, "
               f"{params.inspectors_per_task} per task); about {hashes:,} inspector keys (SHA-256) hashed, "
               f"{seconds / max(hashes, 1) * 1e9:.0f} ns each all included"),
        figure(f"draw target selection, pool of {size:,}", select_seconds, "s", None, False, False,
               f"the targets alone ({size:,} rank keys, {len(selected.targets):,} targets), no inspectors"),
        figure(f"draw verification, pool of {size:,}", verify_seconds, "s", VERIFY_TARGET, False, judged,
               f"publication.verify: commitment, pool order and hash, redraw (targets + inspectors), compare ({where})"),
        figure(f"draw peak memory, pool of {size:,}", memory, "MiB", None, False, False,
               "tracemalloc peak of one draw" + ("" if memory_roster is roster else
                                                 f" with {len(memory_roster)} of the inspectors (the roster adds O(roster) memory, "
                                                 "its time under tracemalloc would be minutes)")),
    ]


def case_code_figure(count: int) -> dict[str, Any]:
    seconds, _ = best_of(3, lambda: [case_codes.make_code("141029", 2026, n) for n in range(1, count + 1)])
    return figure(f"case codes, {count:,}", count / seconds, "codes/s", None, True, False, "行政行为码 with check characters")


def figures(quick: bool = False, large: bool = False, employers: int | None = None) -> list[dict[str, Any]]:
    reports = 10_000 if quick else TARGET_SIZE
    size = 10_000 if quick else employers or (TARGET_SIZE if large else 100_000)
    roster = max(20, size // EMPLOYERS_PER_INSPECTOR)
    found = draw_figures(size, roster)  # first: the pool's memory is measured before the classification's garbage
    found.insert(0, classification(reports))
    found.append(case_code_figure(10_000 if quick else 100_000))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10⁴ reports and employers (a smoke run)")
    parser.add_argument("--large", action="store_true", help="pools of 10⁶ employers (the size the draw targets are set for)")
    parser.add_argument("--employers", type=int, default=None, help="pool size for the draws")
    args = parser.parse_args()
    print(f"{'figure':44} {'measured':>14}  {'target':>10}  met")
    for found in figures(quick=args.quick, large=args.large, employers=args.employers):
        value = f"{found['value']:,.0f}" if found["value"] >= 1000 else f"{found['value']:,.2f}"
        target = "" if found["target"] is None else ("≥ " if found["higher_is_better"] else "≤ ") + f"{found['target']:,g}"
        met = {True: "yes", False: "NO", None: "-"}[found["met"]]
        print(f"{found['name']:44} {value:>9} {found['unit']:<9} {target:>8}  {met:>3}   {found['notes']}", flush=True)


if __name__ == "__main__":
    main()
