"""An issued invoice never changes (BILL-05): every API write path is refused with 409
INVOICE_IMMUTABLE and a hint, and on PostgreSQL the database itself refuses an UPDATE of a
snapshot column or a DELETE while settlement columns may move."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from tests.billing.invoice_world import World, build_world, invoice_row, order, staff_bill
from tests.conftest import problem

pytestmark = pytest.mark.backends


@pytest.fixture
async def world(db: Database, settings: Settings) -> World:
    return await build_world(db, settings)


async def _bill(client: httpx.AsyncClient, db: Database, world: World) -> dict[str, Any]:
    await order(client, db, world, "Asha", [("salad", 1, ())])
    return await staff_bill(client, world)


async def test_every_api_write_to_an_issued_invoice_is_refused(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    bill = await _bill(client, db, world)
    url = f"/api/v1/invoices/{bill['id']}"
    for reply in (
        await client.patch(url, json={"total": 1}, headers=world.manager),
        await client.patch(url, json={"lines": []}, headers=world.manager),
        await client.delete(url, headers=world.manager),
    ):
        assert reply.status_code == 409
        body = problem(reply)
        assert body["code"] == "INVOICE_IMMUTABLE"
        assert "credit note" in body["hint"]
    # Unknown ids are still 404 first.
    missing = await client.delete("/api/v1/invoices/" + "0" * 26, headers=world.manager)
    assert missing.status_code == 404
    # Re-billing, re-pricing (a menu price change) and splitting never touch the figures.
    await client.post(
        f"/api/v1/invoices/{bill['id']}/split",
        json={"mode": "even", "parts": 2},
        headers=world.manager,
    )
    row = await invoice_row(db, world, bill["id"])
    assert (row.total, row.number, row.lines) == (bill["total"], bill["number"], bill["lines"])


async def test_postgres_refuses_snapshot_updates_and_deletes_but_not_settlement(
    backend: str, client: httpx.AsyncClient, db: Database, world: World, clock: FrozenClock
) -> None:
    if backend != "postgresql":
        pytest.skip("the immutability trigger is PostgreSQL's (migration 0005)")
    bill = await _bill(client, db, world)
    for statement in (
        "UPDATE invoices SET total = total + 1 WHERE id = :id",
        "UPDATE invoices SET tax_lines = '[]' WHERE id = :id",
        "UPDATE invoices SET number = 'X' WHERE id = :id",
        "DELETE FROM invoices WHERE id = :id",
    ):
        with pytest.raises(DBAPIError, match="invoice"):
            async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
                await uow.session.execute(text(statement), {"id": bill["id"]})
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        await uow.session.execute(
            text("UPDATE invoices SET status = 'partial', paid_amount = 100 WHERE id = :id"),
            {"id": bill["id"]},
        )
    row = await invoice_row(db, world, bill["id"])
    assert (row.status, row.paid_amount, row.total) == ("partial", 100, bill["total"])
