"""The one tax engine: every cart preview, bill, POS sale and invoice is priced here. Pure —
no I/O, no clock: the caller passes the instant, the rules, the price lists and the coupons
(`billing.pricing` loads them). Same input, same figures, always.

Pipeline (in this order):

1. **Price lists.** A list in force at the line's time (`ordered_at`, else the bill's `at`)
   that prices the item replaces `base_price`; the highest priority wins (`rules.list_price`).
   `unit_price = base_price + modifiers_total`.
2. **Pricing rules**, per line, every rule in force (`rules.rule_in_force`): `happy_hour`
   only when `happy_hours_enabled` (the service passes the outlet's `FLAG_HAPPY_HOUR`),
   `payment_type` only when the bill's `payment_type` is the rule's, `promotion` always.
   Surcharges first: each raises the unit price by `percent` of the unit price before
   surcharges, or by `amount`. Then discounts on `subtotal = unit_price * qty`: `percent` of
   the subtotal or `amount * qty`, added up, never more than the subtotal.
3. **Coupons** on the bill. The coupon base is Σ (line subtotal - rule discounts). A
   non-stackable coupon with any other coupon → `NON_STACKABLE`; a base below a coupon's
   `min_subtotal` → `COUPON_MIN_SUBTOTAL`. Each coupon: `percent` of the base or `amount`,
   capped by its `max_discount`; taken in the order given, each at most what is left of the
   base, so `effective_discount = Σ applied_coupons.amount ≤ base`. It is allocated to the
   lines in proportion to their discounted amounts (largest remainder, `money.allocate`),
   so every line's taxable value is after its share of the discount.
4. **Taxes per line** on the amount after discount (`v = subtotal - discount`):
   GST regular intra-state (no `place_of_supply`, or equal to the outlet's `state_code`):
   CGST and SGST at rate/2 each; inter-state: IGST at the rate. GST composition and
   unregistered outlets: no tax lines at all (`regime` "none" behaves the same). VAT
   (non-INR outlets): one "VAT" line per rate, prices always include it. A 0 % item has no
   tax entries.
   Tax-exclusive: component = v * r_c / 100. Tax-inclusive (VAT, or GST with
   `prices_include_tax`): component = v * r_c / (100 + r), and `taxable_value = v - taxes`.
   `gst_rounding` item_wise rounds each component of each line; invoice_total computes each
   component once per rate on Σ v of that rate and allocates it back to the lines in
   proportion to v (so Σ line taxes = the tax lines, exactly). CGST and SGST are always
   computed identically, so they are equal per line and per rate.
5. **Service charge** = `service_charge_pct` % of (subtotal - discount_total) — the bill's
   taxable value of the items — added on top (never tax-inclusive) and taxed at
   `service_charge_tax_rate` with the same components. Its taxes are separate entries in
   `tax_lines` carrying `"on": "service_charge"` (item taxes carry no `on`); they are not in
   any line's `taxes`.
6. **Tip** (≥ 0), untaxed.
7. **Cash rounding.** `rounding: nearest_1` rounds the total to a whole major unit
   (100 paise; 1 for zero-decimal currencies) with `round_off` = rounded - unrounded.
   It is always to the NEAREST unit, so |round_off| ≤ half a unit: ties follow
   `rounding_mode` when it is a half mode (half_up, bankers), and half-up under ceil/floor.

Every other rounding step (percent rules, coupons, service charge, each tax component) uses
the profile's `rounding_mode` (half_up | bankers | ceil | floor) on the exact fraction,
once per figure.

Bill-level figures and the invariants of api.md, for every input:

    taxable_subtotal = subtotal - discount_total + service_charge
    tax_total        = Σ tax_lines.amount = Σ lines[].taxes[].amount + service-charge taxes
    total            = taxable_subtotal + tax_total + tip + round_off

Tax-exclusive: `subtotal = Σ lines.subtotal`, `discount_total = Σ lines.discount`.
Tax-inclusive: a line's `unit_price`/`subtotal`/`discount` are the menu (tax-inclusive)
amounts the guest sees and its `taxable_value` is net of the tax it contains; the bill's
`subtotal` is expressed net of the item taxes — `subtotal = Σ lines.subtotal - Σ item
taxes` — and `discount_total = Σ lines.discount` (inclusive amounts). Hence
`subtotal - discount_total = Σ lines.taxable_value`, and the guest pays exactly
Σ (menu price * qty - discount) + service charge (+ its tax) + tip (+ round-off): the tax
is inside the menu price, never added to it. No figure is ever negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from servio.billing.pricing_errors import CouponMinSubtotal, NonStackable
from servio.billing.rules import (
    PriceListSpec,
    RuleSpec,
    list_price,
    rule_in_force,
)
from servio.kit.money import (
    RoundingMode,
    allocate,
    apply_rate,
    minor_unit_exponent,
    round_to_nearest,
)

__all__ = [
    "Adjustment",
    "AppliedCoupon",
    "BillFigures",
    "BillInput",
    "BillLine",
    "CouponSpec",
    "LineFigures",
    "PriceListSpec",
    "RuleSpec",
    "TaxAmount",
    "TaxProfile",
    "compute_bill",
    "rate_text",
]

Regime = Literal["gst", "vat", "none"]
GstMode = Literal["regular", "composition", "unregistered"]
GstRounding = Literal["item_wise", "invoice_total"]
CashRounding = Literal["nearest_1", "none"]
TaxBasis = Literal["items", "service_charge"]

_HALF_MODES = (RoundingMode.HALF_UP, RoundingMode.BANKERS, RoundingMode.HALF_DOWN)
_NAME_ORDER = {"CGST": 0, "SGST": 1, "IGST": 2, "VAT": 3}


# --- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxProfile:
    currency: str = "INR"
    regime: Regime = "gst"  # vat: non-INR outlets, prices include tax
    gst_mode: GstMode = "regular"
    state_code: str | None = None
    prices_include_tax: bool = False
    gst_rounding: GstRounding = "item_wise"
    rounding_mode: RoundingMode = RoundingMode.HALF_UP
    rounding: CashRounding = "none"
    service_charge_pct: Decimal = Decimal(0)
    service_charge_tax_rate: Decimal = Decimal(0)  # GST/VAT rate applied to the service charge

    @property
    def effective_regime(self) -> Regime:
        """gst with a composition/unregistered outlet collects no tax: "none"."""
        if self.regime == "gst" and self.gst_mode != "regular":
            return "none"
        return self.regime

    def inter_state(self, place_of_supply: str | None) -> bool:
        """GST with a place of supply in another state than the outlet's: IGST."""
        return (
            self.effective_regime == "gst"
            and place_of_supply is not None
            and self.state_code is not None
            and place_of_supply.strip() != self.state_code.strip()
        )

    @property
    def tax_inclusive(self) -> bool:
        regime = self.effective_regime
        return regime == "vat" or (regime == "gst" and self.prices_include_tax)


