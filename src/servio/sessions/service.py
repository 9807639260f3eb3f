"""Use cases of the table session API (seed 004 §3-6, api.md "The guest journey contract"):
a guest scans the table's QR code and opens or joins its session, joins with a nickname,
edits their part of the shared cart, starts over after a stale sitting; staff see the
sessions of their outlet, close and restore them, and switch QR ordering off.

Races are decided by the database, never by a read followed by a write:
- "create or join" is an INSERT that the unique `live_point_id` lets only one scan win;
- every guest write first runs `touch_guest_session` (an UPDATE of the active session),
  which locks the session row, so joins and cart edits at one table apply one at a time;
- close and restore are single conditional UPDATEs (`sessions.lifecycle`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from servio.audit import service as audit
from servio.auth.actors import GuestActor, StaffActor
from servio.auth.tokens import issue_guest_token
from servio.config import Settings
from servio.events import EventName
from servio.floor.qr import resolve_qr_token
from servio.kit.clock import as_utc, get_clock, rfc3339, utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound, ProblemError
from servio.kit.ids import new_id
from servio.menu.pricing import PricingError, price_line
from servio.menu.repository import outlet_menu_header
from servio.menu.service import modifier_groups_at, price_snapshot_at
from servio.models.cart_line import CartLine
from servio.models.order import Order, OrderLine
from servio.models.outlet import Outlet
from servio.models.service_point import ServicePoint
from servio.models.session_member import SessionMember
from servio.models.table_session import TableSession
from servio.notifications.guest_update_service import updates_available
from servio.platform.exceptions import OutletRequired
from servio.platform.flags import QR_ORDERING
from servio.platform.hours import OpeningHours
from servio.platform.service import get_effective_settings, is_enabled
from servio.realtime.messages import ALERT, ALERT_QR_ORDERING, CART_UPDATED, MEMBER_JOIN
from servio.realtime.pubsub import PubSub
from servio.sessions.cart import table_cart
from servio.sessions.exceptions import (
    OutletClosed,
    SessionExpired,
    SessionNotFound,
    SessionNotStale,
    TableDisabled,
)
from servio.sessions.lifecycle import (
    announce_opened,
    close_session,
    guest_session,
    publish_to_staff,
    publish_to_table,
    restore_session,
    touch_guest_session,
)
from servio.sessions.repository import (
    CartRepository,
    MemberRepository,
    SessionOrderRepository,
    SessionPlaceRepository,
    SessionRepository,
)
from servio.sessions.schemas import (
    NICKNAME_MAX_LEN,
    CartWrite,
    FiredSummary,
    MemberCreate,
    MemberJoined,
    MemberRead,
    OrderingRead,
    OrderLineSummary,
    OutletSummary,
    SessionDetailRead,
    SessionGridList,
    SessionGridRead,
    SessionOrderRead,
    TableCartRead,
    TableSummary,
)
from servio.sessions.schemas import GuestSessionRead as GuestSessionRead
from servio.sessions.schemas import GuestSessionView as GuestSessionView
from servio.sessions.state import is_amber, is_stale, reported_state

log = logging.getLogger(__name__)

IDLE_SETTING = "auto_close_idle_mins"
PASS_SETTING = "daily_pass_required"
NICKNAME_SETTING = "guest_nickname_max_len"
# More phones than this at one table is a prank or a bug, not a party.
MAX_MEMBERS = 30
# GUEST-06: how long an auto-closed, unpaid sitting with orders keeps greeting the next scan.
PREVIOUS_BILL_WINDOW = timedelta(hours=24)
# The staff grid's "recently closed" column.
CLOSED_WINDOW = timedelta(hours=24)
# Worst first: the grid shows the most worrying firing state of a table's orders.
_FIRED_RANK: dict[str, int] = {"acked": 0, "pending": 1, "retrying": 2}
_CREATE_ATTEMPTS = 3

GridFilter = Literal["active", "closed", "all"]


class TableFull(ProblemError):
    def __init__(self) -> None:
        super().__init__(
            409,
            "TABLE_FULL",
            f"this table already has {MAX_MEMBERS} guests",
            hint="join with a phone that is already at the table",
        )


@dataclass(frozen=True)
class Place:
    """The table a session belongs to, and its outlet."""

    point: ServicePoint
    outlet: Outlet


@dataclass(frozen=True)
class Opened:
    """A guest's view of the table after a scan or Start new; `created` tells 201 from 200."""

    created: bool
    body: GuestSessionRead


