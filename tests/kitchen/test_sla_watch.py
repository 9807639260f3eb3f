"""The KDS SLA watcher and breach endpoints (KDS-02, BEY-05), clock-driven through real
workers (no sleeping): an item cooking past `kds_sla_secs` raises level 1 (expo) once however
many workers look, escalates to the manager and the owner later, is resolved when it leaves
`in_progress`; events go through the outbox; a tenant never sees another's items.

Items are written straight into the tables (an order at a table, its station ticket and a
line `in_progress` since `started_at`): these tests are about what the SLA does with them,
not how the kitchen got there."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from servio.config import Settings
from servio.kit.clock import FrozenClock, utcnow
from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.kitchen import sla_service
from servio.kitchen.tasks import sla_watch
from servio.models import AuditLog, KitchenTicket, Order, OrderLine, OutboxMessage, ServicePoint
from servio.models.sla_breach import SlaBreach
from servio.platform.repository import SettingRepository
from servio.realtime.pubsub import InProcessPubSub, Subscription, kds_channel, staff_channel
from servio.worker.handlers import HandlerRegistry
from servio.worker.runner import Worker
from servio.worker.scheduler import ScheduleRegistry, discover_tasks, every, schedules
from tests.conftest import problem
from tests.fixtures.auth import staff_headers
from tests.fixtures.outlet import OwnedOutlet, owned_outlet_fixture
from tests.worker.helpers import second_database

world = owned_outlet_fixture("world", "Slow Tandoor")
rival = owned_outlet_fixture("rival", "Rival Diner")


@dataclass(frozen=True)
class Cooking:
    tenant_id: str
    outlet_id: str
    order_id: str
    line_id: str
    ticket_id: str


async def cooking_line(
    db: Database,
    where: OwnedOutlet,
    *,
    started_at: datetime,
    station: str = "tandoor",
    table: str = "T7",
    name: str = "Paneer Tikka",
) -> Cooking:
    tenant_id, outlet_id = where.tenant.id, where.outlet.id
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        point = (
            await uow.session.execute(
                select(ServicePoint).where(
                    ServicePoint.outlet_id == outlet_id, ServicePoint.label == table
                )
            )
        ).scalar_one_or_none()
        if point is None:
            point = ServicePoint(tenant_id=tenant_id, outlet_id=outlet_id, label=table)
            uow.session.add(point)
            await uow.session.flush()
        order = Order(
            tenant_id=tenant_id,
            outlet_id=outlet_id,
            service_point_id=point.id,
            status="in_progress",
            fired="acked",
            ticket_no="A-17",
            item_count=1,
        )
        uow.session.add(order)
        await uow.session.flush()
        ticket = KitchenTicket(
            tenant_id=tenant_id,
            outlet_id=outlet_id,
            order_id=order.id,
            station=station,
            ticket_no="A-17",
            status="in_progress",
        )
        uow.session.add(ticket)
        await uow.session.flush()
        line = OrderLine(
            tenant_id=tenant_id,
            order_id=order.id,
            menu_item_id=new_id(),
            name=name,
            qty=2,
            station=station,
            status="in_progress",
            ticket_id=ticket.id,
            started_at=started_at,
            status_changed_at=started_at,
        )
        uow.session.add(line)
        await uow.session.flush()
        return Cooking(tenant_id, outlet_id, order.id, line.id, ticket.id)


async def set_status(db: Database, item: Cooking, status: str) -> None:
    async with db.unit_of_work(tenant_id=item.tenant_id) as uow:
        await uow.session.execute(
            update(OrderLine)
            .where(OrderLine.id == item.line_id)
            .values(status=status, status_changed_at=utcnow())
        )


async def set_setting(db: Database, where: OwnedOutlet, key: str, value: int) -> None:
    async with db.unit_of_work(tenant_id=where.tenant.id) as uow:
        await SettingRepository(uow.session, where.tenant.id).insert(key, where.outlet.id, value)


async def breaches(db: Database, tenant_id: str | None = None) -> list[SlaBreach]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        stmt = select(SlaBreach).order_by(SlaBreach.order_line_id, SlaBreach.level)
        if tenant_id is not None:
            stmt = stmt.where(SlaBreach.tenant_id == tenant_id)
        return list((await uow.session.execute(stmt)).scalars())


async def levels(db: Database, item: Cooking) -> list[int]:
    return [r.level for r in await breaches(db) if r.order_line_id == item.line_id]


async def sla_events(db: Database) -> list[OutboxMessage]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        rows = await uow.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.event.in_(["kds.sla_breach", "kds.sla_breach.owner"]))
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        )
        return list(rows.scalars())


def sla_worker(db: Database, settings: Settings, worker_id: str, pubsub: InProcessPubSub) -> Worker:
    registry = ScheduleRegistry()
    registry.register("kds.sla_watch", every(minutes=1))(sla_watch)
    return Worker(
        db,
        settings,
        worker_id=worker_id,
        pubsub=pubsub,
        handler_registry=HandlerRegistry(),
        schedule_registry=registry,
    )


async def drain(subscription: Subscription) -> list[dict[str, Any]]:
    """Every message delivered so far (deliveries happen synchronously on publish)."""
    messages = []
    while len(subscription):
        messages.append(await subscription.get())
    return messages


def test_the_watcher_is_scheduled_every_minute() -> None:
    discover_tasks()
    schedule = schedules.get("kds.sla_watch")
    assert schedule is not None
    assert schedule.run is sla_watch
    assert schedule.cadence == every(minutes=1)


@pytest.mark.backends
async def test_an_item_breaches_once_after_the_sla_then_escalates_to_manager_and_owner(
    backend: str, db: Database, settings: Settings, world: OwnedOutlet, clock: FrozenClock
) -> None:
    start = clock.now()
    item = await cooking_line(db, world, started_at=start)
    calm = await cooking_line(db, world, started_at=start + timedelta(minutes=10), table="T2")
    pubsub = InProcessPubSub()
    outlet = world.outlet.id
    async with (
        second_database(settings) as other_db,
        pubsub.subscribe(kds_channel(outlet, "tandoor")) as station,
        pubsub.subscribe(kds_channel(outlet, "*")) as expo,
        pubsub.subscribe(staff_channel(outlet)) as staff,
    ):
        first = sla_worker(db, settings, "a", pubsub)
        second = sla_worker(other_db, settings, "b", pubsub)

        async def both() -> list[str]:
            a, b = await asyncio.gather(first.run_once(), second.run_once())
            return a.schedules_fired + b.schedules_fired

        clock.set(start + timedelta(seconds=899))
        assert await both() == ["kds.sla_watch|global|2026-11-22T07:44Z"]
        assert await breaches(db) == []
        assert (len(station), len(expo), len(staff)) == (0, 0, 0)

        clock.set(start + timedelta(seconds=901))
        assert await both() == ["kds.sla_watch|global|2026-11-22T07:45Z"]
        rows = await breaches(db)
        assert [(r.order_line_id, r.level, r.overdue_secs, r.station) for r in rows] == [
            (item.line_id, 1, 1, "tandoor")
        ]
        assert rows[0].breached_at == start + timedelta(seconds=901)
        assert rows[0].resolved_at is None

        # The station screen and the expo screen hear it once; level 1 stays in the kitchen.
        [on_station] = await drain(station)
        [on_expo] = await drain(expo)
        assert on_station == on_expo
        assert on_station["type"] == "sla_breach"
        data = on_station["data"]
        assert {k: data[k] for k in ("order_line_id", "ticket_id", "level", "role")} == {
            "order_line_id": item.line_id,
            "ticket_id": item.ticket_id,
            "level": 1,
            "role": "expo",
        }
        assert (data["table"], data["ticket_no"], data["name"], data["qty"]) == (
            "T7",
            "A-17",
            "Paneer Tikka",
            2,
        )
        assert (data["cooking_secs"], data["overdue_secs"], data["sla_secs"]) == (901, 1, 900)
        assert len(staff) == 0

        # Later minutes: nothing new until the manager's threshold (1350 s).
        for at in (961, 1021, 1350):
            clock.set(start + timedelta(seconds=at))
            await both()
        assert [r.level for r in await breaches(db)] == [1]
        assert (len(station), len(expo), len(staff)) == (0, 0, 0)
        assert await levels(db, calm) == []

        clock.set(start + timedelta(seconds=1351 + 60))
        await both()
        assert await levels(db, item) == [1, 2]
        [alert] = await drain(staff)
        assert alert["type"] == "alert"
        assert (alert["data"]["kind"], alert["data"]["level"], alert["data"]["role"]) == (
            "sla_breach",
            2,
            "manager",
        )
        assert [m["data"]["level"] for m in await drain(expo)] == [2]
        await drain(station)

        clock.set(start + timedelta(seconds=1801 + 60))
        await both()
        assert await levels(db, item) == [1, 2, 3]
        assert await levels(db, calm) == [1]  # 1861 - 600 s cooking
        assert [m["data"]["role"] for m in await drain(staff)] == ["owner"]
        clock.set(start + timedelta(seconds=1801 + 120))
        await both()
        assert len(await breaches(db)) == 4
        assert len(staff) == 0

    # Every level is one `kds.sla_breach` event in the outbox; one owner summary.
    events = await sla_events(db)
    [owner_breach] = [r for r in await breaches(db) if r.level == 3]
    assert sorted((e.event, e.dedupe_key) for e in events) == sorted(
        [
            ("kds.sla_breach", f"kds.sla_breach:{item.line_id}:1"),
            ("kds.sla_breach", f"kds.sla_breach:{item.line_id}:2"),
            ("kds.sla_breach", f"kds.sla_breach:{item.line_id}:3"),
            ("kds.sla_breach", f"kds.sla_breach:{calm.line_id}:1"),
            ("kds.sla_breach.owner", f"kds.sla_breach.owner:{outlet}:{owner_breach.id}"),
        ]
    )
    assert all(e.tenant_id == world.tenant.id and e.outlet_id == outlet for e in events)
    first_event = next(
        e.payload for e in events if e.dedupe_key == f"kds.sla_breach:{item.line_id}:1"
    )
    assert first_event["event"] == "kds.sla_breach"
    assert first_event["data"]["order_line_id"] == item.line_id
    [owner_event] = [e for e in events if e.event == "kds.sla_breach.owner"]
    owner = owner_event.payload["data"]
    assert owner["breached_items"] == 2  # the calmer item passed its SLA meanwhile
    assert [i["order_line_id"] for i in owner["items"]] == [item.line_id, calm.line_id]
    assert owner["items"][0]["level"] == 3
    assert [t["table"] for t in owner["tables"]] == ["T7", "T2"]
    assert owner["new_owner_breaches"] == [
        {"breach_id": owner_breach.id, "order_line_id": item.line_id}
    ]
    assert (owner["sla_secs"], owner["owner_alert_secs"]) == (900, 1800)


@pytest.mark.backends
async def test_two_checks_racing_raise_the_level_once(
    backend: str, db: Database, settings: Settings, world: OwnedOutlet, clock: FrozenClock
) -> None:
    start = clock.now()
    item = await cooking_line(db, world, started_at=start)
    clock.set(start + timedelta(seconds=901))
    pubsub = InProcessPubSub()

    async def check(database: Database) -> int:
        async with database.unit_of_work(tenant_id=item.tenant_id) as uow:
            result = await sla_service.check_outlet(
                uow, pubsub, tenant_id=item.tenant_id, outlet_id=item.outlet_id
            )
        return len(result.raised)

    async with (
        second_database(settings) as other_db,
        pubsub.subscribe(kds_channel(item.outlet_id, "*")) as expo,
    ):
        raised = await asyncio.gather(check(db), check(other_db), check(db))
        assert sum(raised) == 1
        assert len(expo) == 1
    assert [(r.order_line_id, r.level) for r in await breaches(db)] == [(item.line_id, 1)]
    assert len(await sla_events(db)) == 1


@pytest.mark.backends
async def test_a_breach_is_resolved_when_the_item_is_ready(
    backend: str,
    db: Database,
    settings: Settings,
    world: OwnedOutlet,
    clock: FrozenClock,
    client: httpx.AsyncClient,
) -> None:
    start = clock.now()
    item = await cooking_line(db, world, started_at=start)
    still = await cooking_line(db, world, started_at=start, table="T9", station="bar")
    pubsub = InProcessPubSub()
    worker = sla_worker(db, settings, "a", pubsub)
    clock.set(start + timedelta(seconds=1000))
    await worker.run_once()
    assert len(await breaches(db)) == 2

    await set_status(db, item, "ready")
    clock.set(start + timedelta(seconds=1060))
    await worker.run_once()
    by_line = {r.order_line_id: r for r in await breaches(db)}
    assert by_line[item.line_id].resolved_at == start + timedelta(seconds=1060)
    assert by_line[still.line_id].resolved_at is None

    # A ready item does not breach again however long it waits.
    clock.set(start + timedelta(seconds=4000))
    await worker.run_once()
    assert {(r.order_line_id, r.level) for r in await breaches(db)} == {
        (item.line_id, 1),
        (still.line_id, 1),
        (still.line_id, 2),
        (still.line_id, 3),
    }

    headers = await staff_headers(db, world.owner, outlet_id=world.outlet.id)
    reply = await client.get("/api/v1/kds/sla/breaches", headers=headers)
    assert reply.status_code == 200, reply.text
    open_rows = reply.json()["items"]
    assert [(b["order_line_id"], b["level"]) for b in open_rows] == [
        (still.line_id, 3),
        (still.line_id, 2),
        (still.line_id, 1),
    ]
    assert open_rows[0]["state"] == "open"
    assert open_rows[0]["role"] == "owner"
    assert open_rows[0]["table"] == "T9"
    assert open_rows[0]["cooking_secs"] == 4000
    reply = await client.get("/api/v1/kds/sla/breaches?state=resolved", headers=headers)
    [resolved] = reply.json()["items"]
    assert (resolved["order_line_id"], resolved["state"], resolved["item_status"]) == (
        item.line_id,
        "resolved",
        "ready",
    )
    assert resolved["cooking_secs"] is None
    reply = await client.get(
        "/api/v1/kds/sla/breaches?state=all&station=bar&level=2", headers=headers
    )
    assert [b["order_line_id"] for b in reply.json()["items"]] == [still.line_id]


@pytest.mark.backends
async def test_outlets_follow_their_own_sla_and_never_see_each_other(
    backend: str,
    db: Database,
    settings: Settings,
    world: OwnedOutlet,
    rival: OwnedOutlet,
    clock: FrozenClock,
    client: httpx.AsyncClient,
) -> None:
    await set_setting(db, rival, "kds_sla_secs", 120)
    await set_setting(db, rival, "kds_sla_owner_alert_secs", 300)
    start = clock.now()
    ours = await cooking_line(db, world, started_at=start)
    theirs = await cooking_line(db, rival, started_at=start)
    pubsub = InProcessPubSub()
    worker = sla_worker(db, settings, "a", pubsub)
    async with (
        pubsub.subscribe(kds_channel(world.outlet.id, "*")) as our_expo,
        pubsub.subscribe(kds_channel(rival.outlet.id, "*")) as their_expo,
    ):
        clock.set(start + timedelta(seconds=121))
        await worker.run_once()
        assert len(our_expo) == 0
        assert len(their_expo) == 1
    assert await breaches(db, world.tenant.id) == []
    [theirs_row] = await breaches(db, rival.tenant.id)
    assert (theirs_row.order_line_id, theirs_row.level) == (theirs.line_id, 1)

    # Manager half-way between 120 and 300 → 210 s; owner at 300 s.
    clock.set(start + timedelta(seconds=211))
    await worker.run_once()
    clock.set(start + timedelta(seconds=301))
    await worker.run_once()
    assert [r.level for r in await breaches(db, rival.tenant.id)] == [1, 2, 3]
    assert await breaches(db, world.tenant.id) == []

    # Neither the list nor the push reaches across tenants.
    ours_headers = await staff_headers(db, world.owner, outlet_id=world.outlet.id)
    reply = await client.get("/api/v1/kds/sla/breaches?state=all", headers=ours_headers)
    assert reply.json()["items"] == []
    reply = await client.post(
        "/api/v1/kds/sla/breach",
        json={
            "window_secs": 600,
            "items": [{"order_line_id": theirs.line_id, "overdue_secs": 999}],
        },
        headers=ours_headers,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["items"] == [
        {
            "order_line_id": theirs.line_id,
            "state": "not_found",
            "cooking_secs": None,
            "overdue_secs": None,
            "levels": [],
            "new_levels": [],
        }
    ]
    reply = await client.post(f"/api/v1/kds/sla/breaches/{theirs_row.id}/ack", headers=ours_headers)
    assert problem(reply)["code"] == "NOT_FOUND"
    assert await breaches(db, world.tenant.id) == []
    assert ours.line_id not in {r.order_line_id for r in await breaches(db)}


@pytest.mark.backends
async def test_the_kds_push_is_checked_against_the_database(
    backend: str,
    db: Database,
    settings: Settings,
    world: OwnedOutlet,
    clock: FrozenClock,
    client: httpx.AsyncClient,
) -> None:
    start = clock.now()
    late = await cooking_line(db, world, started_at=start - timedelta(seconds=950))
    fresh = await cooking_line(db, world, started_at=start - timedelta(seconds=100))
    done = await cooking_line(db, world, started_at=start - timedelta(seconds=2000))
    await set_status(db, done, "ready")
    unknown = new_id()
    kitchen = await world.as_role(db, "kitchen")
    body = {
        "window_secs": 300,
        "items": [
            {"order_line_id": late.line_id, "overdue_secs": 5},
            {"order_line_id": fresh.line_id, "overdue_secs": 99_999},  # the screen is wrong
            {"order_line_id": done.line_id, "overdue_secs": 1_100},
            {"order_line_id": unknown, "overdue_secs": 10},
        ],
    }
    pubsub_events_before = len(await sla_events(db))
    reply = await client.post("/api/v1/kds/sla/breach", json=body, headers=kitchen)
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert (result["window_secs"], result["checked"]) == (300, 3)
    assert result["items"] == [
        {
            "order_line_id": late.line_id,
            "state": "breached",
            "cooking_secs": 950,
            "overdue_secs": 50,
            "levels": [1],
            "new_levels": [1],
        },
        {
            "order_line_id": fresh.line_id,
            "state": "within_sla",
            "cooking_secs": 100,
            "overdue_secs": 0,
            "levels": [],
            "new_levels": [],
        },
        {
            "order_line_id": done.line_id,
            "state": "not_cooking",
            "cooking_secs": None,
            "overdue_secs": None,
            "levels": [],
            "new_levels": [],
        },
        {
            "order_line_id": unknown,
            "state": "not_found",
            "cooking_secs": None,
            "overdue_secs": None,
            "levels": [],
            "new_levels": [],
        },
    ]
    assert [(r.order_line_id, r.level) for r in await breaches(db)] == [(late.line_id, 1)]
    assert len(await sla_events(db)) == pubsub_events_before + 1

    # Pushing again (or the watcher running) raises nothing twice.
    reply = await client.post("/api/v1/kds/sla/breach", json=body, headers=kitchen)
    again = reply.json()["items"][0]
    assert (again["levels"], again["new_levels"]) == ([1], [])
    await sla_worker(db, settings, "a", InProcessPubSub()).run_once()
    assert len(await breaches(db)) == 1
    assert len(await sla_events(db)) == pubsub_events_before + 1

    # Bad bodies and callers.
    bad = await client.post(
        "/api/v1/kds/sla/breach", json={"window_secs": 0, "items": []}, headers=kitchen
    )
    assert problem(bad)["code"] == "VALIDATION_ERROR"
    housekeeping = await world.as_role(db, "housekeeping")
    denied = await client.post("/api/v1/kds/sla/breach", json=body, headers=housekeeping)
    assert problem(denied)["code"] == "FORBIDDEN"
    anonymous = await client.post("/api/v1/kds/sla/breach", json=body)
    assert anonymous.status_code == 401


@pytest.mark.backends
async def test_acknowledging_a_breach_is_audited_once(
    backend: str,
    db: Database,
    settings: Settings,
    world: OwnedOutlet,
    clock: FrozenClock,
    client: httpx.AsyncClient,
) -> None:
    start = clock.now()
    await cooking_line(db, world, started_at=start - timedelta(seconds=1000))
    await sla_worker(db, settings, "a", InProcessPubSub()).run_once()
    [breach] = await breaches(db)
    kitchen = await world.as_role(db, "kitchen")

    reply = await client.post(f"/api/v1/kds/sla/breaches/{breach.id}/ack", headers=kitchen)
    assert reply.status_code == 200, reply.text
    acked = reply.json()
    assert acked["acknowledged_at"] is not None
    assert acked["acknowledged_by"] is not None
    clock.advance(seconds=30)
    again = await client.post(f"/api/v1/kds/sla/breaches/{breach.id}/ack", headers=kitchen)
    assert again.status_code == 200
    assert again.json()["acknowledged_at"] == acked["acknowledged_at"]
    assert again.json()["acknowledged_by"] == acked["acknowledged_by"]

    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        entries = list(
            (
                await uow.session.execute(
                    select(AuditLog).where(AuditLog.action == "kds.sla_breach.acknowledged")
                )
            ).scalars()
        )
    assert [(e.subject_id, e.actor_id) for e in entries] == [(breach.id, acked["acknowledged_by"])]

    missing = await client.post(f"/api/v1/kds/sla/breaches/{new_id()}/ack", headers=kitchen)
    assert problem(missing)["code"] == "NOT_FOUND"
    waiter = await world.as_role(db, "waiter")  # sees tickets, may not act on them
    denied = await client.post(f"/api/v1/kds/sla/breaches/{breach.id}/ack", headers=waiter)
    assert problem(denied)["code"] == "FORBIDDEN"
    listed = await client.get("/api/v1/kds/sla/breaches", headers=waiter)
    assert [b["id"] for b in listed.json()["items"]] == [breach.id]
