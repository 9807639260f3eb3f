"""The `live` block of the floor map: what is happening at each point right now, read from
the live table sessions (one query for all points, keyed by service point id, plus the
outlet's idle limit when any session is live)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from servio.floor.schemas import LiveState
from servio.kit.clock import as_utc, utcnow
from servio.kit.db import UnitOfWork
from servio.platform.service import get_effective_settings
from servio.sessions.repository import SessionRepository
from servio.sessions.state import is_amber, is_stale

IDLE_SETTING = "auto_close_idle_mins"


async def live_states(
    uow: UnitOfWork, tenant_id: str, outlet_id: str, point_ids: Sequence[str]
) -> dict[str, LiveState]:
    """`{service_point_id: LiveState}`; points missing from the result have no session."""
    sessions = await SessionRepository(uow.session, tenant_id).live_for_points(point_ids)
    sessions = {pid: s for pid, s in sessions.items() if s.outlet_id == outlet_id}
    if not sessions:
        return {}
    settings = await get_effective_settings(uow, tenant_id, outlet_id)
    idle_limit = timedelta(minutes=int(settings[IDLE_SETTING]))
    now = utcnow()
    return {
        point_id: LiveState(
            session_state=(
                "stale"
                if is_stale(session.state, as_utc(session.last_activity_at), now, idle_limit)
                else "active"
            ),
            since=as_utc(session.created_at),
            session_id=session.id,
            payment_status=session.payment_status,
            amber=is_amber(
                session.state,
                session.payment_status,
                as_utc(session.first_order_at) if session.first_order_at else None,
                now,
            ),
            last_activity_at=as_utc(session.last_activity_at),
        )
        for point_id, session in sessions.items()
    }
