"""行政行为码 (RULES §8): every case carries a unique code. Pure functions, no I/O.

Layout: ``{region 6}{year 4}{sequence 6}{check 1}``, 17 characters. The region is the case's county
(GB/T 2260), the year the year the case was opened, the sequence counts the cases of that region and
year from 000001, and the check character is ISO 7064 MOD 11-2 over the 16 digits (0–9 or X, the
scheme of the resident identity number and ORCID).
"""

from __future__ import annotations

import re

from services.penalty.domain.words import said_by
from shared import i18n
from shared.identifiers import county_region_problem, region_problem

CODE_LENGTH = 17
MAX_SEQUENCE = 999_999
_PATTERN = re.compile(r"^\d{16}[0-9X]$")


def mod11_2(digits: str) -> str:
    """ISO 7064 MOD 11-2 check character of a digit string."""
    if not digits.isdigit():
        raise ValueError(f"{digits!r} is not a string of digits")
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2 % 11
    value = (12 - total) % 11
    return "X" if value == 10 else str(value)


def make_code(region_code: str, year: int, sequence: int) -> str:
    if not (len(region_code) == 6 and region_code.isdigit()):
        raise ValueError(f"region {region_code!r} is not a 6-digit GB/T 2260 code")
    if not 1000 <= year <= 9999:
        raise ValueError(f"year {year} has not 4 digits")
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence {sequence} outside 1–{MAX_SEQUENCE}")
    body = f"{region_code}{year:04d}{sequence:06d}"
    return body + mod11_2(body)


def case_code_problem(code: str | None) -> str | None:
    """Why ``code`` is not a valid 行政行为码 (in Chinese), or None."""
    found = case_code_message(code)
    return None if found is None else i18n.text(*found)


def case_code_message(code: str | None) -> tuple[str, dict[str, object]] | None:
    """Why ``code`` is not a valid 行政行为码, as a message code and its parameters, or None."""
    if not code:
        return "penalty.case_code.missing", {}
    if len(code) != CODE_LENGTH:
        return "penalty.case_code.length", {"length": len(code), "expected": CODE_LENGTH}
    if not _PATTERN.match(code):
        return "penalty.case_code.characters", {}
    if problem := region_problem(code[:6]):
        return said_by(problem, "penalty.case_code.region", region=code[:6])
    if int(code[10:16]) == 0:
        return "penalty.case_code.sequence_zero", {}
    expected = mod11_2(code[:16])
    if code[16] != expected:
        return "penalty.case_code.check", {"found": code[16], "expected": expected}
    return None


def parts(code: str) -> tuple[str, int, int]:
    """(region, year, sequence) of a valid code."""
    return code[:6], int(code[6:10]), int(code[10:16])


def registration_region(credit_code: str) -> str:
    """Characters 3–8 of a 统一社会信用代码 are the registering authority's GB/T 2260 code
    (a county, a city, a province or 100000 for national registration)."""
    return credit_code[2:8]


def case_region(region_code: str | None, credit_code: str) -> str | None:
    """The county a case belongs to: as recorded, else the registering authority when that is a county."""
    if region_code:
        return region_code
    registered = registration_region(credit_code)
    return None if county_region_problem(registered) else registered


def code_region(region_code: str | None, credit_code: str) -> str:
    """The region of a case's 行政行为码: its county, else the registering authority."""
    return region_code or registration_region(credit_code)
