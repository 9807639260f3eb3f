"""The firing worker (seed 004 §6 "POS ACK/retry", §8 "POS API lag"): a poller the worker
runs on every pass.

1. Watchdog: a firing still `pending` `WATCHDOG_SECS` after it was created (nobody is
   attempting it) turns `retrying`; the table and staff hear `order_fire_delayed` once.
2. Attempts: due firings (`pending`/`retrying`, `next_attempt_at` passed, lease free) are
   leased with one atomic UPDATE and sent through their adapter, each waiting at most
   `ACK_TIMEOUT_SECS`. A timed-out call keeps running (shielded), so a LATE acknowledgement
   is still recorded; the firing meanwhile goes `retrying` with back-off. Every outcome is
   recorded in its own transaction; recording an ACK is idempotent (the first wins).
   The adapter calls of a batch all run at once (only their database steps are bounded),
   and each records its own outcome as soon as it has one: a slow or dead station or POS
   never holds up the others — a pass takes at most about one ACK timeout.
3. Alert: `fire_alert_after_mins` without an ACK → one staff `alert` (`firing_delayed`) and
   the `order.fire_delayed` event per order.

Firings are never deleted or dropped: they stay `retrying` (capped back-off) until
acknowledged, cancelled or fired manually by staff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import structlog

from servio.kit.db import UnitOfWork
from servio.ordering import firing as fire
from servio.ordering import pos_http as _pos_http  # noqa: F401 - registers `external_pos`
from servio.ordering import service
from servio.ordering.repository import (
    ClaimedFiring,
    claim_due_firings,
    stale_pending_firings,
    unalerted_firings,
)
from servio.platform.service import get_effective_settings
from servio.worker.handlers import HandlerContext
from servio.worker.pollers import poller

logger = structlog.get_logger("servio.ordering.firing")

SWEEP_LIMIT = 500
MIN_ALERT_MINS = 1  # the setting's minimum: nothing younger can be due for an alert

# Calls that timed out but may still acknowledge; kept referenced until they finish.
_late_calls: set[asyncio.Task[None]] = set()


async def settle_late_calls() -> None:
    """Wait for every timed-out adapter call still running (tests; worker shutdown)."""
    loop = asyncio.get_running_loop()
    while True:
        # Calls left behind by an event loop that has since closed can never finish.
        _late_calls.difference_update([t for t in _late_calls if t.get_loop().is_closed()])
        mine = [t for t in _late_calls if t.get_loop() is loop]
        if not mine:
            return
        await asyncio.gather(*mine, return_exceptions=True)


# Bounds the database steps of concurrent attempts (the adapter calls are not bounded).
Gate = AbstractAsyncContextManager[Any]


def _ungated() -> Gate:
    return nullcontext()


async def _in_tenant(
    ctx: HandlerContext,
    tenant_id: str,
    step: Callable[[UnitOfWork], Awaitable[bool]],
    gate: Gate | None = None,
) -> bool:
    async with gate or _ungated(), ctx.db.unit_of_work(tenant_id=tenant_id) as uow:
        return await step(uow)


async def _outlet_settings(
    ctx: HandlerContext, job: ClaimedFiring, gate: Gate | None
) -> Mapping[str, Any]:
    async with gate or _ungated(), ctx.db.unit_of_work(tenant_id=job.tenant_id) as uow:
        return await get_effective_settings(uow, job.tenant_id, job.outlet_id)


async def _record_ack(
    ctx: HandlerContext, job: ClaimedFiring, ticket_no: str | None, gate: Gate | None = None
) -> bool:
    accepted = await _in_tenant(
        ctx,
        job.tenant_id,
        lambda uow: service.record_ack(
            uow,
            ctx.pubsub,
            tenant_id=job.tenant_id,
            order_id=job.order_id,
            job_id=job.id,
            ticket_no=ticket_no,
        ),
        gate,
    )
    logger.info(
        "firing.acked" if accepted else "firing.ack_ignored",
        firing_key=job.firing_key,
        ticket_no=ticket_no,
    )
    return accepted


async def _record_failure(
    ctx: HandlerContext, job: ClaimedFiring, error: str, gate: Gate | None = None
) -> None:
    recorded = await _in_tenant(
        ctx,
        job.tenant_id,
        lambda uow: service.record_attempt_failure(
            uow,
            ctx.pubsub,
            tenant_id=job.tenant_id,
            order_id=job.order_id,
            job_id=job.id,
            worker_id=ctx.worker_id,
            retry_count=job.retry_count,
            error=error,
        ),
        gate,
    )
    logger.warning(
        "firing.retry" if recorded else "firing.failure_ignored",
        firing_key=job.firing_key,
        attempt=job.retry_count + 1,
        error=error,
    )


async def _call(adapter: fire.KitchenAdapter, request: fire.FireRequest) -> fire.FireResult:
    try:
        return await adapter.fire(request)
    except Exception as exc:  # an adapter bug or transport error is a retryable failure
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return fire.FireResult.failure(detail[:2000])


def _await_late_ack(
    ctx: HandlerContext,
    job: ClaimedFiring,
    call: asyncio.Future[fire.FireResult],
    gate: Gate | None,
) -> None:
    async def late() -> None:
        try:
            result = await call
            if result.acked:
                await _record_ack(ctx, job, result.ticket_no, gate)
        except Exception:
            logger.exception("firing.late_outcome_failed", firing_key=job.firing_key)

    task = asyncio.create_task(late(), name=f"firing-late-{job.firing_key}")
    _late_calls.add(task)
    task.add_done_callback(_late_calls.discard)


async def attempt(ctx: HandlerContext, job: ClaimedFiring, *, gate: Gate | None = None) -> None:
    """One attempt of a leased firing, bounded by the ACK timeout. `gate` bounds its
    database steps when attempts run concurrently."""
    adapter = fire.adapters.get(job.adapter)
    if adapter is None:
        await _record_failure(ctx, job, fire.missing_adapter_error(job.adapter), gate)
        return
    request = fire.FireRequest(
        firing_key=job.firing_key,
        order_id=job.order_id,
        station=job.station,
        tenant_id=job.tenant_id,
        outlet_id=job.outlet_id,
        payload=dict(job.order_payload),
        attempt=job.retry_count + 1,
        outlet_settings=await _outlet_settings(ctx, job, gate),
    )
    call = asyncio.ensure_future(_call(adapter, request))
    try:
        result = await asyncio.wait_for(asyncio.shield(call), timeout=fire.ACK_TIMEOUT_SECS)
    except TimeoutError:
        _await_late_ack(ctx, job, call, gate)
        await _record_failure(
            ctx,
            job,
            f"no acknowledgement within {fire.ACK_TIMEOUT_SECS:g}s (still listening)",
            gate,
        )
        return
    if result.acked:
        await _record_ack(ctx, job, result.ticket_no, gate)
    else:
        kind = "" if result.retryable else "refused: "
        await _record_failure(ctx, job, f"{kind}{result.detail or 'not acknowledged'}", gate)


async def watchdog(ctx: HandlerContext, now: datetime) -> int:
    cutoff = now - timedelta(seconds=fire.WATCHDOG_SECS)
    async with ctx.db.unit_of_work(bypass_rls=True) as uow:
        stale = await stale_pending_firings(uow, cutoff=cutoff, now=now, limit=SWEEP_LIMIT)
    changed = 0
    for ref in stale:
        step = partial(
            service.watchdog_retry,
            pubsub=ctx.pubsub,
            tenant_id=ref.tenant_id,
            order_id=ref.order_id,
            job_id=ref.id,
        )
        if await _in_tenant(ctx, ref.tenant_id, step):
            changed += 1
    return changed


async def attempt_due(ctx: HandlerContext, now: datetime) -> int:
    lease_until = now + timedelta(seconds=fire.LEASE_SECS)
    async with ctx.db.unit_of_work(bypass_rls=True) as uow:
        claimed = await claim_due_firings(
            uow,
            now=now,
            worker_id=ctx.worker_id,
            lease_until=lease_until,
            limit=ctx.settings.worker_batch_size,
        )
    # Every adapter call of the batch at once (network waits, each bounded by the ACK
    # timeout); only the database steps share the pool-sized gate.
    gate = asyncio.Semaphore(
        max(1, min(ctx.settings.worker_batch_size, ctx.settings.database_pool_size))
    )
    await asyncio.gather(*(attempt(ctx, job, gate=gate) for job in claimed))
    return len(claimed)


async def alert_delays(ctx: HandlerContext, now: datetime) -> int:
    cutoff = now - timedelta(minutes=MIN_ALERT_MINS)
    async with ctx.db.unit_of_work(bypass_rls=True) as uow:
        waiting = await unalerted_firings(uow, cutoff=cutoff, limit=SWEEP_LIMIT)
    orders = {ref.order_id: ref.tenant_id for ref in waiting}
    alerted = 0
    for order_id, tenant_id in orders.items():
        step = partial(
            service.alert_fire_delay, pubsub=ctx.pubsub, tenant_id=tenant_id, order_id=order_id
        )
        if await _in_tenant(ctx, tenant_id, step):
            alerted += 1
    return alerted


@poller("ordering.firing")
async def fire_due(ctx: HandlerContext, now: datetime) -> int:
    """Watchdog, then due attempts, then front-of-house alerts. Returns how many firings
    changed or were attempted."""
    handled = await watchdog(ctx, now)
    handled += await attempt_due(ctx, now)
    handled += await alert_delays(ctx, now)
    return handled
