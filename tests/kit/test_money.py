"""Money arithmetic: exact, rounded once, never a float, always summing to the total."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.kit.money import (
    RoundingMode,
    allocate,
    apply_rate,
    format_money,
    from_minor,
    inclusive_tax,
    minor_unit_exponent,
    parse_rate,
    round_decimal,
    round_to_nearest,
    split_evenly,
    to_minor,
)

modes = st.sampled_from(list(RoundingMode))
minor_amounts = st.integers(min_value=-(10**12), max_value=10**12)
currencies = st.sampled_from(["INR", "USD", "EUR", "JPY", "KWD", "BHD", "THB", "GBP", "CLF"])
rates = st.decimals(min_value=0, max_value=100, places=4, allow_nan=False, allow_infinity=False)
amounts = st.decimals(
    min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=6, allow_nan=False
)


def exact_quantize(value: Decimal, mode: RoundingMode, exponent: str = "1") -> Decimal:
    """Python's own decimal rounding, with enough precision to be exact."""
    with localcontext() as context:
        context.prec = 200
        return value.quantize(Decimal(exponent), rounding=mode.decimal_rounding)


# --- examples a cashier would recognise ----------------------------------------------------------


def test_gst_on_a_500_rupee_bill() -> None:
    assert apply_rate(50000, Decimal("2.5"), RoundingMode.HALF_UP) == 1250
    assert apply_rate(50000, Decimal("18"), RoundingMode.HALF_UP) == 9000


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (RoundingMode.HALF_UP, 13),  # 12.5 paise
        (RoundingMode.BANKERS, 12),
        (RoundingMode.HALF_DOWN, 12),
        (RoundingMode.CEIL, 13),
        (RoundingMode.FLOOR, 12),
    ],
)
def test_a_half_paisa_of_tax_follows_the_tenant_rounding_mode(
    mode: RoundingMode, expected: int
) -> None:
    assert apply_rate(500, Decimal("2.5"), mode) == expected


def test_refund_tax_mirrors_sale_tax_under_half_up() -> None:
    assert apply_rate(-500, Decimal("2.5"), RoundingMode.HALF_UP) == -13
    assert round_to_nearest(-150, 100, RoundingMode.HALF_UP) == (-200, -50)


def test_tenant_settings_spelling_is_accepted() -> None:
    assert RoundingMode("half-up") is RoundingMode.HALF_UP
    assert RoundingMode("bankers") is RoundingMode.BANKERS
    assert RoundingMode("HALF_EVEN") is RoundingMode.BANKERS
    with pytest.raises(ValueError):
        RoundingMode("nearest")


def test_currency_minor_units() -> None:
    assert [minor_unit_exponent(code) for code in ("INR", "usd", "JPY", "KWD", "XYZ")] == [
        2,
        2,
        0,
        3,
        2,
    ]
    assert to_minor(Decimal("12.5"), "INR") == 1250
    assert to_minor(Decimal("1500"), "JPY") == 1500
    assert to_minor(Decimal("1.234"), "KWD") == 1234
    assert from_minor(1250, "INR") == Decimal("12.50")
    assert str(from_minor(1250, "INR")) == "12.50"
    with pytest.raises(ValueError, match="3-letter"):
        minor_unit_exponent("RUPEES")


def test_a_typed_price_with_too_many_places_is_refused_unless_rounding_is_asked_for() -> None:
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        to_minor(Decimal("12.345"), "INR")
    assert to_minor(Decimal("12.345"), "INR", RoundingMode.BANKERS) == 1234
    assert to_minor(Decimal("12.345"), "INR", RoundingMode.HALF_UP) == 1235


def test_cash_rounding_to_the_nearest_rupee() -> None:
    assert round_to_nearest(52549, 100, RoundingMode.HALF_UP) == (52500, -49)
    assert round_to_nearest(52550, 100, RoundingMode.HALF_UP) == (52600, 50)
    assert round_to_nearest(52550, 100, RoundingMode.BANKERS) == (52600, 50)
    assert round_to_nearest(52450, 100, RoundingMode.BANKERS) == (52400, -50)
    assert round_to_nearest(52501, 100, RoundingMode.FLOOR) == (52500, -1)
    assert round_to_nearest(52501, 100, RoundingMode.CEIL) == (52600, 99)


def test_splitting_a_bill_three_ways() -> None:
    assert split_evenly(100000, 3) == [33334, 33333, 33333]
    assert allocate(1000, [1, 1, 1]) == [334, 333, 333]
    assert allocate(1000, [3, 0, 1]) == [750, 0, 250]
    assert allocate(10, [1, 2]) == [3, 7]