# --- pure rules ------------------------------------------------------------------------------


def outlet_is_open(
    business_hours: Mapping[str, Any], holidays: Iterable[str], local_now: datetime
) -> tuple[bool, datetime | None]:
    """Whether guests may open a table now, and if not, when they next may.

    An outlet whose opening hours were never set (an empty `business_hours`, as a freshly
    created outlet has before the wizard's hours step) is not gated: turning every guest away
    until someone fills in a form would be the worse surprise. Once any day is set, the
    stored rules apply exactly (a missing day is closed, holidays are closed)."""
    if not business_hours:
        return True, None
    try:
        hours = OpeningHours.from_settings(business_hours, holidays)
    except ValueError:  # validated on every write; a hand-edited row must not lock guests out
        log.warning("unreadable opening hours; not gating guests", exc_info=True)
        return True, None
    if hours.is_open(local_now):
        return True, None
    return False, hours.next_opening(local_now)


def shows_previous_bill(session: TableSession, now: datetime, has_orders: bool) -> bool:
    """GUEST-06: the watchdog closed this sitting while its bill was still open. Until
    someone presses Start new (or 24 h pass) the next scan sees it as `stale`, so nobody
    walks away from an unpaid bill by accident."""
    return (
        session.state == "closed"
        and session.auto_closed
        and session.closed_by is None
        and session.payment_status != "settled"
        and session.closed_at is not None
        and now - as_utc(session.closed_at) < PREVIOUS_BILL_WINDOW
        and has_orders
    )


def worst_fired(orders: Iterable[Order]) -> FiredSummary | None:
    worst: FiredSummary | None = None
    for order in orders:
        fired: FiredSummary = order.fired if order.fired in _FIRED_RANK else "acked"  # type: ignore[assignment]
        if worst is None or _FIRED_RANK[fired] > _FIRED_RANK[worst]:
            worst = fired
    return worst


def _idle_limit(effective: Mapping[str, Any]) -> timedelta:
    return timedelta(minutes=int(effective[IDLE_SETTING]))


def _live_orders(orders: Iterable[Order]) -> list[Order]:
    return [o for o in orders if o.status != "cancelled"]


# --- shared steps ----------------------------------------------------------------------------


async def _gate(uow: UnitOfWork, place: Place) -> None:
    """423 when the table or the outlet's QR ordering is switched off, 503 outside hours."""
    outlet, point = place.outlet, place.point
    if point.state == "disabled" or not outlet.qr_ordering_enabled:
        raise TableDisabled()
    if not await is_enabled(uow, outlet.tenant_id, outlet.id, QR_ORDERING):
        raise TableDisabled()
    local_now = get_clock().local(outlet.timezone)
    is_open, next_opening = outlet_is_open(outlet.business_hours, outlet.holidays, local_now)
    if not is_open:
        raise OutletClosed(rfc3339(next_opening) if next_opening is not None else None)


async def _place_for_token(uow: UnitOfWork, settings: Settings, qr_token: str) -> Place:
    """The table behind a QR token (404 for unknown, forged, rotated, deleted, not a table,
    or an archived outlet); the unit of work is scoped to its tenant from here on."""
    point = await resolve_qr_token(uow, settings, qr_token, kind="table")
    outlet = await SessionPlaceRepository(uow.session, point.tenant_id).outlet(point.outlet_id)
    if outlet is None or outlet.status == "archived":
        raise NotFound("service point")
    return Place(point, outlet)


async def _place_of(uow: UnitOfWork, session: TableSession) -> Place:
    places = SessionPlaceRepository(uow.session, session.tenant_id)
    point = (await places.points([session.service_point_id])).get(session.service_point_id)
    outlet = await places.outlet(session.outlet_id)
    if point is None or outlet is None:
        raise SessionNotFound()
    return Place(point, outlet)


