"""Identifiers every service checks the same way.

统一社会信用代码 (unified social credit code), GB 32100-2015: 18 characters from a 31-character
alphabet (digits and capitals without I, O, Z, S, V); the 18th is a check character computed
from the first 17 with weights 3^i mod 31.

行政区划代码 (administrative division code), GB/T 2260: 6 digits, province (2) + city (2) +
county (2). An employer sits in a county-level division, so its code must not end in 00.

Each ``*_problem`` check answers a :class:`shared.problems.Problem` (its English text, with the message
code and parameters that say it in Chinese or English), or None.
"""

from __future__ import annotations

import secrets

from shared.problems import Problem

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

# GB/T 2260 province-level prefixes (31 provinces, plus 71 台湾, 81 香港, 82 澳门).
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)


def credit_code_check_character(first17: str) -> str:
    total = sum(CREDIT_CODE_ALPHABET.index(ch) * w for ch, w in zip(first17, _WEIGHTS))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def random_credit_code(region: str) -> str:
    """A fresh, valid 统一社会信用代码 of an enterprise (91) registered in ``region``, its serial random: for
    demonstrations, benchmarks and tests, never a real employer's."""
    body = "91" + region + "".join(secrets.choice(CREDIT_CODE_ALPHABET) for _ in range(9))
    return body + credit_code_check_character(body)


def credit_code_problem(code: str) -> Problem | None:
    """Why ``code`` is not a valid 统一社会信用代码, or None when it is."""
    if len(code) != 18:
        return Problem("errors.credit_code.length", length=len(code))
    bad = sorted({ch for ch in code if ch not in CREDIT_CODE_ALPHABET})
    if bad:
        return Problem("errors.credit_code.alphabet", characters="".join(bad)[:40])
    expected = credit_code_check_character(code[:17])
    if code[17] != expected:
        return Problem("errors.credit_code.check_character", given=repr(code[17]), expected=repr(expected))
    return None


def county_region_problem(code: str) -> Problem | None:
    """Why ``code`` is not a county-level GB/T 2260 code, or None when it is."""
    if problem := region_problem(code):
        return problem
    if code[2:4] == "00" or code[4:] == "00":
        return Problem("errors.region_code.not_county")
    return None


def region_problem(code: str) -> Problem | None:
    """Why ``code`` is not any GB/T 2260 code (province, city or county), or None."""
    if len(code) != 6 or not all("0" <= ch <= "9" for ch in code):  # str.isdigit() would take ２ or ²
        return Problem("errors.region_code.format")
    if code[:2] not in PROVINCE_PREFIXES:
        return Problem("errors.region_code.province_prefix", prefix=code[:2])
    return None
