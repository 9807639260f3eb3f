"""`POST /orders` (GUEST-05, BEY-03): the table's whole cart becomes one order priced by the
server; with the built-in kitchen it is acknowledged in the same transaction (ticket number
in the reply); every refusal of api.md's contract; duplicates never make a second order."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from servio.auth.tokens import issue_guest_token
from servio.config import Settings
from servio.kit.clock import FrozenClock, utcnow
from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.models import Modifier, Outlet, ServicePoint
from servio.platform.flags import QR_ORDERING
from servio.realtime.pubsub import session_channel, staff_channel
from servio.sessions.repository import SessionRepository
from tests.conftest import problem
from tests.guest.conftest import Bistro, build_bistro, set_item, set_table
from tests.ordering.conftest import (
    Table,
    cart_size,
    events_named,
    firings_of,
    lines_of,
    open_table,
    order_row,
    orders_of,
    put_cart,
    set_flag,
    set_session,
    take,
)

pytestmark = pytest.mark.backends


def _body(table: Table, **extra: object) -> dict[str, object]:
    return {"session_id": table.session_id, **extra}


async def test_the_whole_table_cart_becomes_one_acknowledged_order(
    backend: str,
    db: Database,
    app: FastAPI,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    table: Table,
) -> None:
    await put_cart(db, table, "Asha", [("paneer", 2, ["Hot", "Extra cheese"]), ("lassi", 1, [])])
    await put_cart(db, table, "Ravi", [("salad", 1, [])])
    pubsub = app.state.pubsub
    async with (
        pubsub.subscribe(session_channel(table.session_id)) as guests,
        pubsub.subscribe(staff_channel(table.outlet_id)) as staff,
    ):
        # Prices, totals and statuses sent by the client are ignored.
        reply = await client.post(
            "/orders",
            json=_body(
                table,
                subtotal=1,
                status="served",
                lines=[{"menu_item_id": table.bistro.items["paneer"], "unit_price": 1}],
            ),
            headers=table.headers("Ravi"),
        )
        assert reply.status_code == 201, reply.text
        body = reply.json()
        order_id = body["order_id"]
        assert body == {
            "order_id": order_id,
            "status": "in_queue",
            "ticket_no": "1",
            "fired": "acked",
        }

        to_table = await take(guests, 3)
        assert [m["type"] for m in to_table] == ["cart_updated", "order_fired", "order_status"]
        assert to_table[0]["data"]["cart"]["members"] == []
        assert to_table[0]["data"]["cart"]["item_count"] == 0
        assert to_table[1]["data"] == {"order_id": order_id, "ticket_no": "1"}
        assert to_table[2]["data"] == {"order_id": order_id, "status": "in_queue", "eta_secs": 900}
        [to_staff] = await take(staff, 1)
        assert to_staff["type"] == "order_fired"
        assert to_staff["data"]["order_id"] == order_id
        assert to_staff["data"]["ticket_no"] == "1"

    order = await order_row(db, table.tenant_id, order_id)
    assert (order.status, order.fired, order.ticket_no, order.eta_secs) == (
        "in_queue",
        "acked",
        "1",
        900,
    )
    assert (order.subtotal, order.item_count, order.currency) == (94000, 4, "INR")
    assert order.session_id == table.session_id
    assert order.placed_by_member_id == table.members["Ravi"]

    lines = await lines_of(db, table.tenant_id, order_id)
    asha, ravi = table.members["Asha"], table.members["Ravi"]
    assert [(ln.name, ln.member_id, ln.qty, ln.unit_price, ln.line_total) for ln in lines] == [
        ("Paneer Tikka", asha, 2, 32000, 64000),
        ("Mango Lassi", asha, 1, 12000, 12000),
        ("Sprout Salad", ravi, 1, 18000, 18000),
    ]
    assert [ln.station for ln in lines] == ["tandoor", "bar", "kitchen"]
    assert [m["name"] for m in lines[0].modifiers] == ["Hot", "Extra cheese"]
    assert lines[0].base_price == 28000
    assert {ln.status for ln in lines} == {"queued"}

    firings = await firings_of(db, table.tenant_id, order_id)
    assert [(f.station, f.state, f.adapter, f.ticket_no) for f in firings] == [
        ("bar", "acked", "builtin", "1"),
        ("kitchen", "acked", "builtin", "1"),
        ("tandoor", "acked", "builtin", "1"),
    ]
    assert {f.firing_key for f in firings} == {
        f"{order_id}:{s}" for s in ("bar", "kitchen", "tandoor")
    }
    tandoor = firings[2].order_payload
    assert tandoor["table"]["label"] == "T4"
    assert [(ln["name"], ln["qty"]) for ln in tandoor["lines"]] == [("Paneer Tikka", 2)]

    assert await cart_size(db, table) == 0
    [placed] = await events_named(db, "order.placed")
    assert placed.payload["data"]["order_id"] == order_id
    assert placed.payload["data"]["subtotal"] == 94000
    assert len(await events_named(db, "order.fired")) == 1

    # The next order of the day gets the next ticket; the next outlet-local day (IST:
    # 07:30 UTC is 13:00 there, 11 h later is past midnight) starts again at 1.
    await put_cart(db, table, "Asha", [("salad", 1, [])])
    second = await client.post("/orders", json=_body(table), headers=table.headers("Asha"))
    assert second.status_code == 201, second.text
    assert second.json()["ticket_no"] == "2"
    clock.advance(timedelta(hours=11))
    await put_cart(db, table, "Asha", [("salad", 1, [])])
    third = await client.post("/orders", json=_body(table), headers=table.headers("Asha"))
    assert third.json()["ticket_no"] == "1"
    assert len(await orders_of(db, table.tenant_id)) == 3


async def test_pass_required_until_validated(
    backend: str, db: Database, client: httpx.AsyncClient, table: Table
) -> None:
    await set_session(db, table, daily_pass_required=True)
    await put_cart(db, table, "Asha", [("salad", 1, [])])
    refused = await client.post("/orders", json=_body(table), headers=table.headers("Asha"))
    assert refused.status_code == 403
    assert problem(refused)["code"] == "PASS_REQUIRED"
    assert await cart_size(db, table) == 1

    await set_session(db, table, pass_validated=True)
    sent = await client.post("/orders", json=_body(table), headers=table.headers("Asha"))
    assert sent.status_code == 201, sent.text


async def test_an_empty_cart_is_refused(
    backend: str, db: Database, client: httpx.AsyncClient, table: Table
) -> None:
    reply = await client.post("/orders", json=_body(table), headers=table.headers("Asha"))
    assert reply.status_code == 409
    assert problem(reply)["code"] == "CART_EMPTY"
    assert await orders_of(db, table.tenant_id) == []


async def test_a_closed_session_is_gone(
    backend: str, db: Database, client: httpx.AsyncClient, table: Table
) -> None:
    await put_cart(db, table, "Asha", [("salad", 1, [])])
    async with db.unit_of_work(tenant_id=table.tenant_id) as uow:
        closed = await SessionRepository(uow.session, table.tenant_id).close(
            table.session_id, now=utcnow(), closed_by=None, auto_closed=False
        )
        assert closed is not None
    reply = await client.post("/orders", json=_body(table), headers=table.headers("Asha"))
    assert reply.status_code == 410
    assert problem(reply)["code"] == "SESSION_EXPIRED"
    assert await orders_of(db, table.tenant_id) == []


async def test_an_item_that_ran_out_after_it_was_added_fails_the_order(
    backend: str, db: Database, client: httpx.AsyncClient, table: Table
) -> None:
    await put_cart(db, table, "Asha", [("salad", 1, [])])
    await put_cart(db, table, "Ravi", [("paneer", 1, ["Mild"])])
    await set_item(db, table.bistro, "paneer", is_available=False)

    reply = await client.post("/orders", json=_body(table), headers=table.headers("Asha"))
    assert reply.status_code == 422
    body = problem(reply)
    assert body["code"] == "ITEM_UNAVAILABLE"
    assert body["menu_item_id"] == table.bistro.items["paneer"]
    assert body["member_id"] == table.members["Ravi"]
    assert body["line_id"]
    assert await orders_of(db, table.tenant_id) == []
    assert await cart_size(db, table) == 2  # nothing was sent, nothing was cleared


async def test_invalid_modifiers_fail_the_order(
    backend: str, db: Database, client: httpx.AsyncClient, table: Table
) -> None:
    await put_cart(db, table, "Asha", [("paneer", 1, [])])  # the spice level is required
    reply = await client.post("/orders", json=_body(table), headers=table.headers("Asha"))
    assert reply.status_code == 422
    assert problem(reply)["code"] == "INVALID_MODIFIERS"


@pytest.mark.parametrize("switch", ["outlet", "flag", "table"])
async def test_ordering_switched_off_or_table_disabled_is_423(
    backend: str, db: Database, client: httpx.AsyncClient, table: Table, switch: str
) -> None:
    await put_cart(db, table, "Asha", [("salad", 1, [])])
    if switch == "outlet":
        async with db.unit_of_work(tenant_id=table.tenant_id) as uow:
            outlet = await uow.session.get(Outlet, table.outlet_id)
            assert outlet is not None
            outlet.qr_ordering_enabled = False
    elif switch == "flag":
        await set_flag(db, table.bistro, QR_ORDERING, False)
    else:
        await set_table(db, table.bistro, state="disabled")
    reply = await client.post("/orders", json=_body(table), headers=table.headers("Asha"))
    assert reply.status_code == 423
    assert problem(reply)["code"] == "TABLE_DISABLED"
    assert await cart_size(db, table) == 1


async def test_only_members_of_the_session_can_order(
    backend: str,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    table: Table,
) -> None:
    await put_cart(db, table, "Asha", [("salad", 1, [])])
    other = await client.post(
        "/orders", json={"session_id": new_id()}, headers=table.headers("Asha")
    )
    assert other.status_code == 404
    guest_token = issue_guest_token(
        settings, session_id=table.session_id, tenant_id=table.tenant_id, outlet_id=table.outlet_id
    ).token
    bare = await client.post(
        "/orders",
        json=_body(table),
        headers={"Authorization": f"Bearer {guest_token}", "Idempotency-Key": "k-1"},
    )
    assert bare.status_code == 403
    assert problem(bare)["code"] == "MEMBER_REQUIRED"
    no_key = await client.post(
        "/orders",
        json=_body(table),
        headers={"Authorization": f"Bearer {table.tokens['Asha']}"},
    )
    assert no_key.status_code == 400
    assert problem(no_key)["code"] == "IDEMPOTENCY_KEY_REQUIRED"
    bad_id = await client.post(
        "/orders", json=_body(table, order_id="not-a-ulid"), headers=table.headers("Asha")
    )
    assert bad_id.status_code == 422
    assert problem(bad_id)["code"] == "VALIDATION_ERROR"
    assert await orders_of(db, table.tenant_id) == []


async def test_a_resent_client_order_id_returns_the_same_order(
    backend: str,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    table: Table,
) -> None:
    order_id = new_id()
    await put_cart(db, table, "Asha", [("salad", 1, [])])
    first = await client.post(
        "/orders", json=_body(table, order_id=order_id), headers=table.headers("Asha")
    )
    assert first.status_code == 201, first.text
    assert first.json()["order_id"] == order_id

    # The connection dropped; meanwhile Ravi added a dish. The resend (new key) must not
    # send it as a second order.
    await put_cart(db, table, "Ravi", [("lassi", 1, [])])
    again = await client.post(
        "/orders", json=_body(table, order_id=order_id.lower()), headers=table.headers("Ravi")
    )
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert [o.id for o in await orders_of(db, table.tenant_id)] == [order_id]
    assert await cart_size(db, table) == 1  # Ravi's lassi is still waiting to be sent
    assert len(await events_named(db, "order.placed")) == 1

    # The same id from another table, or another tenant, is not theirs to reuse.
    async with db.unit_of_work(tenant_id=table.tenant_id) as uow:
        point = ServicePoint(
            tenant_id=table.tenant_id, outlet_id=table.outlet_id, kind="table", label="T5"
        )
        uow.session.add(point)
    neighbours = await open_table(db, settings, table.bistro, ("Meera",), point=point)
    await put_cart(db, neighbours, "Meera", [("salad", 1, [])])
    taken = await client.post(
        "/orders", json=_body(neighbours, order_id=order_id), headers=neighbours.headers("Meera")
    )
    assert taken.status_code == 409
    assert problem(taken)["code"] == "ORDER_ID_TAKEN"

    elsewhere: Bistro = await build_bistro(db, settings, name="Other Place")
    stranger = await open_table(db, settings, elsewhere, ("Zoe",))
    await put_cart(db, stranger, "Zoe", [("salad", 1, [])])
    foreign = await client.post(
        "/orders", json=_body(stranger, order_id=order_id), headers=stranger.headers("Zoe")
    )
    assert foreign.status_code == 409
    assert problem(foreign)["code"] == "ORDER_ID_TAKEN"
    assert await cart_size(db, stranger) == 1


async def test_fifty_concurrent_sends_with_one_key_make_one_order(
    backend: str, db: Database, client: httpx.AsyncClient, table: Table
) -> None:
    await put_cart(db, table, "Asha", [("salad", 2, []), ("lassi", 1, [])])
    headers = table.headers("Asha", key=str(uuid.uuid4()))
    replies = await asyncio.gather(
        *(client.post("/orders", json=_body(table), headers=headers) for _ in range(50))
    )
    statuses = sorted(r.status_code for r in replies)
    created = [r for r in replies if r.status_code == 201]
    assert created, statuses
    assert set(statuses) <= {201, 409}, statuses
    for reply in replies:
        if reply.status_code == 409:
            assert problem(reply)["code"] == "IDEMPOTENCY_IN_FLIGHT"
    assert len({r.json()["order_id"] for r in created}) == 1
    fresh = [r for r in created if r.headers.get("Idempotent-Replayed") != "true"]
    assert len(fresh) == 1
    orders = await orders_of(db, table.tenant_id)
    assert len(orders) == 1
    assert orders[0].id == created[0].json()["order_id"]
    assert len(await events_named(db, "order.placed")) == 1
    assert await cart_size(db, table) == 0


async def test_the_guest_journey_over_http(
    backend: str, db: Database, client: httpx.AsyncClient, bistro: Bistro
) -> None:
    """Scan, join, fill the cart and send it through the guest API (helper routes of the
    sessions context), then read the table back: the cart is empty, the order is there."""
    scan = await client.get(f"/t/{bistro.token}")
    assert scan.status_code == 201, scan.text
    session_id = scan.json()["session_id"]
    guest = {"Authorization": f"Bearer {scan.json()['guest_token']}"}
    tokens: dict[str, str] = {}
    for nickname in ("Asha", "Ravi"):
        joined = await client.post(
            "/member", json={"session_id": session_id, "nickname": nickname}, headers=guest
        )
        assert joined.status_code == 201, joined.text
        tokens[nickname] = joined.json()["member_token"]
    table = Table(bistro, session_id, tokens=tokens)
    async with db.unit_of_work(tenant_id=bistro.tenant.id) as uow:
        rows = await uow.session.execute(
            select(Modifier.name, Modifier.id).where(Modifier.tenant_id == bistro.tenant.id)
        )
        table.modifiers = dict(rows.tuples().all())

    carts = {
        "Asha": [
            {
                "menu_item_id": bistro.items["paneer"],
                "qty": 2,
                "modifiers": [table.modifiers["Hot"], table.modifiers["Extra cheese"]],
            }
        ],
        "Ravi": [{"menu_item_id": bistro.items["lassi"], "qty": 1, "note": "less sugar"}],
    }
    for nickname, items in carts.items():
        put = await client.put(
            f"/session/{session_id}/cart",
            json={"items": items},
            headers={"Authorization": f"Bearer {tokens[nickname]}"},
        )
        assert put.status_code == 200, put.text
    assert put.json()["subtotal"] == 64000 + 12000

    sent = await client.post(
        "/orders", json={"session_id": session_id}, headers=table.headers("Ravi")
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["status"] == "in_queue"
    assert sent.json()["ticket_no"] == "1"

    again = await client.get(
        f"/session/{session_id}", headers={"Authorization": f"Bearer {tokens['Asha']}"}
    )
    assert again.status_code == 200, again.text
    view = again.json()
    assert view["cart"]["members"] == []
    [order] = view["orders"]
    assert (order["order_id"], order["status"], order["ticket_no"]) == (
        sent.json()["order_id"],
        "in_queue",
        "1",
    )
    assert order["subtotal"] == 76000
    lines = await lines_of(db, bistro.tenant.id, order["order_id"])
    members = {ln.name: ln.member_id for ln in lines}
    assert members["Paneer Tikka"] != members["Mango Lassi"]
    assert [ln.note for ln in lines] == ["", "less sugar"]


async def test_orders_created_total_counts_each_new_order_once(
    backend: str, db: Database, client: httpx.AsyncClient, table: Table
) -> None:
    from prometheus_client import REGISTRY

    def counted() -> float:
        return REGISTRY.get_sample_value("orders_created_total") or 0.0

    before = counted()
    await put_cart(db, table, "Asha", [("lassi", 1, [])])
    headers = table.headers("Asha")
    first = await client.post("/orders", json=_body(table), headers=headers)
    assert first.status_code == 201, first.text
    replay = await client.post("/orders", json=_body(table), headers=headers)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert counted() == before + 1
