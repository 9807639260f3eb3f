"""Property tests of the tax engine (BEY-04): for random carts, modifiers, coupons, happy
hours, tips and every tax and rounding policy, the api.md invariants hold exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servio.billing.pricing_errors import CouponMinSubtotal, NonStackable
from servio.billing.rules import DAYS, PriceListSpec, RuleSpec, Window
from servio.billing.tax import (
    BillFigures,
    BillInput,
    BillLine,
    CouponSpec,
    TaxProfile,
    compute_bill,
)
from servio.kit.money import RoundingMode

RATES = [Decimal(r) for r in ("0", "5", "12", "18", "28")]
ITEMS = ["paneer", "lassi", "salad", "naan"]
CATEGORIES = ["starters", "drinks", None]
START = datetime(2026, 11, 16, tzinfo=UTC)  # a Monday
HHMM = st.sampled_from(["00:00", "06:30", "11:00", "17:00", "19:00", "22:00", "23:59"])

instants = st.integers(min_value=0, max_value=14 * 24 * 60).map(
    lambda minutes: START + timedelta(minutes=minutes)
)


@st.composite
def profiles(draw: st.DrawFn) -> TaxProfile:
    regime = draw(st.sampled_from(["gst", "gst", "vat", "none"]))
    return TaxProfile(
        currency=draw(st.sampled_from(["INR", "JPY", "KWD"])) if regime != "gst" else "INR",
        regime=regime,
        gst_mode=draw(st.sampled_from(["regular", "regular", "composition", "unregistered"])),
        state_code=draw(st.sampled_from(["29", "27", None])),
        prices_include_tax=draw(st.booleans()),
        gst_rounding=draw(st.sampled_from(["item_wise", "invoice_total"])),
        rounding_mode=draw(st.sampled_from(list(RoundingMode))),
        rounding=draw(st.sampled_from(["nearest_1", "none"])),
        service_charge_pct=draw(st.sampled_from([Decimal(0), Decimal("7.5"), Decimal(10)])),
        service_charge_tax_rate=draw(st.sampled_from(RATES)),
    )


@st.composite
def bill_lines(draw: st.DrawFn) -> tuple[BillLine, ...]:
    count = draw(st.integers(min_value=0, max_value=8))
    lines = []
    for index in range(count):
        base = draw(st.integers(min_value=0, max_value=200_000))
        lines.append(
            BillLine(
                ref=str(index),
                menu_item_id=draw(st.sampled_from(ITEMS)),
                category_id=draw(st.sampled_from(CATEGORIES)),
                name=f"line {index}",
                qty=draw(st.integers(min_value=1, max_value=25)),
                base_price=base,
                modifiers_total=draw(st.integers(min_value=-base, max_value=9_000)),
                rate=draw(st.sampled_from(RATES)),
                hsn="996331",
                member_id=draw(st.sampled_from(["m1", "m2", None])),
                ordered_at=draw(st.none() | instants),
            )
        )
    return tuple(lines)


@st.composite
def windows(draw: st.DrawFn) -> Window:
    return Window(
        days=tuple(draw(st.lists(st.sampled_from(DAYS), max_size=3, unique=True))),
        start_time=draw(st.none() | HHMM),
        end_time=draw(st.none() | HHMM),
    )


@st.composite
def rules(draw: st.DrawFn) -> RuleSpec:
    adjustment = draw(st.sampled_from(["percent", "flat"]))
    return RuleSpec(
        id=f"rule-{draw(st.integers(0, 99))}",
        name="rule",
        kind=draw(st.sampled_from(["happy_hour", "payment_type", "promotion"])),
        adjustment=adjustment,
        direction=draw(st.sampled_from(["discount", "discount", "surcharge"])),
        percent=draw(st.sampled_from([Decimal(5), Decimal("12.5"), Decimal(50), Decimal(100)])),
        amount=draw(st.integers(min_value=0, max_value=50_000)),
        window=draw(windows()),
        payment_type=draw(st.sampled_from(["card", "cash", None])),
        item_ids=frozenset(draw(st.lists(st.sampled_from(ITEMS), max_size=2))),
        category_ids=frozenset(draw(st.lists(st.sampled_from(["starters", "drinks"]), max_size=1))),
        priority=draw(st.integers(-2, 2)),
    )


@st.composite
def price_lists(draw: st.DrawFn) -> PriceListSpec:
    return PriceListSpec(
        id=f"pl-{draw(st.integers(0, 99))}",
        name="list",
        prices=draw(st.dictionaries(st.sampled_from(ITEMS), st.integers(0, 100_000), max_size=3)),
        window=draw(windows()),
        priority=draw(st.integers(-2, 2)),
    )


@st.composite
def coupon_sets(draw: st.DrawFn) -> tuple[CouponSpec, ...]:
    count = draw(st.integers(min_value=0, max_value=3))
    coupons = []
    for index in range(count):
        kind = draw(st.sampled_from(["percent", "flat"]))
        coupons.append(
            CouponSpec(
                id=f"c{index}",
                code=f"CODE{index}",
                kind=kind,
                percent=draw(st.sampled_from([Decimal(5), Decimal("33.3"), Decimal(100)])),
                amount=draw(st.integers(0, 300_000)),
                max_discount=draw(st.none() | st.integers(0, 100_000)),
                stackable=count > 1 or draw(st.booleans()),
            )
        )
    return tuple(coupons)


@st.composite
def bills(draw: st.DrawFn) -> BillInput:
    return BillInput(
        profile=draw(profiles()),
        lines=draw(bill_lines()),
        at=draw(instants),
        timezone=draw(st.sampled_from(["Asia/Kolkata", "UTC", "America/New_York"])),
        rules=tuple(draw(st.lists(rules(), max_size=3))),
        price_lists=tuple(draw(st.lists(price_lists(), max_size=2))),
        coupons=draw(coupon_sets()),
        tip=draw(st.sampled_from([0, 0, 1, 2000, 12345])),
        payment_type=draw(st.sampled_from(["card", "cash", None])),
        place_of_supply=draw(st.sampled_from(["29", "27", None])),
        happy_hours_enabled=draw(st.booleans()),
    )


def _taxes_of_lines(figures: BillFigures) -> int:
    return sum(t.amount for line in figures.lines for t in line.taxes)


@settings(max_examples=600)
@given(bills())
def test_invariants_hold_for_every_bill(bill: BillInput) -> None:
    figures = compute_bill(bill)
    body = figures.as_dict()
    profile = bill.profile

    # api.md invariants, exactly.
    assert (
        body["taxable_subtotal"]
        == body["subtotal"] - body["discount_total"] + body["service_charge"]
    )
    sc_tax = sum(t.amount for t in figures.service_charge_taxes)
    assert body["tax_total"] == sum(t["amount"] for t in body["tax_lines"])
    assert (
        body["tax_total"] == sum(t["amount"] for ln in body["lines"] for t in ln["taxes"]) + sc_tax
    )
    assert body["total"] == (
        body["taxable_subtotal"] + body["tax_total"] + body["tip"] + body["round_off"]
    )
    assert body["subtotal"] - body["discount_total"] == sum(
        ln.taxable_value for ln in figures.lines
    )
    assert body["effective_discount"] == sum(c["amount"] for c in body["applied_coupons"])

    # Nothing negative.
    for key in ("subtotal", "discount_total", "effective_discount", "service_charge",
                "taxable_subtotal", "tax_total", "tip", "total"):  # fmt: skip
        assert body[key] >= 0, key
    for ln in figures.lines:
        assert min(ln.unit_price, ln.subtotal, ln.discount, ln.taxable_value, ln.tax) >= 0
        assert ln.discount <= ln.subtotal
        assert all(t.amount >= 0 for t in ln.taxes)

    # Who pays what: the guest pays the lines (tax on top, or inside the menu price).
    paid_for_lines = sum(ln.subtotal - ln.discount for ln in figures.lines)
    if figures.prices_include_tax:
        expected = paid_for_lines
    else:
        expected = paid_for_lines + _taxes_of_lines(figures)
        assert all(ln.taxable_value == ln.subtotal - ln.discount for ln in figures.lines)
    assert body["total"] == (
        expected + figures.service_charge + sc_tax + bill.tip + figures.round_off
    )

    # Tax components: intra-state CGST = SGST per rate and per line; inter-state IGST only;
    # composition / unregistered / no regime: nothing.
    regime = profile.effective_regime
    names = {t["name"] for t in body["tax_lines"]}
    if regime == "none":
        assert (body["tax_lines"], body["tax_total"]) == ([], 0)
    elif regime == "vat":
        assert names <= {"VAT"}
    else:
        inter = (
            bill.place_of_supply is not None
            and profile.state_code is not None
            and bill.place_of_supply != profile.state_code
        )
        assert names <= ({"IGST"} if inter else {"CGST", "SGST"})
        for ln in figures.lines:
            by_name = {t.name: t.amount for t in ln.taxes}
            assert by_name.get("CGST") == by_name.get("SGST")
        per_rate: dict[tuple[str, str | None], dict[str, int]] = {}
        for t in body["tax_lines"]:
            per_rate.setdefault((t["rate"], t.get("on")), {})[t["name"]] = t["amount"]
        for amounts in per_rate.values():
            assert amounts.get("CGST") == amounts.get("SGST")

    # Each rate's tax is within one minor unit per component of the exact figure
    # (per line for item_wise, per rate for invoice_total).
    if regime != "none":
        by_rate: dict[Decimal, tuple[int, int, int]] = {}
        for ln in figures.lines:
            value = ln.subtotal - ln.discount
            got, total_value, count = by_rate.get(ln.rate, (0, 0, 0))
            by_rate[ln.rate] = (got + ln.tax, total_value + value, count + len(ln.taxes))
        for rate, (got, value, count) in by_rate.items():
            r = Fraction(rate)
            exact = value * r / (100 + r) if figures.prices_include_tax else value * r / 100
            slack = count if profile.gst_rounding == "item_wise" else 2
            assert abs(got - exact) <= slack, (rate, got, exact)

    # Cash rounding.
    if profile.rounding == "nearest_1":
        step = {"JPY": 1, "KWD": 1000}.get(profile.currency, 100)
        assert body["total"] % step == 0
        assert 2 * abs(body["round_off"]) <= step
    else:
        assert body["round_off"] == 0

    # Deterministic, to the byte.
    again = compute_bill(bill)
    assert again == figures
    assert json.dumps(again.as_dict()) == json.dumps(body)


@given(bills(), st.integers(min_value=1, max_value=500_000))
def test_minimum_subtotal_refuses_exactly_below_it(bill: BillInput, minimum: int) -> None:
    coupon = CouponSpec(id="m", code="MIN", kind="flat", amount=100, min_subtotal=minimum)
    plain = compute_bill(BillInput(**{**bill.__dict__, "coupons": ()}))
    base = sum(ln.subtotal - ln.discount for ln in plain.lines)
    with_coupon = BillInput(**{**bill.__dict__, "coupons": (coupon,)})
    if base < minimum:
        with pytest.raises(CouponMinSubtotal) as refused:
            compute_bill(with_coupon)
        assert refused.value.extra["subtotal"] == base
    else:
        assert compute_bill(with_coupon).effective_discount == min(100, base)


@given(bills())
def test_a_non_stackable_coupon_with_another_is_refused(bill: BillInput) -> None:
    alone = CouponSpec(id="a", code="ALONE", kind="percent", percent=Decimal(10))
    other = CouponSpec(id="b", code="OTHER", kind="flat", amount=100, stackable=True)
    for pair in ((alone, other), (other, alone)):
        with pytest.raises(NonStackable) as refused:
            compute_bill(BillInput(**{**bill.__dict__, "coupons": pair}))
        assert refused.value.coupon == "ALONE"


@given(bills())
def test_happy_hours_only_ever_lower_the_bill_and_only_with_the_flag(bill: BillInput) -> None:
    happy = tuple(r for r in bill.rules if r.kind == "happy_hour")
    if not happy:
        return
    off = compute_bill(BillInput(**{**bill.__dict__, "rules": happy, "happy_hours_enabled": False}))
    assert all(ln.adjustments == () for ln in off.lines)
    discounts = tuple(
        RuleSpec(**{**r.__dict__, "direction": "discount"}) for r in happy
    )  # fmt: skip
    on = compute_bill(
        BillInput(
            **{**bill.__dict__, "rules": discounts, "happy_hours_enabled": True, "coupons": ()}
        )
    )
    plain = compute_bill(
        BillInput(**{**bill.__dict__, "rules": (), "happy_hours_enabled": True, "coupons": ()})
    )
    assert on.taxable_subtotal <= plain.taxable_subtotal
