"""Job health (NOTIF-05): heartbeats with staleness, outbox queue depth, readiness."""

from __future__ import annotations

from datetime import datetime

from servio.config import Settings
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.models import JobHeartbeat
from servio.worker import repository
from servio.worker.runner import LOOP_JOB
from servio.worker.scheduler import ScheduleRegistry, schedules
from servio.worker.schemas import JobsStatusRead, JobState, JobStatusRead, OutboxStatusRead

OUTBOX_STATUSES = ("pending", "processing", "delivered", "dead")


def stale_after_seconds(
    job: str, settings: Settings, registry: ScheduleRegistry | None = None
) -> int:
    """A job is stale when it has not beaten within the TTL plus its own period."""
    schedule = (registry if registry is not None else schedules).get(job)
    period = int(schedule.cadence.interval.total_seconds()) if schedule else 0
    return settings.job_heartbeat_ttl_seconds + period


def _job_status(
    beat: JobHeartbeat, now: datetime, settings: Settings, registry: ScheduleRegistry | None
) -> JobStatusRead:
    age = max(0.0, (now - beat.last_beat_at).total_seconds())
    limit = stale_after_seconds(beat.job, settings, registry)
    state: JobState = "stale" if age > limit else ("failing" if beat.consecutive_failures else "ok")
    return JobStatusRead(
        job=beat.job,
        state=state,
        last_beat_at=beat.last_beat_at,
        last_success_at=beat.last_success_at,
        last_error=beat.last_error,
        last_error_at=beat.last_error_at,
        consecutive_failures=beat.consecutive_failures,
        runs_total=beat.runs_total,
        worker_id=beat.worker_id,
        age_seconds=round(age, 3),
        stale_after_seconds=limit,
    )


async def jobs_healthy(uow: UnitOfWork, settings: Settings) -> bool:
    """For /readyz when `JOB_HEARTBEAT_REQUIRED`: some worker loop beat within the TTL."""
    beat = await repository.get_heartbeat(uow, LOOP_JOB)
    if beat is None:
        return False
    return (utcnow() - beat.last_beat_at).total_seconds() <= settings.job_heartbeat_ttl_seconds


async def jobs_status(
    uow: UnitOfWork,
    settings: Settings,
    *,
    tenant_id: str | None,
    registry: ScheduleRegistry | None = None,
) -> JobsStatusRead:
    """Every job's heartbeat, plus the outbox of `tenant_id` (None: the whole platform).
    `registry` (default: the global one) gives each schedule's period for staleness."""
    now = utcnow()
    beats = await repository.list_heartbeats(uow)
    jobs = [_job_status(beat, now, settings, registry) for beat in beats]
    depth = dict.fromkeys(OUTBOX_STATUSES, 0)
    depth.update(await repository.outbox_depth(uow, tenant_id=tenant_id))
    oldest = await repository.oldest_pending_created_at(uow, tenant_id=tenant_id)
    loop = next((job for job in jobs if job.job == LOOP_JOB), None)
    return JobsStatusRead(
        healthy=loop is not None and loop.age_seconds <= settings.job_heartbeat_ttl_seconds,
        checked_at=now,
        heartbeat_ttl_seconds=settings.job_heartbeat_ttl_seconds,
        jobs=jobs,
        outbox=OutboxStatusRead(
            scope="platform" if tenant_id is None else "tenant",
            depth=depth,
            oldest_pending_age_seconds=(
                None if oldest is None else round(max(0.0, (now - oldest).total_seconds()), 3)
            ),
        ),
    )
