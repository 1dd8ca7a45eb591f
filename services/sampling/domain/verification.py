"""Verification tasks (核查处置, RULES §10): an open exceedance episode of online monitoring becomes a task of
the employer's county agency, with a reason, a deadline in working days and two inspectors chosen by the
rule of a drawn task (the county's roster, conflicts 回避, the least loaded first, load counting the open
tasks each inspector holds). Pure: the roster, the loads and the calendar are given.

The seed is derived from the episode id, so the choice is reproducible: ``verification|<episode_id>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from services.sampling.domain.draw import DrawRefused, RosterInspector, Target, assign_inspectors


def seed_for(episode_id: str) -> str:
    return f"verification|{episode_id}"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def reason_of(factor: str, measure: str, observed: float | None, limit: float | None, unit: str, post: str, device_id: str,
              started_at: str, shift_day: date) -> tuple[str, dict[str, Any]]:
    """The task's reason as a message code and its parameters (a silent device has its own sentence)."""
    params = {"factor": factor, "post": post, "device_id": device_id, "observed": _number(observed), "limit": _number(limit),
              "unit": unit, "started_at": started_at, "shift_day": shift_day.isoformat()}
    return f"sampling.verification.reason.{measure}", params


@dataclass(frozen=True)
class Assignment:
    inspectors: tuple[str, ...]
    problem: dict[str, Any] | None  # {code, params} when the roster cannot staff it


def choose_inspectors(episode_id: str, credit_code: str, roster: list[RosterInspector], per_task: int,
                      loads: dict[str, int]) -> Assignment:
    """``per_task`` inspectors of the roster without a conflict with the employer, the least loaded first (``loads``:
    their open tasks), ties by SHA-256(seed|inspector|credit_code|id) with the episode's seed; or the problem."""
    if len(roster) < per_task:
        return Assignment((), {"code": "sampling.verification.unassigned.roster", "params": {"active": len(roster), "needed": per_task}})
    try:
        [target] = assign_inspectors(seed_for(episode_id), [Target(credit_code, "", "verification", "", True)], roster, per_task, loads)
    except DrawRefused as refused:
        problem = refused.problems[0]
        return Assignment((), {"code": "sampling.verification.unassigned.conflicts",
                               "params": {"eligible": problem["eligible"], "needed": per_task,
                                          "conflicts": ", ".join(problem["conflicts"]) or "—"}})
    return Assignment(target.inspectors, None)
