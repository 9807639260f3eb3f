"""S4: mass assignment. Extra `tenant_id`, `price`, `total`, `status` and `role` fields on
creating and updating bodies are ignored or refused (422), never applied — checked in the
database — and a guest's replies never carry another guest's phone number."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from servio.config import Settings
from servio.kit.db import Database
from servio.models import MenuItem, Order, ServicePoint
from servio.models.session_member import SessionMember
from tests.billing.invoice_world import build_world
from tests.fixtures.auth import make_staff, staff_headers
from tests.fixtures.factories import make_tenant

pytestmark = pytest.mark.backends

ASHA_PHONE = "+919876543210"


def _extra(foreign_tenant: str) -> dict[str, Any]:
    return {
        "tenant_id": foreign_tenant,
        "price": 1,
        "unit_price": 1,
        "total": 1,
        "status": "completed",
        "role": "owner",
        "is_host": True,
    }


def _applied_or_refused(reply: httpx.Response) -> bool:
    return reply.status_code < 300 or reply.status_code == 422


async def test_extra_fields_are_never_applied(
    backend: str, client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await build_world(db, settings, name="Alpha")
    foreign, _ = await make_tenant(db, name="Bravo")
    tenant_id = world.tenant_id
    owner = await make_staff(db, world.till.bistro.tenant, world.till.bistro.outlet)
    staff = await staff_headers(db, owner, outlet_id=world.outlet_id)
    extra = _extra(foreign.id)
    salad = world.till.item("salad")

    created = await client.post(
        "/api/v1/menu/items",
        json={"name": "Masala Chai", "price": 6000, "station": "bar", **extra} | {"price": 6000},
        headers=staff,
    )
    edited = await client.patch(f"/api/v1/menu/items/{salad}", json=extra, headers=staff)
    table = await client.post(
        "/api/v1/tables", json={"label": "T77", **extra, "state": "open"}, headers=staff
    )
    cart = await client.put(
        f"/session/{world.session_id}/cart",
        json={"items": [{"menu_item_id": salad, "qty": 2, **extra}], **extra},
        headers=world.guest("Asha"),
    )
    clean = await client.put(
        f"/session/{world.session_id}/cart",
        json={"items": [{"menu_item_id": salad, "qty": 2}]},
        headers=world.guest("Asha"),
    )
    assert clean.status_code == 200, clean.text
    sent = await client.post(
        "/orders",
        json={"session_id": world.session_id, **extra},
        headers={**world.guest("Asha"), "Idempotency-Key": str(uuid.uuid4())},
    )
    replies = {"item": created, "edit": edited, "table": table, "cart": cart, "order": sent}
    assert {k: r.status_code for k, r in replies.items() if not _applied_or_refused(r)} == {}

    async with db.unit_of_work(bypass_rls=True) as uow:
        items = (await uow.session.execute(select(MenuItem))).scalars().all()
        points = (await uow.session.execute(select(ServicePoint))).scalars().all()
        orders = (await uow.session.execute(select(Order))).scalars().all()
    assert {i.tenant_id for i in items} == {tenant_id}
    assert next(i for i in items if i.id == salad).price == 18000  # the PATCH set no price
    assert {p.tenant_id for p in points} == {tenant_id}
    if cart.status_code == 200:
        assert "18000" in cart.text
        assert cart.json().get("total") != 1
    assert {o.tenant_id for o in orders} == {tenant_id}
    for each in orders:  # the server priced it and chose its state
        assert each.status in ("pending", "in_queue"), each.status
        assert each.subtotal == 2 * 18000, each.subtotal


async def test_a_second_member_cannot_make_itself_host(
    backend: str, client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await build_world(db, settings, name="Alpha")
    joined = await client.get(f"/t/{world.qr}")
    assert joined.status_code in (200, 201), joined.text
    guest = {"Authorization": f"Bearer {joined.json()['guest_token']}"}
    member = await client.post(
        "/member",
        json={"session_id": world.session_id, "nickname": "Mallory", **_extra(world.tenant_id)},
        headers=guest,
    )
    assert _applied_or_refused(member), member.text
    async with db.unit_of_work(bypass_rls=True) as uow:
        hosts = (
            await uow.session.execute(
                select(SessionMember.nickname).where(SessionMember.is_host.is_(True))
            )
        ).scalars()
        assert "Mallory" not in set(hosts)


async def test_guest_replies_never_carry_another_guests_phone(
    backend: str, client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await build_world(db, settings, name="Alpha")
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        await uow.session.execute(
            update(SessionMember)
            .where(SessionMember.id == world.member("Asha"))
            .values(notify_phone=ASHA_PHONE)
        )
    ravi = world.guest("Ravi")
    sid = world.session_id
    seen = [
        await client.get(f"/session/{sid}", headers=ravi),
        await client.get(f"/session/{sid}/updates", headers=ravi),
        await client.put(f"/session/{sid}/cart", json={"items": []}, headers=ravi),
        await client.get(f"/t/{world.qr}", headers=ravi),
        await client.get(f"/g/{world.qr}/invoices", headers=ravi),
    ]
    assert [r.status_code for r in seen if r.status_code >= 500] == []
    assert seen[0].status_code == 200, seen[0].text
    for reply in seen:
        assert "9876543210" not in reply.text, reply.request.url
