"""The worker's pollers extension: every registered poller runs once per pass, after the
outbox delivery; a failing poller is logged and does not stop the others or the pass."""

from __future__ import annotations

from datetime import datetime

import pytest

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.worker.handlers import HandlerContext, HandlerRegistry
from servio.worker.pollers import PollerRegistry
from servio.worker.runner import Worker
from servio.worker.scheduler import ScheduleRegistry


async def test_each_pass_runs_every_poller_and_survives_a_failing_one(
    db: Database, settings: Settings, clock: FrozenClock
) -> None:
    registry = PollerRegistry()
    seen: list[tuple[str, datetime]] = []

    @registry.register("b.counts")
    async def counts(ctx: HandlerContext, now: datetime) -> int:
        seen.append((ctx.worker_id, now))
        return 3

    @registry.register("a.breaks")
    async def breaks(ctx: HandlerContext, now: datetime) -> int:
        raise RuntimeError("poller bug")

    worker = Worker(
        db,
        settings,
        worker_id="w-1",
        handler_registry=HandlerRegistry(),
        schedule_registry=ScheduleRegistry(),
        poller_registry=registry,
    )
    first = await worker.run_once()
    clock.advance(seconds=1)
    second = await worker.run_once()
    assert first.polled == second.polled == {"b.counts": 3}
    assert [worker_id for worker_id, _ in seen] == ["w-1", "w-1"]
    assert (seen[1][1] - seen[0][1]).total_seconds() == 1  # each pass passes the clock's now

    with pytest.raises(ValueError, match="already registered"):
        registry.register("b.counts")(breaks)


async def test_isolated_workers_run_no_discovered_pollers(db: Database, settings: Settings) -> None:
    worker = Worker(
        db, settings, handler_registry=HandlerRegistry(), schedule_registry=ScheduleRegistry()
    )
    assert (await worker.run_once()).polled == {}
