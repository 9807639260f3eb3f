"""Kitchen jobs, run by the worker's scheduler.

- `kds.sla_watch` every minute (seed 000 "KDS SLA Watcher"): for every outlet with an item
  cooking longer than the shortest allowed SLA, or with a breach still open, check the
  outlet against its own `kds_sla_secs` / `kds_sla_owner_alert_secs` (`kitchen.sla_service`)
  — raise due escalation levels once, resolve breaches of items that left cooking.

Each outlet is checked in its own transaction scoped to its tenant (row-level security), so
one failing outlet does not hold up the others. The schedule runs once per minute across
workers; a KDS push or an overlapping run raising the same level at the same time is
harmless, because the breach row's unique (order_line_id, level) picks one winner.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from servio.kit.db import Database
from servio.kitchen import sla_service
from servio.kitchen.sla_repository import outlets_to_watch
from servio.platform.settings_catalog import get_spec
from servio.realtime.pubsub import InProcessPubSub, PubSub
from servio.worker.scheduler import ScheduledRun, every, scheduled

logger = structlog.get_logger("servio.kitchen")


def _shortest_sla() -> timedelta:
    """No item cooking for less than the smallest allowed `kds_sla_secs` can be late."""
    spec = get_spec(sla_service.SLA_SETTING)
    minimum = int(spec.minimum) if spec is not None and spec.minimum is not None else 60
    return timedelta(seconds=minimum)


async def watch(db: Database, pubsub: PubSub | None, now: datetime) -> int:
    """One pass over every outlet that may have something due. Returns the number of
    breach levels raised."""
    async with db.unit_of_work(bypass_rls=True) as uow:
        outlets = await outlets_to_watch(uow, started_before=now - _shortest_sla())
    raised = 0
    for outlet in outlets:
        try:
            async with db.unit_of_work(tenant_id=outlet.tenant_id) as uow:
                check = await sla_service.check_outlet(
                    uow, pubsub, tenant_id=outlet.tenant_id, outlet_id=outlet.outlet_id, now=now
                )
        except Exception:
            logger.exception(
                "kds.sla_watch_failed", tenant_id=outlet.tenant_id, outlet_id=outlet.outlet_id
            )
            continue
        raised += len(check.raised)
        if check.raised or check.resolved:
            logger.info(
                "kds.sla_checked",
                tenant_id=outlet.tenant_id,
                outlet_id=outlet.outlet_id,
                raised=[f"{d.item.order_line_id}:{d.level}" for _, d in check.raised],
                resolved=len(check.resolved),
            )
    return raised


@scheduled("kds.sla_watch", every(minutes=1))
async def sla_watch(run: ScheduledRun) -> None:
    # A worker started without pub/sub (some tests, one-off CLI runs) publishes nowhere.
    pubsub: PubSub = run.pubsub if run.pubsub is not None else InProcessPubSub()
    await watch(run.db, pubsub, run.now)
