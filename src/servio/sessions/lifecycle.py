"""Session lifecycle steps shared by the guest routes, the staff routes and the watchdog:
finding a guest's live session, closing and restoring, and announcing changes after commit
to the table (`session_channel`) and to the outlet's staff grid (`staff_channel`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from servio.audit import service as audit
from servio.auth.actors import GuestActor, StaffActor, SystemActor
from servio.events import EventName
from servio.kit.clock import rfc3339, utcnow
from servio.kit.db import UnitOfWork
from servio.models.table_session import TableSession
from servio.realtime.messages import SESSION_CLOSED, SESSION_OPENED
from servio.realtime.publish import publish_after_commit
from servio.realtime.pubsub import PubSub, session_channel, staff_channel
from servio.sessions.exceptions import (
    SessionClosed,
    SessionExpired,
    SessionNotClosed,
    SessionNotFound,
    SessionPurged,
    TableBusy,
)
from servio.sessions.repository import SessionRepository
from servio.worker.dispatch import emit


def session_facts(session: TableSession) -> dict[str, Any]:
    """What staff screens and events say about a session."""
    return {
        "session_id": session.id,
        "service_point_id": session.service_point_id,
        "state": session.state,
        "payment_status": session.payment_status,
        "auto_closed": session.auto_closed,
        "opened_at": rfc3339(session.created_at),
        "last_activity_at": rfc3339(session.last_activity_at),
        "closed_at": rfc3339(session.closed_at) if session.closed_at else None,
    }


def publish_to_table(
    uow: UnitOfWork, pubsub: PubSub, session_id: str, type_: str, data: Mapping[str, Any]
) -> None:
    """Guest socket message for everyone at the table, after commit."""
    publish_after_commit(uow, pubsub, session_channel(session_id), type_, data)


def publish_to_staff(
    uow: UnitOfWork, pubsub: PubSub, outlet_id: str, type_: str, data: Mapping[str, Any]
) -> None:
    """Staff grid message for the outlet, after commit."""
    publish_after_commit(uow, pubsub, staff_channel(outlet_id), type_, data)


async def guest_session(uow: UnitOfWork, actor: GuestActor) -> TableSession:
    """The caller's session, readable while active. A closed, purged or vanished session is
    410 SESSION_EXPIRED: the credential is genuine but its sitting is over."""
    session = await SessionRepository(uow.session, actor.tenant_id).get(actor.session_id)
    if session is None or session.state != "active":
        raise SessionExpired()
    return session


async def touch_guest_session(uow: UnitOfWork, actor: GuestActor) -> TableSession:
    """`guest_session` for a write: records activity and locks the session row, so writes
    at one table (joins, cart edits, orders) apply one at a time. 410 when not active."""
    session = await SessionRepository(uow.session, actor.tenant_id).touch(
        actor.session_id, utcnow()
    )
    if session is None:
        raise SessionExpired()
    return session


async def announce_opened(uow: UnitOfWork, pubsub: PubSub, session: TableSession) -> None:
    publish_to_staff(uow, pubsub, session.outlet_id, SESSION_OPENED, session_facts(session))
    await emit(
        uow,
        EventName.SESSION_OPENED,
        tenant_id=session.tenant_id,
        outlet_id=session.outlet_id,
        payload=session_facts(session),
        dedupe_key=f"session.opened:{session.id}",
    )


async def close_session(
    uow: UnitOfWork,
    pubsub: PubSub,
    tenant_id: str,
    session_id: str,
    *,
    actor: StaffActor | GuestActor | SystemActor,
    auto_closed: bool = False,
) -> TableSession:
    """active → closed (staff Close, Start new, or the watchdog with `auto_closed`).
    One atomic UPDATE: of many concurrent closes exactly one succeeds, the rest get
    409 SESSION_CLOSED. Audited; `session_closed` goes to the table and the staff grid."""
    repo = SessionRepository(uow.session, tenant_id)
    closed = await repo.close(
        session_id,
        now=utcnow(),
        closed_by=actor.id if isinstance(actor, StaffActor) else None,
        auto_closed=auto_closed,
    )
    if closed is None:
        if await repo.get(session_id) is None:
            raise SessionNotFound()
        raise SessionClosed()
    facts = session_facts(closed)
    await audit.record(
        uow,
        actor,
        EventName.SESSION_CLOSED,
        subject_type="table_session",
        subject_id=closed.id,
        before={"state": "active"},
        after={"state": "closed", "auto_closed": auto_closed},
        outlet_id=closed.outlet_id,
        tenant_id=tenant_id,
    )
    await emit(
        uow,
        EventName.SESSION_CLOSED,
        tenant_id=tenant_id,
        outlet_id=closed.outlet_id,
        payload=facts,
        dedupe_key=f"session.closed:{closed.id}:{closed.version}",
    )
    message = {"session_id": closed.id, "auto_closed": auto_closed}
    publish_to_table(uow, pubsub, closed.id, SESSION_CLOSED, message)
    publish_to_staff(uow, pubsub, closed.outlet_id, SESSION_CLOSED, facts)
    return closed


async def restore_session(
    uow: UnitOfWork, pubsub: PubSub, actor: StaffActor, session_id: str
) -> TableSession:
    """closed → active (staff only). 409 SESSION_NOT_CLOSED when it is not closed,
    410 when purged, 409 TABLE_BUSY when another session is live at the table."""
    repo = SessionRepository(uow.session, actor.tenant_id)
    try:
        restored = await repo.restore(session_id, now=utcnow())
    except IntegrityError:
        raise TableBusy() from None
    if restored is None:
        current = await repo.get(session_id)
        if current is None or current.outlet_id != actor.outlet_id:
            raise SessionNotFound()
        if current.state == "purged":
            raise SessionPurged()
        raise SessionNotClosed()
    await audit.record(
        uow,
        actor,
        EventName.SESSION_RESTORED,
        subject_type="table_session",
        subject_id=restored.id,
        before={"state": "closed"},
        after={"state": "active"},
        outlet_id=restored.outlet_id,
    )
    publish_to_staff(uow, pubsub, restored.outlet_id, SESSION_OPENED, session_facts(restored))
    return restored
