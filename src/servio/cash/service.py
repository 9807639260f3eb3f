"""Cash drawer use cases (PAY-04).

- Drawers: the outlet's physical tills ("Front till"); names are unique per outlet.
- Sessions: a shift on one drawer opens with a float; at most one open session per drawer
  (the database's partial unique index decides a race, `CASH_SESSION_OPEN` for the loser).
- Movements: cash in / cash out (with a reason) and a no-sale (the drawer opened without
  money, approved by a manager's PIN). Cash sales and refunds arrive from payments through
  `record_cash`.
- Close: the cashier counts; the server freezes expected (`cash.state.expected_cash`),
  counted and variance.

Every change locks the session row first (`CashSessionRepository.lock_open`), so a cash
payment racing a close is either counted in the close or refused with `CASH_DRAWER_CLOSED`.
Everything is audited and announced through the outbox; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from servio.approvals import service as approvals
from servio.audit import service as audit
from servio.auth.actors import StaffActor
from servio.cash import state
from servio.cash.exceptions import (
    CashDrawerClosed,
    CashDrawerRequired,
    CashSessionNotFound,
    CashSessionOpen,
    CashShort,
    DrawerInactive,
    DrawerNameTaken,
    DrawerNotFound,
    NoOpenCashSession,
    OutletRequired,
)
from servio.cash.repository import (
    CashSessionRepository,
    DrawerRepository,
    MovementRepository,
    OpenSessionRef,
)
from servio.cash.schemas import (
    CashSessionClose,
    CashSessionCreate,
    CashSessionDetail,
    CashSessionPage,
    CashSessionRead,
    DrawerCreate,
    DrawerList,
    DrawerRead,
    MovementCreate,
    MovementRead,
)
from servio.events import EventName
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.kit.ids import new_id
from servio.models.cash import CashDrawer, CashMovement, CashSession
from servio.worker.dispatch import emit


def acting_outlet(actor: StaffActor) -> str:
    if actor.outlet_id is None:
        raise OutletRequired()
    return actor.outlet_id


# --- drawers -----------------------------------------------------------------------------------


async def list_drawers(uow: UnitOfWork, actor: StaffActor) -> DrawerList:
    outlet_id = acting_outlet(actor)
    drawers = await DrawerRepository(uow.session, actor.tenant_id).list_for_outlet(outlet_id)
    open_by_drawer = {
        ref.drawer_id: ref.id
        for ref in await CashSessionRepository(uow.session, actor.tenant_id).open_in_outlet(
            outlet_id
        )
    }
    return DrawerList(items=[_drawer_read(d, open_by_drawer.get(d.id)) for d in drawers])


async def create_drawer(uow: UnitOfWork, actor: StaffActor, body: DrawerCreate) -> DrawerRead:
    outlet_id = acting_outlet(actor)
    drawer = CashDrawer(id=new_id(), outlet_id=outlet_id, name=body.name, is_active=True)
    if not await DrawerRepository(uow.session, actor.tenant_id).add_unless_taken(drawer):
        raise DrawerNameTaken(body.name)
    await audit.record(
        uow,
        actor,
        "cash.drawer_created",
        subject_type="cash_drawer",
        subject_id=drawer.id,
        after={"name": drawer.name},
        outlet_id=outlet_id,
    )
    return _drawer_read(drawer, None)


def _drawer_read(drawer: CashDrawer, open_session_id: str | None) -> DrawerRead:
    return DrawerRead(
        id=drawer.id,
        outlet_id=drawer.outlet_id,
        name=drawer.name,
        is_active=drawer.is_active,
        open_session_id=open_session_id,
        created_at=drawer.created_at,
    )


# --- sessions ----------------------------------------------------------------------------------


async def open_session(
    uow: UnitOfWork, actor: StaffActor, body: CashSessionCreate
) -> CashSessionDetail:
    """Open a session on a drawer of the acting outlet with its float. 404 for a drawer
    of another outlet, 409 DRAWER_INACTIVE, 409 CASH_SESSION_OPEN when the drawer already
    has an open session (decided by the unique index, also under a race)."""
    outlet_id = acting_outlet(actor)
    tenant_id = actor.tenant_id
    drawers = DrawerRepository(uow.session, tenant_id)
    drawer = await drawers.in_outlet(body.drawer_id, outlet_id)
    if drawer is None:
        raise DrawerNotFound()
    if not drawer.is_active:
        raise DrawerInactive()
    now = utcnow()
    sessions = CashSessionRepository(uow.session, tenant_id)
    row = CashSession(
        id=new_id(),
        outlet_id=outlet_id,
        drawer_id=drawer.id,
        state="open",
        currency=await drawers.outlet_currency(outlet_id),
        opening_float=body.opening_float,
        opened_by=actor.id,
        opened_at=now,
        created_at=now,
        updated_at=now,
    )
    if not await sessions.add_unless_taken(row):  # the one-open-session index refused it
        existing = await sessions.open_for_drawer(drawer.id)
        raise CashSessionOpen(existing.id if existing is not None else None)
    facts = {
        "session_id": row.id,
        "drawer_id": drawer.id,
        "drawer_name": drawer.name,
        "opening_float": row.opening_float,
        "currency": row.currency,
    }
    await audit.record(
        uow,
        actor,
        EventName.CASH_SESSION_OPENED,
        subject_type="cash_session",
        subject_id=row.id,
        after=facts,
        outlet_id=outlet_id,
    )
    await emit(
        uow,
        EventName.CASH_SESSION_OPENED,
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        payload={**facts, "opened_by": actor.id},
        dedupe_key=f"cash.session_opened:{row.id}",
    )
    return await _detail(uow, tenant_id, row)


async def add_movement(
    uow: UnitOfWork, actor: StaffActor, session_id: str, body: MovementCreate
) -> CashSessionDetail:
    """Cash in, cash out or a no-sale on an open session. A cash out larger than the cash
    the drawer should hold is 409 CASH_SHORT; a no-sale spends a manager's approval."""
    outlet_id = acting_outlet(actor)
    tenant_id = actor.tenant_id
    now = utcnow()
    session = await _lock(uow, tenant_id, session_id, outlet_id, now)
    movement_id = new_id()
    approval_id: str | None = None
    if body.type == "cash_out":
        figures = await _figures(uow, tenant_id, session)
        if body.amount > figures.expected:
            raise CashShort(figures.expected, session.currency)
    elif body.type == "no_sale":
        approval = await approvals.consume_approval(
            uow,
            tenant_id=tenant_id,
            outlet_id=outlet_id,
            token=body.approval,
            action="no_sale",
            subject_id=movement_id,
            now=now,
            actor=actor,
        )
        approval_id = approval.id
    movement = CashMovement(
        id=movement_id,
        session_id=session.id,
        outlet_id=outlet_id,
        type=body.type,
        amount=body.amount,
        reason=body.reason,
        staff_id=actor.id,
        approval_id=approval_id,
        created_at=now,
    )
    await MovementRepository(uow.session, tenant_id).add(movement)
    facts = {
        "session_id": session.id,
        "drawer_id": session.drawer_id,
        "movement_id": movement.id,
        "type": movement.type,
        "amount": movement.amount,
        "currency": session.currency,
        "reason": movement.reason,
        "approval_id": approval_id,
    }
    await audit.record(
        uow,
        actor,
        EventName.CASH_MOVEMENT,
        subject_type="cash_session",
        subject_id=session.id,
        after=facts,
        outlet_id=outlet_id,
    )
    await emit(
        uow,
        EventName.CASH_MOVEMENT,
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        payload={**facts, "staff_id": actor.id},
        dedupe_key=f"cash.movement:{movement.id}",
    )
    return await _detail(uow, tenant_id, session)


