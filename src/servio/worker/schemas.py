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


class JobsStatusRead(BaseModel):
    healthy: bool = Field(description="The worker loop has a fresh heartbeat.")
    checked_at: datetime
    heartbeat_ttl_seconds: int
    jobs: list[JobStatusRead]
    outbox: OutboxStatusRead
