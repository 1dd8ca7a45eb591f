"""``GET /rules/in-force``: which versioned rule data a service decides with, for a county on a day.

Every service declares its rule data at start-up (``bootstrap.py``, from what its ``adapters/rules.py`` loaded):
one :class:`DeclaredRules` per kind of rule data — a name (the files' ``kind``), a title in Chinese and a callable
``(region_code, on) → the item in force`` (a model with ``jurisdiction``, ``version``, ``effective_from`` and, as a
rule, ``provisional`` and ``source``), which raises :class:`shared.rules_in_force.NoApplicableRules` (or answers
None) when nothing covers the county on that day. :func:`add_rules_in_force` adds the route; nothing is read from
disk per request, and the choice is the domain's own (the same ``in_force`` the decisions call).

The answer (:class:`RulesInForce`)::

    {"region_code": "141029", "on": "2026-05-01", "rule_sets": [
        {"name": "no_penalty_list", "title": "不予处罚清单（附件5）", "missing": false, "jurisdiction": "CN", "version": "2021.1",
         "effective_from": "2021-07-15", "provisional": true, "source": "…", "file": "services/penalty/rules/national-2021.json"},
        {"name": "discretion_baseline", "title": "裁量基准", "missing": true, "code": "errors.rules.none_in_force",
         "params": {"region_code": "141029", "on": "2026-05-01"}, "reason": "…"}]}

``file`` is the file the item was read from when its model remembers it (:class:`shared.rules_in_force.FromRuleFile`;
a packaged file relative to the repository, an agency's as configured), else null; an extension merged onto the list
it extends (``extends``) has no single file. Any valid token; a region that is no county-level GB/T 2260 code is 422
naming ``region_code``; ``on`` (YYYY-MM-DD) defaults to today in China.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel, Field

from shared import i18n
from shared.dates import china_today
from shared.errors import Refusal
from shared.http import CurrentPrincipal, DayQuery
from shared.identifiers import county_region_problem
from shared.rules_in_force import NoApplicableRules

PATH = "/rules/in-force"
STATE_KEY = "rules_in_force"  # app.state.rules_in_force: the declared rule data (for `ohs ops` and tests)
NOT_IN_FORCE = "errors.rules.none_in_force"
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DeclaredRules:
    """One kind of versioned rule data a service loads. ``in_force(region_code, on)`` answers the item in force
    (None, or :class:`NoApplicableRules`, when there is none); ``provisional`` tells the flag of an item that has
    no ``provisional`` field of its own (e.g. a catalogue whose entries each have one)."""

    name: str
    title: str
    in_force: Callable[[str, date], Any]
    provisional: Callable[[Any], bool] | None = None


class RuleSetInForce(BaseModel):
    name: str = Field(description="what kind of rule data (the files' `kind`, e.g. no_penalty_list)")
    title: str = Field(description="its name in Chinese, e.g. 不予处罚清单（附件5）")
    missing: Literal[False] = False
    jurisdiction: str = Field(description="CN or the GB/T 2260 code of the province, city or county it is for")
    version: str
    effective_from: date
    provisional: bool | None = Field(description="true while any of it is provisional (awaiting the official text)")
    source: str | None = Field(description="the document it restates")
    file: str | None = Field(description="the file it was read from (packaged: relative to the repository), when known")


class RuleSetMissing(BaseModel):
    name: str
    title: str
    missing: Literal[True] = True
    code: str = Field(description=f"`{NOT_IN_FORCE}`")
    params: dict[str, Any]
    reason: str = Field(description="why there is none, in the reader's language")


class RulesInForce(BaseModel):
    region_code: str
    on: date
    rule_sets: list[RuleSetInForce | RuleSetMissing] = Field(description="one per kind of rule data the service loads, in its order")


def rule_file(origin: str | None) -> str | None:
    """The file as the answer names it: relative to the repository when packaged, else as configured."""
    if not origin:
        return None
    path = Path(origin)
    return path.relative_to(REPO_ROOT).as_posix() if path.is_absolute() and path.is_relative_to(REPO_ROOT) else str(path)


def rule_set_in_force(declared: DeclaredRules, region_code: str, on: date) -> RuleSetInForce | RuleSetMissing:
    """What ``declared`` has in force for the county on the day, or why nothing."""
    try:
        item = declared.in_force(region_code, on)
    except NoApplicableRules:
        item = None
    if item is None:
        params = {"region_code": region_code, "on": on.isoformat()}
        return RuleSetMissing(name=declared.name, title=declared.title, code=NOT_IN_FORCE, params=params, reason=i18n.text(NOT_IN_FORCE, params))
    provisional = declared.provisional(item) if declared.provisional is not None else getattr(item, "provisional", None)
    return RuleSetInForce(name=declared.name, title=declared.title, jurisdiction=item.jurisdiction, version=item.version,
                          effective_from=item.effective_from, provisional=provisional, source=getattr(item, "source", None) or None,
                          file=rule_file(getattr(item, "origin", None)))


def rules_in_force(declared: Sequence[DeclaredRules], region_code: str, on: date) -> RulesInForce:
    """Every declared kind of rule data for a county (checked by the caller) on a day."""
    return RulesInForce(region_code=region_code, on=on, rule_sets=[rule_set_in_force(d, region_code, on) for d in declared])


def add_rules_in_force(app: FastAPI, declared: Iterable[DeclaredRules]) -> None:
    """Add ``GET /rules/in-force`` to ``app`` for the rule data ``declared`` (names unique)."""
    rule_sets = tuple(declared)
    names = [d.name for d in rule_sets]
    if not rule_sets or len(set(names)) != len(names):
        raise ValueError(f"declare each kind of rule data once (got {names})")
    setattr(app.state, STATE_KEY, rule_sets)
    router = APIRouter()

    @router.get(
        PATH,
        tags=["rules 规则"],
        summary="Which versioned rule data this service decides with for a county on a day",
        description=(
            "One entry per kind of rule data the service loads (" + ", ".join(f"`{d.name}` {d.title}" for d in rule_sets) + "): "
            "the jurisdiction, version, effective date, provisional flag, source and file of the one in force for `region_code` "
            "on `on` (default: today in China) — most specific jurisdiction first, then the latest effective date — or "
            f"`missing: true` with the reason (`{NOT_IN_FORCE}`) when none covers the county that day. Any valid token."
        ),
        response_model=RulesInForce,
        responses={422: {"description": "`region_code` is no county-level GB/T 2260 code, or `on` no date in range"}},
    )
    async def get_rules_in_force(
        _: CurrentPrincipal,
        region_code: str = Query(min_length=1, max_length=12, description="the county (GB/T 2260), e.g. 141029"),
        on: DayQuery = None,
    ) -> RulesInForce:
        if problem := county_region_problem(region_code):
            raise Refusal(422, problem.code, problem.params, field="region_code")
        return rules_in_force(rule_sets, region_code, on or china_today())

    app.include_router(router)
