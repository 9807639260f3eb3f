from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin


class JobHeartbeat(IdMixin, Base):
    """Liveness of each job/schedule: last beat, last success, consecutive failures."""

    __tablename__ = "job_heartbeats"
    __table_args__ = (UniqueConstraint("job"),)

    job: Mapped[str] = mapped_column(String(100))
    last_beat_at: Mapped[datetime]
    last_success_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    last_error_at: Mapped[datetime | None] = mapped_column(default=None)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    runs_total: Mapped[int] = mapped_column(default=0)
    worker_id: Mapped[str | None] = mapped_column(String(64), default=None)


class ScheduleRun(IdMixin, Base):
    """One row per (schedule, scope, period). The unique constraint is how a period fires
    exactly once across any number of workers: the INSERT that wins runs the job."""

    __tablename__ = "schedule_runs"
    __table_args__ = (UniqueConstraint("schedule", "scope", "period"),)

    schedule: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(String(64))  # "global" or an outlet id
    period: Mapped[str] = mapped_column(String(32))  # e.g. "2026-11-22T04:00" outlet-local
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|ok|failed
    error: Mapped[str | None] = mapped_column(Text, default=None)
    worker_id: Mapped[str | None] = mapped_column(String(64), default=None)
