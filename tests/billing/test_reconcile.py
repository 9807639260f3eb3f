"""Reconciliation (BILL-07): mismatches listed from the payments and refunds tables, the
reconcile recomputing and setting PAID / PARTIAL / SENT / OVERDUE, audited before/after,
idempotent, finance-only, tenant-scoped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from servio.config import Settings
from servio.kit.clock import FrozenClock, utcnow
from servio.kit.db import Database
from servio.models.payment import Payment, Refund
from tests.billing.invoice_world import World, audits, build_world, order, outbox, staff_bill

pytestmark = pytest.mark.backends


@pytest.fixture
async def world(db: Database, settings: Settings) -> World:
    return await build_world(db, settings)


async def _pay(
    db: Database, world: World, invoice_id: str, amount: int, status: str = "succeeded"
) -> str:
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        payment = Payment(
            tenant_id=world.tenant_id,
            outlet_id=world.outlet_id,
            invoice_id=invoice_id,
            method="cash",
            status=status,
            amount=amount,
            succeeded_at=utcnow() if status == "succeeded" else None,
        )
        uow.session.add(payment)
        await uow.session.flush()
        return payment.id


async def _reconcile(
    client: httpx.AsyncClient, world: World, invoice_id: str, status: int = 200
) -> dict[str, Any]:
    reply = await client.post(f"/api/v1/invoices/{invoice_id}/reconcile", headers=world.finance)
    assert reply.status_code == status, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def test_a_paid_bill_recorded_nowhere_is_listed_then_reconciled_once(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    await order(client, db, world, "Asha", [("salad", 1, ())])
    bill = await staff_bill(client, world)  # 18900
    await _pay(db, world, bill["id"], 10000)
    await _pay(db, world, bill["id"], 8900)
    await _pay(db, world, bill["id"], 5000, status="failed")

    listed = await client.get("/api/v1/invoices/mismatches", headers=world.finance)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    assert item["invoice_id"] == bill["id"]
    assert (item["status"], item["expected_status"]) == ("sent", "paid")
    assert (item["paid_amount"], item["payments_paid"], item["payment_count"]) == (0, 18900, 2)
    assert item["reconcile_url"] == f"/api/v1/invoices/{bill['id']}/reconcile"

    first = await _reconcile(client, world, bill["id"])
    assert first["changed"] is True
    assert first["before"]["status"] == "sent"
    assert first["after"]["status"] == "paid"
    assert first["invoice"]["paid_amount"] == 18900
    assert first["invoice"]["balance_due"] == 0
    second = await _reconcile(client, world, bill["id"])
    assert second["changed"] is False
    assert second["before"] == second["after"]
    assert second["invoice"]["version"] == first["invoice"]["version"]
    entries = await audits(db, world, "invoice.reconciled")
    assert [e.after["changed"] for e in entries] == [True, False]
    assert entries[0].before["status"] == "sent"
    assert entries[0].after["status"] == "paid"
    assert len(await outbox(db, "invoice.reconciled")) == 1
    empty = await client.get("/api/v1/invoices/mismatches", headers=world.finance)
    assert empty.json()["items"] == []


async def test_refunds_and_the_due_date_decide_partial_sent_and_overdue(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    await order(client, db, world, "Asha", [("salad", 1, ())])
    bill = await staff_bill(client, world)
    payment = await _pay(db, world, bill["id"], 10000)
    assert (await _reconcile(client, world, bill["id"]))["after"]["status"] == "partial"
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        uow.session.add(
            Refund(
                tenant_id=world.tenant_id,
                outlet_id=world.outlet_id,
                payment_id=payment,
                invoice_id=bill["id"],
                amount=10000,
                method="cash",
            )
        )
    done = await _reconcile(client, world, bill["id"])
    assert done["after"]["status"] == "sent"
    assert done["invoice"]["refunded_amount"] == 10000
    clock.advance(timedelta(days=2))
    late = await _reconcile(client, world, bill["id"])
    assert late["after"]["status"] == "overdue"
    assert late["changed"] is True


async def test_only_finance_reconciles_and_only_its_own_tenant(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    world: World,
    clock: FrozenClock,
) -> None:
    await order(client, db, world, "Asha", [("salad", 1, ())])
    bill = await staff_bill(client, world)
    waiter = await client.post(
        f"/api/v1/invoices/{bill['id']}/reconcile", headers=world.till.waiter
    )
    assert waiter.status_code == 403
    assert (
        await client.get("/api/v1/invoices/mismatches", headers=world.till.waiter)
    ).status_code == 403
    other = await build_world(db, settings, name="Elsewhere")
    foreign = await client.post(f"/api/v1/invoices/{bill['id']}/reconcile", headers=other.finance)
    assert foreign.status_code == 404
    manager = await client.post(f"/api/v1/invoices/{bill['id']}/reconcile", headers=world.manager)
    assert manager.status_code == 200
    assert manager.json()["changed"] is False