@dataclass(frozen=True)
class BillLine:
    ref: str  # order line id (or "0","1"… in a preview)
    menu_item_id: str
    category_id: str | None
    name: str
    qty: int
    base_price: int  # per unit, before modifiers (a price list may replace it)
    modifiers_total: int  # per unit
    rate: Decimal  # tax rate percent of the item
    hsn: str
    member_id: str | None = None
    ordered_at: datetime | None = None  # UTC; happy hours/price lists match on it


@dataclass(frozen=True)
class CouponSpec:
    """A coupon already found and checked for validity (`billing.pricing`)."""

    id: str
    code: str
    kind: Literal["percent", "flat"]
    percent: Decimal | None = None
    amount: int | None = None
    max_discount: int | None = None
    min_subtotal: int = 0
    stackable: bool = False


@dataclass(frozen=True)
class BillInput:
    profile: TaxProfile
    lines: tuple[BillLine, ...]
    at: datetime  # UTC: the bill's instant (lines without `ordered_at` are priced at it)
    timezone: str = "Asia/Kolkata"  # the outlet's clock, for rule windows
    rules: tuple[RuleSpec, ...] = ()
    price_lists: tuple[PriceListSpec, ...] = ()
    coupons: tuple[CouponSpec, ...] = ()
    tip: int = 0
    payment_type: str | None = None
    place_of_supply: str | None = None
    happy_hours_enabled: bool = False


