"""Schedules (NOTIF-06), declared next to their domain in `<context>/tasks.py`:

    @scheduled("sessions.auto_close", every(minutes=5))
    async def auto_close(run: ScheduledRun) -> None:
        async with run.unit_of_work() as uow: ...

    @scheduled("reports.daily_digest", daily_at("09:00", per_outlet=True))
    async def daily_digest(run: ScheduledRun) -> None: ...   # run.outlet_id, run.tenant_id

Each period fires exactly once across any number of workers: the worker that wins the
INSERT of `ScheduleRun(schedule, scope, period)` (unique) runs the job; the others see the
conflict and move on. `daily_at` with `per_outlet=True` is evaluated on each outlet's own
clock (`Outlet.timezone`), otherwise in UTC. A missed time fires late (catch-up) when a
worker next looks, still once per period; a failed run is recorded, not retried in the
same period.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog

from servio.config import Settings
from servio.kit.clock import utcnow
from servio.kit.db import Database, UnitOfWork
from servio.ops.metrics import observe_job_run
from servio.worker import repository
from servio.worker.repository import OutletClock

logger = structlog.get_logger("servio.worker")

GLOBAL_SCOPE = "global"


# --- cadences (pure) ------------------------------------------------------------------------


@dataclass(frozen=True)
class Occurrence:
    scope: str  # "global" or an outlet id
    period: str
    tenant_id: str | None = None
    outlet_id: str | None = None
    timezone: str = "UTC"


@dataclass(frozen=True)
class Every:
    minutes: int

    @property
    def interval(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    def occurrences(self, now: datetime, outlets: Sequence[OutletClock]) -> list[Occurrence]:
        """The current period: `now` floored to a multiple of `minutes` since the epoch, so
        hourly periods start on the hour and every worker computes the same label."""
        start = now.astimezone(UTC).replace(second=0, microsecond=0)
        epoch_minutes = int(start.timestamp()) // 60
        start -= timedelta(minutes=epoch_minutes % self.minutes)
        return [Occurrence(scope=GLOBAL_SCOPE, period=start.strftime("%Y-%m-%dT%H:%MZ"))]


@dataclass(frozen=True)
class DailyAt:
    at: time
    per_outlet: bool

    @property
    def interval(self) -> timedelta:
        return timedelta(days=1)

    def occurrences(self, now: datetime, outlets: Sequence[OutletClock]) -> list[Occurrence]:
        """Due once the local wall clock has passed `at`; the period is the local date."""
        if not self.per_outlet:
            utc_now = now.astimezone(UTC)
            if utc_now.time() < self.at:
                return []
            return [Occurrence(scope=GLOBAL_SCOPE, period=utc_now.date().isoformat())]
        due: list[Occurrence] = []
        for outlet in outlets:
            try:
                local = now.astimezone(ZoneInfo(outlet.timezone))
            except (ZoneInfoNotFoundError, ValueError):
                logger.warning(
                    "schedule.bad_timezone", outlet_id=outlet.outlet_id, timezone=outlet.timezone
                )
                continue
            if local.time() >= self.at:
                due.append(
                    Occurrence(
                        scope=outlet.outlet_id,
                        period=local.date().isoformat(),
                        tenant_id=outlet.tenant_id,
                        outlet_id=outlet.outlet_id,
                        timezone=outlet.timezone,
                    )
                )
        return due


Cadence = Every | DailyAt


def every(*, minutes: int = 0, hours: int = 0) -> Every:
    total = minutes + 60 * hours
    if total <= 0:
        raise ValueError("every() needs a positive interval")
    return Every(minutes=total)


def daily_at(hhmm: str, *, per_outlet: bool = True) -> DailyAt:
    """`"04:00"`: outlet-local when `per_outlet` (one run per outlet), else UTC (one run)."""
    return DailyAt(at=time.fromisoformat(hhmm), per_outlet=per_outlet)


# --- registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledRun:
    """What a scheduled job receives: which period it runs for, and where."""

    schedule: str
    scope: str
    period: str
    now: datetime
    tenant_id: str | None
    outlet_id: str | None
    timezone: str
    db: Database
    settings: Settings
    worker_id: str
    pubsub: Any = None  # the worker's PubSub, for live pushes after a job's commit

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """Per-outlet runs are scoped to the outlet's tenant; global runs bypass RLS."""
        if self.tenant_id:
            return self.db.unit_of_work(tenant_id=self.tenant_id)
        return self.db.unit_of_work(bypass_rls=True)