def test_display_uses_indian_grouping_for_rupees() -> None:
    assert format_money(12345678, "INR") == "₹1,23,456.78"
    assert format_money(123450, "INR") == "₹1,234.50"
    assert format_money(1000000000, "INR") == "₹1,00,00,000.00"
    assert format_money(5, "INR") == "₹0.05"
    assert format_money(-12345678, "USD") == "-$123,456.78"
    assert format_money(12345678, "USD", locale="en-IN") == "$1,23,456.78"
    assert format_money(1234, "JPY") == "¥1,234"
    assert format_money(1234, "KWD") == "KWD 1.234"


def test_rates_are_validated_and_canonical() -> None:
    assert parse_rate("18") == Decimal("18")
    assert str(parse_rate("18.00")) == "18"
    assert str(parse_rate(" 2.50 ")) == "2.5"
    assert str(parse_rate("100.0")) == "100"
    assert str(parse_rate("0.125")) == "0.125"
    with pytest.raises(ValueError, match="between 0 and 100"):
        parse_rate("100.01")
    with pytest.raises(ValueError, match="negative"):
        parse_rate("-5")
    with pytest.raises(ValueError, match="at most 4 decimal places"):
        parse_rate("2.00001")
    for bad in ("", "abc", "1e2", "NaN", "Infinity", "5%", "+5"):
        with pytest.raises(ValueError):
            parse_rate(bad)


def test_vat_inclusive_price_contains_the_right_tax() -> None:
    # ₹118 including 18 % GST contains ₹18 of tax.
    assert inclusive_tax(11800, Decimal("18"), RoundingMode.HALF_UP) == 1800
    assert inclusive_tax(10700, Decimal("7"), RoundingMode.HALF_UP) == 700


@pytest.mark.parametrize(
    "call",
    [
        lambda: apply_rate(50000, 2.5, RoundingMode.HALF_UP),  # type: ignore[arg-type]
        lambda: apply_rate(500.0, Decimal("2.5"), RoundingMode.HALF_UP),  # type: ignore[arg-type]
        lambda: to_minor(12.5, "INR"),  # type: ignore[arg-type]
        lambda: from_minor(12.5, "INR"),  # type: ignore[arg-type]
        lambda: split_evenly(100.0, 3),  # type: ignore[arg-type]
        lambda: allocate(100, [1.0, 2]),  # type: ignore[list-item]
        lambda: round_to_nearest(52549.0, 100, RoundingMode.HALF_UP),  # type: ignore[arg-type]
        lambda: round_decimal(2.5, RoundingMode.HALF_UP),  # type: ignore[arg-type]
        lambda: format_money(1.5, "INR"),  # type: ignore[arg-type]
        lambda: parse_rate(2.5),  # type: ignore[arg-type]
        lambda: split_evenly(True, 3),
    ],
)
def test_floats_are_refused_everywhere(call: object) -> None:
    with pytest.raises(TypeError):
        call()  # type: ignore[operator]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        split_evenly(100, 0)
    with pytest.raises(ValueError):
        allocate(100, [])
    with pytest.raises(ValueError):
        allocate(100, [0, 0])
    with pytest.raises(ValueError):
        allocate(100, [1, -1])
    with pytest.raises(ValueError):
        round_to_nearest(100, 0, RoundingMode.HALF_UP)
    with pytest.raises(ValueError, match="power of ten"):
        round_decimal(Decimal("1.23"), RoundingMode.HALF_UP, Decimal("0.05"))
    with pytest.raises(ValueError):
        to_minor(Decimal("NaN"), "INR")
    with pytest.raises(ValueError, match="out of the supported range"):
        to_minor(Decimal("1E+999999"), "INR", RoundingMode.HALF_UP)


# --- properties ---------------------------------------------------------------------------------


@given(total=minor_amounts, n=st.integers(min_value=1, max_value=50))
def test_split_evenly_sums_exactly_and_is_fair(total: int, n: int) -> None:
    parts = split_evenly(total, n)
    assert len(parts) == n
    assert sum(parts) == total
    assert max(parts) - min(parts) <= 1
    assert parts == sorted(parts, reverse=True)
    assert split_evenly(total, n) == parts


@given(
    total=minor_amounts,
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(
        any
    ),
)
def test_allocate_sums_exactly_and_each_part_is_within_one_unit_of_its_share(
    total: int, weights: list[int]
) -> None:
    parts = allocate(total, weights)
    weight_sum = sum(weights)
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        exact_share = total * weight  # compare part with total*weight/weight_sum, no division
        assert abs(part * weight_sum - exact_share) < weight_sum
        if weight == 0:
            assert part == 0


