"""Choosing the rule data in force: pure functions over rule data already parsed (no I/O).

The domain of every service imports from here; reading and validating the files is
``shared.rule_data``'s job (the adapters call it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Protocol, TypeVar

from pydantic import BaseModel, PrivateAttr

from shared.identifiers import region_problem
from shared.jurisdiction import jurisdiction_covers, jurisdiction_level, precedence


class Versioned(Protocol):
    jurisdiction: str
    version: str
    effective_from: date


V = TypeVar("V", bound=Versioned)


class RuleDataError(ValueError):
    """A rule-data file (or folder) is unusable; the message names the file and what is wrong."""


class NoApplicableRules(LookupError):
    """No loaded rule data covers the region on the date asked for."""


class FromRuleFile(BaseModel):
    """Rule data that remembers the file :func:`read_rule_file` read it from."""

    _origin: str | None = PrivateAttr(default=None)

    @property
    def origin(self) -> str | None:
        """The file it was loaded from, if any."""
        return self._origin


def in_force(items: Sequence[V], region_code: str, on: date, what: str, known_as: str, *, check_region: bool = True) -> V:
    """The item for ``region_code`` on ``on``: most specific jurisdiction, then latest effective_from, then highest version.

    :class:`NoApplicableRules` reads "no <what> region R on D (<known_as>: …)"; with ``check_region``
    a region that is no GB/T 2260 code is a ValueError."""
    if check_region and (problem := region_problem(region_code)):
        raise ValueError(f"region code {region_code!r} {problem}")
    candidates = [item for item in items if jurisdiction_covers(item.jurisdiction, region_code) and item.effective_from <= on]
    if not candidates:
        known = ", ".join(f"{item.jurisdiction} {item.version} from {item.effective_from}" for item in items) or "none loaded"
        raise NoApplicableRules(f"no {what} region {region_code} on {on.isoformat()} ({known_as}: {known})")
    return max(candidates, key=lambda item: precedence(item.jurisdiction, item.effective_from, item.version))


class Extending(Versioned, Protocol):
    extends: str | None

    def own_label(self) -> str: ...


E = TypeVar("E", bound=Extending)


def in_force_extended(items: Sequence[E], region_code: str, on: date, what: str, known_as: str,
                      merge: Callable[[E, E], E], depth: int = 0) -> E:
    """:func:`in_force`, where a file may extend the rule data of a less specific jurisdiction (``extends``):
    the chosen one is merged (``merge(base, chosen)``) onto what is in force for the jurisdiction it extends
    (an extension of an extension too, five deep at most)."""
    chosen = in_force(items, region_code, on, what, known_as, check_region=False)
    if chosen.extends is None:
        return chosen
    if depth > 5:
        raise RuleDataError(f"{known_as}: {chosen.own_label()} extends too deep (a cycle?)")
    # the base: the files of the extended jurisdiction (or less specific ones) covering the region
    bases = [item for item in items if jurisdiction_level(item.jurisdiction) <= jurisdiction_level(chosen.extends)
             and jurisdiction_covers(item.jurisdiction, region_code)]
    return merge(in_force_extended(bases, region_code, on, what, known_as, merge, depth + 1), chosen)
