"""The worker: a loop that delivers due outbox messages and fires due schedules.

Runs embedded in `servio serve` (started by the app's lifespan) or alone as
`servio worker`; any number of workers may run against one PostgreSQL database. One pass
(`run_once`) = claim a batch in a short transaction, run the handlers outside it (each
bounded by the lease), record every outcome in its own transaction, run the pollers
(`worker.pollers`, e.g. the kitchen firing pipeline), fire due schedules, beat the
`worker.loop` heartbeat. Tests call `run_once()` directly and move a FrozenClock.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import structlog

from servio.config import Settings
from servio.kit.clock import utcnow
from servio.kit.db import Database, database_from_settings
from servio.kit.ids import new_id
from servio.ops.metrics import (
    notifications_outbox_delivered_total,
    notifications_outbox_failed_total,
    observe_job_run,
    observe_outbox_depth,
)
from servio.worker import repository
from servio.worker.handlers import (
    ClaimedMessage,
    Deferred,
    HandlerContext,
    HandlerRegistry,
    PermanentFailure,
    handlers,
)
from servio.worker.outbox import retry_delay
from servio.worker.pollers import PollerRegistry, pollers
from servio.worker.scheduler import Scheduler, ScheduleRegistry, discover_tasks

logger = structlog.get_logger("servio.worker")

LOOP_JOB = "worker.loop"
SCHEDULE_TICK_SECS = 5.0  # how often the loop evaluates schedules (periods are minutes+)
STOP_GRACE_SECS = 30.0  # how long stop() lets an in-flight pass finish
LEASE_MARGIN = 0.2  # fraction of the lease kept free between a handler's timeout and expiry
MIN_HANDLER_SECS = 1.0  # below this much lease left, hand the message back instead

# Every status an outbox row can have (models.outbox), for depth reports.
OUTBOX_DEPTH_STATUSES = ("pending", "processing", "delivered", "dead", "discarded")

Outcome = Literal["delivered", "retry", "dead", "released", "deferred", "lost"]


@dataclass
class PassResult:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0  # handed back unstarted: their lease ran short while queued
    deferred: int = 0  # handed back untried (breaker open), no attempt used
    lost: int = 0  # outcomes not recorded because another worker took the row over
    schedules_fired: list[str] = field(default_factory=list)
    polled: dict[str, int] = field(default_factory=dict)  # poller name → items handled


def default_worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{new_id()[-6:]}"


def _describe(exc: BaseException) -> str:
    return (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:2000]


class Worker:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        pubsub: Any = None,
        worker_id: str | None = None,
        handler_registry: HandlerRegistry | None = None,
        schedule_registry: ScheduleRegistry | None = None,
        poller_registry: PollerRegistry | None = None,
    ) -> None:
        if handler_registry is None or schedule_registry is None:
            discover_tasks()  # the global registries are filled by `<context>/tasks.py`
        self.db = db
        self.settings = settings
        self.worker_id = worker_id or default_worker_id()
        self.handlers = handler_registry if handler_registry is not None else handlers
        # Own handler and schedule registries isolate a worker from the discovered tasks
        # (tests); it then runs only the pollers it is given.
        isolated = handler_registry is not None and schedule_registry is not None
        self.pollers = (
            poller_registry
            if poller_registry is not None
            else (PollerRegistry() if isolated else pollers)
        )
        self.scheduler = Scheduler(
            db, settings, worker_id=self.worker_id, registry=schedule_registry, pubsub=pubsub
        )
        self.context = HandlerContext(
            db=db, settings=settings, worker_id=self.worker_id, pubsub=pubsub
        )
        self.concurrency = max(1, min(settings.worker_batch_size, settings.database_pool_size))
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- one pass ---------------------------------------------------------------------------

    async def run_once(self, *, schedules: bool = True) -> PassResult:
        """Deliver one batch of due messages, run the pollers, fire due schedules, beat the
        heartbeat."""
        try:
            result = await self.deliver_due()
            result.polled = await self.run_pollers()
            if schedules:
                result.schedules_fired = await self.scheduler.run_due()
                await self._observe_outbox_depth()
        except Exception as exc:
            with suppress(Exception):  # the database may be the thing that is down
                await self._beat(_describe(exc))
            raise
        await self._beat(None)
        return result

    async def deliver_due(self) -> PassResult:
        now = utcnow()
        lease = timedelta(seconds=self.settings.outbox_lease_secs)
        async with self.db.unit_of_work(bypass_rls=True) as uow:
            buried = await repository.bury_exhausted_leases(
                uow, now=now, max_attempts=self.settings.outbox_max_attempts
            )
            claimed = await repository.claim_due_messages(
                uow,
                now=now,
                worker_id=self.worker_id,
                lease_until=now + lease,
                limit=self.settings.worker_batch_size,
            )
        if buried:
            notifications_outbox_failed_total.labels(topic="lease_expired").inc(buried)
            logger.warning("outbox.lease_expired_dead", count=buried)
        result = PassResult(claimed=len(claimed), dead=buried)
        # Bounded so handlers and result writes do not exhaust the connection pool.
        slots = asyncio.Semaphore(self.concurrency)

        async def deliver(message: ClaimedMessage) -> Outcome:
            async with slots:
                return await self._deliver(message, lease_until=now + lease)

        for outcome in await asyncio.gather(*(deliver(m) for m in claimed)):
            if outcome == "delivered":
                result.delivered += 1
            elif outcome == "retry":
                result.retried += 1
            elif outcome == "dead":
                result.dead += 1
            elif outcome == "released":
                result.released += 1
            elif outcome == "deferred":
                result.deferred += 1
            else:
                result.lost += 1
        return result

    async def run_pollers(self) -> dict[str, int]:
        """Run every registered poller once; a failing one is logged, the rest still run."""
        polled: dict[str, int] = {}
        for registered in self.pollers.all():
            try:
                polled[registered.name] = await registered.run(self.context, utcnow())
            except Exception:
                logger.exception("worker.poller_failed", poller=registered.name)
        return polled

    async def _deliver(self, message: ClaimedMessage, *, lease_until: datetime) -> Outcome:
        # Finish well inside the lease so no other worker reclaims a row still in flight;
        # a message whose turn came too late goes back untouched for the next pass.
        budget = (lease_until - utcnow()).total_seconds() - LEASE_MARGIN * (
            self.settings.outbox_lease_secs
        )
        if budget < MIN_HANDLER_SECS:
            async with self.db.unit_of_work(bypass_rls=True) as uow:
                released = await repository.release_unstarted(
                    uow, message_id=message.id, worker_id=self.worker_id, attempt=message.attempts
                )
            return "released" if released else "lost"
        try:
            error, permanent = await self._run_handler(message, budget_secs=budget)
        except Deferred as deferral:
            return await self._defer(message, deferral)
        finished = utcnow()
        retry_at = None
        if (
            error is not None
            and not permanent
            and (message.attempts < self.settings.outbox_max_attempts)
        ):
            retry_at = finished + retry_delay(message.attempts)
        async with self.db.unit_of_work(bypass_rls=True) as uow:
            if error is None:
                recorded = await repository.mark_delivered(
                    uow,
                    message_id=message.id,
                    worker_id=self.worker_id,
                    attempt=message.attempts,
                    now=finished,
                )
            else:
                recorded = await repository.mark_failed(
                    uow,
                    message_id=message.id,
                    worker_id=self.worker_id,
                    attempt=message.attempts,
                    error=error,
                    retry_at=retry_at,
                )
        log = logger.bind(
            message_id=message.id,
            topic=message.topic,
            attempt=message.attempts,
            tenant_id=message.tenant_id,
        )
        if not recorded:
            log.warning("outbox.outcome_lost", error=error)
            return "lost"
        if error is None:
            notifications_outbox_delivered_total.labels(topic=message.topic).inc()
            return "delivered"
        notifications_outbox_failed_total.labels(topic=message.topic).inc()
        if retry_at is None:
            log.error("outbox.dead", error=error)
            return "dead"
        log.warning("outbox.retry", error=error, retry_at=retry_at.isoformat())
        return "retry"

    async def _defer(self, message: ClaimedMessage, deferral: Deferred) -> Outcome:
        until = utcnow() + timedelta(seconds=max(deferral.retry_after, 0.0))
        async with self.db.unit_of_work(bypass_rls=True) as uow:
            released = await repository.release_unstarted(
                uow,
                message_id=message.id,
                worker_id=self.worker_id,
                attempt=message.attempts,
                until=until,
                reason=_describe(deferral),
            )
        if not released:
            return "lost"
        logger.info(
            "outbox.deferred",
            message_id=message.id,
            topic=message.topic,
            until=until.isoformat(),
            reason=str(deferral),
        )
        return "deferred"

    async def _run_handler(
        self, message: ClaimedMessage, *, budget_secs: float
    ) -> tuple[str | None, bool]:
        """(error, permanent) — error None means delivered. Raises Deferred when the
        handler chose not to try."""
        handler = self.handlers.get(message.topic)
        if handler is None:  # maybe a newer release's topic: retry, then dead-letter
            return f"no handler for topic {message.topic!r}", False
        try:
            await asyncio.wait_for(handler(message, self.context), timeout=budget_secs)
        except PermanentFailure as exc:
            return _describe(exc), True
        except Deferred:
            raise
        except TimeoutError:
            return f"handler timed out after {budget_secs:.1f}s", False
        except Exception as exc:
            return _describe(exc), False
        return None, False

    async def _observe_outbox_depth(self) -> None:
        """The platform's queue for `notifications_outbox_depth`, once per schedule tick
        (every status reported, so a drained queue shows 0 instead of its last value)."""
        async with self.db.unit_of_work(bypass_rls=True) as uow:
            depth = await repository.outbox_depth(uow, tenant_id=None)
        observe_outbox_depth({status: depth.get(status, 0) for status in OUTBOX_DEPTH_STATUSES})

    async def _beat(self, error: str | None) -> None:
        now = utcnow()
        async with self.db.unit_of_work(bypass_rls=True) as uow:
            await repository.record_heartbeat(
                uow, job=LOOP_JOB, now=now, worker_id=self.worker_id, error=error
            )
        observe_job_run(LOOP_JOB, now.timestamp(), error=error)

    # --- the loop ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            return
        self._stopping.clear()
        self._task = asyncio.create_task(self._loop(), name=f"servio-worker-{self.worker_id}")
        logger.info("worker.started", worker_id=self.worker_id)

    async def stop(self) -> None:
        """Let the current pass finish (up to STOP_GRACE_SECS), then end the loop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(task, timeout=STOP_GRACE_SECS)
        except TimeoutError:
            logger.warning("worker.stop_timeout", worker_id=self.worker_id)
        logger.info("worker.stopped", worker_id=self.worker_id)

    async def _loop(self) -> None:
        last_schedule_check = float("-inf")
        failures = 0
        while not self._stopping.is_set():
            busy = False
            tick = time.monotonic()
            check_schedules = tick - last_schedule_check >= SCHEDULE_TICK_SECS
            try:
                result = await self.run_once(schedules=check_schedules)
                if check_schedules:
                    last_schedule_check = tick
                busy = result.claimed >= self.settings.worker_batch_size
                failures = 0
            except Exception:
                failures += 1
                logger.exception(
                    "worker.pass_failed", worker_id=self.worker_id, consecutive_failures=failures
                )
            if busy:  # a full batch: more is probably waiting
                await asyncio.sleep(0)
                continue
            # Back off (up to 30 poll intervals) while the database keeps failing.
            pause = self.settings.worker_poll_interval_secs * min(2**failures, 30)
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=pause)


async def run_worker_forever(settings: Settings) -> None:
    """`servio worker`: run the loop until SIGTERM/SIGINT, then stop gracefully."""
    from servio.kit import breaker
    from servio.kit.logging import configure_logging
    from servio.kit.redis import create_redis
    from servio.realtime.pubsub import create_pubsub

    configure_logging(settings)
    db = database_from_settings(settings)
    redis = create_redis(settings)
    pubsub = create_pubsub(settings, redis)
    breaker.install_store(breaker.create_store(settings, redis))
    await pubsub.start()
    worker = Worker(db, settings, pubsub=pubsub)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Loops without signal support (Windows, or not the main thread) raise here;
        # the worker then stops on cancellation (Ctrl-C / task cancel) instead.
        with suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    await worker.start()
    try:
        await stop.wait()
    finally:
        for installed_sig in installed:
            loop.remove_signal_handler(installed_sig)
        await worker.stop()
        await pubsub.close()
        breaker.reset_store()
        if redis is not None:
            await redis.aclose()
        await db.dispose()