Job = Callable[[ScheduledRun], Awaitable[None]]


@dataclass(frozen=True)
class Schedule:
    name: str
    cadence: Cadence
    run: Job


class ScheduleRegistry:
    def __init__(self) -> None:
        self._schedules: dict[str, Schedule] = {}

    def register(self, name: str, cadence: Cadence) -> Callable[[Job], Job]:
        if len(name) > 100:
            raise ValueError("schedule names are at most 100 characters")

        def decorate(job: Job) -> Job:
            existing = self._schedules.get(name)
            if existing is not None and existing.run is not job:
                raise ValueError(f"schedule {name!r} is already registered")
            self._schedules[name] = Schedule(name=name, cadence=cadence, run=job)
            return job

        return decorate

    def all(self) -> list[Schedule]:
        return [self._schedules[name] for name in sorted(self._schedules)]

    def get(self, name: str) -> Schedule | None:
        return self._schedules.get(name)


schedules = ScheduleRegistry()
scheduled = schedules.register

_discovered = False


def discover_tasks() -> None:
    """Import every `servio.<context>.tasks` module once, registering its schedules,
    outbox handlers and event consumers. The only wiring there is, and it is this loop."""
    global _discovered
    if _discovered:
        return
    import servio

    for module in sorted(pkgutil.iter_modules(servio.__path__), key=lambda m: m.name):
        if not module.ispkg:
            continue
        try:
            importlib.import_module(f"servio.{module.name}.tasks")
        except ModuleNotFoundError as exc:
            if exc.name != f"servio.{module.name}.tasks":
                raise
    _discovered = True


# --- running --------------------------------------------------------------------------------


class Scheduler:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        worker_id: str,
        registry: ScheduleRegistry | None = None,
        pubsub: Any = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.worker_id = worker_id
        self.pubsub = pubsub
        self.registry = registry if registry is not None else schedules

    async def run_due(self) -> list[str]:
        """Fire every schedule whose current period this worker wins. Returns
        `"name|scope|period"` for each run this worker started."""
        plan = self.registry.all()
        if not plan:
            return []
        now = utcnow()
        candidates: list[tuple[Schedule, Occurrence]] = []
        async with self.db.unit_of_work(bypass_rls=True) as uow:
            needs_outlets = any(
                isinstance(s.cadence, DailyAt) and s.cadence.per_outlet for s in plan
            )
            outlets = await repository.list_outlet_clocks(uow) if needs_outlets else []
            for schedule in plan:
                candidates += [(schedule, o) for o in schedule.cadence.occurrences(now, outlets)]
            done = await repository.existing_schedule_runs(
                uow,
                schedules=[s.name for s, _ in candidates],
                periods=[o.period for _, o in candidates],
            )
        fired: list[str] = []
        for schedule, occurrence in candidates:
            if (schedule.name, occurrence.scope, occurrence.period) in done:
                continue
            if await self._run_if_won(schedule, occurrence, now):
                fired.append(f"{schedule.name}|{occurrence.scope}|{occurrence.period}")
        return fired

    async def _run_if_won(self, schedule: Schedule, occurrence: Occurrence, now: datetime) -> bool:
        async with self.db.unit_of_work(bypass_rls=True) as uow:
            run_id = await repository.insert_schedule_run(
                uow,
                schedule=schedule.name,
                scope=occurrence.scope,
                period=occurrence.period,
                now=now,
                worker_id=self.worker_id,
            )
        if run_id is None:
            return False
        error: str | None = None
        try:
            await schedule.run(
                ScheduledRun(
                    schedule=schedule.name,
                    scope=occurrence.scope,
                    period=occurrence.period,
                    now=now,
                    tenant_id=occurrence.tenant_id,
                    outlet_id=occurrence.outlet_id,
                    timezone=occurrence.timezone,
                    db=self.db,
                    settings=self.settings,
                    worker_id=self.worker_id,
                    pubsub=self.pubsub,
                )
            )
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            logger.exception(
                "schedule.failed",
                schedule=schedule.name,
                scope=occurrence.scope,
                period=occurrence.period,
            )
        finished = utcnow()
        async with self.db.unit_of_work(bypass_rls=True) as uow:
            await repository.finish_schedule_run(uow, run_id=run_id, now=finished, error=error)
            await repository.record_heartbeat(
                uow, job=schedule.name, now=finished, worker_id=self.worker_id, error=error
            )
        observe_job_run(schedule.name, finished.timestamp(), error=error)
        return True
