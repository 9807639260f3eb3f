"""The worker's own schedules: housekeeping of idempotency keys and delivered messages."""

from __future__ import annotations

from datetime import timedelta

import structlog

from servio.worker import repository
from servio.worker.scheduler import ScheduledRun, daily_at, every, scheduled

logger = structlog.get_logger("servio.worker")

DELIVERED_RETENTION = timedelta(days=7)


@scheduled("idempotency.purge", every(minutes=60))
async def purge_idempotency_keys(run: ScheduledRun) -> None:
    """Drop expired `Idempotency-Key` records (kept 24 h by default)."""
    # Imported here: the idempotency module pulls in the HTTP layer the worker rarely needs.
    from servio.kit.idempotency import purge_expired

    async with run.unit_of_work() as uow:
        purged = await purge_expired(uow, run.now)
    logger.info("idempotency.purged", count=purged)


@scheduled("outbox.purge_delivered", daily_at("03:15", per_outlet=False))
async def purge_delivered_messages(run: ScheduledRun) -> None:
    """Delivered outbox rows are kept a week for support questions, then deleted."""
    async with run.unit_of_work() as uow:
        purged = await repository.delete_delivered_before(uow, run.now - DELIVERED_RETENTION)
    logger.info("outbox.purged_delivered", count=purged)
