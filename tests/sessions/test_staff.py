"""The staff side of table sessions: the grid list and detail, isolation between tenants
and outlets, the floor map's live block, and the query budget of the grid."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.models import Outlet
from servio.sessions.schemas import SessionDetailRead, SessionGridList
from tests.conftest import problem
from tests.fixtures.auth import make_staff, staff_headers
from tests.sessions.conftest import (
    Venue,
    add_order,
    add_table,
    bearer,
    joined,
    put_cart,
    scanned,
    seat,
)

pytestmark = pytest.mark.backends


@contextmanager
def count_selects(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def on_execute(*args: Any) -> None:
        statements.append(args[2])

    event.listen(db.engine.sync_engine, "before_cursor_execute", on_execute)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", on_execute)


async def test_the_grid_shows_each_table_with_its_tickets_money_and_firing(
    backend: str,
    clock: FrozenClock,
    client: httpx.AsyncClient,
    venue: Venue,
    db: Database,
    settings: Settings,
) -> None:
    seated = await seat(client, venue)
    await joined(client, seated.guest_token, seated.session_id, "Ravi")
    await add_order(db, venue, seated.session_id, ticket_no="K-1", fired="acked", subtotal=28000)
    await add_order(db, venue, seated.session_id, ticket_no=None, fired="retrying", subtotal=12000)
    await add_order(
        db,
        venue,
        seated.session_id,
        status="cancelled",
        fired="pending",
        subtotal=1,
        ticket_no="K-9",
    )
    _, t5_token = await add_table(db, settings, venue, "T5")
    quiet = await scanned(client, t5_token)

    response = await client.get("/api/v1/sessions", headers=venue.owner)
    assert response.status_code == 200, response.text
    grid = SessionGridList.model_validate(response.json())
    assert grid.next_cursor is None
    busy, empty = grid.items
    assert (busy.session_id, busy.table_label, busy.table_kind, busy.table_state) == (
        seated.session_id,
        "T4",
        "table",
        "open",
    )
    assert (busy.state, busy.payment_status, busy.auto_closed) == ("active", "unpaid", False)
    assert (busy.member_count, busy.order_count) == (2, 2)  # the cancelled order left out
    assert (busy.ticket_nos, busy.fired, busy.subtotal) == (["K-1"], "retrying", 40000)
    assert busy.first_order_at is not None
    assert busy.amber is False
    assert (empty.session_id, empty.table_label, empty.member_count) == (
        quiet["session_id"],
        "T5",
        0,
    )
    assert (empty.fired, empty.subtotal, empty.ticket_nos, empty.first_order_at) == (
        None,
        0,
        [],
        None,
    )

    # Unpaid an hour after the first order: amber on the grid and on the floor map.
    clock.advance(minutes=61)
    owner = await venue.relogin(db, settings)
    grid = SessionGridList.model_validate(
        (await client.get("/api/v1/sessions", headers=owner)).json()
    )
    assert [s.amber for s in grid.items] == [True, False]
    floor = (await client.get("/api/v1/tables/map", headers=owner)).json()["items"]
    live = {p["label"]: p["live"] for p in floor}
    assert (live["T4"]["session_id"], live["T4"]["amber"], live["T4"]["payment_status"]) == (
        seated.session_id,
        True,
        "unpaid",
    )
    assert live["T4"]["session_state"] == "active"
    assert live["T5"]["amber"] is False

    detail = await client.get(f"/api/v1/sessions/{seated.session_id}", headers=owner)
    assert detail.status_code == 200, detail.text
    read = SessionDetailRead.model_validate(detail.json())
    assert [m.nickname for m in read.members] == ["Asha", "Ravi"]
    assert [o.ticket_no for o in read.orders] == ["K-1", None, "K-9"]
    assert read.orders[2].status == "cancelled"


async def test_closed_sessions_of_the_last_day_newest_first(
    backend: str,
    clock: FrozenClock,
    client: httpx.AsyncClient,
    venue: Venue,
    db: Database,
    settings: Settings,
) -> None:
    tokens = [venue.token]
    for label in ("T5", "T6"):
        tokens.append((await add_table(db, settings, venue, label))[1])
    ids = [(await scanned(client, token))["session_id"] for token in tokens]
    for session_id in ids:
        clock.advance(minutes=1)
        owner = await venue.relogin(db, settings)
        assert (
            await client.patch(f"/session/{session_id}/close", headers=owner)
        ).status_code == 200
    live = await scanned(client, venue.token)

    async def listed(state: str) -> list[dict[str, Any]]:
        response = await client.get("/api/v1/sessions", params={"state": state}, headers=owner)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def ids_of(items: list[dict[str, Any]]) -> list[str]:
        return [s["session_id"] for s in items]

    closed = await listed("closed")
    assert ids_of(await listed("active")) == [live["session_id"]]
    assert ids_of(closed) == list(reversed(ids))
    assert ids_of(await listed("all")) == [live["session_id"], *reversed(ids)]
    assert all(s["state"] == "closed" and s["closed_at"] for s in closed)
    assert [s["table_label"] for s in closed] == ["T6", "T5", "T4"]

    # A day after the first close, it has left the "recently closed" column.
    clock.advance(timedelta(hours=24) - timedelta(seconds=90))
    owner = await venue.relogin(db, settings)
    assert ids_of(await listed("closed")) == list(reversed(ids[1:]))
    bad = await client.get("/api/v1/sessions", params={"state": "purged"}, headers=owner)
    assert problem(bad)["code"] == "VALIDATION_ERROR"


async def test_the_grid_costs_a_fixed_number_of_queries(
    backend: str, client: httpx.AsyncClient, venue: Venue, db: Database, settings: Settings
) -> None:
    async def grid_selects() -> int:
        with count_selects(db) as statements:
            response = await client.get("/api/v1/sessions?state=all", headers=venue.owner)
        assert response.status_code == 200
        return len([s for s in statements if s.lstrip().upper().startswith("SELECT")])

    seated = await seat(client, venue)
    await add_order(db, venue, seated.session_id)
    one = await grid_selects()
    for n in range(5):
        _, token = await add_table(db, settings, venue, f"X{n}")
        body = await scanned(client, token)
        member = await joined(client, body["guest_token"], body["session_id"], "Guest")
        await put_cart(client, member["member_token"], body["session_id"], [venue.lassi()])
        await add_order(db, venue, body["session_id"])
    assert await grid_selects() == one


async def test_other_tenants_and_other_outlets_sessions_are_404(
    backend: str, client: httpx.AsyncClient, venue: Venue, rival: Venue, db: Database
) -> None:
    theirs = await seat(client, rival)
    for method, url in [
        ("PATCH", f"/session/{theirs.session_id}/close"),
        ("PATCH", f"/session/{theirs.session_id}/restore"),
        ("GET", f"/api/v1/sessions/{theirs.session_id}"),
    ]:
        response = await client.request(method, url, headers=venue.owner)
        assert response.status_code == 404, (url, response.text)
        assert problem(response)["code"] == "NOT_FOUND"
    assert (await client.get("/api/v1/sessions", headers=venue.owner)).json()["items"] == []

    # A second outlet of the same tenant: its manager cannot close the first one's tables.
    async with db.unit_of_work(tenant_id=venue.tenant_id) as uow:
        other = Outlet(tenant_id=venue.tenant_id, name="Second Outlet")
        uow.session.add(other)
        await uow.session.flush()
    manager = await make_staff(db, venue.bistro.tenant, other, roles=["manager"])
    elsewhere = await staff_headers(db, manager, outlet_id=other.id)
    mine = await seat(client, venue)
    for method, url in [
        ("PATCH", f"/session/{mine.session_id}/close"),
        ("PATCH", f"/session/{mine.session_id}/restore"),
        ("GET", f"/api/v1/sessions/{mine.session_id}"),
    ]:
        response = await client.request(method, url, headers=elsewhere)
        assert response.status_code == 404, (url, response.text)
    assert (await client.get("/api/v1/sessions", headers=elsewhere)).json()["items"] == []
    # … and the session is untouched.
    reread = await client.get(f"/session/{mine.session_id}", headers=bearer(mine.member_token))
    assert reread.status_code == 200