# --- outputs ----------------------------------------------------------------------------------


def rate_text(rate: Decimal) -> str:
    """Canonical decimal string of a rate: 2.50 → "2.5", 18 → "18", 1E+1 → "10"."""
    normal = rate.normalize()
    exponent = normal.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        normal = normal.quantize(Decimal(1))
    return format(normal, "f")


@dataclass(frozen=True)
class TaxAmount:
    name: str  # CGST | SGST | IGST | VAT
    rate: Decimal  # the component's rate (CGST at 2.5 for a 5 % item)
    amount: int
    on: TaxBasis = "items"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "rate": rate_text(self.rate),
            "amount": self.amount,
        }
        if self.on == "service_charge":
            out["on"] = "service_charge"
        return out


@dataclass(frozen=True)
class Adjustment:
    """A pricing rule that changed a line: `amount` is its effect on the line (≥ 0)."""

    rule_id: str
    name: str
    kind: str
    direction: Literal["discount", "surcharge"]
    amount: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "name": self.name,
            "kind": self.kind,
            "direction": self.direction,
            "amount": self.amount,
        }


@dataclass(frozen=True)
class LineFigures:
    ref: str
    menu_item_id: str
    category_id: str | None
    name: str
    member_id: str | None
    qty: int
    base_price: int  # after the price list
    modifiers_total: int
    unit_price: int  # base + modifiers + surcharges (tax-inclusive under inclusive pricing)
    subtotal: int  # unit_price * qty
    rule_discount: int
    coupon_discount: int
    discount: int  # rule_discount + coupon_discount
    taxable_value: int
    rate: Decimal
    hsn: str
    taxes: tuple[TaxAmount, ...]
    adjustments: tuple[Adjustment, ...] = ()
    price_list_id: str | None = None

    @property
    def tax(self) -> int:
        return sum(t.amount for t in self.taxes)

    @property
    def total(self) -> int:
        """What the line costs the guest, tax included (before service charge and tip)."""
        return self.taxable_value + self.tax

    def as_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "menu_item_id": self.menu_item_id,
            "name": self.name,
            "member_id": self.member_id,
            "qty": self.qty,
            "unit_price": self.unit_price,
            "subtotal": self.subtotal,
            "discount": self.discount,
            "taxable_value": self.taxable_value,
            "hsn": self.hsn,
            "tax_rate": rate_text(self.rate),
            "taxes": [t.as_dict() for t in self.taxes],
            "total": self.total,
            "adjustments": [a.as_dict() for a in self.adjustments],
        }


@dataclass(frozen=True)
class AppliedCoupon:
    coupon_id: str
    code: str
    amount: int

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "amount": self.amount}