async def close_session(
    uow: UnitOfWork, actor: StaffActor, session_id: str, body: CashSessionClose
) -> CashSessionDetail:
    """Count and close: expected is computed from every movement under the session's row
    lock and frozen with counted and variance. 409 CASH_SESSION_CLOSED the second time."""
    outlet_id = acting_outlet(actor)
    tenant_id = actor.tenant_id
    now = utcnow()
    session = await _lock(uow, tenant_id, session_id, outlet_id, now)
    figures = await _figures(uow, tenant_id, session)
    variance = figures.variance(body.counted)
    closed = await CashSessionRepository(uow.session, tenant_id).close(
        session.id,
        {
            "counted": body.counted,
            "expected": figures.expected,
            "variance": variance,
            "closed_by": actor.id,
            "closed_at": now,
            "note": body.note,
            "updated_at": now,
        },
    )
    if closed is None:  # pragma: no cover - the row is locked open by `_lock`
        raise CashSessionNotFound()
    facts = {
        "session_id": closed.id,
        "drawer_id": closed.drawer_id,
        "currency": closed.currency,
        "opening_float": figures.opening_float,
        "cash_sales": figures.cash_sales,
        "cash_refunds": figures.cash_refunds,
        "cash_in": figures.cash_in,
        "cash_out": figures.cash_out,
        "expected": figures.expected,
        "counted": body.counted,
        "variance": variance,
    }
    await audit.record(
        uow,
        actor,
        EventName.CASH_SESSION_CLOSED,
        subject_type="cash_session",
        subject_id=closed.id,
        before={"state": "open"},
        after={**facts, "state": "closed", "note": body.note},
        outlet_id=outlet_id,
    )
    await emit(
        uow,
        EventName.CASH_SESSION_CLOSED,
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        payload={**facts, "closed_by": actor.id},
        dedupe_key=f"cash.session_closed:{closed.id}",
    )
    return await _detail(uow, tenant_id, closed)


