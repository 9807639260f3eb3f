"""The KDS over HTTP (KDS-01): an acknowledged order puts one ticket on each station (with
its modifiers, notes and allergen flags, a KOT print job and `ticket_new`); cooks move items
along the item state machine (409 otherwise) and bump tickets; expo picks ready tickets
(`expo.picked` audited); the order and the guest's `order_status` follow the items; another
tenant's tickets are never reachable."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.models import AuditLog, OutboxMessage
from servio.realtime.pubsub import Message, kds_channel, session_channel
from tests.conftest import problem
from tests.kitchen.kds_world import (
    Kitchen,
    build_kitchen,
    lines_by_name,
    ok,
    send_order,
    set_item,
    tickets_of,
)
from tests.ordering.conftest import drain, order_row

pytestmark = pytest.mark.backends

PANEER: tuple[str, int, list[str]] = ("paneer", 2, ["Hot", "Extra cheese"])
LASSI: tuple[str, int, list[str]] = ("lassi", 1, [])
KAJU: tuple[str, int, list[str]] = ("cashew", 1, [])


@pytest.fixture
async def kitchen(db: Database, settings: Settings) -> Kitchen:
    return await build_kitchen(db, settings)


async def outbox(db: Database, tenant_id: str, *, topic: str = "", event: str = "") -> list[Any]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        stmt = select(OutboxMessage).where(OutboxMessage.tenant_id == tenant_id)
        if topic:
            stmt = stmt.where(OutboxMessage.topic == topic)
        if event:
            stmt = stmt.where(OutboxMessage.event == event)
        return list((await uow.session.execute(stmt)).scalars())


async def audit_actions(db: Database, tenant_id: str) -> list[AuditLog]:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        stmt = select(AuditLog).where(AuditLog.tenant_id == tenant_id).order_by(AuditLog.at)
        return list((await uow.session.execute(stmt)).scalars())


def of_type(messages: list[Message], type_: str) -> list[dict[str, Any]]:
    return [m["data"] for m in messages if m["type"] == type_]


async def board(
    client: httpx.AsyncClient, headers: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    body = await ok(client.get("/api/v1/kds/tickets", params=params, headers=headers))
    items: list[dict[str, Any]] = body["items"]
    return items


async def test_an_acknowledged_order_puts_one_ticket_on_each_station(
    backend: str, app: FastAPI, client: httpx.AsyncClient, db: Database, kitchen: Kitchen
) -> None:
    pubsub = app.state.pubsub
    async with (
        pubsub.subscribe(kds_channel(kitchen.outlet_id, "tandoor")) as tandoor,
        pubsub.subscribe(kds_channel(kitchen.outlet_id, "*")) as expo,
    ):
        order_id = await send_order(client, db, kitchen, [PANEER, LASSI, KAJU])
        [new] = of_type(await drain(tandoor), "ticket_new")
        expo_new = of_type(await drain(expo), "ticket_new")
    assert sorted(t["ticket"]["station"] for t in expo_new) == ["bar", "kitchen", "tandoor"]

    [ticket] = await board(client, kitchen.cook, station="tandoor")
    assert new["ticket"] == {**ticket, "age_secs": new["ticket"]["age_secs"]}
    order = await order_row(db, kitchen.tenant_id, order_id)
    assert ticket["order_id"] == order_id
    assert ticket["ticket_no"] == order.ticket_no is not None
    assert ticket["status"] == "queued"
    assert ticket["table"] == "T4"
    assert ticket["source"] == "qr"
    assert ticket["print_state"] == "queued"
    assert ticket["picked_at"] is None
    assert ticket["ready_at"] is None
    [paneer] = ticket["items"]
    assert paneer["name"] == "Paneer Tikka"
    assert paneer["qty"] == 2
    assert [m["name"] for m in paneer["modifiers"]] == ["Hot", "Extra cheese"]
    assert paneer["allergens"] == ["dairy"]
    assert paneer["status"] == "queued"
    assert paneer["started_at"] is None

    # Every station sees only its own lines; the expo board sees them all.
    [kaju_ticket] = await board(client, kitchen.cook, station="kitchen")
    assert [(i["name"], sorted(i["allergens"])) for i in kaju_ticket["items"]] == [
        ("Kaju Masala", ["dairy", "nuts"])
    ]
    assert len(await board(client, kitchen.cook)) == 3
    assert len(await board(client, kitchen.cook, station="*")) == 3
    expo_board = await ok(client.get("/api/v1/kds/expo", headers=kitchen.cook))
    assert len(expo_board["items"]) == 3

    # Lines point at their ticket; one event and one KOT print job per ticket.
    tickets = await tickets_of(db, kitchen.tenant_id, order_id)
    lines = await lines_by_name(db, kitchen.tenant_id, order_id)
    assert lines["Mango Lassi"].ticket_id == tickets["bar"].id
    assert lines["Paneer Tikka"].allergens == ["dairy"]
    created = await outbox(db, kitchen.tenant_id, event="kitchen.ticket_created")
    assert sorted(m.payload["data"]["station"] for m in created) == ["bar", "kitchen", "tandoor"]
    prints = await outbox(db, kitchen.tenant_id, topic="kot.print")
    assert sorted(m.payload["ticket_id"] for m in prints) == sorted(t.id for t in tickets.values())

    stations = await ok(client.get("/api/v1/kds/stations", headers=kitchen.waiter))
    counts = {s["station"]: (s["active"], s["ready"]) for s in stations["items"]}
    assert counts == {"bar": (1, 0), "kitchen": (1, 0), "tandoor": (1, 0)}


async def test_cooks_and_expo_take_an_order_to_served(
    backend: str,
    app: FastAPI,
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    kitchen: Kitchen,
) -> None:
    order_id = await send_order(client, db, kitchen, [PANEER, LASSI])
    lines = await lines_by_name(db, kitchen.tenant_id, order_id)
    tickets = await tickets_of(db, kitchen.tenant_id, order_id)
    paneer = lines["Paneer Tikka"].id
    pubsub = app.state.pubsub
    cook = kitchen.cook

    async with (
        pubsub.subscribe(session_channel(kitchen.table.session_id)) as table,
        pubsub.subscribe(kds_channel(kitchen.outlet_id, "tandoor")) as tandoor,
    ):
        # queued → ready skips a step: 409 with the allowed moves.
        skipped = await set_item(client, cook, paneer, "ready")
        assert skipped.status_code == 409
        body = problem(skipped)
        assert body["code"] == "ILLEGAL_TRANSITION"
        assert body["current_state"] == "queued"
        assert body["allowed"] == ["in_progress", "voided"]

        clock.advance(seconds=60)
        ticket = await ok(set_item(client, cook, paneer, "in_progress"))
        assert ticket["status"] == "in_progress"
        assert ticket["items"][0]["started_at"] is not None
        messages = await drain(tandoor)
        assert of_type(messages, "item_status") == [
            {"item_id": paneer, "ticket_id": tickets["tandoor"].id, "status": "in_progress"}
        ]
        assert of_type(messages, "ticket_updated")[0]["ticket"]["status"] == "in_progress"
        [started] = of_type(await drain(table), "order_status")
        assert started["order_id"] == order_id
        assert started["status"] == "in_progress"
        assert started["eta_secs"] > 0
        assert (await order_row(db, kitchen.tenant_id, order_id)).status == "in_progress"

        # The bar bumps its ticket twice (queued → in_progress → ready); a third bump is 409.
        bar_id = tickets["bar"].id
        assert (await ok(client.post(f"/api/v1/kds/tickets/{bar_id}/bump", headers=cook)))[
            "status"
        ] == "in_progress"
        bumped = await ok(client.post(f"/api/v1/kds/tickets/{bar_id}/bump", headers=cook))
        assert bumped["status"] == "ready"
        assert bumped["ready_at"] is not None
        again = await client.post(f"/api/v1/kds/tickets/{bar_id}/bump", headers=cook)
        assert again.status_code == 409
        assert problem(again)["code"] == "ILLEGAL_TRANSITION"

        # Picking a ticket that is still cooking is refused.
        early = await client.post(f"/api/v1/kds/tickets/{tickets['tandoor'].id}/pick", headers=cook)
        assert early.status_code == 409
        assert problem(early)["current_state"] == "in_progress"

        # Every item ready → the order is ready and its ETA is exactly 0.
        await drain(table)
        await ok(set_item(client, cook, paneer, "ready"))
        [ready] = of_type(await drain(table), "order_status")
        assert ready == {"order_id": order_id, "status": "ready", "eta_secs": 0}
        assert (await order_row(db, kitchen.tenant_id, order_id)).status == "ready"
        ready_tickets = await board(client, cook, state="ready")
        assert [t["station"] for t in ready_tickets] == ["bar", "tandoor"]
        assert await board(client, cook, state="active") == []

        # Expo: `P` picks the oldest ready ticket, then the explicit pick takes the other.
        oldest = await ok(client.post("/api/v1/kds/expo/pick_oldest", headers=cook))
        assert oldest["id"] == ready_tickets[0]["id"]
        assert oldest["status"] == "served"
        assert oldest["picked_at"] is not None
        assert all(item["status"] == "served" for item in oldest["items"])
        assert (await order_row(db, kitchen.tenant_id, order_id)).status == "ready"
        other = ready_tickets[1]["id"]
        picked = await ok(client.post(f"/api/v1/kds/tickets/{other}/pick", headers=cook))
        assert picked["status"] == "served"
        [served] = of_type(await drain(table), "order_status")
        assert served == {"order_id": order_id, "status": "served", "eta_secs": 0}
        twice = await client.post(f"/api/v1/kds/tickets/{other}/pick", headers=cook)
        assert twice.status_code == 409
        none_left = await client.post("/api/v1/kds/expo/pick_oldest", headers=cook)
        assert none_left.status_code == 409
        assert problem(none_left)["code"] == "NOTHING_READY"

    assert (await order_row(db, kitchen.tenant_id, order_id)).status == "served"
    assert len(await board(client, cook, state="all")) == 2
    entries = await audit_actions(db, kitchen.tenant_id)
    picks = [e for e in entries if e.action == "expo.picked"]
    assert sorted(e.subject_id for e in picks) == sorted([oldest["id"], other])
    assert {e.action for e in entries} >= {
        "kds.item_status",
        "kds.ticket_bumped",
        "order.status_changed",
    }
    moves = [
        (e.before or {}).get("status") + "→" + (e.after or {}).get("status", "")
        for e in entries
        if e.action == "order.status_changed"
    ]
    assert moves == ["in_queue→in_progress", "in_progress→ready", "ready→served"]
    events = await outbox(db, kitchen.tenant_id, event="expo.picked")
    assert len(events) == 2
    item_events = await outbox(db, kitchen.tenant_id, event="kitchen.item_status")
    assert len(item_events) == 1 + 2 + 1 + 2  # paneer started, bar twice, paneer ready, 2 served


async def test_recall_void_and_permissions(
    backend: str, client: httpx.AsyncClient, db: Database, kitchen: Kitchen
) -> None:
    order_id = await send_order(client, db, kitchen, [PANEER, KAJU])
    lines = await lines_by_name(db, kitchen.tenant_id, order_id)
    paneer, kaju = lines["Paneer Tikka"].id, lines["Kaju Masala"].id
    cook = kitchen.cook

    # A waiter may look but not cook; a cook may not void (orders.void).
    assert len(await board(client, kitchen.waiter)) == 2
    denied = await set_item(client, kitchen.waiter, paneer, "in_progress")
    assert denied.status_code == 403
    no_void = await set_item(client, cook, kaju, "voided")
    assert no_void.status_code == 403
    assert problem(no_void)["permission"] == "orders.void"

    # Recall: ready → in_progress; recalling a cooking item is 409.
    await ok(set_item(client, cook, paneer, "in_progress"))
    not_ready = await set_item(client, cook, paneer, "recalled")
    assert not_ready.status_code == 409
    await ok(set_item(client, cook, paneer, "ready"))
    recalled = await ok(set_item(client, cook, paneer, "recalled"))
    assert recalled["status"] == "in_progress"
    assert recalled["ready_at"] is None
    assert recalled["items"][0]["status"] == "in_progress"

    # The manager voids the kaju: voided is final, and the order now waits on paneer only.
    voided = await ok(set_item(client, kitchen.owner, kaju, "voided"))
    assert voided["status"] == "voided"
    final = await set_item(client, kitchen.owner, kaju, "in_progress")
    assert final.status_code == 409
    assert problem(final)["allowed"] == []
    await ok(set_item(client, cook, paneer, "ready"))
    assert (await order_row(db, kitchen.tenant_id, order_id)).status == "ready"
    # Serving one item directly also needs kds.pick (the waiter has only kds.read).
    assert (await set_item(client, kitchen.waiter, paneer, "served")).status_code == 403
    served = await ok(set_item(client, cook, paneer, "served"))
    assert served["status"] == "served"
    assert (await order_row(db, kitchen.tenant_id, order_id)).status == "served"
    # Unknown status values are refused by validation.
    assert (await set_item(client, cook, paneer, "cooking")).status_code == 422


async def test_another_tenants_tickets_are_not_found(
    backend: str, db: Database, settings: Settings, client: httpx.AsyncClient, kitchen: Kitchen
) -> None:
    rival = await build_kitchen(db, settings, name="Rival Diner")
    theirs = await send_order(client, db, rival, [LASSI])
    their_ticket = (await tickets_of(db, rival.tenant_id, theirs))["bar"].id
    their_line = (await lines_by_name(db, rival.tenant_id, theirs))["Mango Lassi"].id
    await send_order(client, db, kitchen, [PANEER])

    assert [t["station"] for t in await board(client, kitchen.owner)] == ["tandoor"]
    calls = [
        set_item(client, kitchen.owner, their_line, "in_progress"),
        client.post(f"/api/v1/kds/tickets/{their_ticket}/bump", headers=kitchen.owner),
        client.post(f"/api/v1/kds/tickets/{their_ticket}/pick", headers=kitchen.owner),
    ]
    for reply in await asyncio.gather(*calls):
        assert reply.status_code == 404, reply.text
        assert problem(reply)["code"] == "NOT_FOUND"
    stations = await ok(client.get("/api/v1/kds/stations", headers=kitchen.owner))
    names = {s["station"] for s in stations["items"]}
    assert "bar" in names  # from the menu
    assert {s["station"]: s["active"] for s in stations["items"]}["bar"] == 0
    # Nothing of theirs moved.
    assert (await tickets_of(db, rival.tenant_id, theirs))["bar"].status == "queued"


async def test_kds_needs_a_signed_in_kitchen_role(
    backend: str, client: httpx.AsyncClient, kitchen: Kitchen
) -> None:
    assert (await client.get("/api/v1/kds/tickets")).status_code == 401
    assert (await client.post("/api/v1/kds/expo/pick_oldest")).status_code == 401
    assert (
        await client.post("/api/v1/kds/expo/pick_oldest", headers=kitchen.waiter)
    ).status_code == 403
    bad = await client.get("/api/v1/kds/tickets", params={"state": "cold"}, headers=kitchen.cook)
    assert bad.status_code == 422


async def test_expo_screens_pressing_p_together_never_pick_a_ticket_twice(
    backend: str, client: httpx.AsyncClient, db: Database, kitchen: Kitchen
) -> None:
    order_id = await send_order(client, db, kitchen, [PANEER, LASSI])
    for ticket in (await tickets_of(db, kitchen.tenant_id, order_id)).values():
        for _ in range(2):
            await ok(client.post(f"/api/v1/kds/tickets/{ticket.id}/bump", headers=kitchen.cook))
    replies = await asyncio.gather(
        *(client.post("/api/v1/kds/expo/pick_oldest", headers=kitchen.cook) for _ in range(3))
    )
    picked = [r.json()["id"] for r in replies if r.status_code == 200]
    refused = [problem(r)["code"] for r in replies if r.status_code != 200]
    assert sorted(picked) == sorted(
        t.id for t in (await tickets_of(db, kitchen.tenant_id, order_id)).values()
    )
    assert refused == ["NOTHING_READY"]
    assert (await order_row(db, kitchen.tenant_id, order_id)).status == "served"
    assert len(await outbox(db, kitchen.tenant_id, event="expo.picked")) == 2
