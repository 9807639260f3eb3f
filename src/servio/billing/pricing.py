"""The pricing service every bill goes through: the preview, POS sales, table bills and
invoices all call `price_bill`, so what a guest is shown is what they are charged.

It loads what the pure engine (`billing.tax.compute_bill`) needs — the outlet's tax profile
and settings, `FLAG_HAPPY_HOUR`, the active pricing rules and price lists, the coupons by
code — and builds bill lines either from a cart (menu items priced from the menu as it is
now, `cart_bill_lines`) or from frozen order lines (`order_bill_lines`).

Coupon caps (per outlet / day / guest) are NOT consumed here: pricing is side-effect free;
the invoice issue consumes them (`billing.coupon_service.consume_caps`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from servio.auth.actors import StaffActor
from servio.billing.pricing_errors import (
    CouponExpired,
    CouponInactive,
    CouponNotFound,
    CouponNotYetValid,
    OutletRequired,
    TipsDisabled,
)
from servio.billing.pricing_repository import (
    CouponReader,
    PriceListReader,
    PricingRuleReader,
    item_categories,
    outlet_for,
)
from servio.billing.pricing_schemas import PricingPreviewRequest
from servio.billing.rules import PriceListSpec, RuleSpec, Window
from servio.billing.tax import (
    BillFigures,
    BillInput,
    BillLine,
    CouponSpec,
    TaxProfile,
    compute_bill,
)
from servio.kit.clock import as_utc, rfc3339, utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound
from servio.kit.money import RoundingMode
from servio.menu.pricing import PricingError, price_line
from servio.menu.repository import ModifierRepository
from servio.menu.service import price_snapshot
from servio.models import Coupon, OrderLine, Outlet, PriceList, PricingRule
from servio.platform.flags import FLAG_HAPPY_HOUR
from servio.platform.service import get_effective_settings, is_enabled

__all__ = [
    "CartItem",
    "PricedBill",
    "cart_bill_lines",
    "order_bill_lines",
    "outlet_tax_profile",
    "preview",
    "price_bill",
    "seller_of",
    "tax_basis_of",
]

DEFAULT_GST_RATE = Decimal("5")  # restaurant service, when an outlet names no rate


@dataclass(frozen=True)
class CartItem:
    """One line of a cart or a preview: what the guest or cashier picked."""

    menu_item_id: str
    qty: int
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class PricedBill:
    figures: BillFigures
    coupons: tuple[tuple[str, str, int], ...]  # (coupon_id, code, discount amount)
    tax_basis: dict[str, Any]  # for Invoice.tax_basis
    seller: dict[str, Any]  # for Invoice.seller: name, address, gstin, fssai


# --- profile ------------------------------------------------------------------------------------


def _decimal(value: Any, default: Decimal) -> Decimal:
    if value is None or value == "":
        return default
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return default
    return number if number.is_finite() and 0 <= number <= 100 else default


def _choice(value: Any, allowed: tuple[str, ...], default: str) -> str:
    return value if isinstance(value, str) and value in allowed else default


def outlet_tax_profile(outlet: Outlet, settings: Mapping[str, Any]) -> TaxProfile:
    """The engine's profile from `outlet.tax_profile` and the effective settings.

    regime: "vat" when the outlet's currency is not INR (prices include VAT); else "gst",
    which the engine treats as "none" for composition and unregistered outlets.
    `service_charge_tax_rate`: `tax_profile["service_charge_tax_rate"]`, default 5 % for a
    regular GST outlet (restaurant service) and 0 otherwise.
    """
    raw = dict(outlet.tax_profile or {})
    currency = (outlet.currency or "INR").upper()
    gst_mode = _choice(raw.get("gst_mode"), ("regular", "composition", "unregistered"), "regular")
    regime: Literal["gst", "vat", "none"] = "gst" if currency == "INR" else "vat"
    collects = regime == "vat" or gst_mode == "regular"
    try:
        mode = RoundingMode(str(raw.get("rounding_mode") or "half_up"))
    except ValueError:
        mode = RoundingMode.HALF_UP
    state = raw.get("state_code")
    return TaxProfile(
        currency=currency,
        regime=regime,
        gst_mode=gst_mode,  # type: ignore[arg-type]
        state_code=str(state).strip() if state else None,
        prices_include_tax=regime == "vat" or bool(raw.get("prices_include_tax", False)),
        gst_rounding=_choice(  # type: ignore[arg-type]
            raw.get("gst_rounding"), ("item_wise", "invoice_total"), "item_wise"
        ),
        rounding_mode=mode,
        rounding=_choice(raw.get("rounding"), ("nearest_1", "none"), "none"),  # type: ignore[arg-type]
        service_charge_pct=_decimal(settings.get("service_charge_pct"), Decimal(0)),
        service_charge_tax_rate=_decimal(
            raw.get("service_charge_tax_rate"),
            DEFAULT_GST_RATE if collects and regime == "gst" else Decimal(0),
        )
        if collects
        else Decimal(0),
    )


def tax_basis_of(
    profile: TaxProfile,
    outlet: Outlet,
    *,
    place_of_supply: str | None,
    payment_type: str | None,
    at: datetime,
    happy_hours_enabled: bool,
) -> dict[str, Any]:
    """What the invoice's figures were computed under (frozen into `Invoice.tax_basis`)."""
    raw = dict(outlet.tax_profile or {})
    inter_state = profile.inter_state(place_of_supply)
    return {
        "regime": profile.effective_regime,
        "gst_mode": profile.gst_mode,
        "gstin": raw.get("gstin"),
        "state_code": profile.state_code,
        "place_of_supply": place_of_supply or profile.state_code,
        "supply": "inter_state" if inter_state else "intra_state",
        "prices_include_tax": profile.tax_inclusive,
        "gst_rounding": profile.gst_rounding,
        "rounding_mode": profile.rounding_mode.value,
        "rounding": profile.rounding,
        "service_charge_pct": format(profile.service_charge_pct.normalize(), "f"),
        "service_charge_tax_rate": format(profile.service_charge_tax_rate.normalize(), "f"),
        "currency": profile.currency,
        "timezone": outlet.timezone,
        "priced_at": rfc3339(at),
        "payment_type": payment_type,
        "happy_hours_enabled": happy_hours_enabled,
    }


