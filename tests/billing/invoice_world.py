"""A world for the invoice tests: the tests.guest bistro (salad ₹180, lassi ₹120, paneer ₹280
with a required spice level; all 5 % GST) at a Karnataka outlet with GSTIN, FSSAI licence,
prefix `INV-ABC-` and monthly numbering; cashier, waiter, kitchen and a manager with a PIN;
a live session at table T4 with members Asha and Ravi; helpers to order and to bill."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select, update

from servio.config import Settings
from servio.kit.db import Database
from servio.models import AuditLog, OutboxMessage, Outlet
from servio.models.invoice import Invoice
from servio.models.order import Order
from tests.fixtures.auth import make_staff, staff_headers
from tests.ordering.conftest import Table, open_table, put_cart
from tests.pos.conftest import Till, build_till

GSTIN = "29ABCDE1234F1Z5"
FSSAI = "11223344556677"
KA_PROFILE = {
    "gst_mode": "regular",
    "gstin": GSTIN,
    "state_code": "29",
    "prices_include_tax": False,
    "gst_rounding": "item_wise",
    "rounding_mode": "half_up",
    "rounding": "none",
}
MANAGER_PIN = "4821"


@dataclass
class World:
    till: Till
    table: Table
    manager: dict[str, str]
    finance: dict[str, str]

    @property
    def tenant_id(self) -> str:
        return self.till.tenant_id

    @property
    def outlet_id(self) -> str:
        return self.till.outlet_id

    @property
    def qr(self) -> str:
        return self.till.bistro.token

    @property
    def session_id(self) -> str:
        return self.table.session_id

    def member(self, nickname: str) -> str:
        return self.table.members[nickname]

    def guest(self, nickname: str = "Asha") -> dict[str, str]:
        return self.table.headers(nickname)


def keyed(headers: dict[str, str], key: str | None = None) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key or str(uuid.uuid4())}


async def build_world(
    db: Database, settings: Settings, *, name: str = "Spice Route", **outlet: Any
) -> World:
    till = await build_till(db, settings, name=name)
    values = {
        "tax_profile": KA_PROFILE,
        "invoice_prefix": "INV-ABC-",
        "invoice_reset": "monthly",
        "fssai_license": FSSAI,
        "address": "12 MG Road, Bengaluru",
        **outlet,
    }
    async with db.unit_of_work(tenant_id=till.tenant_id) as uow:
        await uow.session.execute(
            update(Outlet).where(Outlet.id == till.outlet_id).values(**values)
        )
    bistro = till.bistro
    manager = await make_staff(db, bistro.tenant, bistro.outlet, roles=["manager"], pin=MANAGER_PIN)
    finance = await make_staff(db, bistro.tenant, bistro.outlet, roles=["finance"])
    table = await open_table(db, settings, bistro)
    return World(
        till,
        table,
        await staff_headers(db, manager, outlet_id=bistro.outlet.id),
        await staff_headers(db, finance, outlet_id=bistro.outlet.id),
    )


async def order(
    client: httpx.AsyncClient,
    db: Database,
    world: World,
    nickname: str,
    lines: Sequence[tuple[str, int, Sequence[str]]],
) -> str:
    """`nickname` puts `lines` in their cart and sends the table's cart; the order id."""
    await put_cart(db, world.table, nickname, lines)
    reply = await client.post(
        "/orders", json={"session_id": world.session_id}, headers=world.guest(nickname)
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["order_id"])


async def staff_bill(
    client: httpx.AsyncClient, world: World, status: int = 201, **body: Any
) -> dict[str, Any]:
    reply = await client.post(
        f"/api/v1/sessions/{world.session_id}/bill", json=body, headers=keyed(world.till.waiter)
    )
    assert reply.status_code == status, reply.text
    result: dict[str, Any] = reply.json()
    return result


async def guest_bill(
    client: httpx.AsyncClient, world: World, nickname: str = "Asha", status: int = 201, **body: Any
) -> dict[str, Any]:
    reply = await client.post(f"/g/{world.qr}/bill", json=body, headers=world.guest(nickname))
    assert reply.status_code == status, reply.text
    result: dict[str, Any] = reply.json()
    return result


async def approval(client: httpx.AsyncClient, world: World, action: str = "void") -> str:
    reply = await client.post(
        "/api/v1/approvals/verify_pin",
        json={"action": action, "pin": MANAGER_PIN},
        headers=world.till.cashier,
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["approval_token"])


async def invoice_row(db: Database, world: World, invoice_id: str) -> Invoice:
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        row = await uow.session.get(Invoice, invoice_id)
    assert row is not None
    return row


async def set_orders(db: Database, world: World, order_ids: Sequence[str], **values: Any) -> None:
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        await uow.session.execute(update(Order).where(Order.id.in_(order_ids)).values(**values))


async def audits(db: Database, world: World, action: str) -> list[AuditLog]:
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        stmt = select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.at)
        return list((await uow.session.execute(stmt)).scalars())


async def outbox(db: Database, event: str) -> list[OutboxMessage]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        stmt = select(OutboxMessage).where(OutboxMessage.event == event)
        return list((await uow.session.execute(stmt)).scalars())