async def current_session(
    uow: UnitOfWork, actor: StaffActor, drawer_id: str | None
) -> CashSessionDetail:
    """The open session of `drawer_id`; without it the caller's own open session at the
    outlet, else the outlet's only open one. 404 when none is open."""
    outlet_id = acting_outlet(actor)
    sessions = CashSessionRepository(uow.session, actor.tenant_id)
    if drawer_id is not None:
        drawer = await DrawerRepository(uow.session, actor.tenant_id).in_outlet(
            drawer_id, outlet_id
        )
        if drawer is None:
            raise DrawerNotFound()
        found = await sessions.open_for_drawer(drawer.id)
    else:
        ref = _choose(await sessions.open_in_outlet(outlet_id), actor.id)
        found = await sessions.in_outlet(ref.id, outlet_id) if ref is not None else None
    if found is None:
        raise NoOpenCashSession()
    return await _detail(uow, actor.tenant_id, found)


async def get_session(uow: UnitOfWork, actor: StaffActor, session_id: str) -> CashSessionDetail:
    outlet_id = acting_outlet(actor)
    found = await CashSessionRepository(uow.session, actor.tenant_id).in_outlet(
        session_id, outlet_id
    )
    if found is None:
        raise CashSessionNotFound()
    return await _detail(uow, actor.tenant_id, found)


async def list_sessions(
    uow: UnitOfWork,
    actor: StaffActor,
    *,
    state_filter: str | None,
    opened_from: datetime | None,
    opened_to: datetime | None,
    cursor: str | None,
    limit: int,
) -> CashSessionPage:
    outlet_id = acting_outlet(actor)
    tenant_id = actor.tenant_id
    sessions = CashSessionRepository(uow.session, tenant_id)
    rows, next_cursor = await sessions.page(
        outlet_id,
        state=state_filter,
        opened_from=opened_from,
        opened_to=opened_to,
        cursor=cursor,
        limit=limit,
    )
    ids = [row.id for row in rows]
    totals = await MovementRepository(uow.session, tenant_id).totals(ids)
    names = await sessions.drawer_names([row.drawer_id for row in rows])
    return CashSessionPage(
        items=[_read(row, names.get(row.drawer_id, ""), totals.get(row.id, [])) for row in rows],
        next_cursor=next_cursor,
    )


# --- cash from payments (H4 calls this) ----------------------------------------------------------


async def record_cash(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    outlet_id: str,
    staff_id: str | None,
    kind: Literal["sale", "refund"],
    amount: int,
    payment_id: str | None = None,
    refund_id: str | None = None,
    drawer_id: str | None = None,
) -> str:
    """Put a cash sale into (or a cash refund out of) an open drawer; returns the cash
    session id used: `drawer_id`'s open session when named, else the staff member's own
    open session at the outlet, else the outlet's only open session.

    409 CASH_DRAWER_CLOSED (hint "open a drawer with its float first") when none is open,
    409 CASH_DRAWER_REQUIRED when several are open and none is the caller's, 409 CASH_SHORT
    for a refund larger than the cash the drawer should hold. Runs under the session's row
    lock, so it is either counted in a concurrent close or refused."""
    if kind not in ("sale", "refund"):
        raise ValueError(f"record_cash kind must be sale or refund, not {kind!r}")
    if amount <= 0:
        raise ValueError("record_cash amount must be positive")
    sessions = CashSessionRepository(uow.session, tenant_id)
    if drawer_id is not None:
        drawer = await DrawerRepository(uow.session, tenant_id).in_outlet(drawer_id, outlet_id)
        if drawer is None:
            raise DrawerNotFound()
        named = await sessions.open_for_drawer(drawer.id)
        chosen = named.id if named is not None else None
    else:
        open_refs = await sessions.open_in_outlet(outlet_id)
        ref = _choose(open_refs, staff_id)
        if ref is None and len(open_refs) > 1:
            raise CashDrawerRequired()
        chosen = ref.id if ref is not None else None
    if chosen is None:
        raise CashDrawerClosed()
    now = utcnow()
    if not await sessions.lock_open(chosen, outlet_id, now):
        raise CashDrawerClosed()  # closed between the pick and the lock
    session = await sessions.in_outlet(chosen, outlet_id)
    assert session is not None  # locked a moment ago
    if kind == "refund":
        figures = await _figures(uow, tenant_id, session)
        if amount > figures.expected:
            raise CashShort(figures.expected, session.currency)
    await MovementRepository(uow.session, tenant_id).add(
        CashMovement(
            id=new_id(),
            session_id=session.id,
            outlet_id=outlet_id,
            type=kind,
            amount=amount,
            reason="",
            payment_id=payment_id,
            refund_id=refund_id,
            staff_id=staff_id,
            created_at=now,
        )
    )
    return session.id


