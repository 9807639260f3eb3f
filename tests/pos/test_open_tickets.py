"""Open tickets (seed 001): park a cart, list it repriced, edit it with If-Match, resume it,
check it out exactly once (idempotent, and atomic under concurrent checkouts), cancel it;
audited; isolated per tenant."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from servio.config import Settings
from servio.kit.db import Database
from servio.models import AuditLog, MenuItem
from servio.models.open_ticket import OpenTicket
from tests.ordering.conftest import events_named, open_table, orders_of
from tests.pos.conftest import Till, build_till, keyed

pytestmark = pytest.mark.backends

URL = "/api/v1/open_tickets"


async def _park(
    client: httpx.AsyncClient, till: Till, *lines: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    reply = await client.post(
        URL, json={"name": "Bar tab Ravi", "items": list(lines), **extra}, headers=till.cashier
    )
    assert reply.status_code == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def _checkout(
    client: httpx.AsyncClient, till: Till, ticket_id: str, key: str | None = None
) -> httpx.Response:
    return await client.post(f"{URL}/{ticket_id}/checkout", headers=keyed(till.cashier, key))


async def _ticket_row(db: Database, tenant_id: str, ticket_id: str) -> OpenTicket:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        row = await uow.session.get(OpenTicket, ticket_id)
    assert row is not None
    return row


async def test_park_list_edit_resume_checkout(
    backend: str, db: Database, client: httpx.AsyncClient, till: Till
) -> None:
    ticket = await _park(
        client,
        till,
        till.line("paneer", 1, "Mild", unit_price=1, line_total=1),
        till.line("lassi", 2, note="no ice"),
        note="pays at the end",
        subtotal=3,
    )
    assert (ticket["state"], ticket["version"], ticket["table"]) == ("open", 1, None)
    assert ticket["subtotal"] == 28000 + 2 * 12000  # server prices, client figures ignored
    assert [ln["modifier_names"] for ln in ticket["lines"]] == [["Mild"], []]
    assert ticket["orderable"] is True
    assert ticket["opened_by"] == till.user_ids["cashier"]

    # Reads are priced now: a price change shows up at once.
    async with db.unit_of_work(tenant_id=till.tenant_id) as uow:
        await uow.session.execute(
            update(MenuItem).where(MenuItem.id == till.item("lassi")).values(price=15000)
        )
    listed = (await client.get(URL, headers=till.waiter)).json()["items"]
    assert [(t["id"], t["subtotal"]) for t in listed] == [(ticket["id"], 28000 + 30000)]

    edit = await client.patch(
        f"{URL}/{ticket['id']}",
        json={"items": [till.line("salad", 3)], "name": "Ravi"},
        headers={**till.waiter, "If-Match": '"1"'},
    )
    assert edit.status_code == 200, edit.text
    assert (edit.json()["version"], edit.json()["name"], edit.json()["subtotal"]) == (
        2,
        "Ravi",
        54000,
    )
    assert edit.json()["note"] == "pays at the end"  # not sent, not changed
    assert edit.headers["ETag"] == '"2"'
    stale = await client.patch(
        f"{URL}/{ticket['id']}",
        json={"note": "x"},
        headers={**till.cashier, "If-Match": '"1"'},
    )
    assert stale.status_code == 412
    assert stale.json()["code"] == "VERSION_MISMATCH"
    bad_line = await client.patch(
        f"{URL}/{ticket['id']}", json={"items": [till.line("chicken")]}, headers=till.cashier
    )
    assert bad_line.status_code == 422
    assert bad_line.json()["code"] == "ITEM_UNAVAILABLE"

    resumed = await client.post(f"{URL}/{ticket['id']}/resume", headers=till.waiter)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["resumed_by"] == till.user_ids["waiter"]
    assert resumed.json()["resumed_at"] is not None

    done = await _checkout(client, till, ticket["id"], key="checkout-1")
    assert done.status_code == 201, done.text
    order, closed = done.json()["order"], done.json()["open_ticket"]
    assert (order["source"], order["status"], order["subtotal"]) == ("pos", "in_queue", 54000)
    assert [(ln["name"], ln["qty"]) for ln in order["lines"]] == [("Sprout Salad", 3)]
    assert (closed["state"], closed["order_id"]) == ("checked_out", order["order_id"])
    assert closed["checked_out_at"] is not None
    # The sale: the checkout issued the order's invoice in the same transaction.
    invoice = await client.get(
        f"/api/v1/invoices/{done.json()['invoice_id']}", headers=till.cashier
    )
    assert invoice.status_code == 200, invoice.text
    assert invoice.json()["number"] == done.json()["invoice_number"]
    assert (invoice.json()["order_ids"], invoice.json()["subtotal"]) == ([order["order_id"]], 54000)

    replay = await _checkout(client, till, ticket["id"], key="checkout-1")
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["order"]["order_id"] == order["order_id"]
    second = await _checkout(client, till, ticket["id"])
    assert second.status_code == 409
    assert second.json()["code"] == "OPEN_TICKET_CLOSED"
    assert len(await orders_of(db, till.tenant_id)) == 1
    assert (await client.get(URL, headers=till.cashier)).json()["items"] == []

    # A closed ticket cannot change any more.
    for method, path in (
        ("POST", f"{URL}/{ticket['id']}/resume"),
        ("POST", f"{URL}/{ticket['id']}/cancel"),
        ("PATCH", f"{URL}/{ticket['id']}"),
    ):
        refused = await client.request(method, path, json={"note": "x"}, headers=till.cashier)
        assert refused.status_code == 409, (method, path, refused.text)
        assert refused.json()["code"] == "OPEN_TICKET_CLOSED"

    async with db.unit_of_work(tenant_id=till.tenant_id) as uow:
        rows = await uow.session.execute(
            select(AuditLog.action)
            .where(AuditLog.subject_id == ticket["id"])
            .order_by(AuditLog.at, AuditLog.id)
        )
        actions = list(rows.scalars())
    assert actions == [
        "open_ticket.parked",
        "open_ticket.edited",
        "open_ticket.resumed",
        "open_ticket.checked_out",
    ]
    changed = await events_named(db, "open_ticket.changed")
    assert [e.payload["data"]["action"] for e in changed] == [
        "parked",
        "edited",
        "resumed",
        "checked_out",
    ]


async def test_concurrent_checkouts_place_exactly_one_order(
    backend: str, db: Database, client: httpx.AsyncClient, till: Till
) -> None:
    ticket = await _park(client, till, till.line("salad"), till.line("lassi"))
    replies = await asyncio.gather(*(_checkout(client, till, ticket["id"]) for _ in range(6)))
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [201, 409, 409, 409, 409, 409], [r.text for r in replies]
    assert {r.json()["code"] for r in replies if r.status_code == 409} == {"OPEN_TICKET_CLOSED"}
    [order] = await orders_of(db, till.tenant_id)
    [winner] = [r for r in replies if r.status_code == 201]
    assert winner.json()["order"]["order_id"] == order.id
    row = await _ticket_row(db, till.tenant_id, ticket["id"])
    assert (row.state, row.order_id, row.version) == ("checked_out", order.id, 2)


async def test_checkout_that_cannot_order_leaves_the_ticket_open(
    backend: str, db: Database, client: httpx.AsyncClient, till: Till
) -> None:
    ticket = await _park(client, till, till.line("salad"))
    async with db.unit_of_work(tenant_id=till.tenant_id) as uow:
        await uow.session.execute(
            update(MenuItem).where(MenuItem.id == till.item("salad")).values(is_available=False)
        )
    listed = (await client.get(URL, headers=till.cashier)).json()["items"]
    assert listed[0]["orderable"] is False
    assert listed[0]["lines"][0]["is_available"] is False
    refused = await _checkout(client, till, ticket["id"])
    assert refused.status_code == 422
    assert refused.json()["code"] == "ITEM_UNAVAILABLE"
    row = await _ticket_row(db, till.tenant_id, ticket["id"])
    assert (row.state, row.order_id, row.version) == ("open", None, 1)
    assert await orders_of(db, till.tenant_id) == []

    empty = await _park(client, till)
    nothing = await _checkout(client, till, empty["id"])
    assert nothing.status_code == 409
    assert nothing.json()["code"] == "CART_EMPTY"
    missing_key = await client.post(f"{URL}/{ticket['id']}/checkout", headers=till.cashier)
    assert missing_key.status_code == 400


async def test_table_ticket_checks_out_onto_the_live_session(
    backend: str, db: Database, settings: Settings, client: httpx.AsyncClient, till: Till
) -> None:
    ticket = await _park(client, till, till.line("salad"), service_point_id=till.bistro.table.id)
    assert ticket["table"] == "T4"
    table = await open_table(db, settings, till.bistro, ("Asha",))
    done = await _checkout(client, till, ticket["id"])
    assert done.status_code == 201, done.text
    assert done.json()["order"]["session_id"] == table.session_id
    assert done.json()["order"]["service_point_id"] == till.bistro.table.id


async def test_cancel(backend: str, db: Database, client: httpx.AsyncClient, till: Till) -> None:
    ticket = await _park(client, till, till.line("salad"))
    cancelled = await client.post(f"{URL}/{ticket['id']}/cancel", headers=till.waiter)
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
    refused = await _checkout(client, till, ticket["id"])
    assert refused.status_code == 409
    assert await orders_of(db, till.tenant_id) == []
    got = await client.get(f"{URL}/{ticket['id']}", headers=till.cashier)
    assert got.json()["state"] == "cancelled"


async def test_other_tenants_and_roles(
    backend: str, db: Database, settings: Settings, client: httpx.AsyncClient, till: Till
) -> None:
    ticket = await _park(client, till, till.line("salad"))
    other = await build_till(db, settings, name="Other Place")
    for method, path in (
        ("GET", f"{URL}/{ticket['id']}"),
        ("PATCH", f"{URL}/{ticket['id']}"),
        ("POST", f"{URL}/{ticket['id']}/resume"),
        ("POST", f"{URL}/{ticket['id']}/cancel"),
    ):
        reply = await client.request(method, path, json={}, headers=other.cashier)
        assert reply.status_code == 404, (method, path, reply.text)
    foreign = await _checkout(client, other, ticket["id"])
    assert foreign.status_code == 404
    assert (await client.get(URL, headers=other.cashier)).json()["items"] == []
    # A ticket cannot point at another tenant's table or item.
    elsewhere = await client.post(
        URL,
        json={"name": "x", "service_point_id": other.bistro.table.id, "items": []},
        headers=till.cashier,
    )
    assert elsewhere.status_code == 404
    foreign_item = await client.post(
        URL,
        json={"name": "x", "items": [{"menu_item_id": other.item("salad"), "qty": 1}]},
        headers=till.cashier,
    )
    assert foreign_item.status_code == 422

    kitchen = await client.post(URL, json={"name": "x", "items": []}, headers=till.kitchen)
    assert kitchen.status_code == 403
    row = await _ticket_row(db, till.tenant_id, ticket["id"])
    assert (row.state, row.version) == ("open", 1)
