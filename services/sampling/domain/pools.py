"""Sampling pools (检查对象名录库) per region and category: pure rules.

An employer sits in exactly one pool: that of its current region and category. Classification
changes arrive keyed by employer, and each carries the archive version it came from; a change
older than what the pool already holds is ignored, so a redelivery or a replay cannot move an
employer back.

An employer with a 免检 in force (RULES §6) is left out of the pool — not counted, not drawn —
and listed apart; it comes back, in its current category, when the exemption ends.
"""

from __future__ import annotations


def should_apply(held_version: int | None, incoming_version: int) -> bool:
    return held_version is None or incoming_version > held_version


def exemption_update(held_exempt: bool | None, incoming_exempt: bool) -> bool | None:
    """The exempt flag to keep for one exemption after an announcement, or None to ignore it.

    An exemption comes into force once and ends once: an end is final, so an "exempt" arriving
    after the end (a replay) is ignored, and an end arriving first is kept so that the start,
    should it come later, is ignored too."""
    if held_exempt is False:
        return None
    if held_exempt is incoming_exempt:
        return None
    return incoming_exempt
