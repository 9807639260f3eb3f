"""Golden bills for the tax engine, every figure worked out by hand (in the comments).

The outlet is in Karnataka (state code 29) on Asia/Kolkata time. 2026-11-20 is a Friday;
13:00Z is 18:30 IST there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from servio.billing.pricing_errors import CouponMinSubtotal, NonStackable
from servio.billing.rules import PriceListSpec, RuleSpec, Window
from servio.billing.tax import (
    BillFigures,
    BillInput,
    BillLine,
    CouponSpec,
    TaxProfile,
    compute_bill,
)
from servio.kit.money import RoundingMode

FRI_1830_IST = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
FRI_2030_IST = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SAT_1830_IST = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
KA = TaxProfile(state_code="29")


def line(
    ref: str,
    price: int,
    qty: int = 1,
    rate: str = "5",
    *,
    mods: int = 0,
    item: str | None = None,
    category: str | None = None,
    ordered_at: datetime | None = None,
) -> BillLine:
    return BillLine(
        ref=ref,
        menu_item_id=item or f"item-{ref}",
        category_id=category,
        name=f"Dish {ref}",
        qty=qty,
        base_price=price,
        modifiers_total=mods,
        rate=Decimal(rate),
        hsn="996331",
        ordered_at=ordered_at,
    )


def bill(
    *lines: BillLine,
    profile: TaxProfile = KA,
    at: datetime = FRI_1830_IST,
    **kw: Any,
) -> BillFigures:
    return compute_bill(BillInput(profile=profile, lines=tuple(lines), at=at, **kw))


def taxes(figures: BillFigures) -> list[tuple[str, str, int]]:
    return [(t["name"], t["rate"], t["amount"]) for t in figures.as_dict()["tax_lines"]]


def test_intra_state_splits_gst_into_equal_cgst_and_sgst() -> None:
    # api.md's example: 2 x 250.00 at 5 % -> CGST 2.5 % of 500.00 = 12.50, SGST the same.
    figures = bill(line("0", 25000, 2), place_of_supply="29")
    assert figures.as_dict() == {
        "currency": "INR",
        "prices_include_tax": False,
        "lines": [
            {
                "ref": "0",
                "menu_item_id": "item-0",
                "name": "Dish 0",
                "member_id": None,
                "qty": 2,
                "unit_price": 25000,
                "subtotal": 50000,
                "discount": 0,
                "taxable_value": 50000,
                "hsn": "996331",
                "tax_rate": "5",
                "taxes": [
                    {"name": "CGST", "rate": "2.5", "amount": 1250},
                    {"name": "SGST", "rate": "2.5", "amount": 1250},
                ],
                "total": 52500,
                "adjustments": [],
            }
        ],
        "subtotal": 50000,
        "discount_total": 0,
        "applied_coupons": [],
        "effective_discount": 0,
        "service_charge": 0,
        "taxable_subtotal": 50000,
        "tax_lines": [
            {"name": "CGST", "rate": "2.5", "amount": 1250},
            {"name": "SGST", "rate": "2.5", "amount": 1250},
        ],
        "tax_total": 2500,
        "tip": 0,
        "round_off": 0,
        "total": 52500,
    }


def test_inter_state_charges_igst_only() -> None:
    # Place of supply Maharashtra (27) != Karnataka: IGST 5 % of 500.00 = 25.00; 18 % of
    # 100.00 = 18.00.
    figures = bill(line("0", 25000, 2), line("1", 10000, 1, "18"), place_of_supply="27")
    assert taxes(figures) == [("IGST", "5", 2500), ("IGST", "18", 1800)]
    assert figures.tax_total == 4300
    assert figures.total == 60000 + 4300
    # No place of supply: the outlet's own state, CGST + SGST by rate.
    local = bill(line("0", 25000, 2), line("1", 10000, 1, "18"))
    assert taxes(local) == [
        ("CGST", "2.5", 1250),
        ("SGST", "2.5", 1250),
        ("CGST", "9", 900),
        ("SGST", "9", 900),
    ]


@pytest.mark.parametrize("gst_mode", ["composition", "unregistered"])
def test_composition_and_unregistered_outlets_charge_no_tax(gst_mode: str) -> None:
    profile = TaxProfile(state_code="29", gst_mode=gst_mode)  # type: ignore[arg-type]
    figures = bill(line("0", 25000, 2), line("1", 9999, 1, "18"), profile=profile)
    assert figures.tax_lines == ()
    assert all(ln["taxes"] == [] for ln in figures.as_dict()["lines"])
    assert (figures.subtotal, figures.taxable_subtotal, figures.tax_total, figures.total) == (
        59999,
        59999,
        0,
        59999,
    )


def test_vat_outlet_prices_include_tax() -> None:
    # THB 107.00 x 3 incl. 7 % VAT: VAT = 321.00 x 7/107 = 21.00, net 300.00. The guest
    # pays the menu price; the bill's subtotal is net of the tax it contains.
    profile = TaxProfile(currency="THB", regime="vat")
    figures = bill(line("0", 10700, 3, "7"), profile=profile)
    (ln,) = figures.as_dict()["lines"]
    assert (ln["unit_price"], ln["subtotal"], ln["taxable_value"]) == (10700, 32100, 30000)
    assert ln["taxes"] == [{"name": "VAT", "rate": "7", "amount": 2100}]
    assert taxes(figures) == [("VAT", "7", 2100)]
    assert (figures.subtotal, figures.taxable_subtotal, figures.total) == (30000, 30000, 32100)
    assert figures.prices_include_tax is True


def test_gst_with_prices_including_tax() -> None:
    # 105.00 incl. 5 % GST: CGST = 105.00 x 2.5/105 = 2.50, SGST 2.50, taxable 100.00.
    profile = TaxProfile(state_code="29", prices_include_tax=True)
    figures = bill(line("0", 10500), profile=profile)
    assert taxes(figures) == [("CGST", "2.5", 250), ("SGST", "2.5", 250)]
    assert (figures.lines[0].taxable_value, figures.subtotal, figures.total) == (
        10000,
        10000,
        10500,
    )


@pytest.mark.parametrize(
    ("mode", "cgst"),
    [
        # 9.80 x 2.5 % = 0.245 (a tie) and 10.10 x 2.5 % = 0.2525, in paise 24.5 and 25.25:
        (RoundingMode.HALF_UP, 25 + 25),
        (RoundingMode.BANKERS, 24 + 25),
        (RoundingMode.CEIL, 25 + 26),
        (RoundingMode.FLOOR, 24 + 25),
    ],
)
def test_each_rounding_mode_rounds_each_component(mode: RoundingMode, cgst: int) -> None:
    profile = TaxProfile(state_code="29", rounding_mode=mode)
    figures = bill(line("0", 980), line("1", 1010), profile=profile)
    assert taxes(figures) == [("CGST", "2.5", cgst), ("SGST", "2.5", cgst)]
    assert figures.total == 1990 + 2 * cgst


def test_item_wise_versus_invoice_total_gst_rounding() -> None:
    # Three lines of 10.10 at 5 %: CGST per line 25.25 paise.
    lines = [line(str(i), 1010) for i in range(3)]
    item_wise = bill(*lines, profile=TaxProfile(state_code="29", gst_rounding="item_wise"))
    # item_wise: 25 per line and component -> 75 each.
    assert taxes(item_wise) == [("CGST", "2.5", 75), ("SGST", "2.5", 75)]
    invoice = bill(*lines, profile=TaxProfile(state_code="29", gst_rounding="invoice_total"))
    # invoice_total: 30.30 x 2.5 % = 75.75 -> 76 each, allocated back 26 + 25 + 25.
    assert taxes(invoice) == [("CGST", "2.5", 76), ("SGST", "2.5", 76)]
    assert [ln.tax for ln in invoice.lines] == [52, 50, 50]
    assert invoice.total == 3030 + 152


@pytest.mark.parametrize(
    ("mode", "price", "total", "round_off"),
    [
        # 101.00 + CGST/SGST 2.525 -> 2.53 each = 106.06 -> 106.00
        (RoundingMode.HALF_UP, 10100, 10600, -6),
        # 101.50 + 2.5375 -> 2.54 each = 106.58 -> 107.00
        (RoundingMode.HALF_UP, 10150, 10700, 42),
        # ceil/floor outlets still round the TOTAL to the nearest rupee (|round_off| <= 0.50)
        (RoundingMode.CEIL, 10100, 10600, -6),  # taxes ceil: 2.53 each -> 106.06 -> 106
        (RoundingMode.FLOOR, 10150, 10700, 44),  # taxes floor: 2.53 each -> 106.56 -> 107
    ],
)
def test_nearest_rupee_round_off(
    mode: RoundingMode, price: int, total: int, round_off: int
) -> None:
    profile = TaxProfile(state_code="29", rounding="nearest_1", rounding_mode=mode)
    figures = bill(line("0", price), profile=profile)
    assert (figures.total, figures.round_off) == (total, round_off)
    assert figures.total == figures.taxable_subtotal + figures.tax_total + figures.round_off


@pytest.mark.parametrize(
    ("mode", "total"), [(RoundingMode.HALF_UP, 10300), (RoundingMode.BANKERS, 10200)]
)
def test_round_off_tie_follows_the_half_mode(mode: RoundingMode, total: int) -> None:
    # Untaxed 102.50: half-up -> 103, bankers -> 102 (even).
    profile = TaxProfile(gst_mode="composition", rounding="nearest_1", rounding_mode=mode)
    figures = bill(line("0", 10250), profile=profile)
    assert figures.total == total
    assert abs(figures.round_off) == 50


def test_service_charge_is_taxed_on_its_own_tax_lines() -> None:
    # 10 % service charge on 500.00 = 50.00, taxed at 5 %: CGST/SGST 1.25 each.
    profile = TaxProfile(
        state_code="29", service_charge_pct=Decimal(10), service_charge_tax_rate=Decimal(5)
    )
    figures = bill(line("0", 25000, 2), profile=profile)
    assert figures.service_charge == 5000
    assert figures.as_dict()["tax_lines"] == [
        {"name": "CGST", "rate": "2.5", "amount": 1250},
        {"name": "SGST", "rate": "2.5", "amount": 1250},
        {"name": "CGST", "rate": "2.5", "amount": 125, "on": "service_charge"},
        {"name": "SGST", "rate": "2.5", "amount": 125, "on": "service_charge"},
    ]
    assert sum(ln.tax for ln in figures.lines) == 2500  # the lines carry only item taxes
    assert (figures.taxable_subtotal, figures.tax_total, figures.total) == (55000, 2750, 57750)
    # Inter-state, the service charge's tax is IGST too.
    igst = bill(line("0", 25000, 2), profile=profile, place_of_supply="27")
    assert taxes(igst) == [("IGST", "5", 2500), ("IGST", "5", 250)]


def test_tip_is_added_untaxed() -> None:
    figures = bill(line("0", 25000, 2), tip=3000)
    assert (figures.tax_total, figures.tip, figures.total) == (2500, 3000, 55500)


HAPPY_HOUR = RuleSpec(
    id="hh",
    name="Happy hour drinks",
    kind="happy_hour",
    adjustment="percent",
    direction="discount",
    percent=Decimal(20),
    window=Window(days=("fri",), start_time="17:00", end_time="19:00"),
    category_ids=frozenset({"drinks"}),
)


def test_happy_hour_discount_by_flag_time_and_category() -> None:
    lassi = line("0", 12000, 2, category="drinks")
    paneer = line("1", 28000, 1, category="starters")
    on = bill(lassi, paneer, rules=(HAPPY_HOUR,), happy_hours_enabled=True)
    # 20 % of 240.00 = 48.00 off the drinks only; taxable 192.00 -> CGST/SGST 4.80 each.
    assert [(ln.discount, ln.taxable_value, ln.tax) for ln in on.lines] == [
        (4800, 19200, 960),
        (0, 28000, 1400),
    ]
    assert on.lines[0].adjustments[0].name == "Happy hour drinks"
    assert (on.subtotal, on.discount_total, on.effective_discount) == (52000, 4800, 0)
    assert on.total == 47200 + 2360

    flag_off = bill(lassi, paneer, rules=(HAPPY_HOUR,), happy_hours_enabled=False)
    late = bill(lassi, paneer, rules=(HAPPY_HOUR,), happy_hours_enabled=True, at=FRI_2030_IST)
    saturday = bill(lassi, paneer, rules=(HAPPY_HOUR,), happy_hours_enabled=True, at=SAT_1830_IST)
    for figures in (flag_off, late, saturday):
        assert figures.discount_total == 0
        assert figures.total == 52000 + 2600

    # An order placed inside the window keeps its happy-hour price on a later bill.
    ordered = line("0", 12000, 2, category="drinks", ordered_at=FRI_1830_IST)
    billed_late = bill(ordered, rules=(HAPPY_HOUR,), happy_hours_enabled=True, at=FRI_2030_IST)
    assert billed_late.discount_total == 4800


def test_flat_discount_never_exceeds_the_line() -> None:
    rule = RuleSpec(
        id="r", name="Big flat", kind="promotion", adjustment="flat", direction="discount",
        amount=50000,
    )  # fmt: skip
    figures = bill(line("0", 12000, 2), rules=(rule,))
    assert (figures.lines[0].discount, figures.tax_total, figures.total) == (24000, 0, 0)


def test_payment_type_surcharge() -> None:
    card = RuleSpec(
        id="card",
        name="Card surcharge",
        kind="payment_type",
        adjustment="percent",
        direction="surcharge",
        percent=Decimal(2),
        payment_type="card",
    )
    # 2 % of 250.00 = 5.00 per unit -> 255.00 x 2 = 510.00; CGST/SGST 12.75 each.
    paid_by_card = bill(line("0", 25000, 2), rules=(card,), payment_type="card")
    assert (paid_by_card.lines[0].unit_price, paid_by_card.subtotal) == (25500, 51000)
    assert paid_by_card.total == 51000 + 2550
    assert paid_by_card.lines[0].adjustments[0].amount == 1000
    for other in ("cash", None):
        figures = bill(line("0", 25000, 2), rules=(card,), payment_type=other)
        assert figures.total == 52500


def test_price_list_replaces_the_base_price_while_in_force() -> None:
    weekend = PriceListSpec(
        id="pl-weekend",
        name="Weekend",
        prices={"paneer": 30000},
        window=Window(days=("sat", "sun")),
    )
    cheaper = PriceListSpec(
        id="pl-low", name="Low", prices={"paneer": 20000}, window=Window(days=("sat",)), priority=-1
    )
    paneer = line("0", 28000, 1, mods=5000, item="paneer")
    friday = bill(paneer, price_lists=(weekend, cheaper))
    assert friday.lines[0].unit_price == 33000
    saturday = bill(paneer, price_lists=(weekend, cheaper), at=SAT_1830_IST)
    # The higher-priority list wins; modifiers still add on top: 300.00 + 50.00.
    assert saturday.lines[0].unit_price == 35000
    assert saturday.lines[0].price_list_id == "pl-weekend"
    assert saturday.total == 35000 + 1750


TEN_PCT_MAX_50 = CouponSpec(
    id="c1", code="TEN", kind="percent", percent=Decimal(10), max_discount=5000, stackable=True
)
FLAT_30 = CouponSpec(id="c2", code="FLAT30", kind="flat", amount=3000, stackable=True)


def test_stacked_coupons_with_max_discount() -> None:
    # Base 1000.00: 10 % = 100.00 capped at 50.00, plus flat 30.00 -> 80.00, allocated
    # 600:400 -> 48.00 and 32.00. Taxable 552.00 and 368.00 -> CGST 13.80 and 9.20.
    figures = bill(line("0", 60000), line("1", 40000), coupons=(TEN_PCT_MAX_50, FLAT_30))
    assert figures.as_dict()["applied_coupons"] == [
        {"code": "TEN", "amount": 5000},
        {"code": "FLAT30", "amount": 3000},
    ]
    assert figures.effective_discount == figures.discount_total == 8000
    assert [(ln.discount, ln.taxable_value) for ln in figures.lines] == [
        (4800, 55200),
        (3200, 36800),
    ]
    assert taxes(figures) == [("CGST", "2.5", 2300), ("SGST", "2.5", 2300)]
    assert (figures.taxable_subtotal, figures.total) == (92000, 96600)


def test_coupons_never_take_more_than_the_bill() -> None:
    huge = CouponSpec(id="c3", code="HUGE", kind="flat", amount=10**7, stackable=True)
    figures = bill(line("0", 60000), coupons=(FLAT_30, huge))
    assert [c.amount for c in figures.applied_coupons] == [3000, 57000]
    assert (figures.effective_discount, figures.tax_total, figures.total) == (60000, 0, 0)


def test_non_stackable_coupon_must_be_alone() -> None:
    solo = CouponSpec(id="c4", code="SOLO", kind="percent", percent=Decimal(15))
    alone = bill(line("0", 60000), coupons=(solo,))
    assert alone.effective_discount == 9000
    with pytest.raises(NonStackable) as caught:
        bill(line("0", 60000), coupons=(FLAT_30, solo))
    assert (caught.value.code, caught.value.status, caught.value.coupon) == (
        "NON_STACKABLE",
        422,
        "SOLO",
    )
    assert caught.value.hint


def test_coupon_minimum_subtotal_counts_after_rule_discounts() -> None:
    needs_500 = CouponSpec(id="c5", code="BIG", kind="flat", amount=5000, min_subtotal=50000)
    assert bill(line("0", 50000), coupons=(needs_500,)).effective_discount == 5000
    with pytest.raises(CouponMinSubtotal) as caught:
        bill(line("0", 49999), coupons=(needs_500,))
    assert caught.value.code == "COUPON_MIN_SUBTOTAL"
    assert caught.value.extra["min_subtotal"] == 50000


def test_zero_rated_items_have_no_tax_entries() -> None:
    figures = bill(line("0", 10000, 1, "0"), line("1", 10000, 1, "5"))
    assert figures.lines[0].taxes == ()
    assert taxes(figures) == [("CGST", "2.5", 250), ("SGST", "2.5", 250)]
