"""Staff order endpoints: read an order, move it through its states until the KDS exists
(`PATCH /api/v1/orders/{id}/status`), audited, announced, isolated per tenant and outlet."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from servio.config import Settings
from servio.kit.db import Database
from servio.models import AuditLog, Outlet
from servio.realtime.pubsub import session_channel, staff_channel
from tests.fixtures.auth import make_staff, staff_headers
from tests.guest.conftest import build_bistro
from tests.ordering.conftest import Table, firings_of, put_cart, take

pytestmark = pytest.mark.backends


async def _place(client: httpx.AsyncClient, db: Database, table: Table) -> str:
    await put_cart(db, table, "Asha", [("salad", 1, [])])
    reply = await client.post(
        "/orders", json={"session_id": table.session_id}, headers=table.headers("Asha")
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["order_id"])


async def _headers(db: Database, table: Table, role: str) -> dict[str, str]:
    user = await make_staff(db, table.bistro.tenant, table.bistro.outlet, roles=[role])
    return await staff_headers(db, user, outlet_id=table.outlet_id)


async def test_staff_move_an_order_to_served(
    backend: str, db: Database, app: FastAPI, client: httpx.AsyncClient, table: Table
) -> None:
    order_id = await _place(client, db, table)
    kitchen = await _headers(db, table, "kitchen")
    got = await client.get(f"/api/v1/orders/{order_id}", headers=kitchen)
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["status"], body["ticket_no"], body["subtotal"]) == ("in_queue", "1", 18000)
    assert [ln["name"] for ln in body["lines"]] == ["Sprout Salad"]
    assert [f["state"] for f in body["firing"]] == ["acked"]

    pubsub = app.state.pubsub
    async with (
        pubsub.subscribe(session_channel(table.session_id)) as guests,
        pubsub.subscribe(staff_channel(table.outlet_id)) as staff,
    ):
        for target, eta in (("in_progress", 900), ("ready", 0), ("served", 0)):
            moved = await client.patch(
                f"/api/v1/orders/{order_id}/status", json={"status": target}, headers=kitchen
            )
            assert moved.status_code == 200, moved.text
            assert moved.json()["status"] == target
            expected = {"order_id": order_id, "status": target, "eta_secs": eta}
            [to_table] = await take(guests, 1)
            [to_staff] = await take(staff, 1)
            assert to_table["type"] == to_staff["type"] == "order_status"
            assert to_table["data"] == to_staff["data"] == expected

    # Served orders cannot be cancelled; an illegal change names what is allowed.
    owner = await _headers(db, table, "owner")
    illegal = await client.patch(
        f"/api/v1/orders/{order_id}/status", json={"status": "cancelled"}, headers=owner
    )
    assert illegal.status_code == 409
    assert illegal.json()["code"] == "ILLEGAL_TRANSITION"
    assert illegal.json()["allowed"] == ["completed"]

    async with db.unit_of_work(tenant_id=table.tenant_id) as uow:
        rows = await uow.session.execute(
            select(AuditLog.action, AuditLog.after)
            .where(AuditLog.subject_id == order_id)
            .order_by(AuditLog.at, AuditLog.id)
        )
        audited = [(action, after["status"]) for action, after in rows.tuples()]
    assert audited == [
        ("order.status_changed", "in_progress"),
        ("order.status_changed", "ready"),
        ("order.status_changed", "served"),
    ]


async def test_skipping_states_acknowledging_and_cancelling_need_the_right_path(
    backend: str, db: Database, client: httpx.AsyncClient, table: Table
) -> None:
    order_id = await _place(client, db, table)
    kitchen = await _headers(db, table, "kitchen")
    skip = await client.patch(
        f"/api/v1/orders/{order_id}/status", json={"status": "served"}, headers=kitchen
    )
    assert skip.status_code == 409
    assert skip.json()["code"] == "ILLEGAL_TRANSITION"
    unknown = await client.patch(
        f"/api/v1/orders/{order_id}/status", json={"status": "eaten"}, headers=kitchen
    )
    assert unknown.status_code == 422
    cancel = await client.patch(
        f"/api/v1/orders/{order_id}/status", json={"status": "cancelled"}, headers=kitchen
    )
    assert cancel.status_code == 403  # the kitchen role lacks orders.cancel

    cashier = await _headers(db, table, "cashier")
    cancelled = await client.patch(
        f"/api/v1/orders/{order_id}/status", json={"status": "cancelled"}, headers=cashier
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert [f.state for f in await firings_of(db, table.tenant_id, order_id)] == ["acked"]

    viewer = await _headers(db, table, "housekeeping")
    assert (await client.get(f"/api/v1/orders/{order_id}", headers=viewer)).status_code == 403


async def test_orders_of_another_tenant_or_outlet_are_not_found(
    backend: str, db: Database, settings: Settings, client: httpx.AsyncClient, table: Table
) -> None:
    order_id = await _place(client, db, table)
    other = await build_bistro(db, settings, name="Elsewhere")
    stranger = await make_staff(db, other.tenant, other.outlet, roles=["owner"])
    headers = await staff_headers(db, stranger, outlet_id=other.outlet.id)
    assert (await client.get(f"/api/v1/orders/{order_id}", headers=headers)).status_code == 404
    moved = await client.patch(
        f"/api/v1/orders/{order_id}/status", json={"status": "in_progress"}, headers=headers
    )
    assert moved.status_code == 404

    async with db.unit_of_work(tenant_id=table.tenant_id) as uow:
        second = Outlet(tenant_id=table.tenant_id, name="Second kitchen")
        uow.session.add(second)
    owner = await make_staff(db, table.bistro.tenant, second, roles=["owner"])
    there = await staff_headers(db, owner, outlet_id=second.id)
    assert (await client.get(f"/api/v1/orders/{order_id}", headers=there)).status_code == 404
