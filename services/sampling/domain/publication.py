"""Verifying a published draw (一公开) from the publication alone: pure, no I/O.

``verify(publication)`` checks, in order: the algorithm version is one this code knows; the
revealed seed hashes to the commitment published when the plan was created; the published pool
hashes to the published pool hash; and recomputing the draw (targets, then inspectors) from the
seed, the pool, the roster and the plan's parameters gives exactly the published targets. The
first difference found is named.
"""

from __future__ import annotations

from operator import le
from typing import Any

from services.sampling.domain.draw import (
    ALGORITHM, DrawRefused, Parameters, PoolEntry, RosterInspector, assign_inspectors, commitment_of, pool_hash, ratio_text,
    select_targets,
)
from shared.contracts import CATEGORIES

FORMAT = "ohs-sampling-publication/1"


class Unusable(ValueError):
    """The document is not a publication (missing or malformed fields)."""


class TooLarge(Unusable):
    """Recomputing the draw would take more work than the caller allows (``max_work``)."""


def _mismatch(reason: str) -> dict[str, Any]:
    return {"match": False, "reason": reason}


def parameters_of(plan: dict[str, Any]) -> Parameters:
    try:
        ratios = {c: ratio_text(plan["ratios"].get(c, "0")) for c in CATEGORIES}
        minimums = {c: int(plan.get("minimums", {}).get(c, 0)) for c in CATEGORIES}
        return Parameters(ratios=ratios, minimums=minimums, inspectors_per_task=int(plan["inspectors_per_task"]),
                          jia_non_site=bool(plan["jia_non_site"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Unusable(f"plan parameters unreadable: {exc!r}") from exc


def _pool(draw_record: dict[str, Any]) -> list[PoolEntry]:
    try:
        return [PoolEntry(str(m["credit_code"]), str(m["category"]), bool(m.get("full_coverage", False))) for m in draw_record["pool"]]
    except (KeyError, TypeError) as exc:
        raise Unusable(f"pool unreadable: {exc!r}") from exc


def _roster(draw_record: dict[str, Any]) -> list[RosterInspector]:
    try:
        return [RosterInspector(str(i["id"]), str(i.get("name", "")), frozenset(i.get("conflicts", []))) for i in draw_record["roster"]]
    except (KeyError, TypeError) as exc:
        raise Unusable(f"roster unreadable: {exc!r}") from exc


def _published_targets(draw_record: dict[str, Any]) -> list[tuple[Any, ...]]:
    try:
        return [
            (t["credit_code"], t["category"], t["selection"], bool(t["on_site"]),
             tuple(i["id"] if isinstance(i, dict) else i for i in t["inspectors"]))
            for t in draw_record["targets"]
        ]
    except (KeyError, TypeError) as exc:
        raise Unusable(f"targets unreadable: {exc!r}") from exc


def verify(publication: Any, max_work: int | None = None) -> dict[str, Any]:
    """``{"match": True}`` or ``{"match": False, "reason": …}``; :class:`Unusable` when it is no publication.

    ``max_work`` bounds targets × inspectors, what assigning the inspectors costs (:class:`TooLarge` past it):
    the public HTTP endpoint sets it, the offline command does not."""
    if not isinstance(publication, dict) or not isinstance(publication.get("plan"), dict):
        raise Unusable("not a sampling publication: no plan")
    record = publication.get("draw")
    if not isinstance(record, dict):
        raise Unusable("no draw published yet: nothing to verify")
    algorithm = publication.get("algorithm_version")
    if algorithm != ALGORITHM:
        return _mismatch(f"algorithm version {algorithm!r} is not {ALGORITHM!r}")
    seed, commitment = record.get("seed"), publication.get("commitment")
    if not isinstance(seed, str) or not isinstance(commitment, str):
        raise Unusable("seed or commitment missing")
    if commitment_of(seed) != commitment:
        return _mismatch(f"seed: its SHA-256 {commitment_of(seed)} is not the commitment {commitment}")
    pool = _pool(record)
    codes = [e.credit_code for e in pool]
    if not all(map(le, codes, codes[1:])):  # what comparing the pool with its stable sort by credit code tells
        return _mismatch("pool: not sorted by credit code")
    canonical = [{"credit_code": e.credit_code, "category": e.category, "full_coverage": e.full_coverage} for e in pool]  # e.public()
    if pool_hash(canonical) != record.get("pool_hash"):
        return _mismatch(f"pool: its SHA-256 {pool_hash(canonical)} is not the published pool_hash {record.get('pool_hash')}")
    params = parameters_of(publication["plan"])
    roster = _roster(record)
    try:
        result = select_targets(seed, pool, params)
    except ValueError as exc:
        return _mismatch(f"the draw cannot be recomputed: {exc}")
    if max_work is not None and len(result.targets) * len(roster) > max_work:
        raise TooLarge(f"recomputing {len(result.targets)} targets × {len(roster)} inspectors is more than this endpoint "
                       f"verifies ({max_work}); verify it offline: ohs sampling verify publication.json")
    try:
        result.targets = assign_inspectors(seed, result.targets, roster, params.inspectors_per_task)
    except DrawRefused as exc:
        return _mismatch(f"the draw cannot be recomputed: {exc}")
    except ValueError as exc:
        return _mismatch(f"the draw cannot be recomputed: {exc}")
    expected = [(t.credit_code, t.category, t.selection, t.on_site, t.inspectors) for t in result.targets]
    published = _published_targets(record)
    names = ("credit_code", "category", "selection", "on_site", "inspectors")
    for index, (want, got) in enumerate(zip(expected, published)):
        if want != got:
            differing = next(n for n, a, b in zip(names, want, got) if a != b)
            return _mismatch(f"targets[{index}].{differing}: published {got[names.index(differing)]!r}, "
                             f"recomputed {want[names.index(differing)]!r} (target {got[0]})")
    if len(expected) != len(published):
        return _mismatch(f"targets: {len(published)} published, {len(expected)} recomputed")
    return {"match": True}
