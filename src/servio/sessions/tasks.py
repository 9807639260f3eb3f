"""Session automations (seed 004 §6), run by the worker's scheduler:

- `sessions.auto_close` every minute: an active session idle for the outlet's
  `auto_close_idle_mins` (90 by default), or settled and idle for 10 minutes, is closed
  with `auto_closed=true`; the table and the staff grid get `session_closed`.
- `sessions.purge` at 03:00 outlet time: auto-closed sessions closed more than 24 h ago
  become `purged`; their cart lines are deleted and member nicknames become "Guest".
  Orders stay (billing and reports need them).

Each session is closed in its own transaction scoped to its tenant (row-level security),
after re-reading it under a row lock, so a guest who becomes active again in the meantime
keeps their table and one failing session does not hold up the others.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import structlog

from servio.auth.actors import SystemActor
from servio.kit.clock import utcnow
from servio.kit.errors import ProblemError
from servio.platform.service import get_effective_settings
from servio.platform.settings_catalog import get_spec
from servio.realtime.pubsub import InProcessPubSub, PubSub
from servio.sessions.lifecycle import close_session
from servio.sessions.maintenance_repository import (
    IdleSession,
    SessionMaintenanceRepository,
    idle_active_sessions,
)
from servio.sessions.repository import SessionRepository
from servio.sessions.state import PURGE_AFTER, SETTLED_IDLE, should_auto_close
from servio.worker.scheduler import ScheduledRun, daily_at, every, scheduled

logger = structlog.get_logger("servio.sessions")

IDLE_SETTING = "auto_close_idle_mins"


def _shortest_idle() -> timedelta:
    """No session idle for less than this can be due (the smallest allowed setting, or the
    settled rule), so the watchdog only re-checks sessions at least this idle."""
    spec = get_spec(IDLE_SETTING)
    minimum = int(spec.minimum) if spec is not None and spec.minimum is not None else 1
    return min(SETTLED_IDLE, timedelta(minutes=minimum))


def _pubsub(run: ScheduledRun) -> PubSub:
    # A worker started without pub/sub (some tests, one-off CLI runs) publishes nowhere.
    pubsub: PubSub = run.pubsub if run.pubsub is not None else InProcessPubSub()
    return pubsub


@scheduled("sessions.auto_close", every(minutes=1))
async def auto_close_idle_sessions(run: ScheduledRun) -> None:
    async with run.unit_of_work() as uow:
        candidates = await idle_active_sessions(uow, idle_since=run.now - _shortest_idle())
    by_outlet: dict[tuple[str, str], list[IdleSession]] = defaultdict(list)
    for candidate in candidates:
        by_outlet[(candidate.tenant_id, candidate.outlet_id)].append(candidate)
    pubsub = _pubsub(run)
    closed = 0
    for (tenant_id, outlet_id), sessions in by_outlet.items():
        async with run.db.unit_of_work(tenant_id=tenant_id) as uow:
            settings = await get_effective_settings(uow, tenant_id, outlet_id)
        idle_limit = timedelta(minutes=int(settings[IDLE_SETTING]))
        for candidate in sessions:
            try:
                closed += await _close_if_due(run, pubsub, candidate, idle_limit)
            except Exception:
                logger.exception(
                    "sessions.auto_close_failed",
                    tenant_id=tenant_id,
                    session_id=candidate.session_id,
                )
    if closed:
        logger.info("sessions.auto_closed", count=closed)


async def _close_if_due(
    run: ScheduledRun, pubsub: PubSub, candidate: IdleSession, idle_limit: timedelta
) -> int:
    tenant_id = candidate.tenant_id
    async with run.db.unit_of_work(tenant_id=tenant_id) as uow:
        # The row lock orders us with a guest's touch: either their activity committed
        # first (and the session is no longer due) or it waits for our close.
        session = await SessionRepository(uow.session, tenant_id).get(
            candidate.session_id, for_update=True
        )
        if session is None or not should_auto_close(
            session.state, session.payment_status, session.last_activity_at, utcnow(), idle_limit
        ):
            return 0
        try:
            await close_session(
                uow,
                pubsub,
                tenant_id,
                session.id,
                actor=SystemActor(name="sessions.auto_close", tenant_id=tenant_id),
                auto_closed=True,
            )
        except ProblemError:  # closed by staff in the meantime
            return 0
    return 1


@scheduled("sessions.purge", daily_at("03:00", per_outlet=True))
async def purge_auto_closed_sessions(run: ScheduledRun) -> None:
    if run.tenant_id is None or run.outlet_id is None:  # pragma: no cover - per-outlet cadence
        return
    async with run.unit_of_work() as uow:
        repo = SessionMaintenanceRepository(uow.session, run.tenant_id)
        purged = await repo.purge_auto_closed(
            run.outlet_id, closed_before=run.now - PURGE_AFTER, now=run.now
        )
        lines, members = await repo.forget_guests(purged)
    if purged:
        logger.info(
            "sessions.purged",
            outlet_id=run.outlet_id,
            sessions=len(purged),
            cart_lines=lines,
            members=members,
        )