# --- helpers -----------------------------------------------------------------------------------


def _choose(open_refs: Sequence[OpenSessionRef], staff_id: str | None) -> OpenSessionRef | None:
    """The staff member's own open session (newest), else the only open one."""
    own = [ref for ref in open_refs if staff_id is not None and ref.opened_by == staff_id]
    if own:
        return own[0]
    if len(open_refs) == 1:
        return open_refs[0]
    return None


async def _lock(
    uow: UnitOfWork, tenant_id: str, session_id: str, outlet_id: str, now: datetime
) -> CashSession:
    """The session, row-locked and open; 404 when it is not the outlet's, 409
    CASH_SESSION_CLOSED when it is closed."""
    sessions = CashSessionRepository(uow.session, tenant_id)
    locked = await sessions.lock_open(session_id, outlet_id, now)
    session = await sessions.in_outlet(session_id, outlet_id)
    if session is None:
        raise CashSessionNotFound()
    if not locked:
        state.check_close(session.state)  # raises CASH_SESSION_CLOSED for a closed one
        raise CashSessionNotFound()  # pragma: no cover - not locked yet open is impossible
    return session


async def _figures(uow: UnitOfWork, tenant_id: str, session: CashSession) -> state.DrawerFigures:
    totals = await MovementRepository(uow.session, tenant_id).totals([session.id])
    return state.figures(session.opening_float, totals.get(session.id, []))


def _read(
    session: CashSession, drawer_name: str, totals: Sequence[tuple[str, int]]
) -> CashSessionRead:
    figures = state.figures(session.opening_float, totals)
    closed = session.state == "closed"
    return CashSessionRead(
        id=session.id,
        outlet_id=session.outlet_id,
        drawer_id=session.drawer_id,
        drawer_name=drawer_name,
        state="closed" if closed else "open",
        currency=session.currency,
        opened_by=session.opened_by,
        opened_at=session.opened_at,
        closed_by=session.closed_by,
        closed_at=session.closed_at,
        note=session.note,
        opening_float=figures.opening_float,
        cash_sales=figures.cash_sales,
        cash_refunds=figures.cash_refunds,
        cash_in=figures.cash_in,
        cash_out=figures.cash_out,
        # Frozen at close (the figures cannot move after, but the stored value is the record).
        expected=session.expected if closed and session.expected is not None else figures.expected,
        counted=session.counted,
        variance=session.variance,
    )


def _movement_read(movement: CashMovement) -> MovementRead:
    return MovementRead(
        id=movement.id,
        type=movement.type,
        amount=movement.amount,
        direction=state.DIRECTION.get(movement.type, 0),
        reason=movement.reason,
        payment_id=movement.payment_id,
        refund_id=movement.refund_id,
        staff_id=movement.staff_id,
        approval_id=movement.approval_id,
        created_at=movement.created_at,
    )


async def _detail(uow: UnitOfWork, tenant_id: str, session: CashSession) -> CashSessionDetail:
    movements = await MovementRepository(uow.session, tenant_id).of_session(session.id)
    names: Mapping[str, str] = await CashSessionRepository(uow.session, tenant_id).drawer_names(
        [session.drawer_id]
    )
    totals = [(m.type, m.amount) for m in movements]
    summary = _read(session, names.get(session.drawer_id, ""), totals)
    return CashSessionDetail(
        **summary.model_dump(), movements=[_movement_read(m) for m in movements]
    )
