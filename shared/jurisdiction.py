"""Which versioned rule data applies where: jurisdictions and versions, shared by every rule book.

A jurisdiction is ``CN`` (national) or a GB/T 2260 code: a province (``140000``) covers every
code starting ``14``, a city (``141000``) every code starting ``1410``, a county only itself.
Among rule data in force, the most specific jurisdiction wins, then the latest effective date,
then the highest version (``2022.10`` > ``2022.9``).
"""

from __future__ import annotations

from datetime import date

NATIONAL = "CN"


def jurisdiction_level(jurisdiction: str) -> int:
    """0 national, 1 province, 2 city, 3 county: higher is more specific."""
    if jurisdiction == NATIONAL:
        return 0
    if jurisdiction.endswith("0000"):
        return 1
    if jurisdiction.endswith("00"):
        return 2
    return 3


def jurisdiction_covers(jurisdiction: str, region_code: str) -> bool:
    if jurisdiction == NATIONAL:
        return True
    return region_code.startswith(region_prefix(jurisdiction))


def region_prefix(region_code: str) -> str:
    """The prefix every code inside a region starts with: 141029 → 141029, 141000 → 1410, 140000 → 14."""
    level = jurisdiction_level(region_code)
    return region_code[: {1: 2, 2: 4, 3: 6}[level]]


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """'2022.10' > '2022.9': numeric parts compare as numbers, others as text (after numbers)."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in version.split("."))


def precedence(jurisdiction: str, effective_from: date, version: str) -> tuple:
    """Sort key: the greatest is the rule data that applies."""
    return (jurisdiction_level(jurisdiction), effective_from, version_key(version))
