"""Verifiable random draws (双随机): the algorithm ``ohs-draw-v1``, pure functions, no I/O.

Everything a draw depends on is published with it (一公开): the seed (committed before the draw as
its SHA-256), the pool (credit code, category, full coverage) sorted by credit code, the plan's
ratios, minimum counts and inspectors per task, and the inspector roster with its declared
conflicts. Anyone can recompute the draw from those; see ``ohs sampling verify`` and docs/api.md (Sampling plans and draws).

Quotas. For a category with ``size`` members in the pool,
``n = min(size, max(minimum, ceil(ratio × size)))`` computed exactly (the ratio is a decimal
string, never a float: 0.1 × 30 is 3). Members of a full-coverage industry are all taken
(selection ``full_coverage``) and count toward ``n``; ``max(0, n − full)`` more are drawn at
random among the others.

Ranking. Within a category every member gets the key SHA-256(seed|category|credit_code) (hex);
the random picks are the non-full-coverage members with the smallest keys. Targets are listed by
category (甲, 乙, 丙), then key.

Inspectors. Targets are taken in that order; for each, the eligible inspectors are the roster
minus those with a declared conflict (回避) with that employer; the ``per_task`` with the lowest
(load so far, SHA-256(seed|inspector|credit_code|inspector_id)) are assigned and their load
grows by one. Fewer eligible than ``per_task``: the draw is impossible (:class:`DrawRefused`).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
from operator import attrgetter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from shared import i18n
from shared.contracts import CATEGORIES

ALGORITHM = "ohs-draw-v1"
MIN_INSPECTORS_PER_TASK = 2


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def commitment_of(seed: str) -> str:
    """The published commitment: hex SHA-256 of the seed string's UTF-8 bytes."""
    return sha256_hex(seed)


def ratio_text(value: Any) -> str:
    """A ratio as an exact decimal string (0.1 → "0.1"); ValueError unless 0 ≤ ratio ≤ 1."""
    if isinstance(value, bool):
        raise ValueError("must be a number between 0 and 1")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError("must be a number between 0 and 1") from exc
    if not number.is_finite() or number < 0 or number > 1:
        raise ValueError("must be a number between 0 and 1")
    return format(number.normalize(), "f") if number != 0 else "0"


def quota(ratio: str, minimum: int, size: int) -> int:
    """n = min(size, max(minimum, ceil(ratio × size))), exactly."""
    exact = Fraction(Decimal(ratio)) * size
    return min(size, max(minimum, math.ceil(exact)))


@dataclass(frozen=True)
class PoolEntry:
    credit_code: str
    category: str
    full_coverage: bool = False

    def public(self) -> dict[str, Any]:
        return {"credit_code": self.credit_code, "category": self.category, "full_coverage": self.full_coverage}


_by_credit_code = attrgetter("credit_code")


def canonical_pool(entries: list[PoolEntry]) -> list[dict[str, Any]]:
    """Each entry's :meth:`PoolEntry.public` form, sorted by credit code (stable: equal codes keep their order)."""
    return [{"credit_code": e.credit_code, "category": e.category, "full_coverage": e.full_coverage}
            for e in sorted(entries, key=_by_credit_code)]


def pool_hash(pool: list[dict[str, Any]]) -> str:
    """Hex SHA-256 of the canonical JSON of the pool (a list of entries sorted by credit code)."""
    return hashlib.sha256(canonical_json(pool)).hexdigest()


@dataclass(frozen=True)
class RosterInspector:
    id: str
    name: str
    conflicts: frozenset[str] = frozenset()  # credit codes of employers this inspector must not inspect (回避)

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "conflicts": sorted(self.conflicts)}


def canonical_roster(roster: list[RosterInspector]) -> list[dict[str, Any]]:
    return [i.public() for i in sorted(roster, key=lambda i: i.id)]


@dataclass(frozen=True)
class Parameters:
    ratios: dict[str, str]  # category -> exact decimal string
    minimums: dict[str, int]
    inspectors_per_task: int = MIN_INSPECTORS_PER_TASK
    jia_non_site: bool = True


