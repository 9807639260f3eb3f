"""A bistro (tests.guest's menu: paneer at the tandoor with a required spice level and dairy,
lassi at the bar, salad and kaju masala (nuts, dairy) in the kitchen) with a live table
session, its cooks and helpers that send orders the way the guest's phone does, so the KDS
tests start from tickets the ordering hook really made."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from servio.config import Settings
from servio.kit.db import Database
from servio.models import KitchenTicket, OrderLine
from tests.fixtures.auth import make_staff, staff_headers
from tests.guest.conftest import build_bistro
from tests.ordering.conftest import Table, open_table, put_cart


@dataclass
class Kitchen:
    table: Table
    owner: dict[str, str]
    cook: dict[str, str]  # kitchen role: kds.read, kds.operate, kds.pick
    waiter: dict[str, str]  # kds.read only

    @property
    def tenant_id(self) -> str:
        return self.table.tenant_id

    @property
    def outlet_id(self) -> str:
        return self.table.outlet_id


async def build_kitchen(db: Database, settings: Settings, name: str = "Spice Route") -> Kitchen:
    bistro = await build_bistro(db, settings, name=name)
    table = await open_table(db, settings, bistro)

    async def headers(role: str) -> dict[str, str]:
        user = await make_staff(db, bistro.tenant, bistro.outlet, roles=[role], settings=settings)
        return await staff_headers(db, user, outlet_id=bistro.outlet.id, settings=settings)

    return Kitchen(table, await headers("owner"), await headers("kitchen"), await headers("waiter"))


Line = tuple[str, int, Sequence[str]]  # (item key, qty, modifier names)


async def send_order(
    client: httpx.AsyncClient, db: Database, kitchen: Kitchen, lines: Sequence[Line]
) -> str:
    """Asha's cart becomes an order the built-in kitchen acknowledges; its id."""
    await put_cart(db, kitchen.table, "Asha", lines)
    reply = await client.post(
        "/orders",
        json={"session_id": kitchen.table.session_id},
        headers={**kitchen.table.headers("Asha"), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["status"] == "in_queue"
    order_id: str = reply.json()["order_id"]
    return order_id


async def tickets_of(db: Database, tenant_id: str, order_id: str) -> dict[str, KitchenTicket]:
    """station → ticket of the order."""
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        stmt = select(KitchenTicket).where(KitchenTicket.order_id == order_id)
        return {t.station: t for t in (await uow.session.execute(stmt)).scalars()}


async def lines_by_name(db: Database, tenant_id: str, order_id: str) -> dict[str, OrderLine]:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        stmt = select(OrderLine).where(OrderLine.order_id == order_id)
        return {line.name: line for line in (await uow.session.execute(stmt)).scalars()}


async def set_item(
    client: httpx.AsyncClient, headers: dict[str, str], line_id: str, status: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/kds/items/{line_id}/status", json={"status": status}, headers=headers
    )


async def ok(response: Any) -> dict[str, Any]:
    reply = await response if not isinstance(response, httpx.Response) else response
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body
