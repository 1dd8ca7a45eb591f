"""GB 32100-2015 统一社会信用代码 and GB/T 2260 county codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.identifiers import (
    CREDIT_CODE_ALPHABET,
    county_region_problem,
    credit_code_check_character,
    credit_code_problem,
)

VALID = "91141029MA0GRT8U3L"


def test_the_example_credit_code_is_valid() -> None:
    assert credit_code_problem(VALID) is None
    assert credit_code_check_character(VALID[:17]) == "L"


def test_a_wrong_check_character_is_rejected_naming_the_expected_one() -> None:
    problem = credit_code_problem(VALID[:17] + "M")
    assert problem is not None
    assert "'M'" in problem and "'L'" in problem


@pytest.mark.parametrize("code", [VALID[:17], VALID + "0", ""], ids=["17 chars", "19 chars", "empty"])
def test_a_code_of_the_wrong_length_is_rejected_with_its_length(code: str) -> None:
    problem = credit_code_problem(code)
    assert problem is not None
    assert "18 characters" in problem and f"got {len(code)}" in problem


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_letters_outside_the_alphabet_are_rejected_and_named(letter: str) -> None:
    code = VALID[:10] + letter + VALID[11:]
    problem = credit_code_problem(code)
    assert problem is not None
    assert "outside the GB 32100 alphabet" in problem
    assert f": {letter} " in problem


def test_a_lower_case_code_is_rejected_even_when_the_upper_case_one_is_valid() -> None:
    problem = credit_code_problem(VALID.lower())
    assert problem is not None
    assert "outside the GB 32100 alphabet" in problem


@given(prefix=st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=17, max_size=17), other=st.sampled_from(CREDIT_CODE_ALPHABET))
def test_any_prefix_with_its_check_character_is_valid_and_with_any_other_is_not(prefix: str, other: str) -> None:
    check = credit_code_check_character(prefix)
    assert check in CREDIT_CODE_ALPHABET
    assert credit_code_problem(prefix + check) is None
    if other != check:
        assert credit_code_problem(prefix + other) is not None


def test_a_county_code_is_accepted() -> None:
    assert county_region_problem("141029") is None


@pytest.mark.parametrize("code", ["141000", "140000"], ids=["city 临汾市", "province 山西省"])
def test_a_city_or_province_code_is_not_a_county(code: str) -> None:
    problem = county_region_problem(code)
    assert problem is not None and "county-level" in problem


def test_an_unknown_province_prefix_is_rejected() -> None:
    problem = county_region_problem("991029")
    assert problem is not None and "99 is not a GB/T 2260 province-level prefix" in problem


@pytest.mark.parametrize("code", ["14102A", "14 029", "1410290", "14102", "-14102"])
def test_a_code_that_is_not_six_digits_is_rejected(code: str) -> None:
    problem = county_region_problem(code)
    assert problem is not None and "6-digit" in problem


@pytest.mark.parametrize("code", ["14１０２９", "1410²9", "14102٩"], ids=["full-width", "superscript", "arabic-indic"])
def test_non_ascii_digits_after_a_valid_province_prefix_are_rejected(code: str) -> None:
    assert county_region_problem(code) is not None


@pytest.mark.parametrize(
    ("region", "inside", "outside"),
    [("141029", "141029", "141024"), ("141000", "141024", "142024"), ("140000", "149999", "150102")],
    ids=["county", "city", "province"],
)
def test_a_region_covers_exactly_the_codes_below_it(region: str, inside: str, outside: str) -> None:
    from shared.jurisdiction import jurisdiction_covers

    assert jurisdiction_covers(region, inside)
    assert not jurisdiction_covers(region, outside)
    assert jurisdiction_covers("CN", outside)