@dataclass(frozen=True)
class Target:
    credit_code: str
    category: str
    selection: str  # random | full_coverage
    rank_key: str
    on_site: bool
    inspectors: tuple[str, ...] = ()

    def public(self) -> dict[str, Any]:
        return {"credit_code": self.credit_code, "category": self.category, "selection": self.selection,
                "on_site": self.on_site, "inspectors": list(self.inspectors)}


@dataclass
class DrawResult:
    quotas: dict[str, int]
    pool_sizes: dict[str, int]
    targets: list[Target] = field(default_factory=list)


class DrawRefused(ValueError):
    """The draw cannot be made (not enough eligible inspectors for a target); names the targets. Each problem
    has ``credit_code``, ``eligible``, ``conflicts``, ``message`` (English) and ``code`` and ``params`` (catalogue
    ``sampling_draw``: the text in every language)."""

    def __init__(self, problems: list[dict[str, Any]]):
        self.problems = problems
        super().__init__("; ".join(p["message"] for p in problems))


def rank_key(seed: str, category: str, credit_code: str) -> str:
    return sha256_hex(f"{seed}|{category}|{credit_code}")


def inspector_key(seed: str, credit_code: str, inspector_id: str) -> str:
    return sha256_hex(f"{seed}|inspector|{credit_code}|{inspector_id}")


# Speed. SHA-256 keys are compared as raw digests: hex is fixed-length and keeps the byte order, so
# ordering by digest is ordering by the hex key, and only the keys kept are turned into hex. The
# common prefix of every key of a category (seed|category|) or of a target (seed|inspector|code|)
# is hashed once and copied. The draw's figures: docs/performance.md.


def _digests(prefix: str, names: list[str]) -> list[bytes]:
    """SHA-256 of prefix + name for each name, as raw digests (the keys' order, not their text)."""
    start = hashlib.sha256(prefix.encode("utf-8"))
    copy = start.copy
    digests = []
    add = digests.append
    for name in names:
        hashed = copy()
        hashed.update(name.encode("utf-8"))
        add(hashed.digest())
    return digests


_ABOVE_EVERY_DIGEST = b"\xff" * 33  # sorts after any 32-byte digest


def _smallest(keys: list[bytes], count: int) -> list[int]:
    """Positions of the ``count`` smallest keys, smallest first, equal keys in list order (a stable sort's first ``count``).

    Digests are uniform, so a threshold on their first 8 bytes set a little above the expected
    ``count``-th smallest leaves few candidates to sort; when fewer than ``count`` pass it (rare), every
    key is sorted. Either way the answer is exactly that of sorting all of them."""
    size = len(keys)
    if count <= 0:
        return []
    if count * 4 < size:
        share = count / size
        share += 6 * math.sqrt(share * (1 - share) / size) + 16 / size
        if share < 1:
            threshold = int(share * 2**64).to_bytes(8, "big")
            candidates = [position for position, key in enumerate(keys) if key < threshold]
            if len(candidates) >= count:
                candidates.sort(key=keys.__getitem__)
                return candidates[:count]
    return sorted(range(size), key=keys.__getitem__)[:count]


