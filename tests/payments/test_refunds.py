"""Refunds (PAY-02): a manager's PIN approval is required and spent, partial refunds never
exceed what was captured, cash leaves the drawer, Stripe refunds go through the provider,
and every refund produces a credit note and an audit entry."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from servio.kit.breaker import reset_store
from servio.kit.db import Database
from servio.models import AuditLog, Invoice
from tests.conftest import problem
from tests.payments.conftest import (
    CASHIER_PIN,
    FakeProvider,
    World,
    approval_token,
    approve,
    enable_gateway,
    invoice_row,
    make_invoice,
    open_drawer,
    outbox_events,
    pay,
    refund,
    stripe_webhook,
)


@pytest.fixture(autouse=True)
def fresh_breakers() -> None:
    reset_store()


async def _card_payment(
    client: httpx.AsyncClient, db: Database, world: World, amount: int = 10000
) -> tuple[Invoice, str]:
    invoice = await make_invoice(db, world, amount)
    response = await pay(client, world, invoice.id, method="card", amount=amount, reference="t")
    assert response.status_code == 201, response.text
    return invoice, response.json()["id"]


@pytest.mark.backends
async def test_a_refund_needs_a_managers_approval(
    backend: str, db: Database, client: httpx.AsyncClient, world: World
) -> None:
    invoice, payment_id = await _card_payment(client, db, world)
    missing = await refund(client, world, payment_id, 2000, approval=None)
    assert missing.status_code == 403
    body = problem(missing)
    assert body["code"] == "APPROVAL_REQUIRED"
    assert body["hint"] == "ask a manager to enter their PIN"

    own_pin = await approve(client, world, pin=CASHIER_PIN)
    assert own_pin.status_code == 403
    assert problem(own_pin)["code"] == "APPROVER_NOT_ALLOWED"

    void_token = await approval_token(client, world, action="void")
    wrong_action = await refund(client, world, payment_id, 2000, approval=void_token)
    assert problem(wrong_action)["code"] == "APPROVAL_INVALID"

    token = await approval_token(client, world)
    ok = await refund(client, world, payment_id, 2000, approval=token)
    assert ok.status_code == 201, ok.text
    reply = ok.json()
    assert reply["approved_by"] == world.ids["manager"]
    assert reply["refunded_by"] == world.ids["cashier"]
    assert reply["payment"]["refunded_amount"] == 2000
    assert reply["credit_note_id"]
    reused = await refund(client, world, payment_id, 1000, approval=token)
    assert problem(reused)["code"] == "APPROVAL_INVALID"

    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        note = await uow.session.get(Invoice, reply["credit_note_id"])
        assert note is not None
        assert (note.kind, note.total, note.original_invoice_id) == (
            "credit_note",
            2000,
            invoice.id,
        )
        entry = (
            await uow.session.execute(select(AuditLog).where(AuditLog.action == "payment.refunded"))
        ).scalar_one()
    assert entry.actor_id == world.ids["cashier"]
    assert entry.after is not None
    assert entry.after["approved_by"] == world.ids["manager"]
    assert entry.after["amount"] == 2000
    row = await invoice_row(db, world, invoice.id)
    assert (row.refunded_amount, row.credited_amount) == (2000, 2000)
    assert len(await outbox_events(db, world, "payment.refunded")) == 1

    listed = await client.get(f"/api/v1/payments/{payment_id}/refunds", headers=world.manager)
    assert [r["amount"] for r in listed.json()["items"]] == [2000]


async def test_partial_refunds_never_exceed_what_was_captured(
    db: Database, client: httpx.AsyncClient, world: World
) -> None:
    _, payment_id = await _card_payment(client, db, world, 5000)
    first = await refund(client, world, payment_id, 3000, await approval_token(client, world))
    assert first.status_code == 201
    token = await approval_token(client, world)
    too_much = await refund(client, world, payment_id, 2001, token)
    assert too_much.status_code == 409
    body = problem(too_much)
    assert body["code"] == "REFUND_EXCEEDS_CAPTURED"
    assert body["refundable"] == 2000
    # The refused refund did not spend the approval: it still approves the rest.
    rest = await refund(client, world, payment_id, 2000, token)
    assert rest.status_code == 201, rest.text
    assert rest.json()["payment"]["refunded_amount"] == 5000
    nothing_left = await refund(client, world, payment_id, 1, await approval_token(client, world))
    assert problem(nothing_left)["code"] == "REFUND_EXCEEDS_CAPTURED"


@pytest.mark.backends
async def test_a_cash_refund_leaves_the_drawer(
    backend: str, db: Database, client: httpx.AsyncClient, world: World
) -> None:
    cash_session = await open_drawer(client, world, opening_float=10000)
    invoice = await make_invoice(db, world, 8000)
    paid = await pay(client, world, invoice.id, method="cash", amount=8000, tendered=10000)
    assert paid.status_code == 201, paid.text
    back = await refund(client, world, paid.json()["id"], 3000, await approval_token(client, world))
    assert back.status_code == 201, back.text
    assert back.json()["cash_session_id"] == cash_session
    drawer = (
        await client.get(f"/api/v1/cash/sessions/{cash_session}", headers=world.cashier)
    ).json()
    assert (drawer["cash_sales"], drawer["cash_refunds"], drawer["expected"]) == (
        8000,
        3000,
        15000,
    )


async def test_a_gateway_refund_goes_through_stripe(
    db: Database, client: httpx.AsyncClient, world: World, provider: FakeProvider
) -> None:
    await enable_gateway(db, world)
    invoice = await make_invoice(db, world, 10000)
    started = (await pay(client, world, invoice.id, method="gateway", amount=10000)).json()
    # Not refundable while pending.
    pending = await refund(client, world, started["id"], 100, await approval_token(client, world))
    assert problem(pending)["code"] == "PAYMENT_NOT_REFUNDABLE"
    hook, headers = stripe_webhook(
        "payment_intent.succeeded",
        payment_id=started["id"],
        intent_id=started["gateway_ref"],
        amount=10000,
    )
    assert (
        await client.post("/api/v1/payments/webhooks/stripe", content=hook, headers=headers)
    ).status_code == 200

    provider.down = True
    down = await refund(client, world, started["id"], 4000, await approval_token(client, world))
    assert down.status_code == 502
    assert (await invoice_row(db, world, invoice.id)).refunded_amount == 0

    provider.down = False
    done = await refund(client, world, started["id"], 4000, await approval_token(client, world))
    assert done.status_code == 201, done.text
    call = provider.calls("/v1/refunds")[-1]
    assert call.form["payment_intent"] == started["gateway_ref"]
    assert call.form["amount"] == "4000"
    assert call.headers["idempotency-key"] == done.json()["id"]
    assert done.json()["gateway_ref"].startswith("re_")
    row = await invoice_row(db, world, invoice.id)
    assert (row.paid_amount, row.refunded_amount, row.status) == (10000, 4000, "paid")
