"""Heartbeats, readiness, the jobs status report, and the embedded worker loop."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.worker import repository, service
from servio.worker.handlers import ClaimedMessage, HandlerContext, HandlerRegistry
from servio.worker.outbox import enqueue
from servio.worker.runner import LOOP_JOB
from servio.worker.scheduler import ScheduledRun, ScheduleRegistry, daily_at
from tests.conftest import problem
from tests.fixtures.auth import make_staff, staff_headers
from tests.fixtures.factories import make_tenant
from tests.worker.helpers import Recorder, make_worker

pytestmark = pytest.mark.backends


async def test_worker_loop_heartbeat_drives_readiness(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    worker = make_worker(
        db, settings, HandlerRegistry(), worker_id="w1", job_heartbeat_ttl_seconds=120
    )
    async with db.unit_of_work(bypass_rls=True) as uow:
        assert await service.jobs_healthy(uow, settings) is False  # never beat

    await worker.run_once()
    await worker.run_once()
    async with db.unit_of_work(bypass_rls=True) as uow:
        beat = await repository.get_heartbeat(uow, LOOP_JOB)
        assert await service.jobs_healthy(uow, settings) is True
    assert beat is not None
    assert (beat.runs_total, beat.worker_id, beat.last_success_at) == (2, "w1", clock.now())

    clock.advance(seconds=121)
    async with db.unit_of_work(bypass_rls=True) as uow:
        assert await service.jobs_healthy(uow, settings) is False


async def test_status_reports_staleness_failures_and_queue_depth(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)
    other, _ = await make_tenant(db, name="Other")
    handlers = HandlerRegistry()
    handlers.register("test.deliver")(Recorder())
    schedules = ScheduleRegistry()

    async def broken(run: ScheduledRun) -> None:
        raise RuntimeError("smtp down")

    schedules.register("test.digest", daily_at("07:00", per_outlet=False))(broken)
    worker = make_worker(db, settings, handlers, worker_id="w1", schedules=schedules)

    async def add(tenant_id: str, key: str, topic: str = "test.deliver") -> None:
        async with db.unit_of_work(tenant_id=tenant_id) as uow:
            await enqueue(uow, tenant_id=tenant_id, topic=topic, payload={}, dedupe_key=key)

    await add(tenant.id, "delivered")
    await worker.run_once()  # delivers, runs the failing digest (07:00 has passed)
    await add(tenant.id, "waiting-1", topic="later")
    clock.advance(seconds=30)
    await add(tenant.id, "waiting-2", topic="later")
    await add(other.id, "not-mine", topic="later")
    clock.advance(seconds=90)

    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        status = await service.jobs_status(uow, settings, tenant_id=tenant.id, registry=schedules)
    jobs = {job.job: job for job in status.jobs}
    assert status.healthy is True
    assert jobs[LOOP_JOB].state == "ok"
    assert jobs[LOOP_JOB].age_seconds == 120
    digest = jobs["test.digest"]
    assert (digest.state, digest.consecutive_failures) == ("failing", 1)
    assert digest.last_error == "RuntimeError: smtp down"
    assert digest.stale_after_seconds == settings.job_heartbeat_ttl_seconds + 86400
    assert status.outbox.scope == "tenant"
    assert status.outbox.depth == {"pending": 2, "processing": 0, "delivered": 1, "dead": 0}
    assert status.outbox.oldest_pending_age_seconds == 120

    clock.advance(seconds=1)  # the loop's beat is now past the 120 s TTL
    async with db.unit_of_work(bypass_rls=True) as uow:
        status = await service.jobs_status(uow, settings, tenant_id=None, registry=schedules)
    jobs = {job.job: job for job in status.jobs}
    assert status.healthy is False
    assert jobs[LOOP_JOB].state == "stale"
    assert jobs["test.digest"].state == "failing"  # a daily job is not stale after 2 min
    assert status.outbox.depth["pending"] == 3


async def test_embedded_loop_delivers_and_stops_gracefully(
    backend: str, db: Database, settings: Settings
) -> None:
    tenant, _ = await make_tenant(db)
    delivered = asyncio.Event()

    async def handle(message: ClaimedMessage, ctx: HandlerContext) -> None:
        delivered.set()

    handlers = HandlerRegistry()
    handlers.register("test.deliver")(handle)
    worker = make_worker(db, settings, handlers, worker_id="w1", worker_poll_interval_secs=0.05)
    await worker.start()
    try:
        async with db.unit_of_work(tenant_id=tenant.id) as uow:
            await enqueue(
                uow, tenant_id=tenant.id, topic="test.deliver", payload={}, dedupe_key="k1"
            )
        await asyncio.wait_for(delivered.wait(), timeout=10)
    finally:
        await worker.stop()
    assert worker._task is None
    async with db.unit_of_work(bypass_rls=True) as uow:
        depth = await repository.outbox_depth(uow, tenant_id=tenant.id)
    assert depth == {"delivered": 1}


async def test_jobs_status_endpoint_needs_jobs_read(
    backend: str, db: Database, settings: Settings, clock: FrozenClock, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"], settings=settings)
    cashier = await make_staff(db, tenant, outlet, roles=["cashier"], settings=settings)
    worker = make_worker(db, settings, HandlerRegistry(), worker_id="w1")
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        await enqueue(uow, tenant_id=tenant.id, topic="later", payload={}, dedupe_key="k1")
    await worker.run_once()
    clock.advance(seconds=10)

    anonymous = await client.get("/api/v1/admin/jobs/status")
    assert anonymous.status_code == 401
    assert problem(anonymous)["code"] == "UNAUTHORIZED"
    forbidden = await client.get(
        "/api/v1/admin/jobs/status", headers=await staff_headers(db, cashier, settings=settings)
    )
    assert forbidden.status_code == 403
    assert problem(forbidden)["code"] == "FORBIDDEN"

    reply = await client.get(
        "/api/v1/admin/jobs/status", headers=await staff_headers(db, owner, settings=settings)
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["healthy"] is True
    assert body["checked_at"] == "2026-11-22T07:30:10Z"
    [loop] = [job for job in body["jobs"] if job["job"] == LOOP_JOB]
    assert (loop["state"], loop["age_seconds"], loop["last_beat_at"]) == (
        "ok",
        10,
        "2026-11-22T07:30:00Z",
    )
    assert body["outbox"] == {
        "scope": "tenant",
        "oldest_pending_age_seconds": 10.0,
        "depth": {"pending": 1, "processing": 0, "delivered": 0, "dead": 0},
    }
