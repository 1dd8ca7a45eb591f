"""The draw algorithm ohs-draw-v1 and its verification: pure functions, no database."""

from __future__ import annotations

import copy
import hashlib
import secrets
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.sampling.domain.draw import (
    DrawRefused, Parameters, PoolEntry, RosterInspector, assign_inspectors, canonical_pool, canonical_roster, commitment_of, draw,
    pool_hash, quota, ratio_text, select_targets,
)
from services.sampling.domain.publication import Unusable, verify
from shared.identifiers import credit_code_check_character

PARAMS = Parameters(ratios={"甲": "0.03", "乙": "0.1", "丙": "0.3"}, minimums={"甲": 0, "乙": 0, "丙": 0})


def code(n: int, region: str = "141024") -> str:
    body = f"91{region}MA{n:07d}"
    return body + credit_code_check_character(body)


def pool_of(**sizes: int) -> list[PoolEntry]:
    entries, n = [], 0
    for category, size in sizes.items():
        for _ in range(size):
            n += 1
            entries.append(PoolEntry(code(n), category))
    return entries


def roster(n: int = 4, conflicts: dict[str, set[str]] | None = None) -> list[RosterInspector]:
    conflicts = conflicts or {}
    return [RosterInspector(f"i{k}", f"检查员{k}", frozenset(conflicts.get(f"i{k}", set()))) for k in range(1, n + 1)]


# --------------------------------------------------------------------------- quotas


@pytest.mark.parametrize(
    ("ratio", "minimum", "size", "expected"),
    [
        ("0.1", 0, 30, 3),  # 0.1 × 30 in floats is 3.0000000000000004: ceil would give 4
        ("0.3", 0, 10, 3),  # 0.3 × 10 = 3.0000000000000004 in floats
        ("0.03", 0, 100, 3),
        ("0.03", 0, 101, 4),  # 3.03 → 4
        ("0.1", 0, 1, 1),  # ceil: any member and a ratio above 0 draw one
        ("0.1", 0, 0, 0),  # empty category
        ("0", 0, 50, 0),
        ("0", 2, 50, 2),  # minimum count
        ("0.1", 5, 30, 5),  # the minimum above the ratio
        ("0.1", 5, 3, 3),  # a pool smaller than the minimum: all of it
        ("1", 0, 7, 7),
        ("0.07", 0, 100, 7),  # 0.07 × 100 = 7.000000000000001 in floats
        ("0.3", 0, 100000, 30000),
        ("0.03", 0, 99999, 3000),  # 2999.97 → 3000
    ],
)
def test_the_quota_is_the_exact_ceiling_of_ratio_times_size(ratio: str, minimum: int, size: int, expected: int) -> None:
    assert quota(ratio, minimum, size) == expected


def test_a_float_ratio_is_read_as_its_decimal_text() -> None:
    assert ratio_text(0.1) == "0.1" and ratio_text(0.03) == "0.03" and ratio_text("0.10") == "0.1" and ratio_text(1) == "1"
    assert quota(ratio_text(0.1), 0, 30) == 3
    for bad in (-0.1, 1.5, "x", True, float("nan")):
        with pytest.raises(ValueError):
            ratio_text(bad)


@pytest.mark.parametrize("sizes", [{"甲": 5, "乙": 7, "丙": 3}, {"甲": 1000, "乙": 430, "丙": 77}, {"甲": 0, "乙": 0, "丙": 0}])
def test_the_ratios_are_honoured_exactly_per_category(sizes: dict[str, int]) -> None:
    result = select_targets("seed", pool_of(**sizes), PARAMS)
    drawn = Counter(t.category for t in result.targets)
    for category, size in sizes.items():
        assert drawn[category] == quota(PARAMS.ratios[category], 0, size) == result.quotas[category]
    assert len({t.credit_code for t in result.targets}) == len(result.targets), "nobody is drawn twice"


def test_full_coverage_members_are_all_taken_and_count_toward_the_quota() -> None:
    pool = pool_of(丙=20)
    full = {pool[3].credit_code, pool[11].credit_code}
    pool = [PoolEntry(e.credit_code, e.category, e.credit_code in full) for e in pool]
    result = select_targets("s", pool, PARAMS)  # quota ceil(0.3 × 20) = 6: 2 in full + 4 at random
    assert len(result.targets) == 6
    assert {t.credit_code for t in result.targets if t.selection == "full_coverage"} == full
    many = [PoolEntry(e.credit_code, e.category, index < 10) for index, e in enumerate(pool)]
    assert len(select_targets("s", many, PARAMS).targets) == 10, "more full-coverage members than the quota: all of them"


