"""Credit notes and voids: tax lines pro-rated, credit notes summing back to the invoice to
the paisa (property), the approval-gated void making the orders billable again, and
settlement moving the table to `settled` (completing served orders)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from servio.auth.actors import SystemActor
from servio.billing.credit_notes import Figures, credit_figures, sum_figures
from servio.billing.service import issue_credit_note, lock_invoice, record_settlement
from servio.config import Settings
from servio.kit.clock import FrozenClock, utcnow
from servio.kit.db import Database
from servio.kit.errors import ProblemError
from servio.models.order import Order
from servio.models.table_session import TableSession
from servio.sessions.repository import SessionRepository
from tests.billing.invoice_world import (
    World,
    approval,
    audits,
    build_world,
    order,
    outbox,
    set_orders,
    staff_bill,
)
from tests.conftest import problem

# --- pure ------------------------------------------------------------------------------------


@st.composite
def invoices(draw: st.DrawFn) -> Figures:
    goods = draw(st.integers(min_value=100, max_value=2_000_000))
    service = draw(st.integers(min_value=0, max_value=goods // 5))
    rates = draw(
        st.lists(st.sampled_from(["2.5", "6", "9", "14"]), min_size=0, max_size=3, unique=True)
    )
    taxes = []
    for rate in rates:
        amount = draw(st.integers(min_value=0, max_value=goods // 5))
        taxes += [(("CGST", rate, "items"), amount), (("SGST", rate, "items"), amount)]
    tip = draw(st.integers(min_value=0, max_value=50_000))
    round_off = draw(st.integers(min_value=-50, max_value=50))
    taxable = goods + service
    total = taxable + sum(a for _, a in taxes) + tip + round_off
    return Figures(
        subtotal=goods,
        service_charge=service,
        taxable_subtotal=taxable,
        tax_lines=tuple(taxes),
        tip=tip,
        round_off=round_off,
        total=total,
    )


@settings(max_examples=60)
@given(original=invoices(), data=st.data())
def test_credit_notes_sum_back_to_the_invoice(original: Figures, data: st.DataObject) -> None:
    notes: list[Figures] = []
    left = original.total
    while left > 0:
        amount = data.draw(st.integers(min_value=1, max_value=left))
        note = credit_figures(original, notes, amount)
        assert note.total == amount
        assert note.taxable_subtotal + note.tax_total + note.tip + note.round_off == amount
        assert all(a >= 0 for _, a in note.tax_lines) or len(notes) > 0
        notes.append(note)
        left -= amount
    summed = sum_figures(notes)
    assert summed.total == original.total
    assert summed.taxable_subtotal == original.taxable_subtotal
    assert dict(summed.tax_lines) == dict(original.tax_lines)
    assert summed.tip == original.tip
    assert summed.round_off == original.round_off
    with pytest.raises(ProblemError):
        credit_figures(original, notes, 1)


def test_a_half_credit_halves_each_tax_line() -> None:
    original = Figures(
        subtotal=48000,
        taxable_subtotal=48000,
        tax_lines=((("CGST", "2.5", "items"), 1200), (("SGST", "2.5", "items"), 1200)),
        total=50400,
    )
    note = credit_figures(original, [], 25200)
    assert note.tax_line_dicts() == [
        {"name": "CGST", "rate": "2.5", "amount": 600},
        {"name": "SGST", "rate": "2.5", "amount": 600},
    ]
    assert note.taxable_subtotal == 24000


# --- the database ----------------------------------------------------------------------------

pytestmark = pytest.mark.backends


@pytest.fixture
async def world(db: Database, settings: Settings) -> World:
    return await build_world(db, settings)


async def _bill(client: httpx.AsyncClient, db: Database, world: World) -> dict[str, Any]:
    await order(client, db, world, "Asha", [("salad", 2, ())])
    await order(client, db, world, "Ravi", [("lassi", 1, ())])
    return await staff_bill(client, world)


async def test_a_partial_credit_then_the_rest_sum_back_and_void_the_invoice(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    bill = await _bill(client, db, world)
    actor = SystemActor("test", world.tenant_id)
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        invoice = await lock_invoice(uow, world.tenant_id, bill["id"])
        first = await issue_credit_note(
            uow, actor, invoice, amount=10000, reason="cold", now=utcnow()
        )
    assert first.number == "CN-ABC-202611-0001"
    assert first.kind == "credit_note"
    assert first.original_invoice_id == bill["id"]
    assert first.total == 10000
    assert first.tax_total == sum(t["amount"] for t in first.tax_lines)
    shown = (await client.get(f"/api/v1/invoices/{bill['id']}", headers=world.till.cashier)).json()
    assert (shown["status"], shown["credited_amount"], shown["balance_due"]) == (
        "sent",
        10000,
        40400,
    )

    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        invoice = await lock_invoice(uow, world.tenant_id, bill["id"])
        second = await issue_credit_note(
            uow, actor, invoice, amount=40400, reason="rest", now=utcnow()
        )
    for key in ("total", "taxable_subtotal", "tax_total"):
        assert getattr(first, key) + getattr(second, key) == bill[key]
    by_line: dict[str, int] = {}
    for note in (first, second):
        for tax in note.tax_lines:
            by_line[tax["name"]] = by_line.get(tax["name"], 0) + tax["amount"]
    assert by_line == {t["name"]: t["amount"] for t in bill["tax_lines"]}
    shown = (await client.get(f"/api/v1/invoices/{bill['id']}", headers=world.till.cashier)).json()
    assert shown["status"] == "void"
    assert shown["balance_due"] == 0
    listed = await client.get("/api/v1/invoices?kind=credit_note", headers=world.till.cashier)
    assert {i["number"] for i in listed.json()["items"]} == {
        "CN-ABC-202611-0001",
        "CN-ABC-202611-0002",
    }
    assert len(await outbox(db, "credit_note.issued")) == 2


async def test_void_needs_an_approval_and_makes_the_orders_billable_again(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    bill = await _bill(client, db, world)
    url = f"/api/v1/invoices/{bill['id']}/void"
    waiter = await client.post(url, json={"reason": "wrong table"}, headers=world.till.waiter)
    assert waiter.status_code == 403
    missing = await client.post(url, json={"reason": "wrong table"}, headers=world.manager)
    assert missing.status_code == 403
    assert problem(missing)["code"] == "APPROVAL_REQUIRED"

    token = await approval(client, world)
    voided = await client.post(
        url, json={"reason": "wrong table", "approval": token}, headers=world.manager
    )
    assert voided.status_code == 200, voided.text
    assert voided.json()["status"] == "void"
    assert voided.json()["credited_amount"] == bill["total"]
    again = await client.post(
        url, json={"reason": "twice", "approval": token}, headers=world.manager
    )
    assert again.status_code == 409
    assert problem(again)["code"] == "INVOICE_VOID"
    [entry] = await audits(db, world, "invoice.voided")
    assert entry.after["reason"] == "wrong table"

    rebill = await staff_bill(client, world)
    assert rebill["number"] == "INV-ABC-202611-0002"
    assert sorted(rebill["order_ids"]) == sorted(bill["order_ids"])
    [note] = (await client.get("/api/v1/invoices?kind=credit_note", headers=world.manager)).json()[
        "items"
    ]
    assert note["lines"] == bill["lines"]
    assert note["total"] == bill["total"]


async def test_paying_every_bill_settles_the_table_and_completes_served_orders(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    bill = await _bill(client, db, world)
    await set_orders(db, world, bill["order_ids"], status="served")
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        invoice = await lock_invoice(uow, world.tenant_id, bill["id"])
        await record_settlement(uow, invoice, paid_delta=20000, now=utcnow())
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        session = await uow.session.get(TableSession, world.session_id)
        assert session is not None
        assert session.payment_status == "partially_paid"
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        invoice = await lock_invoice(uow, world.tenant_id, bill["id"])
        paid = await record_settlement(uow, invoice, paid_delta=bill["total"] - 20000, now=utcnow())
        assert paid.status == "paid"
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        session = await uow.session.get(TableSession, world.session_id)
        assert session is not None
        assert session.payment_status == "settled"
        statuses = (await uow.session.execute(select(Order.status))).scalars().all()
    assert set(statuses) == {"completed"}
    [settled] = await outbox(db, "session.settled")
    assert settled.payload["data"]["session_id"] == world.session_id
    assert len(await audits(db, world, "order.status_changed")) >= 2
    # A payment on a paid invoice is fine to record (over-payment is change), void refuses.
    token = await approval(client, world)
    refused = await client.post(
        f"/api/v1/invoices/{bill['id']}/void",
        json={"reason": "x" * 5, "approval": token},
        headers=world.manager,
    )
    assert refused.status_code == 409
    assert problem(refused)["code"] == "INVOICE_HAS_PAYMENTS"


async def test_an_order_after_the_table_settled_makes_it_owe_again(
    backend: str, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    bill = await _bill(client, db, world)
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        invoice = await lock_invoice(uow, world.tenant_id, bill["id"])
        await record_settlement(uow, invoice, paid_delta=bill["total"], now=utcnow())
    # Both order paths (guest POST /orders, staff POST /api/v1/orders) record the order
    # on the session through `mark_ordered`.
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        await SessionRepository(uow.session, world.tenant_id).mark_ordered(
            world.session_id, utcnow()
        )
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        session = await uow.session.get(TableSession, world.session_id)
        assert session is not None
        assert session.payment_status == "partially_paid"
