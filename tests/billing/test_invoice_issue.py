"""Issuing invoices (BILL-05): a table's bill from two members' orders, frozen figures equal
to the pricing preview, the 200 repeat, coupons + tip from the guest, counter and POS bills,
the staff push, and tenant / table isolation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.models import Coupon, FeatureFlag, Setting
from servio.models.coupon import CouponRedemption
from servio.models.order import Order
from servio.models.table_session import TableSession
from servio.platform.flags import ENABLE_GATEWAY
from servio.realtime.pubsub import PubSub, staff_channel
from tests.billing.invoice_world import (
    FSSAI,
    GSTIN,
    World,
    audits,
    build_world,
    guest_bill,
    keyed,
    order,
    outbox,
    set_orders,
    staff_bill,
)
from tests.conftest import problem

pytestmark = pytest.mark.backends


@pytest.fixture
async def world(db: Database, settings: Settings) -> World:
    return await build_world(db, settings)


async def _payment_status(db: Database, world: World) -> str:
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        row = await uow.session.get(TableSession, world.session_id)
    assert row is not None
    return row.payment_status


async def test_a_table_bill_freezes_both_members_orders_into_one_numbered_invoice(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    world: World,
    clock: FrozenClock,
    app: FastAPI,
) -> None:
    asha = await order(client, db, world, "Asha", [("salad", 2, ())])
    ravi = await order(client, db, world, "Ravi", [("lassi", 1, ())])
    pubsub: PubSub = app.state.pubsub
    async with pubsub.subscribe(staff_channel(world.outlet_id)) as staff:
        bill = await staff_bill(client, world)
        push = await asyncio.wait_for(staff.get(), 5)

    # 07:30 UTC on 22 Nov 2026 is the same day in Bengaluru: the November series.
    assert bill["number"] == "INV-ABC-202611-0001"
    assert (bill["kind"], bill["status"], bill["source"]) == ("invoice", "sent", "session")
    assert bill["session_id"] == world.session_id
    assert bill["table_label"] == "T4"
    assert sorted(bill["order_ids"]) == sorted([asha, ravi])
    by_member = {line["member_id"]: line for line in bill["lines"]}
    assert by_member[world.member("Asha")]["name"] == "Sprout Salad"
    assert by_member[world.member("Asha")]["subtotal"] == 36000
    assert by_member[world.member("Ravi")]["subtotal"] == 12000
    assert all(line["ref"] for line in bill["lines"])
    # 5 % GST inside Karnataka: CGST 2.5 % + SGST 2.5 % of ₹480.
    assert bill["subtotal"] == 48000
    assert bill["tax_lines"] == [
        {"name": "CGST", "rate": "2.5", "amount": 1200},
        {"name": "SGST", "rate": "2.5", "amount": 1200},
    ]
    assert (bill["tax_total"], bill["total"], bill["balance_due"]) == (2400, 50400, 50400)
    assert bill["seller"]["gstin"] == GSTIN
    assert bill["seller"]["fssai"] == FSSAI
    assert bill["tax_basis"]["supply"] == "intra_state"
    assert bill["pdf_url"] == f"/api/v1/invoices/{bill['id']}/pdf"

    assert await _payment_status(db, world) == "bill_requested"
    assert push["type"] == "bill_requested"
    assert push["data"] == {"session_id": world.session_id, "invoice_id": bill["id"], "table": "T4"}
    [entry] = await audits(db, world, "invoice.issued")
    assert entry.subject_id == bill["id"]
    assert entry.after["total"] == 50400
    assert [m.payload["data"]["invoice_id"] for m in await outbox(db, "invoice.issued")] == [
        bill["id"]
    ]

    # Reading it back gives the same frozen figures.
    again = await client.get(f"/api/v1/invoices/{bill['id']}", headers=world.till.cashier)
    assert again.status_code == 200
    assert again.json()["lines"] == bill["lines"]


async def test_asking_again_returns_the_open_bill_and_new_orders_get_the_next_number(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    await order(client, db, world, "Asha", [("salad", 1, ())])
    first = await staff_bill(client, world)
    repeat = await guest_bill(client, world, status=200)
    assert repeat["id"] == first["id"]

    cancelled = await order(client, db, world, "Ravi", [("lassi", 1, ())])
    await set_orders(db, world, [cancelled], status="cancelled")
    assert (await staff_bill(client, world, status=200))["id"] == first["id"]

    later = await order(client, db, world, "Ravi", [("lassi", 2, ())])
    second = await staff_bill(client, world)
    assert second["number"] == "INV-ABC-202611-0002"
    assert second["order_ids"] == [later]
    assert second["total"] == 25200


async def test_nothing_ordered_is_409_with_a_hint(
    backend: str, client: httpx.AsyncClient, world: World
) -> None:
    reply = await client.post(
        f"/api/v1/sessions/{world.session_id}/bill", json={}, headers=keyed(world.till.waiter)
    )
    assert reply.status_code == 409
    body = problem(reply)
    assert body["code"] == "NOTHING_TO_BILL"
    assert body["hint"]


async def test_the_invoice_total_is_the_pricing_preview_of_the_same_lines_at_that_instant(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    await order(client, db, world, "Asha", [("paneer", 3, ("Hot", "Extra cheese"))])
    await order(client, db, world, "Ravi", [("salad", 1, ()), ("lassi", 2, ())])
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        uow.session.add(
            Setting(
                tenant_id=world.tenant_id,
                outlet_id=world.outlet_id,
                key="service_charge_pct",
                value="10",
            )
        )
    bill = await staff_bill(client, world)
    till = world.till
    preview = await client.post(
        "/api/v1/pricing/preview",
        json={
            "lines": [
                {k: v for k, v in line.items() if k != "note"}
                for line in (
                    till.line("paneer", 3, "Hot", "Extra cheese"),
                    till.line("salad", 1),
                    till.line("lassi", 2),
                )
            ],
            "at": clock.now().isoformat(),
        },
        headers=till.waiter,
    )
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    for key in (
        "subtotal",
        "discount_total",
        "service_charge",
        "taxable_subtotal",
        "tax_lines",
        "tax_total",
        "round_off",
        "total",
    ):
        assert bill[key] == shown[key], key
    assert bill["service_charge"] > 0


async def test_a_guest_bill_carries_the_tip_and_the_coupon_and_spends_its_cap(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        uow.session.add(
            Coupon(
                tenant_id=world.tenant_id,
                outlet_id=world.outlet_id,
                code="WELCOME10",
                kind="percent",
                percent="10",
                cap_per_guest=1,
            )
        )
    await order(client, db, world, "Asha", [("salad", 2, ())])
    bill = await guest_bill(client, world, "Ravi", tip=5000, coupons=["welcome10"])
    assert bill["applied_coupons"][0]["code"] == "WELCOME10"
    assert bill["applied_coupons"][0]["amount"] == 3600
    assert (bill["discount_total"], bill["effective_discount"], bill["tip"]) == (3600, 3600, 5000)
    assert bill["total"] == 36000 - 3600 + 1620 + 5000
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        [redeemed] = (await uow.session.execute(select(CouponRedemption))).scalars().all()
    assert redeemed.invoice_id == bill["id"]
    assert redeemed.guest_key == world.member("Ravi")
    assert redeemed.business_day == "2026-11-22"


async def test_a_bad_coupon_refuses_the_bill_and_takes_no_number(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    await order(client, db, world, "Asha", [("salad", 1, ())])
    reply = await client.post(
        f"/g/{world.qr}/bill", json={"coupons": ["NOPE"]}, headers=world.guest()
    )
    assert reply.status_code == 422
    assert problem(reply)["code"] == "COUPON_NOT_FOUND"
    assert (await guest_bill(client, world))["number"] == "INV-ABC-202611-0001"


async def test_two_bill_requests_at_once_invoice_the_orders_once(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    await order(client, db, world, "Asha", [("salad", 1, ())])
    replies = await asyncio.gather(
        client.post(f"/g/{world.qr}/bill", json={}, headers=world.guest("Asha")),
        client.post(f"/g/{world.qr}/bill", json={}, headers=world.guest("Ravi")),
        client.post(
            f"/api/v1/sessions/{world.session_id}/bill", json={}, headers=keyed(world.till.waiter)
        ),
    )
    assert sorted(r.status_code for r in replies) == [200, 200, 201]
    assert len({r.json()["id"] for r in replies}) == 1


async def test_a_counter_order_and_a_pos_checkout_are_billed_on_their_own(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    till = world.till
    counter = await client.post(
        "/api/v1/orders",
        json={"items": [till.line("lassi", 1)], "source": "counter"},
        headers=keyed(till.cashier),
    )
    assert counter.status_code == 201, counter.text
    order_id = counter.json()["order_id"] if "order_id" in counter.json() else counter.json()["id"]
    bill = await client.post(
        f"/api/v1/orders/{order_id}/bill", json={}, headers=keyed(till.cashier)
    )
    assert bill.status_code == 201, bill.text
    assert (bill.json()["source"], bill.json()["session_id"], bill.json()["total"]) == (
        "counter",
        None,
        12600,
    )
    repeat = await client.post(
        f"/api/v1/orders/{order_id}/bill", json={}, headers=keyed(till.cashier)
    )
    assert repeat.status_code == 200
    assert repeat.json()["id"] == bill.json()["id"]

    ticket = await client.post(
        "/api/v1/open_tickets",
        json={"name": "Bar tab", "items": [till.line("salad", 1)]},
        headers=till.cashier,
    )
    assert ticket.status_code == 201, ticket.text
    checkout = await client.post(
        f"/api/v1/open_tickets/{ticket.json()['id']}/checkout", headers=keyed(till.cashier)
    )
    assert checkout.status_code == 201, checkout.text
    listed = await client.get("/api/v1/invoices?kind=invoice", headers=till.cashier)
    numbers = {i["number"]: i for i in listed.json()["items"]}
    assert set(numbers) == {"INV-ABC-202611-0001", "INV-ABC-202611-0002"}
    assert numbers["INV-ABC-202611-0002"]["source"] == "pos"
    assert numbers["INV-ABC-202611-0002"]["total"] == 18900


async def test_other_tenants_and_other_tables_see_nothing(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    world: World,
    clock: FrozenClock,
) -> None:
    await order(client, db, world, "Asha", [("salad", 1, ())])
    bill = await staff_bill(client, world)
    other = await build_world(db, settings, name="Elsewhere")

    foreign = await client.get(f"/api/v1/invoices/{bill['id']}", headers=other.till.cashier)
    assert foreign.status_code == 404
    assert (await client.get("/api/v1/invoices", headers=other.till.cashier)).json()["items"] == []
    foreign_bill = await client.post(
        f"/api/v1/sessions/{world.session_id}/bill", json={}, headers=keyed(other.till.waiter)
    )
    assert foreign_bill.status_code == 404

    # Our member with the other tenant's table token, and vice versa: 404.
    for path in (f"/g/{other.qr}/invoices", f"/g/{other.qr}/invoices/{bill['id']}"):
        assert (await client.get(path, headers=world.guest())).status_code == 404
    crossed = await client.post(f"/g/{other.qr}/bill", json={}, headers=world.guest())
    assert crossed.status_code == 404
    mine = await client.get(f"/g/{world.qr}/invoices", headers=world.guest("Ravi"))
    assert [i["id"] for i in mine.json()["items"]] == [bill["id"]]
    theirs = await client.get(f"/g/{other.qr}/invoices", headers=other.guest())
    assert theirs.json()["items"] == []


async def test_another_table_in_the_same_outlet_is_404_for_the_guest(
    backend: str, client: httpx.AsyncClient, db: Database, settings: Settings, world: World
) -> None:
    from servio.floor.qr import issue_qr_token
    from servio.models import ServicePoint

    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        t5 = ServicePoint(
            tenant_id=world.tenant_id, outlet_id=world.outlet_id, kind="table", label="T5"
        )
        uow.session.add(t5)
        await uow.session.flush()
    token = issue_qr_token(settings, t5)
    await order(client, db, world, "Asha", [("salad", 1, ())])
    reply = await client.post(f"/g/{token}/bill", json={}, headers=world.guest())
    assert reply.status_code == 404
    assert (await client.get(f"/g/{token}/invoices", headers=world.guest())).status_code == 404


def _figures(bill: dict[str, Any]) -> int:
    return bill["taxable_subtotal"] + bill["tax_total"] + bill["tip"] + bill["round_off"]


async def test_the_totals_obey_the_preview_invariants(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    from servio.models import Outlet
    from tests.billing.invoice_world import KA_PROFILE

    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        await uow.session.execute(
            update(Outlet)
            .where(Outlet.id == world.outlet_id)
            .values(tax_profile={**KA_PROFILE, "rounding": "nearest_1"})
        )
    await order(client, db, world, "Asha", [("paneer", 1, ("Mild",)), ("lassi", 3, ())])
    bill = await staff_bill(client, world)
    assert bill["total"] == _figures(bill)
    assert bill["total"] % 100 == 0
    assert abs(bill["round_off"]) <= 50
    assert bill["tax_total"] == sum(t["amount"] for t in bill["tax_lines"])
    assert datetime.fromisoformat(bill["issued_at"].replace("Z", "+00:00")) == datetime(
        2026, 11, 22, 7, 30, tzinfo=UTC
    )


async def test_the_guest_bill_says_whether_tips_and_online_payment_are_offered(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    path = f"/g/{world.qr}/invoices"
    first = (await client.get(path, headers=world.guest())).json()
    assert first["payment_options"] == {"tips_enabled": True, "gateway_enabled": False}
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        uow.session.add_all(
            [
                Setting(
                    tenant_id=world.tenant_id,
                    outlet_id=world.outlet_id,
                    key="tips_enabled",
                    value=False,
                ),
                FeatureFlag(
                    tenant_id=world.tenant_id,
                    outlet_id=world.outlet_id,
                    name=ENABLE_GATEWAY,
                    enabled=True,
                ),
            ]
        )
    later = (await client.get(path, headers=world.guest())).json()
    assert later["payment_options"] == {"tips_enabled": False, "gateway_enabled": True}


async def test_a_bill_that_leaves_nothing_to_pay_settles_the_table_at_once(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    """A 100 % coupon: the invoice is paid as issued, so the table is settled, its served
    order completed and `session.settled` emitted, from the orders the bill itself read."""
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        uow.session.add(
            Coupon(
                tenant_id=world.tenant_id,
                outlet_id=world.outlet_id,
                code="ONTHEHOUSE",
                kind="percent",
                percent="100",
            )
        )
    served = await order(client, db, world, "Asha", [("salad", 1, ())])
    await set_orders(db, world, [served], status="served")
    bill = await guest_bill(client, world, coupons=["onthehouse"])
    assert (bill["total"], bill["status"], bill["balance_due"]) == (0, "paid", 0)
    assert await _payment_status(db, world) == "settled"
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        stored = await uow.session.get(Order, served)
    assert stored is not None
    assert stored.status == "completed"
    [settled] = await outbox(db, "session.settled")
    assert settled.payload["data"]["invoice_ids"] == [bill["id"]]
