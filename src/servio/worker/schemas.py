"""Responses of the jobs status endpoint (NOTIF-05)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

JobState = Literal["ok", "failing", "stale"]


class JobStatusRead(BaseModel):
    job: str = Field(examples=["worker.loop"])
    state: JobState = Field(
        description="`stale`: no heartbeat within `stale_after_seconds`; "
        "`failing`: the last run failed; otherwise `ok`."
    )
    last_beat_at: datetime
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    runs_total: int
    worker_id: str | None
    age_seconds: float = Field(description="Seconds since the last heartbeat.")
    stale_after_seconds: int = Field(
        description="Heartbeat TTL plus the job's own period (a daily job beats daily)."
    )


class OutboxStatusRead(BaseModel):
    scope: Literal["tenant", "platform"]
    depth: dict[str, int] = Field(
        description="Messages per status: pending, processing, delivered, dead.",
        examples=[{"pending": 3, "processing": 1, "delivered": 120, "dead": 0}],
    )
    oldest_pending_age_seconds: float | None


ScheduleState = Literal["never_run", "running", "ok", "failed"]


class ScheduleRunRead(BaseModel):
    scope: str = Field(description="`global`, or the outlet id of a per-outlet run")
    period: str = Field(examples=["2026-11-22", "2026-11-22T07:30Z"])
    status: Literal["running", "ok", "failed"]
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    worker_id: str | None


class ScheduleStatusRead(BaseModel):
    name: str = Field(examples=["daily_pass.rotate"])
    cadence: str = Field(
        description="`every N min`, or `daily HH:MM` with `outlet-local` or `UTC`",
        examples=["every 5 min", "daily 04:00 outlet-local"],
    )
    interval_seconds: int
    state: ScheduleState = Field(
        description="The last run's status, or `never_run` when it has not run yet."
    )
    last_run: ScheduleRunRead | None


class QueueStatusRead(BaseModel):
    topic: str = Field(examples=["notify"])
    depth: dict[str, int] = Field(
        description="Messages per status: pending, processing, delivered, dead, discarded.",
        examples=[{"pending": 2, "processing": 0, "delivered": 40, "dead": 1, "discarded": 0}],
    )
    oldest_pending_age_seconds: float | None


class TopicProcessedRead(BaseModel):
    topic: str
    delivered: int
    dead: int


class ProcessedRead(BaseModel):
    window_hours: int
    since: datetime
    delivered: int
    dead: int
    by_topic: list[TopicProcessedRead]


class JobsStatusRead(BaseModel):
    healthy: bool = Field(description="The worker loop has a fresh heartbeat.")
    checked_at: datetime
    heartbeat_ttl_seconds: int
    jobs: list[JobStatusRead]
    outbox: OutboxStatusRead
    schedules: list[ScheduleStatusRead] = Field(
        description="Every registered schedule, with its last run (also when it never ran)."
    )
    queues: list[QueueStatusRead] = Field(description="The outbox per topic.")
    processed: ProcessedRead = Field(
        description="Messages delivered and dead-lettered per topic in the last 24 hours."
    )