def select_targets(seed: str, pool: list[PoolEntry], params: Parameters) -> DrawResult:
    """The targets per category (no inspectors yet), listed by category then rank key."""
    result = DrawResult(quotas={}, pool_sizes={})
    by_category: dict[str, list[PoolEntry]] = {category: [] for category in CATEGORIES}
    for member in pool:
        members = by_category.get(member.category)
        if members is not None:
            members.append(member)
    for category in CATEGORIES:
        members = by_category[category]
        size = len(members)
        n = quota(params.ratios.get(category, "0"), params.minimums.get(category, 0), size)
        full = [m for m in members if m.full_coverage]
        others = [m for m in members if not m.full_coverage] if full else members
        prefix = f"{seed}|{category}|"
        full_keys = _digests(prefix, [m.credit_code for m in full])
        other_keys = _digests(prefix, [m.credit_code for m in others])
        picked = _smallest(other_keys, n - len(full))
        chosen = [(key, m, "full_coverage") for key, m in zip(full_keys, full)]
        chosen += [(other_keys[position], others[position], "random") for position in picked]
        chosen.sort(key=lambda kmh: kmh[0])  # stable: as the reference's sort of the targets by rank key
        on_site = not (category == "甲" and params.jia_non_site)
        targets = [Target(m.credit_code, category, how, key.hex(), on_site) for key, m, how in chosen]
        result.targets.extend(targets)
        result.quotas[category] = len(targets)
        result.pool_sizes[category] = size
    return result


def select_targets_reference(seed: str, pool: list[PoolEntry], params: Parameters) -> DrawResult:
    """The targets as first written (every key in hex, every member sorted): what :func:`select_targets` must equal."""
    result = DrawResult(quotas={}, pool_sizes={})
    by_category: dict[str, list[PoolEntry]] = {category: [] for category in CATEGORIES}
    for member in pool:
        if member.category in by_category:
            by_category[member.category].append(member)
    for category in CATEGORIES:
        members = by_category[category]
        size = len(members)
        n = quota(params.ratios.get(category, "0"), params.minimums.get(category, 0), size)
        full = [m for m in members if m.full_coverage]
        ranked = sorted(((rank_key(seed, category, m.credit_code), m) for m in members if not m.full_coverage), key=lambda km: km[0])
        chosen = [(rank_key(seed, category, m.credit_code), m, "full_coverage") for m in full]
        chosen += [(key, m, "random") for key, m in ranked[: max(0, n - len(full))]]
        on_site = not (category == "甲" and params.jia_non_site)
        targets = [Target(m.credit_code, category, how, key, on_site) for key, m, how in chosen]
        targets.sort(key=lambda t: t.rank_key)
        result.targets.extend(targets)
        result.quotas[category] = len(targets)
        result.pool_sizes[category] = size
    return result


def _refusal(target: Target, eligible: int, roster_size: int, conflicted: list[str], per_task: int) -> dict[str, Any]:
    code = "sampling.draw.too_few_inspectors" if conflicted else "sampling.draw.too_few_inspectors_no_conflicts"
    params = {"credit_code": target.credit_code, "eligible": eligible, "roster": roster_size, "conflicts": conflicted, "needed": per_task}
    return {
        "credit_code": target.credit_code, "eligible": eligible, "conflicts": conflicted,
        "message": i18n.text(code, params, i18n.EN), "code": code, "params": params,
    }


