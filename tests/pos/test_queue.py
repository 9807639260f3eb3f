"""The order queue (`GET /api/v1/orders/queue`) and bulk progress
(`POST /api/v1/orders/bulk-progress`, ORD-05)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from servio.config import Settings
from servio.kit.db import Database
from servio.models import AuditLog
from servio.platform.flags import EXTERNAL_POS
from tests.ordering.conftest import order_row, set_flag
from tests.pos.conftest import Till, build_till, keyed

pytestmark = pytest.mark.backends


async def _order(client: httpx.AsyncClient, till: Till, *lines: dict[str, object]) -> str:
    reply = await client.post(
        "/api/v1/orders", json={"items": list(lines)}, headers=keyed(till.cashier)
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["order_id"])


async def _bulk(client: httpx.AsyncClient, till: Till, ids: list[str]) -> dict[str, object]:
    reply = await client.post(
        "/api/v1/orders/bulk-progress", json={"ids": ids}, headers=till.kitchen
    )
    assert reply.status_code == 200, reply.text
    body: dict[str, object] = reply.json()
    return body


async def test_queue_lists_active_orders_oldest_first_with_filters_and_pages(
    backend: str, db: Database, client: httpx.AsyncClient, till: Till
) -> None:
    salad = await _order(client, till, till.line("salad"))
    lassi = await _order(client, till, till.line("lassi", 2))
    both = await _order(client, till, till.line("salad"), till.line("lassi"))

    queue = await client.get("/api/v1/orders/queue", headers=till.kitchen)
    assert queue.status_code == 200, queue.text
    items = queue.json()["items"]
    assert [o["order_id"] for o in items] == [salad, lassi, both]
    assert [o["ticket_no"] for o in items] == ["1", "2", "3"]
    assert items[0]["lines"][0]["name"] == "Sprout Salad"
    assert items[0]["age_secs"] >= 0
    assert items[0]["table"] is None

    bar = (await client.get("/api/v1/orders/queue?station=bar", headers=till.kitchen)).json()
    assert [o["order_id"] for o in bar["items"]] == [lassi, both]
    assert {ln["station"] for o in bar["items"] for ln in o["lines"]} == {"bar"}

    first = (await client.get("/api/v1/orders/queue?limit=2", headers=till.kitchen)).json()
    assert [o["order_id"] for o in first["items"]] == [salad, lassi]
    assert first["next_cursor"]
    rest = await client.get(
        f"/api/v1/orders/queue?limit=2&cursor={first['next_cursor']}", headers=till.kitchen
    )
    assert [o["order_id"] for o in rest.json()["items"]] == [both]
    assert rest.json()["next_cursor"] is None

    await _bulk(client, till, [salad])
    cooking = await client.get("/api/v1/orders/queue?status=in_progress", headers=till.kitchen)
    assert [o["order_id"] for o in cooking.json()["items"]] == [salad]
    bad = await client.get("/api/v1/orders/queue?status=frying", headers=till.kitchen)
    assert bad.status_code == 422

    # Served orders leave the queue.
    for _ in range(2):
        await _bulk(client, till, [salad])
    active = (await client.get("/api/v1/orders/queue", headers=till.kitchen)).json()
    assert [o["order_id"] for o in active["items"]] == [lassi, both]


async def test_bulk_progress_moves_each_one_step_and_reports_the_rest(
    backend: str, db: Database, settings: Settings, client: httpx.AsyncClient, till: Till
) -> None:
    one = await _order(client, till, till.line("salad"))
    two = await _order(client, till, till.line("lassi"))
    other = await build_till(db, settings, name="Other Place")
    foreign = await _order(client, other, other.line("salad"))
    await set_flag(db, till.bistro, EXTERNAL_POS, True)
    waiting = await _order(client, till, till.line("salad"))  # pending: not acknowledged
    assert (await order_row(db, till.tenant_id, waiting)).status == "pending"

    body = await _bulk(client, till, [one, two, foreign, waiting, one.lower()])
    results = {r["order_id"]: r for r in body["results"]}  # type: ignore[attr-defined]
    assert len(results) == 4  # the repeated id is moved once
    assert results[one] == {
        "order_id": one,
        "ok": True,
        "from": "in_queue",
        "to": "in_progress",
        "error": None,
    }
    assert results[two]["ok"] is True
    assert results[foreign]["ok"] is False
    assert results[foreign]["error"]["code"] == "NOT_FOUND"
    assert results[waiting]["error"]["code"] == "ILLEGAL_TRANSITION"
    assert (body["moved"], body["failed"]) == (2, 2)
    assert (await order_row(db, other.tenant_id, foreign)).status == "in_queue"

    for expected in ("ready", "served"):
        step = await _bulk(client, till, [one])
        assert step["results"][0]["to"] == expected  # type: ignore[index]
    stuck = await _bulk(client, till, [one, two])
    by_id = {r["order_id"]: r for r in stuck["results"]}  # type: ignore[attr-defined]
    assert by_id[one]["ok"] is False
    assert by_id[one]["error"]["code"] == "ILLEGAL_TRANSITION"
    assert by_id[two]["to"] == "ready"

    async with db.unit_of_work(tenant_id=till.tenant_id) as uow:
        rows = await uow.session.execute(
            select(AuditLog.action, AuditLog.subject_id, AuditLog.after).order_by(
                AuditLog.at, AuditLog.id
            )
        )
        audited = rows.tuples().all()
    moves = [(s, a["status"]) for act, s, a in audited if act == "order.status_changed"]
    assert moves == [
        (one, "in_progress"),
        (two, "in_progress"),
        (one, "ready"),
        (one, "served"),
        (two, "ready"),
    ]
    bulk = [a for act, _, a in audited if act == "orders.bulk_progressed"]
    assert bulk[0]["moved"] == [one, two]
    assert bulk[0]["failed"] == {foreign: "NOT_FOUND", waiting: "ILLEGAL_TRANSITION"}

    waiter_try = await client.post(
        "/api/v1/orders/bulk-progress", json={"ids": [two]}, headers=till.waiter
    )
    assert waiter_try.status_code == 200  # floor staff progress orders too
    empty = await client.post(
        "/api/v1/orders/bulk-progress", json={"ids": []}, headers=till.kitchen
    )
    assert empty.status_code == 422