def test_jia_targets_are_non_site_when_the_plan_says_so() -> None:
    pool = pool_of(甲=40, 丙=4)
    assert {t.on_site for t in select_targets("s", pool, PARAMS).targets if t.category == "甲"} == {False}
    assert {t.on_site for t in select_targets("s", pool, PARAMS).targets if t.category == "丙"} == {True}
    on_site = Parameters(PARAMS.ratios, PARAMS.minimums, jia_non_site=False)
    assert {t.on_site for t in select_targets("s", pool, on_site).targets} == {True}


# --------------------------------------------------------------------------- randomness


def test_selection_is_uniform_within_a_category_chi_square() -> None:
    """2,000 seeds, a pool of 20 丙, 5 drawn (ratio 0.25): each member is expected 500 times. The
    chi-square statistic over the 20 counts stays below the p = 0.001 critical value for 19 degrees
    of freedom (43.82); a biased ranking (e.g. by credit code) fails it by far."""
    pool = pool_of(丙=20)
    params = Parameters({"甲": "0", "乙": "0", "丙": "0.25"}, {})
    counts: Counter[str] = Counter()
    seeds = 2000
    for n in range(seeds):
        seed = hashlib.sha256(f"chi-square {n}".encode()).hexdigest()
        counts.update(t.credit_code for t in select_targets(seed, pool, params).targets)
    expected = seeds * 5 / 20
    chi_square = sum((counts[e.credit_code] - expected) ** 2 / expected for e in pool)
    assert sum(counts.values()) == seeds * 5
    assert chi_square < 43.82, chi_square


def test_the_same_seed_gives_the_same_draw_and_another_seed_another() -> None:
    pool, inspectors = pool_of(甲=50, 乙=30, 丙=20), roster(6)
    first = draw("a" * 64, pool, inspectors, PARAMS)
    again = draw("a" * 64, list(reversed(pool)), list(reversed(inspectors)), PARAMS)  # order of the input is irrelevant
    assert [t.public() for t in first.targets] == [t.public() for t in again.targets]
    other = draw("b" * 64, pool, inspectors, PARAMS)
    assert [t.credit_code for t in other.targets] != [t.credit_code for t in first.targets]


# --------------------------------------------------------------------------- inspectors


@settings(max_examples=150, deadline=None)
@given(
    targets=st.integers(min_value=1, max_value=25),
    inspectors=st.integers(min_value=2, max_value=8),
    per_task=st.integers(min_value=2, max_value=3),
    conflict_pairs=st.sets(st.tuples(st.integers(1, 8), st.integers(1, 25)), max_size=40),
    seed=st.text(min_size=1, max_size=20),
)
def test_no_inspector_is_ever_assigned_to_an_employer_they_declared_a_conflict_with(
    targets: int, inspectors: int, per_task: int, conflict_pairs: set[tuple[int, int]], seed: str
) -> None:
    pool = pool_of(丙=targets)
    conflicts: dict[str, set[str]] = {}
    for inspector, target in conflict_pairs:
        if inspector <= inspectors and target <= targets:
            conflicts.setdefault(f"i{inspector}", set()).add(pool[target - 1].credit_code)
    team = roster(inspectors, conflicts)
    all_in = Parameters({"甲": "0", "乙": "0", "丙": "1"}, {}, inspectors_per_task=per_task)
    try:
        result = draw(seed, pool, team, all_in)
    except DrawRefused as refused:
        for problem in refused.problems:  # refused only when a target really has too few eligible inspectors
            assert problem["eligible"] < per_task
            assert problem["eligible"] == sum(problem["credit_code"] not in i.conflicts for i in team)
        return
    by_id = {i.id: i for i in team}
    for target in result.targets:
        assert len(target.inspectors) == per_task == len(set(target.inspectors))
        assert all(target.credit_code not in by_id[i].conflicts for i in target.inspectors)


@pytest.mark.parametrize(("targets", "inspectors", "per_task"), [(10, 4, 2), (7, 5, 2), (13, 6, 3), (1, 3, 2), (50, 9, 2)])
def test_the_load_is_balanced_without_conflicts(targets: int, inspectors: int, per_task: int) -> None:
    params = Parameters({"甲": "0", "乙": "0", "丙": "1"}, {}, inspectors_per_task=per_task)
    result = draw(secrets.token_hex(32), pool_of(丙=targets), roster(inspectors), params)
    load = Counter(i for t in result.targets for i in t.inspectors)
    loads = [load[f"i{k}"] for k in range(1, inspectors + 1)]
    assert max(loads) - min(loads) <= 1, loads


def test_a_target_with_too_few_eligible_inspectors_is_refused_naming_it() -> None:
    pool = pool_of(丙=3)
    victim = pool[1].credit_code
    team = roster(3, {"i1": {victim}, "i2": {victim}})
    with pytest.raises(DrawRefused) as refused:
        draw("s", pool, team, Parameters({"甲": "0", "乙": "0", "丙": "1"}, {}))
    assert [p["credit_code"] for p in refused.value.problems] == [victim]
    assert refused.value.problems[0]["conflicts"] == ["i1", "i2"]
    assert victim in str(refused.value)
    with pytest.raises(ValueError, match="at least 2"):
        assign_inspectors("s", [], team, 1)