def assign_inspectors(seed: str, targets: list[Target], roster: list[RosterInspector], per_task: int,
                      loads: dict[str, int] | None = None) -> list[Target]:
    """Each target gets ``per_task`` inspectors without a conflict with it, the least loaded first.

    ``loads``: each inspector's load before the first target (a verification task counts the open tasks
    they hold); a draw starts every inspector at 0, which is what the published draw is recomputed with.

    The inspectors are kept in buckets by load, so a target looks only at the least-loaded ones
    (and hashes only those) instead of sorting the whole roster; conflicts are looked up by employer.
    The result is exactly :func:`assign_inspectors_reference`'s (the rule as written in the module doc).

    Its cost is the hashing the rule asks for: a target hashes every eligible inspector of the
    lowest load, on average half the roster (the loads stay level), so targets × roster / 2 SHA-256."""
    if per_task < MIN_INSPECTORS_PER_TASK:
        raise ValueError(f"inspectors_per_task must be at least {MIN_INSPECTORS_PER_TASK}")
    ids = [i.id for i in roster]
    if len(set(ids)) != len(ids):  # not a roster the service keeps (ids are unique): the rule as written
        return assign_inspectors_reference(seed, targets, roster, per_task, loads)
    conflicted_by_code: dict[str, set[str]] = {}
    for inspector in roster:
        for credit_code in inspector.conflicts:
            conflicted_by_code.setdefault(credit_code, set()).add(inspector.id)
    encoded = {i: i.encode("utf-8") for i in ids}
    buckets: dict[int, dict[str, None]] = {}  # load → inspector ids (ordered set)
    for inspector_id in ids:
        buckets.setdefault((loads or {}).get(inspector_id, 0), {})[inspector_id] = None
    no_conflicts: set[str] = set()
    sha256 = hashlib.sha256
    problems: list[dict[str, Any]] = []
    assigned: list[Target] = []
    for target in targets:
        blocked = conflicted_by_code.get(target.credit_code, no_conflicts)
        eligible = len(ids) - len(blocked)
        if eligible < per_task:
            problems.append(_refusal(target, eligible, len(roster), sorted(blocked), per_task))
            assigned.append(target)
            continue
        copy = sha256(f"{seed}|inspector|{target.credit_code}|".encode("utf-8")).copy
        chosen: list[tuple[int, str]] = []  # (load, inspector id), in the order of (load, key)
        for level in sorted(buckets):
            need = per_task - len(chosen)
            members = [i for i in buckets[level] if i not in blocked] if blocked else list(buckets[level])
            keys = []
            add = keys.append
            for inspector_id in members:
                hashed = copy()
                hashed.update(encoded[inspector_id])
                add(hashed.digest())
            if len(members) <= need:
                chosen += [(level, members[at]) for at in sorted(range(len(members)), key=keys.__getitem__)]
            else:
                for _ in range(need):
                    at = keys.index(min(keys))
                    chosen.append((level, members[at]))
                    keys[at] = _ABOVE_EVERY_DIGEST
            if len(chosen) == per_task:
                break
        for level, inspector_id in chosen:
            bucket = buckets[level]
            del bucket[inspector_id]
            if not bucket:
                del buckets[level]
            buckets.setdefault(level + 1, {})[inspector_id] = None
        assigned.append(Target(target.credit_code, target.category, target.selection, target.rank_key, target.on_site,
                               tuple(i for _, i in chosen)))
    if problems:
        raise DrawRefused(problems)
    return assigned


def assign_inspectors_reference(seed: str, targets: list[Target], roster: list[RosterInspector], per_task: int,
                                loads: dict[str, int] | None = None) -> list[Target]:
    """The inspector rule exactly as written (every target sorts the whole roster): the reference
    :func:`assign_inspectors` must agree with; quadratic, kept for tests and for odd rosters."""
    if per_task < MIN_INSPECTORS_PER_TASK:
        raise ValueError(f"inspectors_per_task must be at least {MIN_INSPECTORS_PER_TASK}")
    load = {i.id: (loads or {}).get(i.id, 0) for i in roster}
    problems: list[dict[str, Any]] = []
    assigned: list[Target] = []
    for target in targets:
        eligible = [i for i in roster if target.credit_code not in i.conflicts]
        if len(eligible) < per_task:
            conflicted = sorted(i.id for i in roster if target.credit_code in i.conflicts)
            problems.append(_refusal(target, len(eligible), len(roster), conflicted, per_task))
            assigned.append(target)
            continue
        eligible.sort(key=lambda i: (load[i.id], inspector_key(seed, target.credit_code, i.id)))
        chosen = tuple(i.id for i in eligible[:per_task])
        for inspector_id in chosen:
            load[inspector_id] += 1
        assigned.append(Target(target.credit_code, target.category, target.selection, target.rank_key, target.on_site, chosen))
    if problems:
        raise DrawRefused(problems)
    return assigned


def draw(seed: str, pool: list[PoolEntry], roster: list[RosterInspector], params: Parameters) -> DrawResult:
    """The whole draw: targets, then inspectors. Deterministic in its arguments."""
    result = select_targets(seed, pool, params)
    result.targets = assign_inspectors(seed, result.targets, roster, params.inspectors_per_task)
    return result
