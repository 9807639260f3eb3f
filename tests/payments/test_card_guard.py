"""The card-data guard (pure): every Luhn-valid 13-19 digit number is found however it is
spaced or embedded; UTRs, amounts and provider tokens are not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.payments.card_guard import find_card_data, looks_like_pan, luhn_valid


def _luhn_complete(prefix: str) -> str:
    for check in "0123456789":
        if luhn_valid(prefix + check):
            return prefix + check
    raise AssertionError("unreachable")


pans = st.integers(min_value=12, max_value=18).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n).map(_luhn_complete)
)


@given(
    pan=pans, sep=st.sampled_from(["", " ", "-"]), before=st.text("abc_ :"), after=st.text("xyz_ /")
)
def test_every_card_number_is_found_wherever_it_hides(
    pan: str, sep: str, before: str, after: str
) -> None:
    spaced = sep.join(pan[i : i + 4] for i in range(0, len(pan), 4))
    assert looks_like_pan(f"{before}{spaced}{after}")
    assert find_card_data({"reference": "tok", "note": {"deep": [f"{before}{spaced}"]}}) == (
        "note.deep[0]"
    )


@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=12))
def test_short_numbers_like_utrs_pass(digits: str) -> None:
    assert not looks_like_pan(digits)


@given(pan=pans)
def test_a_wrong_check_digit_passes(pan: str) -> None:
    broken = pan[:-1] + str((int(pan[-1]) + 1) % 10)
    assert not looks_like_pan(broken)


@pytest.mark.parametrize(
    "value",
    ["4111111111111111", "5555 5555 5555 4444", "3782-822463-10005", "card 6011111111111117!"],
)
def test_known_test_cards_are_found(value: str) -> None:
    assert looks_like_pan(value)


@pytest.mark.parametrize(
    "body",
    [
        {"method": "upi", "amount": 52500, "utr": "412345678901"},
        {"method": "card", "amount": 1, "reference": "tok_1QXabcDEF"},
        {"method": "card", "amount": 4111111111111111, "reference": "pi_3Mtw_secret"},
        {"reference": "41111111111111111111"},  # 20 digits: not a card number
    ],
)
def test_ordinary_bodies_pass(body: dict[str, object]) -> None:
    assert find_card_data(body) is None


@pytest.mark.parametrize(
    "key", ["pan", "PAN", "card_number", "cardNumber", "cvv", "CVC", "expiry", "exp_month"]
)
def test_card_field_names_are_refused_whatever_their_value(key: str) -> None:
    assert find_card_data({"method": "card", key: ""}) == key
