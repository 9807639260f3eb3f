"""Every query of the worker: outbox writes and claims, schedule runs, heartbeats.

Claims are race-free without check-then-act: PostgreSQL locks due rows with
`FOR UPDATE SKIP LOCKED` (concurrent workers skip each other's rows); SQLite runs one
atomic `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING` inside `BEGIN IMMEDIATE`.
Result writes are fenced on (`locked_by`, `attempts`) so a worker whose lease expired
cannot overwrite the outcome of the worker that reclaimed the row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from servio.kit.db import UnitOfWork
from servio.kit.ids import new_id
from servio.kit.upsert import insert_ignoring_conflicts
from servio.models import JobHeartbeat, OutboxMessage, Outlet, ScheduleRun
from servio.worker.handlers import ClaimedMessage

_CLAIMED_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.tenant_id,
    OutboxMessage.outlet_id,
    OutboxMessage.topic,
    OutboxMessage.event,
    OutboxMessage.dedupe_key,
    OutboxMessage.payload,
    OutboxMessage.attempts,
    OutboxMessage.created_at,
)


def _dialect(uow: UnitOfWork) -> str:
    return uow.session.get_bind().dialect.name


def _insert(uow: UnitOfWork, model: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    if _dialect(uow) == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def _rowcount(result: Any) -> int:
    return result.rowcount if isinstance(result, CursorResult) else 0


# --- outbox -------------------------------------------------------------------------------

_OUTBOX = cast(Table, OutboxMessage.__table__)
_OUTBOX_DEDUPE = ("tenant_id", "dedupe_key")


async def insert_outbox_message(uow: UnitOfWork, values: dict[str, Any]) -> str | None:
    """INSERT … ON CONFLICT (tenant_id, dedupe_key) DO NOTHING; the new id, or None when
    the message was already enqueued."""
    inserted = await insert_outbox_messages(uow, [values])
    return next(iter(inserted), None)


async def insert_outbox_messages(uow: UnitOfWork, rows: list[dict[str, Any]]) -> set[str]:
    """`insert_outbox_message` for several rows in one statement; the ids inserted."""
    stmt, params = insert_ignoring_conflicts(_OUTBOX, rows, conflict=_OUTBOX_DEDUPE, returning="id")
    return set((await uow.session.execute(stmt, params)).scalars())


async def bury_exhausted_leases(uow: UnitOfWork, *, now: datetime, max_attempts: int) -> int:
    """Rows whose worker died mid-delivery on their last allowed attempt go to `dead`
    instead of being reclaimed forever (a message that crashes the worker every time)."""
    result = await uow.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == "processing",
            OutboxMessage.locked_until < now,
            OutboxMessage.attempts >= max_attempts,
        )
        .values(
            status="dead",
            locked_by=None,
            locked_until=None,
            last_error="lease expired during the last attempt (worker stopped or timed out)",
        )
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


def _due(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "processing", OutboxMessage.locked_until < now),
    )


async def claim_due_messages(
    uow: UnitOfWork, *, now: datetime, worker_id: str, lease_until: datetime, limit: int
) -> list[ClaimedMessage]:
    """Take up to `limit` due (or lease-expired) rows for this worker, counting the attempt."""
    pick = (
        select(OutboxMessage.id)
        .where(_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    mark = update(OutboxMessage).values(
        status="processing",
        locked_by=worker_id,
        locked_until=lease_until,
        attempts=OutboxMessage.attempts + 1,
    )
    if _dialect(uow) == "postgresql":
        ids = list((await uow.session.execute(pick.with_for_update(skip_locked=True))).scalars())
        if not ids:
            return []
        mark = mark.where(OutboxMessage.id.in_(ids))
    else:
        mark = mark.where(OutboxMessage.id.in_(pick.scalar_subquery()), _due(now))
    result = await uow.session.execute(
        mark.returning(*_CLAIMED_COLUMNS).execution_options(synchronize_session=False)
    )
    claimed = [ClaimedMessage(**row._asdict()) for row in result]
    claimed.sort(key=lambda m: m.id)
    return claimed


def _fenced(message_id: str, worker_id: str, attempt: int) -> Any:
    return and_(
        OutboxMessage.id == message_id,
        OutboxMessage.status == "processing",
        OutboxMessage.locked_by == worker_id,
        OutboxMessage.attempts == attempt,
    )


async def mark_delivered(
    uow: UnitOfWork, *, message_id: str, worker_id: str, attempt: int, now: datetime
) -> bool:
    result = await uow.session.execute(
        update(OutboxMessage)
        .where(_fenced(message_id, worker_id, attempt))
        .values(
            status="delivered", delivered_at=now, locked_by=None, locked_until=None, last_error=None
        )
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def mark_failed(
    uow: UnitOfWork,
    *,
    message_id: str,
    worker_id: str,
    attempt: int,
    error: str,
    retry_at: datetime | None,
) -> bool:
    """Back to `pending` at `retry_at`, or `dead` when `retry_at` is None."""
    values: dict[str, Any] = {"locked_by": None, "locked_until": None, "last_error": error}
    if retry_at is None:
        values["status"] = "dead"
    else:
        values.update(status="pending", next_attempt_at=retry_at)
    result = await uow.session.execute(
        update(OutboxMessage)
        .where(_fenced(message_id, worker_id, attempt))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def release_unstarted(
    uow: UnitOfWork,
    *,
    message_id: str,
    worker_id: str,
    attempt: int,
    until: datetime | None = None,
    reason: str | None = None,
) -> bool:
    """Hand a claimed message back without an attempt (its handler never started, or did
    not try: a deferral). `until` delays its next claim; `reason` shows why it waits."""
    values: dict[str, Any] = {
        "status": "pending",
        "attempts": OutboxMessage.attempts - 1,
        "locked_by": None,
        "locked_until": None,
    }
    if until is not None:
        values["next_attempt_at"] = until
    if reason is not None:
        values["last_error"] = reason
    result = await uow.session.execute(
        update(OutboxMessage)
        .where(_fenced(message_id, worker_id, attempt))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


async def delete_delivered_before(uow: UnitOfWork, cutoff: datetime) -> int:
    result = await uow.session.execute(
        delete(OutboxMessage)
        .where(OutboxMessage.status == "delivered", OutboxMessage.delivered_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


async def outbox_depth(uow: UnitOfWork, *, tenant_id: str | None) -> dict[str, int]:
    stmt = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    if tenant_id is not None:
        stmt = stmt.where(OutboxMessage.tenant_id == tenant_id)
    return {status: int(count) for status, count in (await uow.session.execute(stmt)).tuples()}


async def oldest_pending_created_at(uow: UnitOfWork, *, tenant_id: str | None) -> datetime | None:
    stmt = select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending")
    if tenant_id is not None:
        stmt = stmt.where(OutboxMessage.tenant_id == tenant_id)
    oldest: datetime | None = (await uow.session.execute(stmt)).scalar_one_or_none()
    return oldest


async def get_outbox_message(uow: UnitOfWork, message_id: str) -> OutboxMessage | None:
    return await uow.session.get(OutboxMessage, message_id)


# --- schedules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutletClock:
    tenant_id: str
    outlet_id: str
    timezone: str


async def list_outlet_clocks(uow: UnitOfWork) -> list[OutletClock]:
    """Every live outlet across tenants (the caller's transaction bypasses RLS)."""
    rows = await uow.session.execute(
        select(Outlet.tenant_id, Outlet.id, Outlet.timezone)
        .where(Outlet.status != "archived")
        .order_by(Outlet.id)
    )
    return [OutletClock(tenant_id=t, outlet_id=o, timezone=tz) for t, o, tz in rows.tuples()]


async def existing_schedule_runs(
    uow: UnitOfWork, *, schedules: Iterable[str], periods: Iterable[str]
) -> set[tuple[str, str, str]]:
    names, wanted = sorted(set(schedules)), sorted(set(periods))
    if not names or not wanted:
        return set()
    rows = await uow.session.execute(
        select(ScheduleRun.schedule, ScheduleRun.scope, ScheduleRun.period).where(
            ScheduleRun.schedule.in_(names), ScheduleRun.period.in_(wanted)
        )
    )
    return set(rows.tuples())


async def insert_schedule_run(
    uow: UnitOfWork, *, schedule: str, scope: str, period: str, now: datetime, worker_id: str
) -> str | None:
    """The unique (schedule, scope, period) decides who runs a period: the id for the
    winner, None for everyone else."""
    stmt = (
        _insert(uow, ScheduleRun)
        .values(
            id=new_id(),
            schedule=schedule,
            scope=scope,
            period=period,
            started_at=now,
            status="running",
            worker_id=worker_id,
        )
        .on_conflict_do_nothing(index_elements=["schedule", "scope", "period"])
        .returning(ScheduleRun.id)
    )
    return (await uow.session.execute(stmt)).scalar_one_or_none()


async def finish_schedule_run(
    uow: UnitOfWork, *, run_id: str, now: datetime, error: str | None
) -> None:
    await uow.session.execute(
        update(ScheduleRun)
        .where(ScheduleRun.id == run_id)
        .values(finished_at=now, status="failed" if error else "ok", error=error)
        .execution_options(synchronize_session=False)
    )


async def list_schedule_runs(uow: UnitOfWork, schedule: str) -> Sequence[ScheduleRun]:
    rows = await uow.session.execute(
        select(ScheduleRun)
        .where(ScheduleRun.schedule == schedule)
        .order_by(ScheduleRun.started_at, ScheduleRun.id)
    )
    return rows.scalars().all()


# --- heartbeats ------------------------------------------------------------------------------


async def record_heartbeat(
    uow: UnitOfWork,
    *,
    job: str,
    now: datetime,
    worker_id: str,
    error: str | None = None,
    ran: bool = True,
) -> None:
    """Upsert the job's heartbeat. `ran=False` is a bare liveness beat; otherwise the run
    succeeded (`error` None) or failed."""
    failed = ran and error is not None
    succeeded = ran and error is None
    stmt = _insert(uow, JobHeartbeat).values(
        id=new_id(),
        job=job,
        last_beat_at=now,
        worker_id=worker_id,
        runs_total=1 if ran else 0,
        consecutive_failures=1 if failed else 0,
        last_success_at=now if succeeded else None,
        last_error=error if failed else None,
        last_error_at=now if failed else None,
    )
    table = JobHeartbeat.__table__.c
    changes: dict[str, Any] = {"last_beat_at": now, "worker_id": worker_id}
    if ran:
        changes["runs_total"] = table.runs_total + 1
    if succeeded:
        changes.update(last_success_at=now, consecutive_failures=0)
    if failed:
        changes.update(
            consecutive_failures=table.consecutive_failures + 1, last_error=error, last_error_at=now
        )
    await uow.session.execute(stmt.on_conflict_do_update(index_elements=["job"], set_=changes))


async def list_heartbeats(uow: UnitOfWork) -> Sequence[JobHeartbeat]:
    rows = await uow.session.execute(select(JobHeartbeat).order_by(JobHeartbeat.job))
    return rows.scalars().all()


async def get_heartbeat(uow: UnitOfWork, job: str) -> JobHeartbeat | None:
    rows = await uow.session.execute(select(JobHeartbeat).where(JobHeartbeat.job == job))
    return rows.scalar_one_or_none()


# --- jobs status (NOTIF-05/06) ----------------------------------------------------------------


async def outbox_depth_by_topic(
    uow: UnitOfWork, *, tenant_id: str | None
) -> list[tuple[str, str, int]]:
    """`(topic, status, count)` of the outbox, for one tenant or (None) the platform."""
    stmt = (
        select(OutboxMessage.topic, OutboxMessage.status, func.count())
        .group_by(OutboxMessage.topic, OutboxMessage.status)
        .order_by(OutboxMessage.topic, OutboxMessage.status)
    )
    if tenant_id is not None:
        stmt = stmt.where(OutboxMessage.tenant_id == tenant_id)
    return [(t, s, int(n)) for t, s, n in (await uow.session.execute(stmt)).tuples()]


async def oldest_pending_by_topic(uow: UnitOfWork, *, tenant_id: str | None) -> dict[str, datetime]:
    stmt = (
        select(OutboxMessage.topic, func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status == "pending")
        .group_by(OutboxMessage.topic)
    )
    if tenant_id is not None:
        stmt = stmt.where(OutboxMessage.tenant_id == tenant_id)
    return dict((await uow.session.execute(stmt)).tuples().all())


async def processed_by_topic(
    uow: UnitOfWork, *, tenant_id: str | None, since: datetime
) -> dict[str, tuple[int, int]]:
    """`topic → (delivered, dead)` since `since`. A row records no time of death, so a dead
    row counts by its last attempt's due time (`next_attempt_at`), which dead-lettering
    leaves alone."""
    delivered = OutboxMessage.status == "delivered"
    stmt = (
        select(
            OutboxMessage.topic,
            func.sum(case((delivered, 1), else_=0)),
            func.sum(case((delivered, 0), else_=1)),
        )
        .where(
            or_(
                and_(delivered, OutboxMessage.delivered_at >= since),
                and_(OutboxMessage.status == "dead", OutboxMessage.next_attempt_at >= since),
            )
        )
        .group_by(OutboxMessage.topic)
    )
    if tenant_id is not None:
        stmt = stmt.where(OutboxMessage.tenant_id == tenant_id)
    rows = (await uow.session.execute(stmt)).tuples()
    return {topic: (int(ok or 0), int(dead or 0)) for topic, ok, dead in rows}


async def latest_schedule_runs(uow: UnitOfWork, *, tenant_id: str | None) -> dict[str, ScheduleRun]:
    """Each schedule's most recent run. With `tenant_id`, per-outlet runs count only for
    that tenant's outlets (another tenant's outlet ids and errors stay hidden)."""
    stmt = select(ScheduleRun)
    if tenant_id is not None:
        own_outlets = select(Outlet.id).where(Outlet.tenant_id == tenant_id)
        stmt = stmt.where(or_(ScheduleRun.scope == "global", ScheduleRun.scope.in_(own_outlets)))
    latest = stmt.subquery()
    newest = (
        select(latest.c.schedule, func.max(latest.c.started_at).label("started_at"))
        .group_by(latest.c.schedule)
        .subquery()
    )
    rows = await uow.session.execute(
        select(ScheduleRun)
        .join(latest, latest.c.id == ScheduleRun.id)
        .join(
            newest,
            and_(
                newest.c.schedule == latest.c.schedule,
                newest.c.started_at == latest.c.started_at,
            ),
        )
        .order_by(ScheduleRun.schedule, ScheduleRun.id.desc())
    )
    runs: dict[str, ScheduleRun] = {}
    for run in rows.scalars():
        runs.setdefault(run.schedule, run)
    return runs