async def _open_or_join(
    uow: UnitOfWork, pubsub: PubSub, place: Place, effective: Mapping[str, Any]
) -> tuple[TableSession, bool]:
    """The live session at the table: a new one when none is live (True), else the one
    another scan opened first (False). Concurrent scans insert at once; the unique
    `live_point_id` lets exactly one row in and the others read the winner."""
    repo = SessionRepository(uow.session, place.point.tenant_id)
    for _ in range(_CREATE_ATTEMPTS):
        live = await repo.live_for_point(place.point.id)
        if live is not None:
            return live, False
        now = utcnow()
        session_id = new_id()
        inserted = await repo.insert_live(
            {
                "id": session_id,
                "outlet_id": place.outlet.id,
                "service_point_id": place.point.id,
                "daily_pass_required": bool(effective[PASS_SETTING]),
                "last_activity_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
        if inserted:
            session = await repo.get(session_id)
            assert session is not None  # inserted above in this transaction
            await announce_opened(uow, pubsub, session)
            return session, True
        # Lost the race to another scan; its session is live now (unless it was closed in
        # the instant between, in which case go round again).
    raise ProblemError(
        503, "SERVICE_UNAVAILABLE", "the table is busy right now", hint="scan again"
    )  # pragma: no cover - needs three close-after-open races in a row


def _order_view(order: Order, lines: Sequence[OrderLine]) -> SessionOrderRead:
    fired: FiredSummary = order.fired if order.fired in _FIRED_RANK else "acked"  # type: ignore[assignment]
    return SessionOrderRead(
        order_id=order.id,
        status=order.status,
        fired=fired,
        ticket_no=order.ticket_no,
        eta_secs=order.eta_secs,
        currency=order.currency,
        subtotal=order.subtotal,
        item_count=order.item_count,
        created_at=as_utc(order.created_at),
        lines=[
            OrderLineSummary(
                name=line.name,
                qty=line.qty,
                member_id=line.member_id,
                note=line.note,
                modifiers=[str(m.get("name", "")) for m in line.modifiers or []],
                line_total=line.line_total,
                status=line.status,
            )
            for line in lines
        ],
    )


async def _orders_view(uow: UnitOfWork, session: TableSession) -> list[SessionOrderRead]:
    """The session's orders with their lines (two queries)."""
    repo = SessionOrderRepository(uow.session, session.tenant_id)
    orders = await repo.for_session(session.id)
    by_order: dict[str, list[OrderLine]] = defaultdict(list)
    for line in await repo.lines_for_orders(o.id for o in orders):
        by_order[line.order_id].append(line)
    return [_order_view(order, by_order[order.id]) for order in orders]


def _member_read(member: SessionMember) -> MemberRead:
    return MemberRead(
        member_id=member.id,
        nickname=member.nickname,
        is_host=member.is_host,
        joined_at=as_utc(member.created_at),
    )


async def _guest_view(
    uow: UnitOfWork, settings: Settings, session: TableSession, place: Place, *, stale: bool
) -> GuestSessionView:
    members = await MemberRepository(uow.session, session.tenant_id).for_session(session.id)
    outlet, point = place.outlet, place.point
    return GuestSessionView(
        session_id=session.id,
        session_state="stale" if stale else "active",
        payment_status=session.payment_status,
        outlet=OutletSummary(
            id=outlet.id,
            name=outlet.name,
            currency=outlet.currency,
            locale=outlet.locale,
            timezone=outlet.timezone,
        ),
        table=TableSummary(id=point.id, kind=point.kind, label=point.label),
        members=[_member_read(m) for m in members],
        cart=await table_cart(uow, session, members=members),
        orders=await _orders_view(uow, session),
        daily_pass_required=session.daily_pass_required,
        pass_validated=session.pass_validated,
        whatsapp_updates_available=await updates_available(
            uow, settings, session.tenant_id, session.outlet_id
        ),
    )


async def _guest_read(
    uow: UnitOfWork, settings: Settings, session: TableSession, place: Place, *, stale: bool
) -> GuestSessionRead:
    view = await _guest_view(uow, settings, session, place, stale=stale)
    token = issue_guest_token(
        settings,
        session_id=session.id,
        tenant_id=session.tenant_id,
        outlet_id=session.outlet_id,
    )
    return GuestSessionRead(**dict(view), guest_token=token.token)


def _is_live_stale(session: TableSession, effective: Mapping[str, Any]) -> bool:
    return is_stale(
        session.state, as_utc(session.last_activity_at), utcnow(), _idle_limit(effective)
    )


async def _previous_bill(uow: UnitOfWork, session: TableSession) -> bool:
    if not shows_previous_bill(session, utcnow(), has_orders=True):
        return False
    orders = SessionOrderRepository(uow.session, session.tenant_id)
    return session.first_order_at is not None or await orders.has_orders(session.id)


def _own_session_id(actor: GuestActor, session_id: str) -> None:
    """A guest credential acts on its own session only; any other id is not found."""
    if session_id != actor.session_id:
        raise SessionNotFound()


# --- guest use cases ---------------------------------------------------------------------------


async def scan_table(uow: UnitOfWork, settings: Settings, pubsub: PubSub, qr_token: str) -> Opened:
    """`GET /t/{qr_token}`: open the table's session, or join the one that is live.

    - 404 for an unknown, forged, rotated or deleted token, or one that is not a table's;
    - 423 `TABLE_DISABLED` when the table is disabled or the outlet's QR ordering is off;
    - 503 `OUTLET_CLOSED` (`reason: "closed"`) outside the outlet's opening hours;
    - a live session is joined (`created=False`) and reported `stale` when idle longer than
      the outlet's `auto_close_idle_mins`;
    - GUEST-06: with no live session, when the table's latest session was AUTO-closed less
      than 24 h ago with orders still unpaid, THAT session is returned (`created=False`,
      `session_state: "stale"`) so the phone offers "Previous bill exists - Start new?";
      its guest token is good for `POST /session/{id}/start_new` only;
    - otherwise a new session is opened (`created=True`) and announced to the staff grid.

    The scan itself is no guest activity: looking at the table does not keep it open."""
    place = await _place_for_token(uow, settings, qr_token)
    await _gate(uow, place)
    tenant_id = place.point.tenant_id
    effective = await get_effective_settings(uow, tenant_id, place.outlet.id)
    repo = SessionRepository(uow.session, tenant_id)
    live = await repo.live_for_point(place.point.id)
    if live is None:
        latest = await repo.latest_for_point(place.point.id)
        if latest is not None and await _previous_bill(uow, latest):
            return Opened(False, await _guest_read(uow, settings, latest, place, stale=True))
    session, created = (
        (live, False) if live is not None else await _open_or_join(uow, pubsub, place, effective)
    )
    stale = _is_live_stale(session, effective)
    return Opened(created, await _guest_read(uow, settings, session, place, stale=stale))


async def start_new(
    uow: UnitOfWork, settings: Settings, pubsub: PubSub, actor: GuestActor, session_id: str
) -> Opened:
    """`POST /session/{id}/start_new`: close a stale sitting and open a fresh one.

    Stale means active and idle longer than the limit, or a GUEST-06 previous bill (see
    `scan_table`). Anything still in use is 409 `SESSION_NOT_STALE`; a sitting that ended
    otherwise (staff closed it, another phone already started over, purged) is 410
    `SESSION_EXPIRED` — scan again. The new session passes the same gates as a scan.
    `created=False` when another phone's Start new opened the fresh session first."""
    _own_session_id(actor, session_id)
    repo = SessionRepository(uow.session, actor.tenant_id)
    session = await repo.get(session_id, for_update=True)
    if session is None or session.outlet_id != actor.outlet_id:
        raise SessionExpired()
    effective = await get_effective_settings(uow, actor.tenant_id, session.outlet_id)
    if session.state == "active":
        if not _is_live_stale(session, effective):
            raise SessionNotStale()
        place = await _place_of(uow, session)
        await _gate(uow, place)
        await close_session(uow, pubsub, actor.tenant_id, session.id, actor=actor)
    elif await _previous_bill(uow, session):
        place = await _place_of(uow, session)
        await _gate(uow, place)
    else:
        raise SessionExpired()
    fresh, created = await _open_or_join(uow, pubsub, place, effective)
    return Opened(created, await _guest_read(uow, settings, fresh, place, stale=False))


async def read_session(
    uow: UnitOfWork, settings: Settings, actor: GuestActor, session_id: str
) -> GuestSessionView:
    """`GET /session/{id}`: the table re-read after a reconnect (no new credential)."""
    _own_session_id(actor, session_id)
    session = await guest_session(uow, actor)
    effective = await get_effective_settings(uow, actor.tenant_id, session.outlet_id)
    place = await _place_of(uow, session)
    stale = _is_live_stale(session, effective)
    return await _guest_view(uow, settings, session, place, stale=stale)


def _nickname_too_long(limit: int) -> ProblemError:
    message = f"nickname must be at most {limit} characters"
    return ProblemError(
        422,
        "VALIDATION_ERROR",
        "the request is not valid",
        title="Unprocessable Content",
        extra={
            "errors": [{"loc": ["body", "nickname"], "msg": message, "type": "string_too_long"}]
        },
    )


async def join_member(
    uow: UnitOfWork, settings: Settings, pubsub: PubSub, actor: GuestActor, body: MemberCreate
) -> MemberJoined:
    """`POST /member`: join the table with a nickname; the first member is the host.
    The session row lock (`touch_guest_session`) makes the member cap exact."""
    _own_session_id(actor, body.session_id)
    session = await touch_guest_session(uow, actor)
    effective = await get_effective_settings(uow, actor.tenant_id, session.outlet_id)
    limit = min(NICKNAME_MAX_LEN, int(effective[NICKNAME_SETTING]))
    if len(body.nickname) > limit:
        raise _nickname_too_long(limit)
    members = MemberRepository(uow.session, actor.tenant_id)
    if await members.count_for_session(session.id) >= MAX_MEMBERS:
        raise TableFull()
    member = await members.join(session.id, body.nickname, utcnow())
    publish_to_table(
        uow, pubsub, session.id, MEMBER_JOIN, {"member_id": member.id, "nickname": member.nickname}
    )
    token = issue_guest_token(
        settings,
        session_id=session.id,
        tenant_id=session.tenant_id,
        outlet_id=session.outlet_id,
        member_id=member.id,
    )
    return MemberJoined(member_id=member.id, member_token=token.token, is_host=member.is_host)


async def _cart_lines(
    uow: UnitOfWork,
    session: TableSession,
    member_id: str,
    body: CartWrite,
    menu_version: int,
) -> list[CartLine]:
    """Every line checked against the menu as it is now (unknown, deleted, out-of-stock
    items and bad modifier choices are refused with the failing line's index)."""
    tenant_id, outlet_id = session.tenant_id, session.outlet_id
    snapshots = (
        await price_snapshot_at(
            uow, tenant_id, outlet_id, menu_version, {i.menu_item_id for i in body.items}
        )
        if body.items
        else {}
    )
    chosen = {m for item in body.items for m in item.modifiers}
    known = (
        await modifier_groups_at(uow, tenant_id, outlet_id, menu_version, chosen) if chosen else {}
    )
    now = utcnow()
    lines: list[CartLine] = []
    for index, item in enumerate(body.items):
        try:
            price_line(snapshots, item.menu_item_id, item.modifiers, modifier_groups=known)
        except PricingError as problem:
            problem.extra["line"] = index
            raise
        lines.append(
            CartLine(
                tenant_id=tenant_id,
                session_id=session.id,
                member_id=member_id,
                menu_item_id=item.menu_item_id,
                qty=item.qty,
                note=item.note,
                modifiers=list(item.modifiers),
                position=index,
                created_at=now,
            )
        )
    return lines


async def replace_cart(
    uow: UnitOfWork, pubsub: PubSub, actor: GuestActor, session_id: str, body: CartWrite
) -> TableCartRead:
    """`PUT /session/{id}/cart`: replace the caller's own lines; the whole table's cart,
    priced by the server, is the reply and goes to every phone at the table."""
    _own_session_id(actor, session_id)
    assert actor.member_id is not None  # the route requires a member token
    session = await touch_guest_session(uow, actor)
    # Read once: prices every line (through `menu.price_cache`) and names the currency.
    header = await outlet_menu_header(uow.session, session.outlet_id, session.tenant_id)
    if header is None:
        raise SessionExpired()  # pragma: no cover - a session's outlet is never deleted
    lines = await _cart_lines(uow, session, actor.member_id, body, header[0])
    await CartRepository(uow.session, actor.tenant_id).replace_for_member(
        session.id, actor.member_id, lines
    )
    cart = await table_cart(uow, session, header=header)
    publish_to_table(uow, pubsub, session.id, CART_UPDATED, {"cart": cart.model_dump(mode="json")})
    return cart


async def socket_session_is_live(uow: UnitOfWork, actor: GuestActor) -> bool:
    """Whether a guest socket may follow its session (active; closed or purged is 4410)."""
    session = await SessionRepository(uow.session, actor.tenant_id).get(actor.session_id)
    return (
        session is not None and session.state == "active" and session.outlet_id == actor.outlet_id
    )


# --- staff use cases -----------------------------------------------------------------------------


def staff_outlet(actor: StaffActor) -> str:
    if actor.outlet_id is None:
        raise OutletRequired()
    return actor.outlet_id


async def _staff_session(uow: UnitOfWork, actor: StaffActor, session_id: str) -> TableSession:
    """A session of the caller's outlet; another outlet's or tenant's is simply not found."""
    outlet_id = staff_outlet(actor)
    session = await SessionRepository(uow.session, actor.tenant_id).get(session_id)
    if session is None or session.outlet_id != outlet_id:
        raise SessionNotFound()
    return session


async def _grid_items(
    uow: UnitOfWork, tenant_id: str, outlet_id: str, sessions: Sequence[TableSession]
) -> list[SessionGridRead]:
    """Grid rows for `sessions` in four queries, however many there are."""
    if not sessions:
        return []
    ids = [s.id for s in sessions]
    effective = await get_effective_settings(uow, tenant_id, outlet_id)
    idle_limit = _idle_limit(effective)
    points = await SessionPlaceRepository(uow.session, tenant_id).points(
        s.service_point_id for s in sessions
    )
    counts = await MemberRepository(uow.session, tenant_id).counts_for_sessions(ids)
    by_session: dict[str, list[Order]] = defaultdict(list)
    for order in await SessionOrderRepository(uow.session, tenant_id).for_sessions(ids):
        if order.session_id is not None:
            by_session[order.session_id].append(order)
    now = utcnow()
    items: list[SessionGridRead] = []
    for session in sessions:
        point = points.get(session.service_point_id)
        orders = _live_orders(by_session.get(session.id, []))
        first_order_at: datetime | None = (
            as_utc(session.first_order_at) if session.first_order_at is not None else None
        )
        if first_order_at is None and orders:
            first_order_at = min(as_utc(o.created_at) for o in orders)
        items.append(
            SessionGridRead(
                session_id=session.id,
                service_point_id=session.service_point_id,
                table_label=point.label if point is not None else "",
                table_kind=point.kind if point is not None else "table",
                table_state=point.state if point is not None else "open",
                state=reported_state(
                    session.state, as_utc(session.last_activity_at), now, idle_limit
                ),
                payment_status=session.payment_status,
                auto_closed=session.auto_closed,
                amber=is_amber(session.state, session.payment_status, first_order_at, now),
                opened_at=as_utc(session.created_at),
                last_activity_at=as_utc(session.last_activity_at),
                first_order_at=first_order_at,
                closed_at=as_utc(session.closed_at) if session.closed_at else None,
                member_count=counts.get(session.id, 0),
                order_count=len(orders),
                ticket_nos=[o.ticket_no for o in orders if o.ticket_no],
                fired=worst_fired(orders),
                subtotal=sum(o.subtotal for o in orders),
            )
        )
    return items


async def list_grid(uow: UnitOfWork, actor: StaffActor, state: GridFilter) -> SessionGridList:
    """`GET /api/v1/sessions`: active sessions (oldest first) and/or those closed in the
    last 24 h (newest first). Five queries whatever the size of the floor."""
    outlet_id = staff_outlet(actor)
    closed_since = utcnow() - CLOSED_WINDOW if state in ("closed", "all") else None
    sessions = await SessionRepository(uow.session, actor.tenant_id).for_grid(
        outlet_id, active=state in ("active", "all"), closed_since=closed_since
    )
    return SessionGridList(items=await _grid_items(uow, actor.tenant_id, outlet_id, sessions))


async def staff_session(uow: UnitOfWork, actor: StaffActor, session_id: str) -> SessionDetailRead:
    """`GET /api/v1/sessions/{id}`: the grid row with members, cart and orders."""
    session = await _staff_session(uow, actor, session_id)
    (row,) = await _grid_items(uow, actor.tenant_id, session.outlet_id, [session])
    members = await MemberRepository(uow.session, actor.tenant_id).for_session(session.id)
    return SessionDetailRead(
        **dict(row),
        members=[_member_read(m) for m in members],
        cart=await table_cart(uow, session, members=members),
        orders=await _orders_view(uow, session),
    )


async def staff_close(
    uow: UnitOfWork, pubsub: PubSub, actor: StaffActor, session_id: str
) -> SessionGridRead:
    """`PATCH /session/{id}/close`: one atomic UPDATE decides; 409 `SESSION_CLOSED` for
    every caller but the first."""
    await _staff_session(uow, actor, session_id)
    closed = await close_session(uow, pubsub, actor.tenant_id, session_id, actor=actor)
    (row,) = await _grid_items(uow, actor.tenant_id, closed.outlet_id, [closed])
    return row


async def staff_restore(
    uow: UnitOfWork, pubsub: PubSub, actor: StaffActor, session_id: str
) -> SessionGridRead:
    """`PATCH /session/{id}/restore`: 409 `SESSION_NOT_CLOSED`, 409 `TABLE_BUSY` (another
    session is live at the table), 410 `SESSION_PURGED`."""
    await _staff_session(uow, actor, session_id)
    restored = await restore_session(uow, pubsub, actor, session_id)
    (row,) = await _grid_items(uow, actor.tenant_id, restored.outlet_id, [restored])
    return row


async def ordering_status(uow: UnitOfWork, actor: StaffActor) -> OrderingRead:
    outlet_id = staff_outlet(actor)
    outlet = await SessionPlaceRepository(uow.session, actor.tenant_id).outlet(outlet_id)
    if outlet is None:
        raise NotFound("outlet")
    return OrderingRead(outlet_id=outlet_id, enabled=outlet.qr_ordering_enabled)


async def set_ordering(
    uow: UnitOfWork, pubsub: PubSub, actor: StaffActor, enabled: bool
) -> OrderingRead:
    """`PUT /api/v1/outlet/ordering`: the "Disable QR ordering" switch. With it off, scans
    answer 423 and guest orders are refused; sessions already open stay open. Audited, and
    every staff screen of the outlet gets an `alert` `{kind: "qr_ordering", enabled}`."""
    outlet_id = staff_outlet(actor)
    previous = await SessionPlaceRepository(uow.session, actor.tenant_id).set_qr_ordering(
        outlet_id, enabled
    )
    if previous is None:
        raise NotFound("outlet")
    await audit.record(
        uow,
        actor,
        EventName.ORDERING_TOGGLED,
        subject_type="outlet",
        subject_id=outlet_id,
        before={"qr_ordering_enabled": previous},
        after={"qr_ordering_enabled": enabled},
        outlet_id=outlet_id,
    )
    publish_to_staff(uow, pubsub, outlet_id, ALERT, {"kind": ALERT_QR_ORDERING, "enabled": enabled})
    return OrderingRead(outlet_id=outlet_id, enabled=enabled)
