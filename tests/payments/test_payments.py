"""Taking payments at the till (PAY-01): cash with change into the drawer, card tokens (never
card numbers), UPI with a unique UTR, split tender settling the table, and the refusals."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import select

from servio.kit.db import Database
from servio.models import AuditLog, TableSession
from tests.conftest import problem
from tests.payments.conftest import (
    World,
    audit_actions,
    enable_gateway,
    invoice_row,
    make_invoice,
    open_drawer,
    outbox_events,
    pay,
    payments_of,
    splits_of,
)

TEST_VISA = "4111111111111111"


async def test_cash_with_change_goes_into_the_open_drawer(
    db: Database, client: httpx.AsyncClient, world: World
) -> None:
    invoice = await make_invoice(db, world, 52500)
    closed = await pay(client, world, invoice.id, method="cash", amount=20000)
    assert closed.status_code == 409
    assert problem(closed)["code"] == "CASH_DRAWER_CLOSED"

    cash_session = await open_drawer(client, world)
    response = await pay(client, world, invoice.id, method="cash", amount=20000, tendered=50000)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "succeeded"
    assert body["change_due"] == 30000
    assert body["cash_session_id"] == cash_session
    assert body["invoice"]["status"] == "partial"
    assert body["invoice"]["balance_due"] == 32500

    low = await pay(client, world, invoice.id, method="cash", amount=5000, tendered=4000)
    assert low.status_code == 422
    assert problem(low)["code"] == "TENDERED_TOO_LOW"

    summary = await client.get(f"/api/v1/cash/sessions/{cash_session}", headers=world.cashier)
    assert summary.status_code == 200, summary.text
    assert summary.json()["expected"] == 20000  # the sale, not what was handed over

    assert "payment.recorded" in await audit_actions(db, world)
    recorded = await outbox_events(db, world, "payment.recorded")
    assert [m.payload["data"]["payment_id"] for m in recorded] == [body["id"]]


async def test_card_needs_a_token_and_never_a_card_number(
    db: Database, client: httpx.AsyncClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    invoice = await make_invoice(db, world, 30000)
    missing = await pay(client, world, invoice.id, method="card", amount=30000)
    assert missing.status_code == 422
    assert problem(missing)["code"] == "REFERENCE_REQUIRED"

    spaced = "4111 1111 1111 1111"
    for body in (
        {"method": "card", "amount": 30000, "reference": TEST_VISA},
        {"method": "card", "amount": 30000, "reference": f"tok {spaced}"},
        {"method": "card", "amount": 30000, "reference": "tok_1", "cvv": "123"},
        {"method": "card", "amount": 30000, "reference": "tok_1", "card_number": "x"},
        {
            "method": "upi",
            "amount": 30000,
            "utr": "412345678901",
            "reference": "5555-5555-5555-4444",
        },
    ):
        refused = await pay(client, world, invoice.id, **body)
        assert refused.status_code == 422, body
        reply = problem(refused)
        assert reply["code"] == "CARD_DATA_REFUSED"
        assert TEST_VISA not in refused.text
        assert "4111" not in refused.text
        assert "5555" not in refused.text
    assert await payments_of(db, world) == []
    assert "4111" not in caplog.text
    assert "5555" not in caplog.text
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        entries = (await uow.session.execute(select(AuditLog))).scalars().all()
    assert all("4111" not in str(e.after) for e in entries)

    ok = await pay(client, world, invoice.id, method="card", amount=30000, reference="tok_1QXabc")
    assert ok.status_code == 201, ok.text
    assert ok.json()["reference"] == "tok_1QXabc"
    assert ok.json()["invoice"]["status"] == "paid"


@pytest.mark.backends
async def test_upi_needs_a_12_digit_utr_unique_per_outlet(
    backend: str, db: Database, client: httpx.AsyncClient, world: World
) -> None:
    invoice = await make_invoice(db, world, 30000)
    for utr in (None, "12345", "41234567890A", "4123456789012"):
        body = {"method": "upi", "amount": 1000} | ({"utr": utr} if utr else {})
        bad = await pay(client, world, invoice.id, **body)
        assert bad.status_code == 422, utr
        assert problem(bad)["code"] == "UTR_INVALID"
    first = await pay(client, world, invoice.id, method="upi", amount=1000, utr="412345678901")
    assert first.status_code == 201, first.text
    assert first.json()["utr"] == "412345678901"
    again = await pay(client, world, invoice.id, method="upi", amount=1000, utr="412345678901")
    assert again.status_code == 409
    assert problem(again)["code"] == "UTR_ALREADY_USED"
    # Another invoice of the same outlet: still the same transfer.
    other = await make_invoice(db, world, 5000)
    elsewhere = await pay(client, world, other.id, method="upi", amount=1000, utr="412345678901")
    assert elsewhere.status_code == 409


@pytest.mark.backends
async def test_split_tender_settles_the_invoice_and_the_table(
    backend: str, db: Database, client: httpx.AsyncClient, world: World
) -> None:
    await open_drawer(client, world)
    invoice = await make_invoice(db, world, 10000)
    tenders = [
        {"method": "cash", "amount": 4000},
        {"method": "upi", "amount": 3000, "utr": "512345678901"},
        {"method": "card", "amount": 3000, "reference": "tok_terminal_77"},
    ]
    statuses = []
    for tender in tenders:
        response = await pay(client, world, invoice.id, **tender)
        assert response.status_code == 201, response.text
        statuses.append(response.json()["invoice"]["status"])
    assert statuses == ["partial", "partial", "paid"]
    row = await invoice_row(db, world, invoice.id)
    assert (row.status, row.paid_amount) == ("paid", 10000)
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        session = await uow.session.get(TableSession, world.table.session_id)
        assert session is not None
        assert session.payment_status == "settled"
    listed = await client.get(f"/api/v1/invoices/{invoice.id}/payments", headers=world.cashier)
    assert [p["method"] for p in listed.json()["items"]] == ["cash", "upi", "card"]
    assert sum(p["amount"] for p in listed.json()["items"]) == row.total


async def test_overpaying_is_refused_with_the_balance(
    db: Database, client: httpx.AsyncClient, world: World
) -> None:
    invoice = await make_invoice(db, world, 10000)
    await pay(client, world, invoice.id, method="card", amount=6000, reference="tok_a")
    over = await pay(client, world, invoice.id, method="card", amount=4001, reference="tok_b")
    assert over.status_code == 409
    body = problem(over)
    assert body["code"] == "PAYMENT_EXCEEDS_BALANCE"
    assert body["balance_due"] == 4000
    assert "4000" in body["hint"]
    zero = await pay(client, world, invoice.id, method="card", amount=0, reference="tok_c")
    assert zero.status_code == 422


async def test_a_split_part_is_paid_up_to_its_remainder(
    db: Database, client: httpx.AsyncClient, world: World
) -> None:
    invoice = await make_invoice(db, world, 9000, splits=[6000, 3000])
    parts = await splits_of(db, world, invoice.id)
    over = await pay(
        client, world, invoice.id, method="card", amount=3001, reference="t", split_id=parts[1].id
    )
    assert over.status_code == 409
    assert problem(over)["balance_due"] == 3000
    ok = await pay(
        client, world, invoice.id, method="card", amount=3000, reference="t", split_id=parts[1].id
    )
    assert ok.status_code == 201, ok.text
    assert [p.paid_amount for p in await splits_of(db, world, invoice.id)] == [0, 3000]
    unknown = await pay(
        client,
        world,
        invoice.id,
        method="card",
        amount=100,
        reference="t",
        split_id="01JD0000000000000000000000",
    )
    assert unknown.status_code == 422
    assert problem(unknown)["code"] == "SPLIT_NOT_FOUND"


async def test_a_retried_payment_is_taken_once(
    db: Database, client: httpx.AsyncClient, world: World
) -> None:
    invoice = await make_invoice(db, world, 10000)
    first = await pay(
        client, world, invoice.id, key="pay-1", method="card", amount=5000, reference="t"
    )
    again = await pay(
        client, world, invoice.id, key="pay-1", method="card", amount=5000, reference="t"
    )
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert len(await payments_of(db, world)) == 1
    assert (await invoice_row(db, world, invoice.id)).paid_amount == 5000
    no_key = await client.post(
        f"/api/v1/invoices/{invoice.id}/payments",
        json={"method": "card", "amount": 1, "reference": "t"},
        headers=world.cashier,
    )
    assert problem(no_key)["code"] == "IDEMPOTENCY_KEY_REQUIRED"


async def test_reading_and_listing_payments(
    db: Database, client: httpx.AsyncClient, world: World
) -> None:
    invoice = await make_invoice(db, world, 10000)
    card = await pay(client, world, invoice.id, method="card", amount=5000, reference="t")
    upi = await pay(client, world, invoice.id, method="upi", amount=2000, utr="612345678901")
    one = await client.get(f"/api/v1/payments/{card.json()['id']}", headers=world.cashier)
    assert one.json()["amount"] == 5000
    only_upi = await client.get("/api/v1/payments?method=upi", headers=world.cashier)
    assert [p["id"] for p in only_upi.json()["items"]] == [upi.json()["id"]]
    everything = await client.get("/api/v1/payments", headers=world.manager)
    assert len(everything.json()["items"]) == 2
    future = await client.get(
        "/api/v1/payments", params={"from": "2099-01-01T00:00:00Z"}, headers=world.manager
    )
    assert future.json()["items"] == []


async def test_other_outlets_invoices_and_missing_permissions(
    db: Database, client: httpx.AsyncClient, world: World, settings: object
) -> None:
    from tests.payments.conftest import build_world

    assert isinstance(world, World)
    other = await build_world(db, settings, name="Elsewhere")  # type: ignore[arg-type]
    foreign = await make_invoice(db, other, 5000)
    response = await pay(client, world, foreign.id, method="card", amount=100, reference="t")
    assert response.status_code == 404
    waiter_like = await pay(
        client,
        world,
        (await make_invoice(db, world, 500)).id,
        headers={"Authorization": world.table.headers("Asha")["Authorization"]},
        method="card",
        amount=100,
        reference="t",
    )
    assert waiter_like.status_code == 401


async def test_gateway_payments_need_the_flag(
    db: Database, client: httpx.AsyncClient, world: World
) -> None:
    invoice = await make_invoice(db, world, 10000)
    off = await pay(client, world, invoice.id, method="gateway", amount=10000)
    assert off.status_code == 409
    assert problem(off)["code"] == "GATEWAY_DISABLED"
    await enable_gateway(db, world)
    on = await pay(client, world, invoice.id, method="gateway", amount=10000)
    assert on.status_code == 201, on.text
