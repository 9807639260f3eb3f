"""Staff-entered orders (`POST /api/v1/orders`, ORD-03): priced by the server like a guest's
order, fired through the same pipeline, attached to a live table session or left as a
counter order; idempotent; isolated per tenant."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx
import pytest
from sqlalchemy import select, update

from servio.config import Settings
from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.models import AuditLog, MenuItem, ServicePoint
from servio.realtime.pubsub import session_channel
from tests.ordering.conftest import events_named, firings_of, open_table, orders_of, take
from tests.pos.conftest import Till, build_till, keyed

pytestmark = pytest.mark.backends


async def _post(
    client: httpx.AsyncClient, till: Till, body: dict[str, object], key: str | None = None
) -> httpx.Response:
    return await client.post("/api/v1/orders", json=body, headers=keyed(till.cashier, key))


def _names(lines: Sequence[dict[str, object]]) -> list[object]:
    return [(ln["name"], ln["qty"], ln["unit_price"], ln["line_total"]) for ln in lines]


async def test_counter_order_is_priced_by_the_server_and_fired(
    backend: str, db: Database, client: httpx.AsyncClient, till: Till
) -> None:
    body = {
        "source": "counter",
        "items": [
            # Prices, totals and statuses the client sends are ignored.
            till.line("paneer", 2, "Hot", "Extra cheese", note="less oil", unit_price=1, price=1),
            till.line("lassi", 1, line_total=0, status="served"),
        ],
        "subtotal": 5,
        "status": "served",
        "tenant_id": "01JD3Y8W7Q5N2V4M6K8H0G2F4D",
    }
    reply = await _post(client, till, body)
    assert reply.status_code == 201, reply.text
    order = reply.json()
    assert (order["source"], order["session_id"], order["service_point_id"]) == (
        "counter",
        None,
        None,
    )
    assert (order["status"], order["fired"], order["ticket_no"]) == ("in_queue", "acked", "1")
    assert _names(order["lines"]) == [
        ("Paneer Tikka", 2, 32000, 64000),  # 280.00 + 40.00 extra cheese, spice free
        ("Mango Lassi", 1, 12000, 12000),
    ]
    assert order["subtotal"] == 76000
    assert order["item_count"] == 3
    assert order["lines"][0]["note"] == "less oil"
    assert [m["name"] for m in order["lines"][0]["modifiers"]] == ["Hot", "Extra cheese"]
    assert sorted(f["station"] for f in order["firing"]) == ["bar", "tandoor"]
    assert all(f["state"] == "acked" for f in order["firing"])

    [row] = await orders_of(db, till.tenant_id)
    assert row.placed_by_staff_id == till.user_ids["cashier"]
    assert row.tenant_id == till.tenant_id
    [placed] = await events_named(db, "order.placed")
    assert placed.payload["data"]["source"] == "counter"
    assert placed.payload["data"]["table"] is None
    firings = await firings_of(db, till.tenant_id, row.id)
    assert all(job.order_payload["table"] is None for job in firings)
    async with db.unit_of_work(tenant_id=till.tenant_id) as uow:
        audited = (
            await uow.session.execute(
                select(AuditLog.action, AuditLog.actor_id).where(AuditLog.subject_id == row.id)
            )
        ).all()
    assert ("order.placed", till.user_ids["cashier"]) in audited


async def test_a_table_with_guests_gets_the_order_on_its_session(
    backend: str,
    db: Database,
    settings: Settings,
    app: object,
    client: httpx.AsyncClient,
    till: Till,
) -> None:
    table = await open_table(db, settings, till.bistro, ("Asha",))
    pubsub = app.state.pubsub  # type: ignore[attr-defined]
    async with pubsub.subscribe(session_channel(table.session_id)) as guests:
        reply = await client.post(
            "/api/v1/orders",
            json={"service_point_id": till.bistro.table.id, "items": [till.line("salad")]},
            headers=keyed(till.waiter),
        )
        assert reply.status_code == 201, reply.text
        order = reply.json()
        assert order["session_id"] == table.session_id
        assert order["service_point_id"] == till.bistro.table.id
        assert order["source"] == "pos"
        # The guests' phones hear about the order the waiter entered for them.
        fired = [m for m in await take(guests, 2) if m["type"] == "order_fired"]
        assert fired
        assert fired[0]["data"]["order_id"] == order["order_id"]


async def test_a_table_without_a_live_session_gets_a_sessionless_order(
    backend: str, db: Database, client: httpx.AsyncClient, till: Till
) -> None:
    reply = await _post(
        client, till, {"service_point_id": till.bistro.table.id, "items": [till.line("salad")]}
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["session_id"] is None
    assert reply.json()["service_point_id"] == till.bistro.table.id
    firings = await firings_of(db, till.tenant_id, reply.json()["order_id"])
    assert firings[0].order_payload["table"]["label"] == "T4"


async def test_the_same_key_or_order_id_never_orders_twice(
    backend: str, db: Database, client: httpx.AsyncClient, till: Till
) -> None:
    body = {"items": [till.line("salad", 2)]}
    first = await _post(client, till, body, key="pos-key-1")
    again = await _post(client, till, body, key="pos-key-1")
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["order_id"] == first.json()["order_id"]

    changed = await _post(client, till, {"items": [till.line("salad", 3)]}, key="pos-key-1")
    assert changed.status_code == 409
    assert changed.json()["code"] == "IDEMPOTENCY_CONFLICT"

    missing = await client.post("/api/v1/orders", json=body, headers=till.cashier)
    assert missing.status_code == 400
    assert missing.json()["code"] == "IDEMPOTENCY_KEY_REQUIRED"

    order_id = new_id()
    with_id = {"order_id": order_id, "items": [till.line("lassi")]}
    replies = await asyncio.gather(*(_post(client, till, with_id) for _ in range(3)))
    assert {r.status_code for r in replies} == {201}
    assert {r.json()["order_id"] for r in replies} == {order_id}
    assert len(await orders_of(db, till.tenant_id)) == 2


async def test_refusals(
    backend: str, db: Database, settings: Settings, client: httpx.AsyncClient, till: Till
) -> None:
    out = await _post(client, till, {"items": [till.line("salad"), till.line("chicken")]})
    assert out.status_code == 422
    assert out.json()["code"] == "ITEM_UNAVAILABLE"
    no_spice = await _post(client, till, {"items": [till.line("paneer")]})
    assert no_spice.status_code == 422
    assert no_spice.json()["code"] == "INVALID_MODIFIERS"
    empty = await _post(client, till, {"items": []})
    assert empty.status_code == 422
    kitchen = await client.post(
        "/api/v1/orders", json={"items": [till.line("salad")]}, headers=keyed(till.kitchen)
    )
    assert kitchen.status_code == 403

    other = await build_till(db, settings, name="Other Place")
    foreign_point = await _post(
        client, till, {"service_point_id": other.bistro.table.id, "items": [till.line("salad")]}
    )
    assert foreign_point.status_code == 404
    foreign_item = await _post(
        client, till, {"items": [{"menu_item_id": other.item("salad"), "qty": 1}]}
    )
    assert foreign_item.status_code == 422
    assert foreign_item.json()["code"] == "ITEM_UNAVAILABLE"

    async with db.unit_of_work(tenant_id=till.tenant_id) as uow:
        await uow.session.execute(
            update(ServicePoint)
            .where(ServicePoint.id == till.bistro.table.id)
            .values(state="disabled")
        )
    disabled = await _post(
        client, till, {"service_point_id": till.bistro.table.id, "items": [till.line("salad")]}
    )
    assert disabled.status_code == 423
    assert disabled.json()["code"] == "TABLE_DISABLED"
    assert await orders_of(db, till.tenant_id) == []


async def test_menu_for_the_pos_screen(
    backend: str, db: Database, client: httpx.AsyncClient, till: Till
) -> None:
    async with db.unit_of_work(tenant_id=till.tenant_id) as uow:
        await uow.session.execute(
            update(MenuItem).where(MenuItem.id == till.item("salad")).values(price=19000)
        )
    reply = await client.get("/api/v1/pos/menu", headers=till.waiter)
    assert reply.status_code == 200, reply.text
    menu = reply.json()
    by_name = {item["name"]: item for item in menu["items"]}
    assert by_name["Sprout Salad"]["price"] == 19000
    assert by_name["Chicken Tikka"]["is_available"] is False
    assert "Old Soup" not in by_name
    assert [g["name"] for g in by_name["Paneer Tikka"]["groups"]] == ["Spice level", "Extras"]
    assert by_name["Paneer Tikka"]["groups"][0]["min_select"] == 1
    assert [c["name"] for c in menu["categories"]] == ["Starters", "Drinks"]
    forbidden = await client.get("/api/v1/pos/menu", headers=till.kitchen)
    assert forbidden.status_code == 403
