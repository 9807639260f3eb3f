"""Schedules fire once per period across workers, on each outlet's own clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.kit.ids import new_id
from servio.models import IdempotencyKey
from servio.worker import repository
from servio.worker.handlers import HandlerRegistry
from servio.worker.outbox import enqueue
from servio.worker.scheduler import (
    ScheduledRun,
    Scheduler,
    ScheduleRegistry,
    daily_at,
    discover_tasks,
    every,
    schedules,
)
from tests.fixtures.factories import make_tenant
from tests.worker.helpers import Recorder, all_outbox_rows, make_worker, second_database


class Calls:
    def __init__(self) -> None:
        self.runs: list[ScheduledRun] = []

    async def __call__(self, run: ScheduledRun) -> None:
        self.runs.append(run)
        await asyncio.sleep(0)  # let a concurrent scheduler interleave

    def periods(self) -> list[tuple[str, str]]:
        return sorted((run.scope, run.period) for run in self.runs)


@pytest.mark.backends
async def test_every_fires_once_per_period_across_two_schedulers(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    registry, calls = ScheduleRegistry(), Calls()
    registry.register("test.hourly", every(minutes=60))(calls)
    async with second_database(settings) as other_db:
        first = Scheduler(db, settings, worker_id="a", registry=registry)
        second = Scheduler(other_db, settings, worker_id="b", registry=registry)

        async def both() -> list[str]:
            a, b = await asyncio.gather(first.run_due(), second.run_due())
            return a + b

        assert await both() == ["test.hourly|global|2026-11-22T07:00Z"]  # clock: 07:30 UTC
        clock.set(datetime(2026, 11, 22, 7, 59, 59, tzinfo=UTC))
        assert await both() == []
        clock.set(datetime(2026, 11, 22, 8, 0, tzinfo=UTC))
        assert await both() == ["test.hourly|global|2026-11-22T08:00Z"]
        assert await both() == []

    assert calls.periods() == [("global", "2026-11-22T07:00Z"), ("global", "2026-11-22T08:00Z")]
    async with db.unit_of_work(bypass_rls=True) as uow:
        runs = await repository.list_schedule_runs(uow, "test.hourly")
        beat = await repository.get_heartbeat(uow, "test.hourly")
    assert [(r.period, r.status) for r in runs] == [
        ("2026-11-22T07:00Z", "ok"),
        ("2026-11-22T08:00Z", "ok"),
    ]
    assert beat is not None
    assert (beat.runs_total, beat.consecutive_failures) == (2, 0)


@pytest.mark.backends
async def test_daily_at_runs_on_each_outlets_own_clock(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    kolkata_tenant, kolkata = await make_tenant(db, name="Kolkata", timezone="Asia/Kolkata")
    _, london = await make_tenant(db, name="London", timezone="Europe/London")
    registry, calls = ScheduleRegistry(), Calls()
    registry.register("test.daily_pass", daily_at("04:00", per_outlet=True))(calls)
    scheduler = Scheduler(db, settings, worker_id="a", registry=registry)

    # 22:29 UTC = 03:59 in Kolkata (next day) and 22:29 in London.
    clock.set(datetime(2026, 11, 21, 22, 29, tzinfo=UTC))
    await scheduler.run_due()
    assert calls.periods() == [(london.id, "2026-11-21")]  # London's 04:00 already passed

    clock.set(datetime(2026, 11, 21, 22, 30, tzinfo=UTC))  # 04:00 in Kolkata
    await scheduler.run_due()
    assert calls.periods() == [(kolkata.id, "2026-11-22"), (london.id, "2026-11-21")]
    kolkata_run = next(run for run in calls.runs if run.scope == kolkata.id)
    assert (kolkata_run.tenant_id, kolkata_run.outlet_id, kolkata_run.timezone) == (
        kolkata_tenant.id,
        kolkata.id,
        "Asia/Kolkata",
    )

    clock.set(datetime(2026, 11, 22, 3, 59, tzinfo=UTC))
    await scheduler.run_due()
    assert len(calls.runs) == 2
    clock.set(datetime(2026, 11, 22, 4, 0, tzinfo=UTC))  # 04:00 in London
    await scheduler.run_due()
    assert calls.periods() == [
        (kolkata.id, "2026-11-22"),
        (london.id, "2026-11-21"),
        (london.id, "2026-11-22"),
    ]


@pytest.mark.backends
async def test_daily_at_in_utc_fires_once_a_day(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    registry, calls = ScheduleRegistry(), Calls()
    registry.register("test.global_daily", daily_at("08:00", per_outlet=False))(calls)
    scheduler = Scheduler(db, settings, worker_id="a", registry=registry)
    await scheduler.run_due()  # 07:30 UTC
    assert calls.runs == []
    clock.advance(minutes=30)
    await scheduler.run_due()
    clock.advance(hours=12)
    await scheduler.run_due()
    clock.advance(hours=12)
    await scheduler.run_due()
    assert calls.periods() == [("global", "2026-11-22"), ("global", "2026-11-23")]


@pytest.mark.backends
async def test_a_failing_job_is_recorded_and_counted(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    registry = ScheduleRegistry()
    outcomes = [RuntimeError("disk full"), RuntimeError("disk full"), None]

    async def flaky(run: ScheduledRun) -> None:
        error = outcomes.pop(0)
        if error is not None:
            raise error

    registry.register("test.flaky", every(minutes=5))(flaky)
    scheduler = Scheduler(db, settings, worker_id="a", registry=registry)
    for _ in range(2):
        await scheduler.run_due()
        clock.advance(minutes=5)
    async with db.unit_of_work(bypass_rls=True) as uow:
        beat = await repository.get_heartbeat(uow, "test.flaky")
        runs = await repository.list_schedule_runs(uow, "test.flaky")
    assert beat is not None
    assert (beat.consecutive_failures, beat.last_error) == (2, "RuntimeError: disk full")
    assert beat.last_success_at is None
    assert [(r.status, r.error) for r in runs] == [("failed", "RuntimeError: disk full")] * 2

    await scheduler.run_due()
    async with db.unit_of_work(bypass_rls=True) as uow:
        beat = await repository.get_heartbeat(uow, "test.flaky")
    assert beat is not None
    assert (beat.consecutive_failures, beat.runs_total) == (0, 3)
    assert beat.last_success_at == clock.now()


@pytest.mark.backends
async def test_purge_delivered_keeps_a_week_of_history(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)
    handlers = HandlerRegistry()
    handlers.register("test.deliver")(Recorder())
    discover_tasks()
    purge = schedules.get("outbox.purge_delivered")
    assert purge is not None  # declared in servio.worker.tasks
    registry = ScheduleRegistry()
    registry.register(purge.name, purge.cadence)(purge.run)
    worker = make_worker(db, settings, handlers, worker_id="w1", schedules=registry)

    async def enqueue_one(key: str, topic: str = "test.deliver") -> None:
        async with db.unit_of_work(tenant_id=tenant.id) as uow:
            await enqueue(uow, tenant_id=tenant.id, topic=topic, payload={}, dedupe_key=key)

    await enqueue_one("old")
    await enqueue_one("stuck", topic="nobody.listens")
    await worker.run_once(schedules=False)
    clock.advance(days=6)
    await enqueue_one("recent")
    await worker.run_once(schedules=False)
    clock.set(clock.now().replace(hour=3, minute=15) + timedelta(days=2))
    await worker.run_once()

    remaining = {row.dedupe_key: row.status for row in await all_outbox_rows(db)}
    assert remaining == {"recent": "delivered", "stuck": "pending"}  # undelivered stays


@pytest.mark.backends
async def test_idempotency_purge_runs_hourly(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    discover_tasks()
    purge = schedules.get("idempotency.purge")
    assert purge is not None
    registry = ScheduleRegistry()
    registry.register(purge.name, purge.cadence)(purge.run)

    async with db.unit_of_work(bypass_rls=True) as uow:
        for key, expires in (
            ("old", clock.now() - timedelta(minutes=1)),
            ("live", clock.now() + timedelta(hours=1)),
        ):
            uow.session.add(
                IdempotencyKey(
                    tenant_id=None,
                    scope="t|u|POST|/orders",
                    key=key,
                    fingerprint="f" * 64,
                    state="completed",
                    claim_token=new_id(),
                    locked_until=clock.now(),
                    created_at=clock.now(),
                    expires_at=expires,
                )
            )
    fired = await Scheduler(db, settings, worker_id="a", registry=registry).run_due()
    assert fired == ["idempotency.purge|global|2026-11-22T07:00Z"]
    async with db.unit_of_work(bypass_rls=True) as uow:
        keys = (await uow.session.execute(select(IdempotencyKey.key))).scalars().all()
    assert keys == ["live"]
