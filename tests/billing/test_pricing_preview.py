"""`POST /api/v1/pricing/preview` (ORD-04): server prices, the documented shape, the same
figures a bill for the same lines at the same instant gets, coupon and tip refusals with
hints, happy hours by flag and time, tenant isolation, the rate-limit class."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import update

from servio.billing import pricing
from servio.billing.tax import BillInput, BillLine, TaxProfile, compute_bill
from servio.config import Settings
from servio.kit.db import Database
from servio.kit.ratelimit import RATE_LIMIT_ATTR
from servio.main import create_app
from servio.models import Coupon, FeatureFlag, OrderLine, Outlet, PricingRule, Setting
from servio.platform.flags import FLAG_HAPPY_HOUR
from tests.pos.conftest import Till, build_till

pytestmark = pytest.mark.backends

URL = "/api/v1/pricing/preview"
AT = "2026-11-20T13:00:00Z"  # Friday 18:30 IST
AT_DT = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
KA_PROFILE = {
    "gst_mode": "regular",
    "gstin": "29ABCDE1234F1Z5",
    "state_code": "29",
    "prices_include_tax": False,
    "gst_rounding": "item_wise",
    "rounding_mode": "half_up",
    "rounding": "none",
}


@pytest.fixture
async def till(db: Database, settings: Settings) -> Till:
    till = await build_till(db, settings)
    await _set_profile(db, till, KA_PROFILE)
    return till


async def _set_profile(db: Database, till: Till, profile: dict[str, Any]) -> None:
    async with db.unit_of_work(tenant_id=till.tenant_id) as uow:
        await uow.session.execute(
            update(Outlet).where(Outlet.id == till.outlet_id).values(tax_profile=profile)
        )


async def _add(db: Database, till: Till, *rows: Any) -> None:
    async with db.unit_of_work(tenant_id=till.tenant_id) as uow:
        for row in rows:
            row.tenant_id = row.tenant_id or till.tenant_id
            uow.session.add(row)


def _body(till: Till, *lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "lines": [
            {k: v for k, v in ln.items() if k in ("menu_item_id", "qty", "modifiers")}
            for ln in lines
        ],
        "at": AT,
        **extra,
    }


async def _preview(
    client: httpx.AsyncClient, till: Till, body: dict[str, Any], status: int = 200
) -> dict[str, Any]:
    reply = await client.post(URL, json=body, headers=till.waiter)
    assert reply.status_code == status, reply.text
    result: dict[str, Any] = reply.json()
    return result


def _cart(till: Till) -> tuple[dict[str, Any], ...]:
    # Paneer 280.00 + extra cheese 40.00, twice; one lassi 120.00. All 5 % GST.
    return (till.line("paneer", 2, "Mild", "Extra cheese"), till.line("lassi", 1))


async def test_preview_prices_the_cart_with_server_prices(
    backend: str, client: httpx.AsyncClient, till: Till
) -> None:
    body = await _preview(client, till, _body(till, *_cart(till)))
    assert [
        (ln["ref"], ln["name"], ln["qty"], ln["unit_price"], ln["subtotal"], ln["taxable_value"])
        for ln in body["lines"]
    ] == [
        ("0", "Paneer Tikka", 2, 32000, 64000, 64000),
        ("1", "Mango Lassi", 1, 12000, 12000, 12000),
    ]
    assert body["lines"][0]["taxes"] == [
        {"name": "CGST", "rate": "2.5", "amount": 1600},
        {"name": "SGST", "rate": "2.5", "amount": 1600},
    ]
    # 760.00 at 5 %: CGST 19.00 + SGST 19.00.
    assert {k: body[k] for k in ("currency", "subtotal", "discount_total", "service_charge")} == {
        "currency": "INR",
        "subtotal": 76000,
        "discount_total": 0,
        "service_charge": 0,
    }
    assert body["tax_lines"] == [
        {"name": "CGST", "rate": "2.5", "amount": 1900},
        {"name": "SGST", "rate": "2.5", "amount": 1900},
    ]
    assert (body["tax_total"], body["tip"], body["round_off"], body["total"]) == (3800, 0, 0, 79800)


async def test_preview_equals_the_engine_and_a_bill_from_orders(
    backend: str, db: Database, client: httpx.AsyncClient, till: Till
) -> None:
    await _set_profile(db, till, {**KA_PROFILE, "rounding": "nearest_1"})
    await _add(db, till, Setting(outlet_id=till.outlet_id, key="service_charge_pct", value="10"))
    request = _body(till, *_cart(till), tip=500, place_of_supply="27")
    first = await client.post(URL, json=request, headers=till.waiter)
    second = await client.post(URL, json=request, headers=till.cashier)
    assert first.status_code == 200, first.text
    assert first.content == second.content  # deterministic to the byte
    body = first.json()

    # The same lines through the pure engine.
    five, hsn = Decimal(5), "996331"
    lines = (
        BillLine("0", till.item("paneer"), None, "Paneer Tikka", 2, 28000, 4000, five, hsn),
        BillLine("1", till.item("lassi"), None, "Mango Lassi", 1, 12000, 0, five, hsn),
    )
    profile = TaxProfile(
        state_code="29",
        rounding="nearest_1",
        service_charge_pct=Decimal(10),
        service_charge_tax_rate=Decimal(5),
    )
    engine = compute_bill(
        BillInput(profile=profile, lines=lines, at=AT_DT, tip=500, place_of_supply="27")
    )
    assert body == engine.as_dict()
    # Inter-state: 760.00 + 76.00 service charge, IGST 38.00 + 3.80, tip 5.00 -> 882.80 -> 883.
    assert [(t["name"], t["amount"]) for t in body["tax_lines"]] == [("IGST", 3800), ("IGST", 380)]
    assert (body["total"], body["round_off"]) == (88300, 20)

    # A bill for the same lines, frozen on orders placed at that instant, has these figures.
    order_lines = [
        OrderLine(
            id=f"line-{i}",
            order_id="order-1",
            tenant_id=till.tenant_id,
            member_id=None,
            menu_item_id=ln.menu_item_id,
            name=ln.name,
            qty=ln.qty,
            base_price=ln.base_price,
            unit_price=ln.base_price + ln.modifiers_total,
            gst_rate="5",
            hsn="996331",
            created_at=AT_DT,
        )
        for i, ln in enumerate(lines)
    ]
    async with db.unit_of_work(tenant_id=till.tenant_id) as uow:
        outlet = await uow.session.get(Outlet, till.outlet_id)
        assert outlet is not None
        priced = await pricing.price_bill(
            uow,
            tenant_id=till.tenant_id,
            outlet=outlet,
            lines=pricing.order_bill_lines(order_lines, {"order-1": AT_DT}),
            coupon_codes=[],
            tip=500,
            payment_type=None,
            at=AT_DT + timedelta(hours=1),
            place_of_supply="27",
        )
    bill = priced.figures.as_dict()
    assert [ln.pop("ref") for ln in bill["lines"]] == ["line-0", "line-1"]
    assert bill == {
        **body,
        "lines": [{k: v for k, v in ln.items() if k != "ref"} for ln in body["lines"]],
    }
    assert priced.seller == {
        "name": "Spice Route Bistro",
        "address": "",
        "gstin": "29ABCDE1234F1Z5",
        "fssai": None,
    }
    assert priced.tax_basis["supply"] == "inter_state"
    assert priced.tax_basis["service_charge_pct"] == "10"


async def test_coupons_apply_case_insensitively_and_refuse_with_hints(
    backend: str, db: Database, client: httpx.AsyncClient, till: Till, settings: Settings
) -> None:
    other = await build_till(db, settings, name="Elsewhere")
    day = timedelta(days=1)
    await _add(
        db,
        till,
        Coupon(code="TEN", kind="percent", percent="10", max_discount=5000, stackable=True),
        Coupon(code="FLAT20", kind="flat", amount=2000, stackable=True, outlet_id=till.outlet_id),
        Coupon(code="SOLO", kind="flat", amount=100),
        Coupon(code="OLD", kind="flat", amount=100, valid_to=AT_DT - day),
        Coupon(code="SOON", kind="flat", amount=100, valid_from=AT_DT + day),
        Coupon(code="OFF", kind="flat", amount=100, is_active=False),
        Coupon(code="BIG", kind="flat", amount=100, min_subtotal=100000),
    )
    await _add(db, other, Coupon(code="THEIRS", kind="flat", amount=100))

    body = await _preview(client, till, _body(till, *_cart(till), coupons=["ten", "Flat20"]))
    # 10 % of 760.00 = 76.00, capped at 50.00; plus 20.00 -> 70.00 off 760.00.
    assert body["applied_coupons"] == [
        {"code": "TEN", "amount": 5000},
        {"code": "FLAT20", "amount": 2000},
    ]
    assert (body["effective_discount"], body["discount_total"]) == (7000, 7000)
    assert sum(ln["taxable_value"] for ln in body["lines"]) == 69000
    assert body["total"] == 69000 + 2 * 1725

    for coupons, code in (
        (["NOPE"], "COUPON_NOT_FOUND"),
        (["THEIRS"], "COUPON_NOT_FOUND"),  # another tenant's code
        (["OLD"], "COUPON_EXPIRED"),
        (["SOON"], "COUPON_NOT_YET_VALID"),
        (["OFF"], "COUPON_INACTIVE"),
        (["BIG"], "COUPON_MIN_SUBTOTAL"),
        (["TEN", "SOLO"], "NON_STACKABLE"),
    ):
        problem = await _preview(client, till, _body(till, *_cart(till), coupons=coupons), 422)
        assert problem["code"] == code, coupons
        assert problem["hint"]
    # The outlet-only coupon is not valid at another outlet of a different tenant either.
    reply = await client.post(
        URL, json=_body(other, other.line("lassi"), coupons=["FLAT20"]), headers=other.waiter
    )
    assert reply.json()["code"] == "COUPON_NOT_FOUND"


async def test_tips_refused_when_the_outlet_takes_none(
    backend: str, db: Database, client: httpx.AsyncClient, till: Till
) -> None:
    assert (await _preview(client, till, _body(till, till.line("lassi"), tip=1000)))["tip"] == 1000
    await _add(db, till, Setting(outlet_id=till.outlet_id, key="tips_enabled", value=False))
    problem = await _preview(client, till, _body(till, till.line("lassi"), tip=1000), 422)
    assert (problem["code"], bool(problem["hint"])) == ("TIPS_DISABLED", True)
    assert (await _preview(client, till, _body(till, till.line("lassi"))))["tip"] == 0
    negative = await _preview(client, till, _body(till, till.line("lassi"), tip=-1), 422)
    assert negative["code"] == "VALIDATION_ERROR"


async def test_happy_hour_follows_the_flag_and_the_clock(
    backend: str, db: Database, client: httpx.AsyncClient, till: Till
) -> None:
    await _add(
        db,
        till,
        PricingRule(
            outlet_id=till.outlet_id,
            name="Lassi hour",
            kind="happy_hour",
            adjustment="percent",
            direction="discount",
            percent="25",
            days=["fri"],
            start_time="17:00",
            end_time="19:00",
            item_ids=[till.item("lassi")],
        ),
    )
    request = _body(till, till.line("lassi", 2), till.line("salad"))
    flag_off = await _preview(client, till, request)
    assert flag_off["discount_total"] == 0

    await _add(db, till, FeatureFlag(outlet_id=None, name=FLAG_HAPPY_HOUR, enabled=True))
    on = await _preview(client, till, request)
    # 25 % of 240.00 = 60.00 off the lassis only.
    assert [ln["discount"] for ln in on["lines"]] == [6000, 0]
    assert on["lines"][0]["adjustments"] == [
        {
            "rule_id": on["lines"][0]["adjustments"][0]["rule_id"],
            "name": "Lassi hour",
            "kind": "happy_hour",
            "direction": "discount",
            "amount": 6000,
        }
    ]
    assert on["total"] == (24000 - 6000 + 18000) * 105 // 100

    later = await _preview(client, till, {**request, "at": "2026-11-20T14:00:00Z"})  # 19:30
    assert later["discount_total"] == 0


async def test_payment_type_surcharge_applies_to_that_payment_only(
    backend: str, db: Database, client: httpx.AsyncClient, till: Till
) -> None:
    await _add(
        db,
        till,
        PricingRule(
            outlet_id=till.outlet_id,
            name="Card fee",
            kind="payment_type",
            adjustment="flat",
            direction="surcharge",
            amount=500,
            payment_type="card",
        ),
    )
    request = _body(till, till.line("lassi", 2))
    card = await _preview(client, till, {**request, "payment_type": "card"})
    cash = await _preview(client, till, {**request, "payment_type": "cash"})
    assert (card["lines"][0]["unit_price"], cash["lines"][0]["unit_price"]) == (12500, 12000)


async def test_lines_are_checked_against_this_outlets_menu(
    backend: str, db: Database, client: httpx.AsyncClient, till: Till, settings: Settings
) -> None:
    other = await build_till(db, settings, name="Elsewhere")
    foreign = await _preview(client, till, _body(till, other.line("lassi")), 422)
    assert (foreign["code"], foreign["line"]) == ("ITEM_UNAVAILABLE", 0)
    sold_out = await _preview(
        client, till, _body(till, till.line("lassi"), till.line("chicken")), 422
    )
    assert (sold_out["code"], sold_out["line"]) == ("ITEM_UNAVAILABLE", 1)
    no_spice = await _preview(client, till, _body(till, till.line("paneer")), 422)
    assert no_spice["code"] == "INVALID_MODIFIERS"
    zero = await _preview(client, till, _body(till, till.line("lassi", 0)), 422)
    assert zero["code"] == "VALIDATION_ERROR"
    naive = await _preview(
        client, till, {**_body(till, till.line("lassi")), "at": "2026-11-20T13:00:00"}, 422
    )
    assert naive["code"] == "VALIDATION_ERROR"


async def test_vat_outlet_and_composition_outlet(
    backend: str, db: Database, client: httpx.AsyncClient, till: Till
) -> None:
    await _set_profile(db, till, {**KA_PROFILE, "gst_mode": "composition"})
    composition = await _preview(client, till, _body(till, till.line("lassi", 2)))
    assert (composition["tax_lines"], composition["total"]) == ([], 24000)

    async with db.unit_of_work(tenant_id=till.tenant_id) as uow:
        await uow.session.execute(
            update(Outlet).where(Outlet.id == till.outlet_id).values(currency="THB", tax_profile={})
        )
    vat = await _preview(client, till, _body(till, till.line("lassi", 2)))
    # 240.00 incl. 5 % VAT: 240 x 5/105 = 11.43 VAT, net 228.57; the guest pays 240.00.
    assert (vat["currency"], vat["prices_include_tax"]) == ("THB", True)
    assert vat["tax_lines"] == [{"name": "VAT", "rate": "5", "amount": 1143}]
    assert (vat["lines"][0]["taxable_value"], vat["subtotal"], vat["total"]) == (
        22857,
        22857,
        24000,
    )


async def test_permission_and_empty_cart(
    backend: str, client: httpx.AsyncClient, till: Till
) -> None:
    denied = await client.post(URL, json=_body(till, till.line("lassi")), headers=till.kitchen)
    assert denied.status_code == 403
    empty = await _preview(client, till, _body(till))
    assert (empty["lines"], empty["total"]) == ([], 0)


def test_route_declares_its_rate_limit_class_and_errors(app: FastAPI) -> None:
    route = next(r for r in app.routes if isinstance(r, APIRoute) and r.path == URL)
    classes = {getattr(d.call, RATE_LIMIT_ATTR, None) for d in route.dependant.dependencies}
    assert "pricing_preview" in classes
    documented = app.openapi()["paths"][URL]["post"]["responses"]
    text = str(documented)
    for code in (
        "COUPON_NOT_FOUND",
        "NON_STACKABLE",
        "TIPS_DISABLED",
        "ITEM_UNAVAILABLE",
        "RATE_LIMIT",
    ):
        assert code in text


async def test_rate_limited_per_user(
    backend: str, db: Database, settings: Settings, till: Till
) -> None:
    limited = settings.model_copy(update={"rate_pricing_preview_per_user_hour": 2})
    application = create_app(limited, database=db, run_worker=False)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("203.0.113.10", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            request = _body(till, till.line("lassi"))
            codes = [
                (await c.post(URL, json=request, headers=till.waiter)).status_code for _ in range(3)
            ]
            refused = await c.post(URL, json=request, headers=till.waiter)
            other_user = await c.post(URL, json=request, headers=till.cashier)
    assert codes == [200, 200, 429]
    assert refused.json()["code"] == "RATE_LIMIT"
    assert int(refused.headers["Retry-After"]) >= 1
    assert other_user.status_code == 200


def test_outlet_tax_profile_from_the_outlet_and_settings() -> None:
    def profile(currency: str = "INR", **raw: Any) -> TaxProfile:
        outlet = Outlet(name="O", currency=currency, tax_profile={**KA_PROFILE, **raw})
        return pricing.outlet_tax_profile(outlet, {"service_charge_pct": "7.5"})

    regular = profile(rounding="nearest_1", rounding_mode="bankers", gst_rounding="invoice_total")
    assert (regular.regime, regular.effective_regime, regular.state_code) == ("gst", "gst", "29")
    assert (regular.rounding, regular.rounding_mode.value, regular.gst_rounding) == (
        "nearest_1",
        "bankers",
        "invoice_total",
    )
    assert (regular.service_charge_pct, regular.service_charge_tax_rate) == (
        Decimal("7.5"),
        Decimal(5),
    )
    assert profile(service_charge_tax_rate="18").service_charge_tax_rate == Decimal(18)
    composition = profile(gst_mode="composition")
    assert (composition.effective_regime, composition.service_charge_tax_rate) == ("none", 0)
    assert profile(gst_mode="unregistered").effective_regime == "none"
    vat = profile("THB")
    assert (vat.regime, vat.prices_include_tax, vat.currency) == ("vat", True, "THB")
    # Unknown values fall back to the defaults instead of failing a bill.
    odd = profile(rounding_mode="sideways", gst_rounding="?", rounding=3)
    assert (odd.rounding_mode.value, odd.gst_rounding, odd.rounding) == (
        "half_up",
        "item_wise",
        "none",
    )
