"""Sampling pools (检查对象名录库) per region and category: pure rules.

An employer sits in exactly one pool: that of its current region and category. Classification
changes arrive keyed by employer, and each carries the archive version it came from; a change
older than what the pool already holds is ignored, so a redelivery or a replay cannot move an
employer back.
"""

from __future__ import annotations

CATEGORIES = ("甲", "乙", "丙")  # 综合风险类别, lowest risk first


def should_apply(held_version: int | None, incoming_version: int) -> bool:
    return held_version is None or incoming_version > held_version
