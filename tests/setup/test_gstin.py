"""GSTIN checks: published numbers pass, the checksum catches every single-character typo,
and each kind of mistake gets its own message."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.setup.gstin import (
    STATE_CODES,
    gstin_check_char,
    state_code_for,
    state_name,
    validate_gstin,
)

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Widely published GSTINs (the GSTN's own example, and a Karnataka registration).
PUBLISHED = ["27AAPFU0939F1ZV", "29AAGCB7383J1Z4"]

letters = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=1)
digits = st.text("0123456789", min_size=1, max_size=1)


@st.composite
def valid_gstins(draw: st.DrawFn) -> str:
    state = draw(st.sampled_from(sorted(STATE_CODES)))
    pan = (
        "".join(draw(letters) for _ in range(5))
        + "".join(draw(digits) for _ in range(4))
        + draw(letters)
    )
    entity = draw(st.sampled_from("123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    first14 = f"{state}{pan}{entity}Z"
    return first14 + gstin_check_char(first14)


@pytest.mark.parametrize("gstin", PUBLISHED)
def test_published_gstins_are_valid(gstin: str) -> None:
    assert validate_gstin(gstin) == gstin
    assert validate_gstin(f"  {gstin.lower()} ") == gstin  # trimmed and upper-cased


def test_state_code_and_name_come_from_the_first_two_characters() -> None:
    assert state_code_for("27AAPFU0939F1ZV") == "27"
    assert state_name("27") == "Maharashtra"
    assert state_name("29") == "Karnataka"
    assert state_name("24") == "Gujarat"
    assert state_name("38") == "Ladakh"
    assert state_name("97") == "Other Territory"
    assert state_name("99") == "Centre Jurisdiction"
    assert state_name("00") is None
    assert state_name("39") is None
    assert sorted(STATE_CODES)[:2] == ["01", "02"]
    assert len(STATE_CODES) == 40


@given(valid_gstins())
def test_numbers_built_with_the_checksum_are_valid(gstin: str) -> None:
    assert validate_gstin(gstin) == gstin
    assert state_code_for(gstin) == gstin[:2]


@given(
    valid_gstins(),
    st.integers(min_value=0, max_value=14),
    st.sampled_from(ALPHANUMERIC),
)
def test_every_single_character_change_is_rejected(gstin: str, position: int, char: str) -> None:
    if gstin[position] == char:
        char = ALPHANUMERIC[(ALPHANUMERIC.index(char) + 1) % len(ALPHANUMERIC)]
    mutated = gstin[:position] + char + gstin[position + 1 :]
    with pytest.raises(ValueError):
        validate_gstin(mutated)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("27AAPFU0939F1Z", "has 15 characters, this one has 14"),
        ("27AAPFU0939F1ZVX", "this one has 16"),
        ("", "this one has 0"),
        ("27AAPFU0939F1Z*", "character '*' at position 15 is not a letter or digit"),
        ("00AAPFU0939F1ZV", "'00' is not a GST state code"),
        ("40AAPFU0939F1ZV", "'40' is not a GST state code"),
        ("27AAPF10939F1ZV", "must be a PAN: 5 letters, 4 digits, 1 letter"),
        ("27AAPFU093AF1ZV", "must be a PAN"),
        ("27AAPFU0939F0ZV", "character 13 ('0') must be a registration number"),
        ("27AAPFU0939F1YV", "character 14 must be 'Z', not 'Y'"),
        ("27AAPFU0939F1ZW", "the check character is 'W' but should be 'V'"),
    ],
)
def test_each_mistake_is_named(value: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        validate_gstin(value)
    assert message in str(info.value)


def test_check_char_needs_exactly_fourteen_characters() -> None:
    assert gstin_check_char("27AAPFU0939F1Z") == "V"
    with pytest.raises(ValueError):
        gstin_check_char("27AAPFU0939F1")