@dataclass(frozen=True)
class BillFigures:
    currency: str
    prices_include_tax: bool
    lines: tuple[LineFigures, ...]
    subtotal: int
    discount_total: int
    applied_coupons: tuple[AppliedCoupon, ...]
    effective_discount: int
    service_charge: int
    taxable_subtotal: int
    tax_lines: tuple[TaxAmount, ...]  # item taxes by rate, then the service charge's
    tax_total: int
    tip: int
    round_off: int
    total: int
    service_charge_taxes: tuple[TaxAmount, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        """The api.md pricing preview response (lines also carry ref, name, member_id)."""
        return {
            "currency": self.currency,
            "prices_include_tax": self.prices_include_tax,
            "lines": [line.as_dict() for line in self.lines],
            "subtotal": self.subtotal,
            "discount_total": self.discount_total,
            "applied_coupons": [c.as_dict() for c in self.applied_coupons],
            "effective_discount": self.effective_discount,
            "service_charge": self.service_charge,
            "taxable_subtotal": self.taxable_subtotal,
            "tax_lines": [t.as_dict() for t in self.tax_lines],
            "tax_total": self.tax_total,
            "tip": self.tip,
            "round_off": self.round_off,
            "total": self.total,
        }


# --- arithmetic helpers -------------------------------------------------------------------------


def _ratio(numerator: int, denominator: int, mode: RoundingMode) -> int:
    """numerator / denominator rounded once with `mode` (exact: via money.round_to_nearest,
    which rounds to a multiple of the step)."""
    rounded, _ = round_to_nearest(numerator, denominator, mode)
    return rounded // denominator


def _component_tax(
    value: int, component_rate: Decimal, full_rate: Decimal, inclusive: bool, mode: RoundingMode
) -> int:
    """Tax of one component on `value`: exclusive value * r_c / 100, inclusive
    value * r_c / (100 + r)."""
    if not inclusive:
        return apply_rate(value, component_rate, mode)
    cn, cd = component_rate.as_integer_ratio()
    fn, fd = full_rate.as_integer_ratio()
    # value * (cn/cd) / (100 + fn/fd) = value * cn * fd / (cd * (100 fd + fn))
    return _ratio(value * cn * fd, cd * (100 * fd + fn), mode)


def _components(
    regime: Regime, rate: Decimal, inter_state: bool
) -> tuple[tuple[str, Decimal], ...]:
    if regime == "none" or rate == 0:
        return ()
    if regime == "vat":
        return (("VAT", rate),)
    if inter_state:
        return (("IGST", rate),)
    half = rate / 2
    return (("CGST", half), ("SGST", half))


def _capped_allocate(total: int, weights: list[int], caps: list[int]) -> list[int]:
    """`allocate`, then move any share above its cap to the next lines with room (in order).
    The caller guarantees total ≤ Σ caps."""
    shares = allocate(total, weights) if total and sum(weights) else [0] * len(weights)
    excess = 0
    for index, cap in enumerate(caps):
        if shares[index] > cap:
            excess += shares[index] - cap
            shares[index] = cap
    for index, cap in enumerate(caps):
        if not excess:
            break
        room = min(cap - shares[index], excess)
        if room > 0:
            shares[index] += room
            excess -= room
    return shares


# --- the pipeline ---------------------------------------------------------------------------------


@dataclass
class _Work:
    line: BillLine
    base_price: int
    price_list_id: str | None
    unit_price: int
    subtotal: int
    rule_discount: int
    adjustments: list[Adjustment]
    coupon_discount: int = 0
    taxes: tuple[TaxAmount, ...] = ()

    @property
    def after_discount(self) -> int:
        return self.subtotal - self.rule_discount - self.coupon_discount


def _check(bill: BillInput) -> None:
    if isinstance(bill.tip, bool) or not isinstance(bill.tip, int) or bill.tip < 0:
        raise ValueError("tip must be an int ≥ 0")
    for line in bill.lines:
        if line.qty < 1:
            raise ValueError(f"line {line.ref}: qty must be at least 1")
        if line.base_price < 0 or line.base_price + line.modifiers_total < 0:
            raise ValueError(f"line {line.ref}: prices must not be negative")
        if not Decimal(0) <= line.rate <= Decimal(100):
            raise ValueError(f"line {line.ref}: tax rate must be between 0 and 100")


def _price_line(bill: BillInput, line: BillLine) -> _Work:
    mode = bill.profile.rounding_mode
    when = line.ordered_at or bill.at
    listed = list_price(
        bill.price_lists, item_id=line.menu_item_id, at=when, timezone=bill.timezone
    )
    base = listed[1] if listed else line.base_price
    unit = max(0, base + line.modifiers_total)
    in_force = sorted(
        (
            rule
            for rule in bill.rules
            if rule_in_force(
                rule,
                item_id=line.menu_item_id,
                category_id=line.category_id,
                at=when,
                timezone=bill.timezone,
                payment_type=bill.payment_type,
                happy_hours_enabled=bill.happy_hours_enabled,
            )
        ),
        key=lambda r: (-r.priority, r.id),
    )
    adjustments: list[Adjustment] = []
    before_surcharges = unit
    for rule in in_force:
        if rule.direction != "surcharge":
            continue
        if rule.adjustment == "percent":
            delta = apply_rate(before_surcharges, rule.percent or Decimal(0), mode)
        else:
            delta = max(0, rule.amount or 0)
        unit += delta
        if delta:
            adjustments.append(
                Adjustment(rule.id, rule.name, rule.kind, "surcharge", delta * line.qty)
            )
    subtotal = unit * line.qty
    discount = 0
    for rule in in_force:
        if rule.direction != "discount":
            continue
        if rule.adjustment == "percent":
            wanted = apply_rate(subtotal, rule.percent or Decimal(0), mode)
        else:
            wanted = max(0, rule.amount or 0) * line.qty
        taken = min(wanted, subtotal - discount)
        discount += taken
        if taken:
            adjustments.append(Adjustment(rule.id, rule.name, rule.kind, "discount", taken))
    return _Work(
        line=line,
        base_price=base,
        price_list_id=listed[0].id if listed else None,
        unit_price=unit,
        subtotal=subtotal,
        rule_discount=discount,
        adjustments=adjustments,
    )


def _apply_coupons(bill: BillInput, work: list[_Work]) -> tuple[AppliedCoupon, ...]:
    coupons = bill.coupons
    if not coupons:
        return ()
    if len(coupons) > 1:
        for coupon in coupons:
            if not coupon.stackable:
                raise NonStackable(coupon.code)
    mode = bill.profile.rounding_mode
    bases = [w.subtotal - w.rule_discount for w in work]
    base = sum(bases)
    for coupon in coupons:
        if base < coupon.min_subtotal:
            raise CouponMinSubtotal(coupon.code, coupon.min_subtotal, base)
    remaining = base
    applied: list[AppliedCoupon] = []
    for coupon in coupons:
        if coupon.kind == "percent":
            wanted = apply_rate(base, coupon.percent or Decimal(0), mode)
        else:
            wanted = max(0, coupon.amount or 0)
        if coupon.max_discount is not None:
            wanted = min(wanted, max(0, coupon.max_discount))
        taken = min(wanted, remaining)
        remaining -= taken
        applied.append(AppliedCoupon(coupon.id, coupon.code, taken))
    effective = base - remaining
    if effective and base:
        for w, share in zip(work, allocate(effective, bases), strict=True):
            w.coupon_discount = share
    return tuple(applied)


def _tax_lines(bill: BillInput, work: list[_Work], regime: Regime, inter_state: bool) -> None:
    profile = bill.profile
    mode = profile.rounding_mode
    inclusive = profile.tax_inclusive
    if profile.gst_rounding == "item_wise" or regime == "none":
        for w in work:
            parts = _components(regime, w.line.rate, inter_state)
            value = w.after_discount
            taxes = [
                TaxAmount(name, rate, _component_tax(value, rate, w.line.rate, inclusive, mode))
                for name, rate in parts
            ]
            if inclusive and parts:
                # Exact inclusive tax is < value / len(parts) per component; rounding up on
                # a tiny value must never take more than the value itself.
                cap = value // len(parts)
                taxes = [TaxAmount(t.name, t.rate, min(t.amount, cap)) for t in taxes]
            w.taxes = tuple(taxes)
        return
    # invoice_total: once per rate on the summed value, allocated back in proportion.
    groups: dict[Decimal, list[_Work]] = {}
    for w in work:
        groups.setdefault(w.line.rate, []).append(w)
    taxes_of: dict[int, list[TaxAmount]] = {id(w): [] for w in work}
    for rate in sorted(groups):
        members = groups[rate]
        parts = _components(regime, rate, inter_state)
        if not parts:
            continue
        weights = [w.after_discount for w in members]
        total_value = sum(weights)
        caps = [v // len(parts) for v in weights]
        for name, component_rate in parts:
            amount = _component_tax(total_value, component_rate, rate, inclusive, mode)
            if inclusive:
                amount = min(amount, sum(caps))
                shares = _capped_allocate(amount, weights, caps)
            else:
                shares = allocate(amount, weights) if amount and total_value else [0] * len(members)
            for w, share in zip(members, shares, strict=True):
                taxes_of[id(w)].append(TaxAmount(name, component_rate, share))
    for w in work:
        w.taxes = tuple(taxes_of[id(w)])


def _sum_taxes(taxes: Sequence[TaxAmount]) -> tuple[TaxAmount, ...]:
    totals: dict[tuple[Decimal, str, str], int] = {}
    for tax in taxes:
        key = (tax.rate, tax.name, tax.on)
        totals[key] = totals.get(key, 0) + tax.amount
    ordered = sorted(
        totals.items(),
        key=lambda kv: (kv[0][2] != "items", kv[0][0], _NAME_ORDER.get(kv[0][1], 9), kv[0][1]),
    )
    return tuple(
        TaxAmount(name, rate, amount, on)  # type: ignore[arg-type]
        for (rate, name, on), amount in ordered
    )


def compute_bill(bill: BillInput) -> BillFigures:
    """Price a bill. Raises `NonStackable` / `CouponMinSubtotal` for coupons that cannot
    apply, ValueError for malformed input (negative tip or price, qty < 1)."""
    _check(bill)
    profile = bill.profile
    mode = profile.rounding_mode
    regime = profile.effective_regime
    inter_state = profile.inter_state(bill.place_of_supply)
    inclusive = profile.tax_inclusive

    work = [_price_line(bill, line) for line in bill.lines]
    applied = _apply_coupons(bill, work)
    _tax_lines(bill, work, regime, inter_state)

    item_tax = sum(t.amount for w in work for t in w.taxes)
    lines = tuple(
        LineFigures(
            ref=w.line.ref,
            menu_item_id=w.line.menu_item_id,
            category_id=w.line.category_id,
            name=w.line.name,
            member_id=w.line.member_id,
            qty=w.line.qty,
            base_price=w.base_price,
            modifiers_total=w.line.modifiers_total,
            unit_price=w.unit_price,
            subtotal=w.subtotal,
            rule_discount=w.rule_discount,
            coupon_discount=w.coupon_discount,
            discount=w.rule_discount + w.coupon_discount,
            taxable_value=w.after_discount - (sum(t.amount for t in w.taxes) if inclusive else 0),
            rate=w.line.rate,
            hsn=w.line.hsn,
            taxes=w.taxes,
            adjustments=tuple(w.adjustments),
            price_list_id=w.price_list_id,
        )
        for w in work
    )
    gross_subtotal = sum(line.subtotal for line in lines)
    subtotal = gross_subtotal - item_tax if inclusive else gross_subtotal
    discount_total = sum(line.discount for line in lines)
    items_value = subtotal - discount_total  # = Σ lines.taxable_value

    service_charge = (
        apply_rate(items_value, profile.service_charge_pct, mode)
        if profile.service_charge_pct
        else 0
    )
    sc_rate = profile.service_charge_tax_rate
    sc_taxes = (
        tuple(
            TaxAmount(name, rate, apply_rate(service_charge, rate, mode), "service_charge")
            for name, rate in _components(regime, sc_rate, inter_state)
        )
        if service_charge
        else ()
    )

    tax_lines = _sum_taxes([t for line in lines for t in line.taxes] + list(sc_taxes))
    tax_total = item_tax + sum(t.amount for t in sc_taxes)
    taxable_subtotal = items_value + service_charge
    unrounded = taxable_subtotal + tax_total + bill.tip
    round_off = 0
    if profile.rounding == "nearest_1":
        step = 10 ** minor_unit_exponent(profile.currency)
        cash_mode = mode if mode in _HALF_MODES else RoundingMode.HALF_UP
        _, round_off = round_to_nearest(unrounded, step, cash_mode)
    return BillFigures(
        currency=profile.currency,
        prices_include_tax=inclusive,
        lines=lines,
        subtotal=subtotal,
        discount_total=discount_total,
        applied_coupons=applied,
        effective_discount=sum(c.amount for c in applied),
        service_charge=service_charge,
        taxable_subtotal=taxable_subtotal,
        tax_lines=tax_lines,
        tax_total=tax_total,
        tip=bill.tip,
        round_off=round_off,
        total=unrounded + round_off,
        service_charge_taxes=sc_taxes,
    )
