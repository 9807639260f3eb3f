"""Heartbeats, readiness, the jobs status report, and the embedded worker loop."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.worker import repository, service
from servio.worker.handlers import (
    ClaimedMessage,
    HandlerContext,
    HandlerRegistry,
    PermanentFailure,
)
from servio.worker.outbox import enqueue
from servio.worker.runner import LOOP_JOB
from servio.worker.scheduler import ScheduledRun, ScheduleRegistry, daily_at, every
from servio.worker.scheduler import schedules as global_schedules
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


# --- NOTIF-05/06: schedules, queues per topic, processed counts, Prometheus -------------------


async def _add(db: Database, tenant_id: str, key: str, topic: str, **kw: Any) -> None:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        await enqueue(uow, tenant_id=tenant_id, topic=topic, payload={}, dedupe_key=key, **kw)


def _fails_permanently() -> Recorder:
    return Recorder(failures=1_000, error=PermanentFailure("receiver answered 410"))


async def test_status_lists_every_schedule_with_its_last_run_or_never_run(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, outlet = await make_tenant(db)
    other, other_outlet = await make_tenant(db, name="Other")
    schedules = ScheduleRegistry()
    calls = {"digest": 0}

    async def broken(run: ScheduledRun) -> None:
        calls["digest"] += 1
        raise RuntimeError(f"smtp down ({calls['digest']})")

    async def fine(run: ScheduledRun) -> None:
        return None

    schedules.register("test.digest", daily_at("07:00", per_outlet=False))(broken)
    schedules.register("test.tick", every(minutes=5))(fine)
    schedules.register("test.local", daily_at("04:00"))(fine)  # 13:00 in Kolkata: due
    schedules.register("test.nightly", daily_at("23:00", per_outlet=False))(fine)
    worker = make_worker(db, settings, HandlerRegistry(), worker_id="w1", schedules=schedules)
    await worker.run_once()
    clock.advance(hours=24)
    await worker.run_once()  # the digest fails again the next day
    clock.advance(seconds=5)

    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        status = await service.jobs_status(uow, settings, tenant_id=tenant.id, registry=schedules)
    by_name = {s.name: s for s in status.schedules}
    assert list(by_name) == ["test.digest", "test.local", "test.nightly", "test.tick"]
    assert {n: (s.cadence, s.interval_seconds, s.state) for n, s in by_name.items()} == {
        "test.digest": ("daily 07:00 UTC", 86400, "failed"),
        "test.local": ("daily 04:00 outlet-local", 86400, "ok"),
        "test.nightly": ("daily 23:00 UTC", 86400, "never_run"),
        "test.tick": ("every 5 min", 300, "ok"),
    }
    assert by_name["test.nightly"].last_run is None
    digest = by_name["test.digest"].last_run
    assert digest is not None
    assert (digest.scope, digest.period, digest.status) == ("global", "2026-11-23", "failed")
    assert digest.error == "RuntimeError: smtp down (2)"
    assert (digest.started_at, digest.worker_id) == (clock.now() - timedelta(seconds=5), "w1")
    assert digest.finished_at is not None
    # A per-outlet run shows the caller's own outlet, never another tenant's.
    local = by_name["test.local"].last_run
    assert local is not None
    assert (local.scope, local.period) == (outlet.id, "2026-11-23")
    assert other_outlet.id != outlet.id

    jobs = {job.job: job for job in status.jobs}
    assert (jobs["test.digest"].consecutive_failures, jobs["test.digest"].runs_total) == (2, 2)
    assert jobs["test.digest"].last_success_at is None
    assert jobs["test.tick"].last_success_at == clock.now() - timedelta(seconds=5)
    assert jobs["test.tick"].consecutive_failures == 0
    assert jobs[LOOP_JOB].runs_total == 2
    assert "test.nightly" not in jobs  # no heartbeat: it never ran; `schedules` says so


async def test_status_reports_queue_depth_per_topic_and_processed_in_24_hours(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)
    other, _ = await make_tenant(db, name="Other")
    handlers = HandlerRegistry()
    handlers.register("test.deliver")(Recorder())
    handlers.register("test.reject")(_fails_permanently())
    worker = make_worker(db, settings, handlers, worker_id="w1")

    await _add(db, tenant.id, "old", "test.deliver")
    await worker.run_once()
    clock.advance(hours=25)  # yesterday's delivery falls out of the window
    for key in ("a", "b"):
        await _add(db, tenant.id, key, "test.deliver")
    await _add(db, tenant.id, "bad", "test.reject")
    await _add(db, other.id, "theirs", "test.reject")
    await worker.run_once()
    await _add(db, tenant.id, "soon", "test.deliver", delay=timedelta(minutes=5))
    clock.advance(seconds=40)

    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        status = await service.jobs_status(uow, settings, tenant_id=tenant.id)
    queues = {q.topic: q for q in status.queues}
    assert list(queues) == ["test.deliver", "test.reject"]
    assert queues["test.deliver"].depth == {
        "pending": 1,
        "processing": 0,
        "delivered": 3,
        "dead": 0,
        "discarded": 0,
    }
    assert queues["test.deliver"].oldest_pending_age_seconds == 40
    assert queues["test.reject"].depth["dead"] == 1  # the other tenant's is not counted
    assert queues["test.reject"].oldest_pending_age_seconds is None
    processed = status.processed
    assert (processed.window_hours, processed.since) == (24, clock.now() - timedelta(hours=24))
    assert [(t.topic, t.delivered, t.dead) for t in processed.by_topic] == [
        ("test.deliver", 2, 0),
        ("test.reject", 0, 1),
    ]
    assert (processed.delivered, processed.dead) == (2, 1)

    async with db.unit_of_work(bypass_rls=True) as uow:
        platform = await service.jobs_status(uow, settings, tenant_id=None)
    assert {(t.topic, t.dead) for t in platform.processed.by_topic} >= {("test.reject", 2)}


async def test_jobs_status_endpoint_lists_the_registered_schedules(
    backend: str, db: Database, settings: Settings, clock: FrozenClock, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"], settings=settings)
    handlers = HandlerRegistry()
    handlers.register("test.deliver")(Recorder())
    await _add(db, tenant.id, "k1", "test.deliver")
    await make_worker(db, settings, handlers, worker_id="w1").run_once()

    reply = await client.get(
        "/api/v1/admin/jobs/status", headers=await staff_headers(db, owner, settings=settings)
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert {"healthy", "checked_at", "heartbeat_ttl_seconds", "jobs", "outbox"} <= body.keys()
    registered = [s.name for s in global_schedules.all()]
    assert registered, "the discovered tasks register schedules"
    assert [s["name"] for s in body["schedules"]] == registered
    assert {s["state"] for s in body["schedules"]} == {"never_run"}
    assert all(s["last_run"] is None for s in body["schedules"])
    assert body["queues"] == [
        {
            "topic": "test.deliver",
            "depth": {"pending": 0, "processing": 0, "delivered": 1, "dead": 0, "discarded": 0},
            "oldest_pending_age_seconds": None,
        }
    ]
    assert body["processed"]["by_topic"] == [{"topic": "test.deliver", "delivered": 1, "dead": 0}]
    assert (body["processed"]["delivered"], body["processed"]["dead"]) == (1, 0)


def _sample(text: str, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"{name}{{{wanted}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return None


async def test_prometheus_shows_job_and_outbox_figures_after_a_worker_pass(
    backend: str, db: Database, settings: Settings, clock: FrozenClock, client: httpx.AsyncClient
) -> None:
    tenant, _ = await make_tenant(db)
    handlers = HandlerRegistry()
    handlers.register("test.deliver")(Recorder())
    handlers.register("test.reject")(_fails_permanently())
    schedules = ScheduleRegistry()

    async def broken(run: ScheduledRun) -> None:
        raise RuntimeError("boom")

    schedules.register("test.metrics_job", every(minutes=5))(broken)
    await _add(db, tenant.id, "ok", "test.deliver")
    await _add(db, tenant.id, "bad", "test.reject")
    await _add(db, tenant.id, "later", "test.deliver", delay=timedelta(hours=1))
    await make_worker(db, settings, handlers, worker_id="w1", schedules=schedules).run_once()

    reply = await client.get("/metrics")
    assert reply.status_code == 200
    text = reply.text
    for name in (
        "job_last_heartbeat_timestamp",
        "job_last_success_timestamp",
        "job_errors_total",
        "notifications_outbox_delivered_total",
        "notifications_outbox_failed_total",
        "notifications_outbox_depth",
    ):
        assert f"# TYPE {name} " in text, name
    now = clock.now().timestamp()
    assert _sample(text, "job_last_heartbeat_timestamp", job=LOOP_JOB) == now
    assert _sample(text, "job_last_success_timestamp", job=LOOP_JOB) == now
    assert _sample(text, "job_last_heartbeat_timestamp", job="test.metrics_job") == now
    assert (_sample(text, "job_errors_total", job="test.metrics_job") or 0) >= 1
    assert (_sample(text, "notifications_outbox_delivered_total", topic="test.deliver") or 0) >= 1
    assert (_sample(text, "notifications_outbox_failed_total", topic="test.reject") or 0) >= 1
    depth = {
        status: _sample(text, "notifications_outbox_depth", status=status)
        for status in ("pending", "processing", "delivered", "dead", "discarded")
    }
    assert depth == {
        "pending": 1.0,
        "processing": 0.0,
        "delivered": 1.0,
        "dead": 1.0,
        "discarded": 0.0,
    }