def seller_of(outlet: Outlet) -> dict[str, Any]:
    """The seller block of an invoice: name, address, gstin, fssai."""
    raw = dict(outlet.tax_profile or {})
    return {
        "name": outlet.name,
        "address": outlet.address,
        "gstin": raw.get("gstin") or None,
        "fssai": outlet.fssai_license or None,
    }


# --- rows → engine specs -------------------------------------------------------------------------


def _rate_or_none(value: str | None) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def _item_rate(value: str | None) -> Decimal:
    rate = _rate_or_none(value)
    return DEFAULT_GST_RATE if rate is None or not 0 <= rate <= 100 else rate


def window_of(row: PricingRule | PriceList) -> Window:
    """The days, outlet-local times and validity of a rule or price list row."""
    return Window(
        days=tuple(row.days or ()),
        start_time=row.start_time or None,
        end_time=row.end_time or None,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


def rule_spec(row: PricingRule) -> RuleSpec:
    return RuleSpec(
        id=row.id,
        name=row.name,
        kind=_choice(row.kind, ("happy_hour", "payment_type", "promotion"), "promotion"),  # type: ignore[arg-type]
        adjustment="flat" if row.adjustment == "flat" else "percent",
        direction="surcharge" if row.direction == "surcharge" else "discount",
        percent=_rate_or_none(row.percent),
        amount=row.amount,
        window=window_of(row),
        payment_type=row.payment_type,
        item_ids=frozenset(row.item_ids or ()),
        category_ids=frozenset(row.category_ids or ()),
        priority=row.priority,
        is_active=row.is_active,
    )


def price_list_spec(row: PriceList) -> PriceListSpec:
    return PriceListSpec(
        id=row.id,
        name=row.name,
        prices={str(k): int(v) for k, v in (row.prices or {}).items()},
        window=window_of(row),
        priority=row.priority,
        is_active=row.is_active,
    )


def coupon_spec(row: Coupon) -> CouponSpec:
    return CouponSpec(
        id=row.id,
        code=row.code.upper(),
        kind="flat" if row.kind == "flat" else "percent",
        percent=_rate_or_none(row.percent),
        amount=row.amount,
        max_discount=row.max_discount,
        min_subtotal=row.min_subtotal or 0,
        stackable=row.stackable,
    )


def check_coupon(row: Coupon, code: str, at: datetime) -> None:
    """COUPON_INACTIVE / COUPON_NOT_YET_VALID / COUPON_EXPIRED at the instant `at`."""
    if not row.is_active:
        raise CouponInactive(code)
    if row.valid_from is not None and as_utc(at) < as_utc(row.valid_from):
        raise CouponNotYetValid(code)
    if row.valid_to is not None and as_utc(at) >= as_utc(row.valid_to):
        raise CouponExpired(code)


async def load_coupons(
    uow: UnitOfWork, *, tenant_id: str, outlet_id: str, codes: Sequence[str], at: datetime
) -> tuple[CouponSpec, ...]:
    """The coupons named by `codes` (case-insensitive, repeats once, in the order given),
    each checked for existence and validity at `at`."""
    wanted: list[str] = []
    for code in codes:
        key = code.strip().upper()
        if key and key not in wanted:
            wanted.append(key)
    if not wanted:
        return ()
    found = await CouponReader(uow.session, tenant_id).by_codes(outlet_id, wanted)
    specs: list[CouponSpec] = []
    for key in wanted:
        row = found.get(key)
        if row is None:
            raise CouponNotFound(key)
        check_coupon(row, key, at)
        specs.append(coupon_spec(row))
    return tuple(specs)


# --- the preview (POST /api/v1/pricing/preview) -------------------------------------------


async def preview(uow: UnitOfWork, actor: StaffActor, body: PricingPreviewRequest) -> BillFigures:
    """Price the body's lines for the actor's outlet at `body.at` (default now)."""
    if actor.outlet_id is None:
        raise OutletRequired()
    outlet = await outlet_for(uow.session, actor.tenant_id, actor.outlet_id)
    if outlet is None:
        raise NotFound("outlet")
    at = as_utc(body.at) if body.at is not None else utcnow()
    items = [
        CartItem(menu_item_id=ln.menu_item_id, qty=ln.qty, modifiers=tuple(ln.modifiers))
        for ln in body.lines
    ]
    lines = await cart_bill_lines(uow, tenant_id=actor.tenant_id, outlet=outlet, items=items)
    priced = await price_bill(
        uow,
        tenant_id=actor.tenant_id,
        outlet=outlet,
        lines=lines,
        coupon_codes=body.coupons,
        tip=body.tip,
        payment_type=body.payment_type,
        at=at,
        place_of_supply=body.place_of_supply,
    )
    return priced.figures


# --- the service ----------------------------------------------------------------------------------


async def price_bill(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    outlet: Outlet,
    lines: Sequence[BillLine],
    coupon_codes: Sequence[str],
    tip: int,
    payment_type: str | None,
    at: datetime,
    place_of_supply: str | None,
) -> PricedBill:
    """Price `lines` for the outlet at the instant `at` (UTC).

    Lines without a `category_id` get their menu item's when a rule targets categories.
    Raises the coupon errors (422 COUPON_NOT_FOUND, COUPON_INACTIVE, COUPON_EXPIRED,
    COUPON_NOT_YET_VALID, COUPON_MIN_SUBTOTAL, NON_STACKABLE) and 422 TIPS_DISABLED when a
    tip is given while the outlet's `tips_enabled` setting is off. Nothing is written.
    """
    if tip < 0:
        raise ValueError("tip must not be negative")
    settings = await get_effective_settings(uow, tenant_id, outlet.id)
    if tip > 0 and not settings.get("tips_enabled", True):
        raise TipsDisabled()
    profile = outlet_tax_profile(outlet, settings)
    happy = await is_enabled(uow, tenant_id, outlet.id, FLAG_HAPPY_HOUR)
    rules = await PricingRuleReader(uow.session, tenant_id).active_for_outlet(outlet.id)
    lists = await PriceListReader(uow.session, tenant_id).active_for_outlet(outlet.id)
    coupons = await load_coupons(
        uow, tenant_id=tenant_id, outlet_id=outlet.id, codes=coupon_codes, at=at
    )
    missing = {ln.menu_item_id for ln in lines if ln.category_id is None}
    if missing and any(r.category_ids for r in rules):  # only category rules read them
        categories = await item_categories(uow.session, tenant_id, outlet.id, missing)
        lines = [
            replace(ln, category_id=categories.get(ln.menu_item_id))
            if ln.category_id is None
            else ln
            for ln in lines
        ]
    place = place_of_supply.strip() if place_of_supply and place_of_supply.strip() else None
    figures = compute_bill(
        BillInput(
            profile=profile,
            lines=tuple(lines),
            at=as_utc(at),
            timezone=outlet.timezone or "UTC",
            rules=tuple(rule_spec(r) for r in rules),
            price_lists=tuple(price_list_spec(p) for p in lists),
            coupons=coupons,
            tip=tip,
            payment_type=payment_type,
            place_of_supply=place,
            happy_hours_enabled=happy,
        )
    )
    return PricedBill(
        figures=figures,
        coupons=tuple((c.coupon_id, c.code, c.amount) for c in figures.applied_coupons),
        tax_basis=tax_basis_of(
            profile,
            outlet,
            place_of_supply=place,
            payment_type=payment_type,
            at=at,
            happy_hours_enabled=happy,
        ),
        seller=seller_of(outlet),
    )


async def cart_bill_lines(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    outlet: Outlet,
    items: Sequence[CartItem],
) -> list[BillLine]:
    """Bill lines for a cart, priced from the outlet's menu as it is now (server prices
    only). An unknown, retired, foreign or out-of-stock item is 422 ITEM_UNAVAILABLE and a
    bad modifier choice 422 INVALID_MODIFIERS, each with the failing `line` index.
    Lines carry no `category_id` and no `ordered_at`: `price_bill` looks categories up
    (only when a rule targets categories) and prices the lines at the bill's instant."""
    if not items:
        return []
    ids = {i.menu_item_id for i in items}
    snapshots = await price_snapshot(uow, tenant_id, outlet.id, ids)
    chosen = {m for i in items for m in i.modifiers}
    known = (
        await ModifierRepository(uow.session, tenant_id, outlet.id).groups_of(chosen)
        if chosen
        else {}
    )
    lines: list[BillLine] = []
    for index, item in enumerate(items):
        try:
            priced = price_line(snapshots, item.menu_item_id, item.modifiers, modifier_groups=known)
        except PricingError as problem:
            problem.extra["line"] = index
            raise
        snapshot = snapshots[item.menu_item_id]
        lines.append(
            BillLine(
                ref=str(index),
                menu_item_id=item.menu_item_id,
                category_id=None,
                name=snapshot.name,
                qty=item.qty,
                base_price=priced.base_price,
                modifiers_total=priced.unit_price - priced.base_price,
                rate=_item_rate(snapshot.gst_rate),
                hsn=snapshot.hsn,
            )
        )
    return lines


def order_bill_lines(
    lines: Sequence[OrderLine],
    ordered_at: Mapping[str, datetime],
    categories: Mapping[str, str | None] | None = None,
) -> list[BillLine]:
    """Bill lines from frozen order lines (prices, rate and HSN as they were ordered).

    `ordered_at` maps order id → the order's `created_at` (happy hours and price lists
    match on it; a missing order falls back to the line's own `created_at`). `categories`
    (menu item id → category id) is optional: `price_bill` fills missing ones. Line order
    is kept; `ref` is the order line id.
    """
    out: list[BillLine] = []
    for line in lines:
        when = ordered_at.get(line.order_id) or line.created_at
        out.append(
            BillLine(
                ref=line.id,
                menu_item_id=line.menu_item_id,
                category_id=(categories or {}).get(line.menu_item_id),
                name=line.name,
                qty=line.qty,
                base_price=line.base_price,
                modifiers_total=line.unit_price - line.base_price,
                rate=_item_rate(line.gst_rate),
                hsn=line.hsn,
                member_id=line.member_id,
                ordered_at=as_utc(when) if when is not None else None,
            )
        )
    return out
