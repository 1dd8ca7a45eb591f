"""Verifying a published draw (一公开) from the publication alone: pure, no I/O.

``verify(publication)`` checks, in order: the algorithm version is one this code knows; the
revealed seed hashes to the commitment published when the plan was created; the published pool
hashes to the published pool hash; and recomputing the draw (targets, then inspectors) from the
seed, the pool, the roster and the plan's parameters gives exactly the published targets. The
first difference found is named.

What is wrong is said with a message code (catalogue ``sampling_draw``, codes ``sampling.draw.*``): a
mismatch carries ``code`` and ``params`` beside its ``reason`` (the English text, as before); :class:`Unusable`
and :class:`TooLarge` carry them as attributes (``text(locale)``: Chinese by default).
"""

from __future__ import annotations

from operator import le
from typing import Any

from services.sampling.domain.draw import (
    ALGORITHM, DrawRefused, Parameters, PoolEntry, RosterInspector, assign_inspectors, commitment_of, pool_hash, ratio_text,
    select_targets,
)
from shared import i18n
from shared.contracts import CATEGORIES
from shared.problems import Problem

FORMAT = "ohs-sampling-publication/1"


class Unusable(ValueError):
    """The document is not a publication (missing or malformed fields). ``str()`` is the English text; ``code``
    and ``params`` say it in every language (``text(locale)``)."""

    def __init__(self, problem: Problem | str) -> None:
        super().__init__(str(problem))
        self.code: str | None = getattr(problem, "code", None)
        self.params: dict[str, Any] = dict(getattr(problem, "params", None) or {})

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        return i18n.text_or(self.code, self.params, str(self), locale)


class TooLarge(Unusable):
    """Recomputing the draw would take more work than the caller allows (``max_work``)."""


def _mismatch(problem: Problem) -> dict[str, Any]:
    """A difference: ``reason`` in English (as the answer always said it), ``code`` and ``params`` for every language."""
    return {"match": False, "reason": str(problem), "code": problem.code, "params": dict(problem.params)}


def mismatch_text(outcome: dict[str, Any], locale: str = i18n.DEFAULT_LOCALE) -> str:
    """A verification's difference in ``locale`` (Chinese by default); its ``reason`` as written without a code."""
    return i18n.text_or(outcome.get("code"), outcome.get("params") or {}, str(outcome.get("reason", "")), locale)


def parameters_of(plan: dict[str, Any]) -> Parameters:
    try:
        ratios = {c: ratio_text(plan["ratios"].get(c, "0")) for c in CATEGORIES}
        minimums = {c: int(plan.get("minimums", {}).get(c, 0)) for c in CATEGORIES}
        return Parameters(ratios=ratios, minimums=minimums, inspectors_per_task=int(plan["inspectors_per_task"]),
                          jia_non_site=bool(plan["jia_non_site"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Unusable(Problem("sampling.draw.unusable.plan", error=repr(exc))) from exc


def _pool(draw_record: dict[str, Any]) -> list[PoolEntry]:
    try:
        return [PoolEntry(str(m["credit_code"]), str(m["category"]), bool(m.get("full_coverage", False))) for m in draw_record["pool"]]
    except (KeyError, TypeError) as exc:
        raise Unusable(Problem("sampling.draw.unusable.pool", error=repr(exc))) from exc


def _roster(draw_record: dict[str, Any]) -> list[RosterInspector]:
    try:
        return [RosterInspector(str(i["id"]), str(i.get("name", "")), frozenset(i.get("conflicts", []))) for i in draw_record["roster"]]
    except (KeyError, TypeError) as exc:
        raise Unusable(Problem("sampling.draw.unusable.roster", error=repr(exc))) from exc


def _published_targets(draw_record: dict[str, Any]) -> list[tuple[Any, ...]]:
    try:
        return [
            (t["credit_code"], t["category"], t["selection"], bool(t["on_site"]),
             tuple(i["id"] if isinstance(i, dict) else i for i in t["inspectors"]))
            for t in draw_record["targets"]
        ]
    except (KeyError, TypeError) as exc:
        raise Unusable(Problem("sampling.draw.unusable.targets", error=repr(exc))) from exc


def verify(publication: Any, max_work: int | None = None) -> dict[str, Any]:
    """``{"match": True}`` or ``{"match": False, "reason": …, "code": …, "params": …}`` (:func:`mismatch_text`);
    :class:`Unusable` when it is no publication.

    ``max_work`` bounds targets × inspectors, what assigning the inspectors costs (:class:`TooLarge` past it):
    the public HTTP endpoint sets it, the offline command does not."""
    if not isinstance(publication, dict) or not isinstance(publication.get("plan"), dict):
        raise Unusable(Problem("sampling.draw.unusable.no_plan"))
    record = publication.get("draw")
    if not isinstance(record, dict):
        raise Unusable(Problem("sampling.draw.unusable.no_draw"))
    algorithm = publication.get("algorithm_version")
    if algorithm != ALGORITHM:
        return _mismatch(Problem("sampling.draw.verify.algorithm", algorithm=repr(algorithm), expected=repr(ALGORITHM)))
    seed, commitment = record.get("seed"), publication.get("commitment")
    if not isinstance(seed, str) or not isinstance(commitment, str):
        raise Unusable(Problem("sampling.draw.unusable.no_seed"))
    if commitment_of(seed) != commitment:
        return _mismatch(Problem("sampling.draw.verify.seed", hash=commitment_of(seed), commitment=commitment))
    pool = _pool(record)
    codes = [e.credit_code for e in pool]
    if not all(map(le, codes, codes[1:])):  # what comparing the pool with its stable sort by credit code tells
        return _mismatch(Problem("sampling.draw.verify.pool_order"))
    canonical = [{"credit_code": e.credit_code, "category": e.category, "full_coverage": e.full_coverage} for e in pool]  # e.public()
    if pool_hash(canonical) != record.get("pool_hash"):
        return _mismatch(Problem("sampling.draw.verify.pool_hash", hash=pool_hash(canonical), published=str(record.get("pool_hash"))))
    params = parameters_of(publication["plan"])
    roster = _roster(record)
    try:
        result = select_targets(seed, pool, params)
    except ValueError as exc:
        return _mismatch(Problem("sampling.draw.verify.not_recomputable", problem=str(exc)))
    if max_work is not None and len(result.targets) * len(roster) > max_work:
        raise TooLarge(Problem("sampling.draw.too_large", targets=len(result.targets), inspectors=len(roster), max_work=max_work))
    try:
        result.targets = assign_inspectors(seed, result.targets, roster, params.inspectors_per_task)
    except DrawRefused as exc:
        return _mismatch(Problem("sampling.draw.verify.not_recomputable", problem=str(exc)))
    except ValueError as exc:
        return _mismatch(Problem("sampling.draw.verify.not_recomputable", problem=str(exc)))
    expected = [(t.credit_code, t.category, t.selection, t.on_site, t.inspectors) for t in result.targets]
    published = _published_targets(record)
    names = ("credit_code", "category", "selection", "on_site", "inspectors")
    for index, (want, got) in enumerate(zip(expected, published)):
        if want != got:
            differing = next(n for n, a, b in zip(names, want, got) if a != b)
            return _mismatch(Problem("sampling.draw.verify.target", index=index, field=differing, published=repr(got[names.index(differing)]),
                                     recomputed=repr(want[names.index(differing)]), credit_code=str(got[0])))
    if len(expected) != len(published):
        return _mismatch(Problem("sampling.draw.verify.target_count", published=len(published), recomputed=len(expected)))
    return {"match": True}