@given(total=minor_amounts, n=st.integers(min_value=1, max_value=50))
def test_allocate_with_equal_weights_matches_split_evenly(total: int, n: int) -> None:
    assert allocate(total, [7] * n) == split_evenly(total, n)


@given(minor=minor_amounts, currency=currencies)
def test_from_minor_then_to_minor_round_trips(minor: int, currency: str) -> None:
    major = from_minor(minor, currency)
    assert -major.as_tuple().exponent == minor_unit_exponent(currency)  # type: ignore[operator]
    assert to_minor(major, currency) == minor
    for mode in RoundingMode:
        assert to_minor(major, currency, mode) == minor


@given(amount=amounts, currency=currencies, mode=modes)
def test_to_minor_is_within_one_minor_unit_and_agrees_with_decimal(
    amount: Decimal, currency: str, mode: RoundingMode
) -> None:
    minor = to_minor(amount, currency, mode)
    unit = Decimal(1).scaleb(-minor_unit_exponent(currency))
    back = from_minor(minor, currency)
    assert abs(back - amount) < unit
    assert back == exact_quantize(amount, mode, str(unit))


@given(value=amounts, mode=modes)
def test_rounding_modes_bound_the_error(value: Decimal, mode: RoundingMode) -> None:
    rounded = round_decimal(value, mode)
    assert rounded == exact_quantize(value, mode)
    assert rounded == rounded.to_integral_value()
    assert abs(value - rounded) < 1
    if mode is RoundingMode.CEIL:
        assert rounded >= value
    elif mode is RoundingMode.FLOOR:
        assert rounded <= value
    else:
        assert abs(value - rounded) <= Decimal("0.5")


@given(value=amounts, mode=modes, places=st.integers(min_value=-3, max_value=4))
def test_round_decimal_to_other_exponents_matches_quantize(
    value: Decimal, mode: RoundingMode, places: int
) -> None:
    exponent = Decimal(1).scaleb(-places)
    rounded = round_decimal(value, mode, exponent)
    assert rounded == exact_quantize(value, mode, str(exponent))
    assert abs(value - rounded) < exponent


@given(minor=minor_amounts, rate=rates, mode=modes)
def test_apply_rate_is_decimal_arithmetic_rounded_once(
    minor: int, rate: Decimal, mode: RoundingMode
) -> None:
    expected = exact_quantize(Decimal(minor) * rate / 100, mode)
    assert apply_rate(minor, rate, mode) == int(expected)


@given(
    amount=st.integers(min_value=0, max_value=10**10),
    extra=st.integers(min_value=0, max_value=10**6),
    rate=rates,
    mode=modes,
)
def test_apply_rate_never_charges_less_tax_on_a_bigger_amount(
    amount: int, extra: int, rate: Decimal, mode: RoundingMode
) -> None:
    assert apply_rate(amount, rate, mode) <= apply_rate(amount + extra, rate, mode)
    assert 0 <= apply_rate(amount, rate, mode) <= amount


@given(minor=minor_amounts, step=st.sampled_from([1, 5, 10, 25, 50, 100, 500, 1000]), mode=modes)
def test_round_to_nearest_bounds_the_round_off(minor: int, step: int, mode: RoundingMode) -> None:
    rounded, round_off = round_to_nearest(minor, step, mode)
    assert rounded == minor + round_off
    assert rounded % step == 0
    if mode is RoundingMode.CEIL:
        assert 0 <= round_off < step
    elif mode is RoundingMode.FLOOR:
        assert -step < round_off <= 0
    else:
        assert 2 * abs(round_off) <= step
    assert Decimal(rounded) == exact_quantize(Decimal(minor) / step, mode) * step


@given(gross=st.integers(min_value=0, max_value=10**10), rate=rates, mode=modes)
def test_inclusive_tax_plus_net_is_the_gross(gross: int, rate: Decimal, mode: RoundingMode) -> None:
    tax = inclusive_tax(gross, rate, mode)
    with localcontext() as context:
        context.prec = 200
        exact = Decimal(gross) * rate / (100 + rate)
    assert abs(tax - exact) < 1
    assert 0 <= tax <= gross


@given(minor=minor_amounts)
def test_format_money_shows_every_paisa(minor: int) -> None:
    text = format_money(minor, "INR")
    digits = text.replace("₹", "").replace(",", "").replace(".", "")
    assert int(digits) == minor
    assert text.startswith("-₹" if minor < 0 else "₹")
