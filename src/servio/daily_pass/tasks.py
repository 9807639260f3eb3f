"""The daily pass rota (seed 004 §2/§6): at 04:00 outlet time a new word for every outlet
that uses the pass, e-mailed to the owners. The scheduler fires it once per outlet and day
across all workers; a day that already has a word (an owner rotated by hand after a late
catch-up) keeps it."""

from __future__ import annotations

import structlog

from servio.auth.actors import SystemActor
from servio.daily_pass import service
from servio.worker.scheduler import ScheduledRun, daily_at, scheduled

logger = structlog.get_logger("servio.daily_pass")


@scheduled("daily_pass.rotate", daily_at("04:00", per_outlet=True))
async def rotate_daily_pass(run: ScheduledRun) -> None:
    if run.tenant_id is None or run.outlet_id is None:  # pragma: no cover - per-outlet cadence
        return
    async with run.unit_of_work() as uow:
        policy = await service.pass_policy(uow, run.tenant_id, run.outlet_id)
        if not policy.rotating:
            return
        rotation = await service.rotate(
            uow,
            run.settings,
            tenant_id=run.tenant_id,
            outlet_id=run.outlet_id,
            actor=SystemActor(name="daily_pass.rotate", tenant_id=run.tenant_id),
            replace=False,
        )
    logger.info(
        "daily_pass.rotated" if rotation else "daily_pass.kept",
        outlet_id=run.outlet_id,
        period=run.period,
    )
