"""Job health (NOTIF-05/06): heartbeats with staleness, every schedule's last run, the
outbox queues per topic and what they processed lately, readiness."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from servio.config import Settings
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.models import JobHeartbeat, ScheduleRun
from servio.worker import repository
from servio.worker.runner import LOOP_JOB, OUTBOX_DEPTH_STATUSES
from servio.worker.scheduler import (
    DailyAt,
    Schedule,
    ScheduleRegistry,
    discover_tasks,
    schedules,
)
from servio.worker.schemas import (
    JobsStatusRead,
    JobState,
    JobStatusRead,
    OutboxStatusRead,
    ProcessedRead,
    QueueStatusRead,
    ScheduleRunRead,
    ScheduleStatusRead,
    TopicProcessedRead,
)

OUTBOX_STATUSES = ("pending", "processing", "delivered", "dead")
QUEUE_STATUSES = OUTBOX_DEPTH_STATUSES
PROCESSED_WINDOW = timedelta(hours=24)


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


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round(max(0.0, (now - then).total_seconds()), 3)


def describe_cadence(schedule: Schedule) -> str:
    cadence = schedule.cadence
    if isinstance(cadence, DailyAt):
        where = "outlet-local" if cadence.per_outlet else "UTC"
        return f"daily {cadence.at.strftime('%H:%M')} {where}"
    return f"every {cadence.minutes} min"


def _run_read(run: ScheduleRun) -> ScheduleRunRead:
    return ScheduleRunRead.model_validate(
        {
            "scope": run.scope,
            "period": run.period,
            "status": run.status,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "error": run.error,
            "worker_id": run.worker_id,
        }
    )


def _schedule_status(schedule: Schedule, run: ScheduleRun | None) -> ScheduleStatusRead:
    last = None if run is None else _run_read(run)
    return ScheduleStatusRead(
        name=schedule.name,
        cadence=describe_cadence(schedule),
        interval_seconds=int(schedule.cadence.interval.total_seconds()),
        state="never_run" if last is None else last.status,
        last_run=last,
    )


async def _schedules(
    uow: UnitOfWork, tenant_id: str | None, registry: ScheduleRegistry | None
) -> list[ScheduleStatusRead]:
    if registry is None:
        discover_tasks()  # an API process without a worker may not have imported them yet
    runs = await repository.latest_schedule_runs(uow, tenant_id=tenant_id)
    plan = (registry if registry is not None else schedules).all()
    return [_schedule_status(schedule, runs.get(schedule.name)) for schedule in plan]


async def _queues(uow: UnitOfWork, tenant_id: str | None, now: datetime) -> list[QueueStatusRead]:
    depth: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(QUEUE_STATUSES, 0))
    for topic, status, count in await repository.outbox_depth_by_topic(uow, tenant_id=tenant_id):
        depth[topic][status] = count
    oldest = await repository.oldest_pending_by_topic(uow, tenant_id=tenant_id)
    return [
        QueueStatusRead(
            topic=topic,
            depth=depth[topic],
            oldest_pending_age_seconds=_age(now, oldest.get(topic)),
        )
        for topic in sorted(depth)
    ]


async def _processed(uow: UnitOfWork, tenant_id: str | None, now: datetime) -> ProcessedRead:
    since = now - PROCESSED_WINDOW
    counts = await repository.processed_by_topic(uow, tenant_id=tenant_id, since=since)
    by_topic = [
        TopicProcessedRead(topic=topic, delivered=delivered, dead=dead)
        for topic, (delivered, dead) in sorted(counts.items())
    ]
    return ProcessedRead(
        window_hours=int(PROCESSED_WINDOW.total_seconds() // 3600),
        since=since,
        delivered=sum(t.delivered for t in by_topic),
        dead=sum(t.dead for t in by_topic),
        by_topic=by_topic,
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
    """Every job's heartbeat and every schedule's last run, plus the outbox of `tenant_id`
    (None: the whole platform). `registry` (default: the global one) lists the schedules
    and gives each one's period for staleness."""
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
            oldest_pending_age_seconds=_age(now, oldest),
        ),
        schedules=await _schedules(uow, tenant_id, registry),
        queues=await _queues(uow, tenant_id, now),
        processed=await _processed(uow, tenant_id, now),
    )
