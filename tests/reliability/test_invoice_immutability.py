"""R6: an issued invoice never changes.

Route census from the OpenAPI document: every write route on one invoice is listed in
`WRITE_ROUTES` (a new one fails the test until it is classified). Against a paid invoice and
a void one, every write route is refused with 409; and whatever any write route answers, the
invoice's snapshot (every column but the settlement ones) stays exactly as issued.

On PostgreSQL the database refuses it too: an `UPDATE` of any invoice column outside the
settlement set, read from the catalog, and a `DELETE`, fail in the trigger.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.models.invoice import Invoice
from tests.billing.invoice_world import (
    MANAGER_PIN,
    World,
    build_world,
    invoice_row,
    keyed,
    order,
    staff_bill,
)
from tests.conftest import problem
from tests.soak import record

pytestmark = pytest.mark.backends

# Columns a payment, refund, credit note or reconcile may move; everything else is the
# snapshot fixed at issue time.
SETTLEMENT = frozenset(
    {"status", "paid_amount", "refunded_amount", "credited_amount", "due_at", "version"}
)
SETTLEMENT_AUTO = frozenset({"updated_at"})

# Every write route on one invoice, with what it does to an issued invoice.
WRITE_ROUTES: dict[tuple[str, str], str] = {
    ("PATCH", "/api/v1/invoices/{invoice_id}"): "refused: INVOICE_IMMUTABLE",
    ("DELETE", "/api/v1/invoices/{invoice_id}"): "refused: INVOICE_IMMUTABLE",
    ("POST", "/api/v1/invoices/{invoice_id}/split"): "settlement: parts of the balance",
    ("POST", "/api/v1/invoices/{invoice_id}/void"): "settlement: a credit note",
    ("POST", "/api/v1/invoices/{invoice_id}/reconcile"): "settlement: recompute figures",
    ("POST", "/api/v1/invoices/{invoice_id}/payments"): "settlement: take a payment",
    ("POST", "/g/{qr_token}/invoices/{invoice_id}/split"): "settlement: guest split",
    ("POST", "/g/{qr_token}/invoices/{invoice_id}/pay"): "settlement: guest pays",
}
WRITES = {"post", "put", "patch", "delete"}
# Fields a client might try to set: they must never reach the row.
TAMPER = {
    "total": 1,
    "subtotal": 1,
    "number": "INV-HACK-0001",
    "lines": [],
    "tax_lines": [],
    "status": "paid",
    "paid_amount": 999_999,
    "tenant_id": "01HACK000000000000000000000",
    "issued_at": "2020-01-01T00:00:00Z",
}


def _snapshot(row: Invoice) -> dict[str, Any]:
    skip = SETTLEMENT | SETTLEMENT_AUTO
    return {c.name: getattr(row, c.key) for c in Invoice.__table__.columns if c.name not in skip}


async def _issued(client: httpx.AsyncClient, db: Database, world: World) -> dict[str, Any]:
    await order(client, db, world, "Asha", [("salad", 1, ()), ("lassi", 2, ())])
    return await staff_bill(client, world)


async def _approval(client: httpx.AsyncClient, world: World, action: str) -> str:
    reply = await client.post(
        "/api/v1/approvals/verify_pin",
        json={"action": action, "pin": MANAGER_PIN},
        headers=world.till.cashier,
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["approval_token"])


async def _attempts(
    client: httpx.AsyncClient, world: World, invoice_id: str, total: int
) -> dict[tuple[str, str], httpx.Response]:
    """Call every write route on the invoice with tampering bodies; the replies by route."""
    staff = world.manager
    guest = {**world.guest("Asha")}
    g = f"/g/{world.qr}/invoices/{invoice_id}"
    s = f"/api/v1/invoices/{invoice_id}"
    return {
        ("PATCH", "/api/v1/invoices/{invoice_id}"): await client.patch(
            s, json=TAMPER, headers=staff
        ),
        ("DELETE", "/api/v1/invoices/{invoice_id}"): await client.delete(s, headers=staff),
        ("POST", "/api/v1/invoices/{invoice_id}/split"): await client.post(
            f"{s}/split", json={"mode": "even", "parts": 2}, headers=staff
        ),
        ("POST", "/api/v1/invoices/{invoice_id}/void"): await client.post(
            f"{s}/void",
            json={"reason": "wrong table", "approval": await _approval(client, world, "void")},
            headers=staff,
        ),
        ("POST", "/api/v1/invoices/{invoice_id}/reconcile"): await client.post(
            f"{s}/reconcile", headers=world.finance
        ),
        ("POST", "/api/v1/invoices/{invoice_id}/payments"): await client.post(
            f"{s}/payments",
            json={"method": "card", "amount": max(total, 1), "reference": "tok_visa"},
            headers=keyed(world.till.cashier),
        ),
        ("POST", "/g/{qr_token}/invoices/{invoice_id}/split"): await client.post(
            f"{g}/split", json={"mode": "even", "parts": 2}, headers=guest
        ),
        ("POST", "/g/{qr_token}/invoices/{invoice_id}/pay"): await client.post(
            f"{g}/pay", json={}, headers=keyed(guest)
        ),
    }


async def test_every_write_route_is_classified(app: FastAPI) -> None:
    """A new write route on an invoice fails here until it says what it does to one."""
    found = {
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        if "{invoice_id}" in path
        for method in item
        if method in WRITES
    }
    assert found == set(WRITE_ROUTES), sorted(found ^ set(WRITE_ROUTES))


async def test_issued_invoice_refuses_every_write_and_keeps_its_snapshot(
    backend: str, client: httpx.AsyncClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    world = await build_world(db, settings)
    bill = await _issued(client, db, world)
    invoice_id, total = bill["id"], bill["total"]
    issued = _snapshot(await invoice_row(db, world, invoice_id))

    # Paid in full: nothing may change it; every write route is 409.
    paid = await client.post(
        f"/api/v1/invoices/{invoice_id}/payments",
        json={"method": "card", "amount": total, "reference": "tok_visa"},
        headers=keyed(world.till.cashier),
    )
    assert paid.status_code == 201, paid.text
    refused = 0
    for route, reply in (await _attempts(client, world, invoice_id, total)).items():
        kind = WRITE_ROUTES[route]
        if route[1].endswith("/reconcile"):  # idempotent: finds nothing to change
            assert reply.status_code == 200, reply.text
            assert reply.json()["changed"] is False
            continue
        assert reply.status_code == 409, (route, reply.status_code, reply.text)
        problem(reply)
        if kind.startswith("refused"):
            assert reply.json()["code"] == "INVOICE_IMMUTABLE"
            assert "credit note" in reply.json()["hint"]
        refused += 1
    row = await invoice_row(db, world, invoice_id)
    assert _snapshot(row) == issued
    assert (row.status, row.paid_amount) == ("paid", total)
    record("R6", backend, write_routes=len(WRITE_ROUTES), refused_when_paid=refused)


async def test_void_invoice_refuses_every_write(
    backend: str, client: httpx.AsyncClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    world = await build_world(db, settings)
    bill = await _issued(client, db, world)
    invoice_id = bill["id"]
    issued = _snapshot(await invoice_row(db, world, invoice_id))
    voided = await client.post(
        f"/api/v1/invoices/{invoice_id}/void",
        json={"reason": "wrong table", "approval": await _approval(client, world, "void")},
        headers=world.manager,
    )
    assert voided.status_code == 200, voided.text
    for route, reply in (await _attempts(client, world, invoice_id, bill["total"])).items():
        if route[1].endswith("/reconcile"):
            assert reply.status_code in (200, 409), reply.text
            if reply.status_code == 200:
                assert reply.json()["changed"] is False
            continue
        assert reply.status_code == 409, (route, reply.status_code, reply.text)
    row = await invoice_row(db, world, invoice_id)
    assert _snapshot(row) == issued
    assert row.status == "void"


async def test_unpaid_invoice_settlement_writes_keep_the_snapshot(
    backend: str, client: httpx.AsyncClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    """Splits, reconcile and partial payments may move settlement columns only; tampering
    fields in their bodies are ignored or refused, never applied."""
    world = await build_world(db, settings)
    bill = await _issued(client, db, world)
    invoice_id = bill["id"]
    issued = _snapshot(await invoice_row(db, world, invoice_id))
    s = f"/api/v1/invoices/{invoice_id}"
    replies = [
        await client.patch(s, json=TAMPER, headers=world.manager),
        await client.delete(s, headers=world.manager),
        await client.put(s, json=TAMPER, headers=world.manager),
        await client.post(f"{s}/split", json={"mode": "even", "parts": 3}, headers=world.manager),
        await client.post(
            f"{s}/split", json={"mode": "even", "parts": 2, **TAMPER}, headers=world.manager
        ),
        await client.post(
            f"{s}/payments",
            json={"method": "card", "amount": 100, "reference": "tok_visa", **TAMPER},
            headers=keyed(world.till.cashier),
        ),
        await client.post(f"{s}/reconcile", headers=world.finance),
    ]
    assert [r.status_code for r in replies[:3]] == [409, 409, 405]
    assert all(r.status_code < 500 for r in replies), [r.text for r in replies]
    row = await invoice_row(db, world, invoice_id)
    assert _snapshot(row) == issued
    assert row.paid_amount in (0, 100)


async def test_postgres_refuses_every_snapshot_column_update(
    backend: str, client: httpx.AsyncClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    if backend != "postgresql":
        pytest.skip("the immutability trigger is PostgreSQL's")
    world = await build_world(db, settings)
    bill = await _issued(client, db, world)
    async with db.engine.connect() as conn:
        columns = (
            await conn.execute(
                text(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = 'invoices'"
                )
            )
        ).all()
    snapshot = [(name, kind) for name, kind in columns if name not in SETTLEMENT | SETTLEMENT_AUTO]
    assert len(snapshot) >= 30

    def changed(name: str, kind: str) -> str:
        if kind in ("integer", "bigint", "numeric"):
            return f"{name} = {name} + 1"
        if kind in ("json", "jsonb"):
            return f"{name} = '[\"tampered\"]'"
        if kind.startswith("timestamp"):
            return f"{name} = {name} - interval '1 day'"
        if kind == "boolean":
            return f"{name} = NOT {name}"
        return f"{name} = CASE WHEN {name} = 'X' THEN 'Y' ELSE 'X' END"

    async def update(name: str, kind: str) -> None:
        async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
            await uow.session.execute(
                text(f"UPDATE invoices SET {changed(name, kind)} WHERE id = :id"),
                {"id": bill["id"]},
            )

    for name, kind in snapshot:
        # The trigger's own message: the row was found and no type or key check refused it.
        with pytest.raises(DBAPIError, match="is issued; correct it with a credit note"):
            await update(name, kind)
    with pytest.raises(DBAPIError, match="cannot be deleted"):
        async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
            await uow.session.execute(
                text("DELETE FROM invoices WHERE id = :id"), {"id": bill["id"]}
            )
    # Settlement still moves.
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        await uow.session.execute(
            text("UPDATE invoices SET status = 'partial', paid_amount = 1 WHERE id = :id"),
            {"id": bill["id"]},
        )
    row = await invoice_row(db, world, bill["id"])
    assert (row.status, row.paid_amount, row.total) == ("partial", 1, bill["total"])
    record("R6", backend, snapshot_columns=len(snapshot), db_refused=len(snapshot))
