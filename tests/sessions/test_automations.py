"""Seed 004 §6 automations, clock-driven through real workers (no sleeping):
the auto-close watchdog and the nightly purge, each firing once per period across two
workers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.models import AuditLog, CartLine, Order, SessionMember
from servio.platform.repository import SettingRepository
from servio.realtime.pubsub import InProcessPubSub, session_channel, staff_channel
from servio.sessions.repository import SessionRepository
from servio.sessions.tasks import auto_close_idle_sessions, purge_auto_closed_sessions
from servio.worker.handlers import HandlerRegistry
from servio.worker.runner import Worker
from servio.worker.scheduler import ScheduleRegistry, daily_at, discover_tasks, every, schedules
from tests.daily_pass.helpers import open_table, session_row
from tests.fixtures.outlet import OwnedOutlet, owned_outlet_fixture
from tests.worker.helpers import second_database

world = owned_outlet_fixture("world", "Idle Bistro")


def automation_worker(
    db: Database, settings: Settings, worker_id: str, pubsub: InProcessPubSub, *, job: str
) -> Worker:
    registry = ScheduleRegistry()
    if job == "auto_close":
        registry.register("sessions.auto_close", every(minutes=1))(auto_close_idle_sessions)
    else:
        registry.register("sessions.purge", daily_at("03:00", per_outlet=True))(
            purge_auto_closed_sessions
        )
    return Worker(
        db,
        settings,
        worker_id=worker_id,
        pubsub=pubsub,
        handler_registry=HandlerRegistry(),
        schedule_registry=registry,
    )


def test_the_automations_are_wired_into_the_worker() -> None:
    discover_tasks()
    auto_close = schedules.get("sessions.auto_close")
    purge = schedules.get("sessions.purge")
    assert auto_close is not None
    assert auto_close.run is auto_close_idle_sessions
    assert purge is not None
    assert purge.run is purge_auto_closed_sessions


@pytest.mark.backends
async def test_an_idle_table_is_auto_closed_at_ninety_minutes_not_before(
    backend: str, db: Database, settings: Settings, world: OwnedOutlet, clock: FrozenClock
) -> None:
    start = clock.now()
    table = await open_table(db, settings, world)
    busy = await open_table(db, settings, world, last_activity_at=start + timedelta(minutes=30))
    pubsub = InProcessPubSub()
    async with (
        second_database(settings) as other_db,
        pubsub.subscribe(session_channel(table.session_id)) as guests,
        pubsub.subscribe(staff_channel(world.outlet.id)) as staff,
    ):
        first = automation_worker(db, settings, "a", pubsub, job="auto_close")
        second = automation_worker(other_db, settings, "b", pubsub, job="auto_close")

        async def both() -> list[str]:
            a, b = await asyncio.gather(first.run_once(), second.run_once())
            return a.schedules_fired + b.schedules_fired

        clock.set(start + timedelta(minutes=89, seconds=59))
        assert await both() == ["sessions.auto_close|global|2026-11-22T08:59Z"]
        assert (await session_row(db, table.tenant_id, table.session_id)).state == "active"
        assert len(guests) == 0

        clock.set(start + timedelta(minutes=90))
        assert await both() == ["sessions.auto_close|global|2026-11-22T09:00Z"]
        closed = await session_row(db, table.tenant_id, table.session_id)
        assert (closed.state, closed.auto_closed, closed.closed_at) == (
            "closed",
            True,
            start + timedelta(minutes=90),
        )
        assert closed.closed_by is None
        # The table active 30 minutes later keeps going.
        assert (await session_row(db, busy.tenant_id, busy.session_id)).state == "active"

        assert len(guests) == 1  # once, although two workers looked
        message = await guests.get()
        assert message["type"] == "session_closed"
        assert message["data"] == {"session_id": table.session_id, "auto_closed": True}
        staff_message = await staff.get()
        assert staff_message["type"] == "session_closed"
        assert staff_message["data"]["session_id"] == table.session_id
        assert staff_message["data"]["auto_closed"] is True

        assert await both() == []  # same minute: the period is taken

    async with db.unit_of_work(tenant_id=table.tenant_id) as uow:
        audit = (
            await uow.session.execute(
                select(AuditLog).where(AuditLog.subject_id == table.session_id)
            )
        ).scalar_one()
    assert (audit.action, audit.actor_type, audit.actor_id) == (
        "session.closed",
        "system",
        "sessions.auto_close",
    )
    assert audit.after == {"state": "closed", "auto_closed": True}


@pytest.mark.backends
async def test_a_settled_table_closes_after_ten_idle_minutes(
    backend: str, db: Database, settings: Settings, world: OwnedOutlet, clock: FrozenClock
) -> None:
    start = clock.now()
    settled = await open_table(db, settings, world, payment_status="settled")
    unpaid = await open_table(db, settings, world)
    worker = automation_worker(db, settings, "solo", InProcessPubSub(), job="auto_close")

    clock.set(start + timedelta(minutes=9, seconds=59))
    await worker.run_once()
    assert (await session_row(db, settled.tenant_id, settled.session_id)).state == "active"
    clock.set(start + timedelta(minutes=10))
    await worker.run_once()
    row = await session_row(db, settled.tenant_id, settled.session_id)
    assert (row.state, row.auto_closed) == ("closed", True)
    assert (await session_row(db, unpaid.tenant_id, unpaid.session_id)).state == "active"


async def test_the_outlets_idle_setting_and_fresh_activity_are_respected(
    db: Database, settings: Settings, world: OwnedOutlet, clock: FrozenClock
) -> None:
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:
        await SettingRepository(uow.session, world.tenant.id).insert(
            "auto_close_idle_mins", world.outlet.id, 30
        )
    start = clock.now()
    quiet = await open_table(db, settings, world)
    chatty = await open_table(db, settings, world)
    worker = automation_worker(db, settings, "solo", InProcessPubSub(), job="auto_close")

    clock.set(start + timedelta(minutes=20))
    async with db.unit_of_work(tenant_id=world.tenant.id) as uow:  # a guest edits the cart
        assert await SessionRepository(uow.session, world.tenant.id).touch(
            chatty.session_id, clock.now()
        )
    clock.set(start + timedelta(minutes=30))
    await worker.run_once()
    assert (await session_row(db, quiet.tenant_id, quiet.session_id)).state == "closed"
    assert (await session_row(db, chatty.tenant_id, chatty.session_id)).state == "active"
    clock.set(start + timedelta(minutes=50))
    await worker.run_once()
    assert (await session_row(db, chatty.tenant_id, chatty.session_id)).state == "closed"


async def _close(
    db: Database, tenant_id: str, session_id: str, at: datetime, *, auto: bool
) -> None:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        closed = await SessionRepository(uow.session, tenant_id).close(
            session_id, now=at, closed_by=None, auto_closed=auto
        )
    assert closed is not None


@pytest.mark.backends
async def test_the_nightly_purge_forgets_auto_closed_sessions_older_than_a_day(
    backend: str, db: Database, settings: Settings, world: OwnedOutlet, clock: FrozenClock
) -> None:
    assert world.outlet.timezone == "Asia/Kolkata"  # 03:00 there is 21:30 UTC
    tenant_id = world.tenant.id
    old_auto = await open_table(db, settings, world, members=("Asha", "Ravi"), cart_lines=3)
    old_staff = await open_table(db, settings, world, members=("Meera",), cart_lines=1)
    young_auto = await open_table(db, settings, world, members=("Kabir",), cart_lines=1)
    live = await open_table(db, settings, world, members=("Dev",), cart_lines=1)
    await _close(
        db, tenant_id, old_auto.session_id, datetime(2026, 11, 20, 21, 0, tzinfo=UTC), auto=True
    )
    await _close(
        db, tenant_id, old_staff.session_id, datetime(2026, 11, 20, 21, 0, tzinfo=UTC), auto=False
    )
    await _close(
        db, tenant_id, young_auto.session_id, datetime(2026, 11, 21, 0, 0, tzinfo=UTC), auto=True
    )
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        uow.session.add(
            Order(tenant_id=tenant_id, outlet_id=world.outlet.id, session_id=old_auto.session_id)
        )

    pubsub = InProcessPubSub()
    async with second_database(settings) as other_db:
        first = automation_worker(db, settings, "a", pubsub, job="purge")
        second = automation_worker(other_db, settings, "b", pubsub, job="purge")

        async def both() -> list[str]:
            a, b = await asyncio.gather(first.run_once(), second.run_once())
            return a.schedules_fired + b.schedules_fired

        clock.set(datetime(2026, 11, 21, 21, 29, 59, tzinfo=UTC))  # 02:59:59 in Kolkata
        assert await both() == []
        assert (await session_row(db, tenant_id, old_auto.session_id)).state == "closed"

        clock.set(datetime(2026, 11, 21, 21, 30, tzinfo=UTC))  # 03:00 in Kolkata
        assert await both() == [f"sessions.purge|{world.outlet.id}|2026-11-22"]
        assert await both() == []

    purged = await session_row(db, tenant_id, old_auto.session_id)
    assert (purged.state, purged.purged_at) == ("purged", clock.now())
    assert (await session_row(db, tenant_id, old_staff.session_id)).state == "closed"
    assert (await session_row(db, tenant_id, young_auto.session_id)).state == "closed"
    assert (await session_row(db, tenant_id, live.session_id)).state == "active"

    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        lines = (await uow.session.execute(select(CartLine.session_id))).scalars().all()
        members = (
            await uow.session.execute(select(SessionMember.session_id, SessionMember.nickname))
        ).all()
        orders = (await uow.session.execute(select(Order.session_id))).scalars().all()
    assert old_auto.session_id not in lines
    assert sorted(lines) == sorted([old_staff.session_id, young_auto.session_id, live.session_id])
    nicknames = {(s, n) for s, n in members}
    assert {n for s, n in nicknames if s == old_auto.session_id} == {"Guest"}
    assert (old_staff.session_id, "Meera") in nicknames
    assert (young_auto.session_id, "Kabir") in nicknames
    assert len([s for s, _ in members if s == old_auto.session_id]) == 2
    assert orders == [old_auto.session_id]  # orders stay for billing