# --------------------------------------------------------------------------- verification


def publication(seed: str = "d" * 64) -> dict:
    pool = pool_of(甲=40, 乙=20, 丙=10)
    pool[5] = PoolEntry(pool[5].credit_code, "甲", True)
    team = roster(5, {"i2": {e.credit_code for e in pool if e.category == "丙"}})  # i2 never inspects a 丙
    result = draw(seed, pool, team, PARAMS)
    canonical = canonical_pool(pool)
    return {
        "format": "ohs-sampling-publication/1",
        "plan": {"id": "p", "region_code": "141024", "period": "2026", "ratios": PARAMS.ratios, "minimums": PARAMS.minimums,
                 "inspectors_per_task": 2, "jia_non_site": True},
        "commitment": commitment_of(seed),
        "algorithm_version": "ohs-draw-v1",
        "draw": {"seed": seed, "pool_hash": pool_hash(canonical), "pool": canonical, "roster": canonical_roster(team),
                 "targets": [{**t.public(), "inspectors": [{"id": i, "name": "x"} for i in t.inspectors]} for t in result.targets]},
    }


def test_an_untouched_publication_verifies() -> None:
    assert verify(publication()) == {"match": True}


def tamper_seed(doc: dict) -> None:
    doc["draw"]["seed"] = "e" + doc["draw"]["seed"][1:]


def tamper_seed_and_commitment(doc: dict) -> None:  # a consistent new seed: the draw no longer matches
    doc["draw"]["seed"] = "f" * 64
    doc["commitment"] = commitment_of("f" * 64)


def tamper_pool_add(doc: dict) -> None:
    doc["draw"]["pool"].append({"credit_code": code(999), "category": "丙", "full_coverage": False})


def tamper_pool_remove(doc: dict) -> None:
    del doc["draw"]["pool"][7]


def tamper_pool_category(doc: dict) -> None:
    doc["draw"]["pool"][0]["category"] = "丙"


def rehash(doc: dict) -> None:
    doc["draw"]["pool_hash"] = pool_hash(doc["draw"]["pool"])


def tamper_pool_and_hash(doc: dict) -> None:  # the pool changed with its hash recomputed: the draw differs
    doc["draw"]["pool"] = [e for e in doc["draw"]["pool"] if e["credit_code"] != doc["draw"]["targets"][3]["credit_code"]]
    rehash(doc)


def tamper_target_swap(doc: dict) -> None:
    drawn = {t["credit_code"] for t in doc["draw"]["targets"]}
    outsider = next(e for e in doc["draw"]["pool"] if e["credit_code"] not in drawn and e["category"] == "乙")
    target = next(t for t in doc["draw"]["targets"] if t["category"] == "乙")
    target["credit_code"] = outsider["credit_code"]


def tamper_target_removed(doc: dict) -> None:
    doc["draw"]["targets"].pop()


def tamper_inspector(doc: dict) -> None:
    target = doc["draw"]["targets"][0]
    assigned = {i["id"] for i in target["inspectors"]}
    target["inspectors"][0] = {"id": next(f"i{k}" for k in range(1, 6) if f"i{k}" not in assigned), "name": "x"}


def tamper_conflict_dropped(doc: dict) -> None:
    for inspector in doc["draw"]["roster"]:
        inspector["conflicts"] = []


def tamper_ratio(doc: dict) -> None:
    doc["plan"]["ratios"]["乙"] = "0.2"


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (tamper_seed, "seed"), (tamper_seed_and_commitment, "targets"),
        (tamper_pool_add, "pool"), (tamper_pool_remove, "pool"), (tamper_pool_category, "pool"), (tamper_pool_and_hash, "targets"),
        (tamper_target_swap, "targets"), (tamper_target_removed, "targets"), (tamper_inspector, "inspectors"),
        (tamper_conflict_dropped, "inspectors"), (tamper_ratio, "targets"),
    ],
)
def test_verification_fails_on_a_tampered_publication_naming_the_difference(tamper, named: str) -> None:  # noqa: ANN001
    doc = publication()
    tamper(doc)
    outcome = verify(doc)
    assert outcome["match"] is False
    assert named in outcome["reason"], outcome["reason"]


def test_a_document_that_is_no_publication_is_unusable() -> None:
    for doc in ({}, [], {"plan": {}}, {"plan": {}, "draw": None}):
        with pytest.raises(Unusable):
            verify(doc)
    broken = copy.deepcopy(publication())
    del broken["draw"]["pool"][0]["credit_code"]
    with pytest.raises(Unusable):
        verify(broken)
