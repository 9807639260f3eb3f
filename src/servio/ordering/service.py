"""Ordering use cases: a table sends its cart as an order (GUEST-05, BEY-03), the order's
firings are acknowledged or retried (seed 004 §3 step 5, §8), and staff move orders through
their states until the KDS exists.

`place_order` runs in the request's one transaction: lock the session, claim the order id,
check the gates, price every line on the server, write the order, its lines, one firing
per station and the `order.placed` outbox row, empty the cart. With the built-in kitchen the
acknowledgement (ticket number) happens right there; with an external POS the firing worker
(`ordering.tasks`) delivers it and the result reaches the table over the socket.

Firing outcomes (`record_ack`, `record_attempt_failure`, `watchdog_retry`, `alert_fire_delay`)
each run in their own transaction and lock the order row first, so outcomes of one order's
stations apply one at a time and the order completes exactly once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from servio.audit import service as audit
from servio.auth.actors import GuestActor, StaffActor
from servio.events import EventName
from servio.kit.clock import as_utc, rfc3339, utcnow
from servio.kit.db import UnitOfWork
from servio.kit.ids import new_id
from servio.kit.sequences import next_number
from servio.kitchen import service as kitchen
from servio.menu.pricing import PricingError, price_line
from servio.menu.service import modifier_groups_at, price_snapshot_at
from servio.models.cart_line import CartLine
from servio.models.firing_job import FiringJob
from servio.models.order import Order, OrderLine
from servio.ordering import firing as fire
from servio.ordering.announce import (
    record_status_step,
    to_staff,
    to_table,
    to_table_and_staff,
)
from servio.ordering.exceptions import (
    CartEmpty,
    MissingPermission,
    NothingToFire,
    OrderIdTaken,
    OrderNotFound,
    OutletRequired,
    PassRequired,
)
from servio.ordering.repository import (
    FiringRepository,
    OrderingPlace,
    OrderLineRepository,
    OrderRepository,
    ordering_place,
    outlet_timezone,
)
from servio.ordering.schemas import (
    FiringRead,
    OrderLineRead,
    OrderModifierRead,
    OrderPlaced,
    OrderRead,
)
from servio.ordering.state import (
    TARGET_PERMISSIONS,
    IllegalTransition,
    check_staff_order_change,
)
from servio.platform.flags import EXTERNAL_POS, QR_ORDERING
from servio.platform.service import get_effective_settings, is_enabled
from servio.realtime.messages import (
    ALERT,
    CART_UPDATED,
    ORDER_FIRE_DELAYED,
    ORDER_FIRED,
    ORDER_STATUS,
)
from servio.realtime.pubsub import PubSub
from servio.sessions.cart import build_table_cart
from servio.sessions.exceptions import SessionNotFound, TableDisabled
from servio.sessions.lifecycle import publish_to_table, touch_guest_session
from servio.sessions.repository import CartRepository, MemberRepository, SessionRepository
from servio.worker.dispatch import PendingEvent, emit, emit_all

ALERT_FIRING_DELAYED = "firing_delayed"
TICKET_SEQUENCE = "ticket"


# --- small shared steps ---------------------------------------------------------------------


def business_date(timezone: str, now: datetime) -> str:
    """The outlet-local calendar date (YYYY-MM-DD) ticket numbers restart on."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return as_utc(now).astimezone(zone).date().isoformat()


async def _ticket_number(uow: UnitOfWork, order: Order, timezone: str, now: datetime) -> str:
    """The outlet's next ticket number for today (gap-free, one per order)."""
    value = await next_number(
        uow,
        tenant_id=order.tenant_id,
        scope=order.outlet_id,
        name=TICKET_SEQUENCE,
        period=business_date(timezone, now),
    )
    return str(value)


async def _eta_secs(uow: UnitOfWork, order: Order) -> int | None:
    """The order's ETA from the kitchen's prep-time averages (RT-04, `kitchen.eta`)."""
    return await kitchen.order_eta_secs(uow, order)


def status_message(order: Order) -> dict[str, Any]:
    """`order_status` data: `eta_secs` only while the kitchen is still working on it."""
    eta = order.eta_secs if order.status in ("pending", "in_queue", "in_progress") else None
    if order.status in ("ready", "out_for_delivery", "served", "completed"):
        eta = 0
    return {"order_id": order.id, "status": order.status, "eta_secs": eta}


def new_order(
    order_id: str | None,
    place: OrderingPlace,
    now: datetime,
    *,
    outlet_id: str,
    session_id: str | None,
    service_point_id: str | None,
    source: str,
    placed_by_member_id: str | None = None,
    placed_by_staff_id: str | None = None,
) -> Order:
    """A new order (not inserted yet), pending and not fired, in the place's currency and
    menu version: what guest orders and staff-entered orders start from."""
    return Order(
        id=order_id or new_id(),
        outlet_id=outlet_id,
        session_id=session_id,
        service_point_id=service_point_id,
        source=source,
        status="pending",
        fired="pending",
        currency=place.currency,
        menu_version=place.menu_version,
        placed_by_member_id=placed_by_member_id,
        placed_by_staff_id=placed_by_staff_id,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )


def placed_reply(order: Order) -> OrderPlaced:
    return OrderPlaced(
        order_id=order.id,
        status=order.status,
        ticket_no=order.ticket_no,
        fired=order.fired,
    )


# --- POST /orders ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LineChoice:
    """What an order line is made from: a guest's cart line, or a line a staff member
    entered at the POS. Only the choice, never a price. `id` names the line in a 422."""

    id: str
    menu_item_id: str
    qty: int
    note: str = ""
    modifiers: tuple[str, ...] = ()
    member_id: str | None = None

    @classmethod
    def of_cart(cls, line: CartLine) -> LineChoice:
        return cls(
            id=line.id,
            menu_item_id=line.menu_item_id,
            qty=line.qty,
            note=line.note,
            modifiers=tuple(line.modifiers),
            member_id=line.member_id,
        )


@dataclass(frozen=True)
class _PricedLine:
    cart: LineChoice
    line: OrderLine


async def _ordering_allowed(uow: UnitOfWork, tenant_id: str, place: OrderingPlace) -> bool:
    if not place.qr_ordering_enabled or not place.point_active or place.point_state == "disabled":
        return False
    return await is_enabled(uow, tenant_id, place.outlet_id, QR_ORDERING)


async def _price_lines(
    uow: UnitOfWork, order: Order, lines: Sequence[LineChoice]
) -> list[_PricedLine]:
    """Every cart line priced from the menu as it is now (the version the order records,
    read in this transaction, so `menu.price_cache` may answer). The first line that cannot
    be ordered fails the whole order (422 ITEM_UNAVAILABLE / INVALID_MODIFIERS) naming it."""
    tenant_id, outlet_id, order_id = order.tenant_id, order.outlet_id, order.id
    version = order.menu_version
    snapshots = await price_snapshot_at(
        uow, tenant_id, outlet_id, version, {ln.menu_item_id for ln in lines}
    )
    chosen = {m for ln in lines for m in ln.modifiers}
    known = await modifier_groups_at(uow, tenant_id, outlet_id, version, chosen) if chosen else {}
    priced: list[_PricedLine] = []
    for position, cart in enumerate(lines):
        try:
            item = price_line(snapshots, cart.menu_item_id, cart.modifiers, modifier_groups=known)
        except PricingError as exc:
            exc.extra.update({"line_id": cart.id, "member_id": cart.member_id})
            raise
        snapshot = snapshots[cart.menu_item_id]
        priced.append(
            _PricedLine(
                cart,
                OrderLine(
                    id=new_id(),
                    order_id=order_id,
                    member_id=cart.member_id,
                    menu_item_id=cart.menu_item_id,
                    name=snapshot.name,
                    kind=snapshot.kind,
                    qty=cart.qty,
                    base_price=item.base_price,
                    unit_price=item.unit_price,
                    line_total=item.unit_price * cart.qty,
                    modifiers=[
                        {
                            "id": m.modifier_id,
                            "group_id": m.group_id,
                            "name": m.name,
                            "price_delta": m.price_delta,
                            "qty": m.qty,
                        }
                        for m in item.modifiers
                    ],
                    note=cart.note,
                    station=snapshot.station or "kitchen",
                    allergens=list(snapshot.allergens),
                    gst_rate=snapshot.gst_rate,
                    hsn=snapshot.hsn,
                    status="queued",
                    position=position,
                ),
            )
        )
    return priced


def _station_payload(
    order: Order, station: str, place: OrderingPlace, lines: Sequence[OrderLine]
) -> dict[str, Any]:
    """What the kitchen/POS receives for one station (the seed's `order_payload`)."""
    return {
        "order_id": order.id,
        "firing_key": f"{order.id}:{station}",
        "station": station,
        "table": (
            {"id": place.point_id, "label": place.point_label, "kind": place.point_kind}
            if place.point_id
            else None  # a counter order entered at the POS without a table
        ),
        "session_id": order.session_id,
        "ticket": {"ticket_no": order.ticket_no, "order_ref": order.id[-6:]},
        "placed_at": rfc3339(order.created_at),
        "currency": order.currency,
        "lines": [
            {
                "line_id": line.id,
                "menu_item_id": line.menu_item_id,
                "name": line.name,
                "qty": line.qty,
                "modifiers": [m["name"] for m in line.modifiers for _ in range(int(m["qty"]))],
                "note": line.note,
                "unit_price": line.unit_price,
            }
            for line in lines
        ],
    }


async def place_order(
    uow: UnitOfWork,
    pubsub: PubSub,
    actor: GuestActor,
    session_id: str,
    order_id: str | None,
) -> Order:
    """`POST /orders`. Returns the new order — or, when `order_id` was already used by
    this session, that same order (a resend after a dropped connection)."""
    if session_id != actor.session_id:
        raise SessionNotFound()
    session = await touch_guest_session(uow, actor)  # 410, and the table's writes queue here
    tenant_id = actor.tenant_id
    place = await ordering_place(
        uow.session, tenant_id, session.outlet_id, session.service_point_id
    )
    if place is None:
        raise TableDisabled()
    now = utcnow()
    orders = OrderRepository(uow.session, tenant_id)
    order = new_order(
        order_id,
        place,
        now,
        outlet_id=session.outlet_id,
        session_id=session.id,
        service_point_id=session.service_point_id,
        source="qr",
        placed_by_member_id=actor.member_id,
    )
    if not await orders.insert_new(order):
        # The primary key decided it: this id is an order already (a resend, or a clash).
        existing = await orders.get(order.id)
        if existing is None or existing.session_id != session.id:
            raise OrderIdTaken()
        return existing

    if not await _ordering_allowed(uow, tenant_id, place):
        raise TableDisabled()
    if session.daily_pass_required and not session.pass_validated:
        raise PassRequired()
    carts = CartRepository(uow.session, tenant_id)
    members = await MemberRepository(uow.session, tenant_id).for_session(session.id)
    joined = {member.id: index for index, member in enumerate(members)}
    cart_lines = sorted(
        await carts.for_session(session.id),
        key=lambda ln: (joined.get(ln.member_id, len(joined)), ln.position, ln.id),
    )
    if not cart_lines:
        raise CartEmpty()
    await carts.clear_session(session.id)
    await SessionRepository(uow.session, tenant_id).mark_ordered(session.id, now)
    # The whole table's cart was just emptied (the session row is locked): no need to read
    # it back to tell the phones.
    cart = build_table_cart(session.id, place.currency, members, [], {})
    publish_to_table(uow, pubsub, session.id, CART_UPDATED, {"cart": cart.model_dump(mode="json")})
    choices = [LineChoice.of_cart(line) for line in cart_lines]
    return await price_and_fire(uow, pubsub, order, place, choices, now)


async def price_and_fire(
    uow: UnitOfWork,
    pubsub: PubSub,
    order: Order,
    place: OrderingPlace,
    choices: Sequence[LineChoice],
    now: datetime,
) -> Order:
    """The part of placing an order that guest orders (`place_order`) and staff-entered
    orders (`pos.service.place_staff_order`) share, once `order` is inserted: price every
    line on the server, write the lines, one firing per station (acknowledged at once by
    the built-in kitchen), the `order.placed` outbox row, and `pending → in_queue` when
    every station has acknowledged. Raises 422 (ITEM_UNAVAILABLE / INVALID_MODIFIERS) for
    the first line that cannot be ordered; the caller's transaction then rolls back."""
    tenant_id = order.tenant_id
    priced = await _price_lines(uow, order, choices)
    lines = [p.line for p in priced]
    external = await is_enabled(uow, tenant_id, order.outlet_id, EXTERNAL_POS)
    # Set after the reads above so autoflush does not write the order row once per change.
    order.subtotal = sum(line.line_total for line in lines)
    order.item_count = sum(line.qty for line in lines)
    adapter_name = fire.adapter_name(external)
    adapter = fire.adapters.get(adapter_name)
    inline = adapter is not None and adapter.inline
    if inline:
        with uow.session.no_autoflush:
            order.ticket_no = await _ticket_number(uow, order, place.timezone, now)
    by_station: dict[str, list[OrderLine]] = defaultdict(list)
    for line in lines:
        by_station[line.station].append(line)
    jobs = [
        FiringJob(
            id=new_id(),
            outlet_id=order.outlet_id,
            order_id=order.id,
            station=station,
            adapter=adapter_name,
            firing_key=f"{order.id}:{station}",
            state="pending",
            order_payload=_station_payload(order, station, place, by_station[station]),
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        for station in sorted(by_station)
    ]
    if inline and adapter is not None:
        for job in jobs:
            result = await adapter.fire(_fire_request(job, tenant_id, order.ticket_no, 1))
            if result.acked:
                job.state, job.acked_at = "acked", now
                job.ticket_no = result.ticket_no or order.ticket_no
            else:
                job.last_error = result.detail or "the kitchen refused the ticket"
    placed = PendingEvent(
        EventName.ORDER_PLACED,
        tenant_id=tenant_id,
        outlet_id=order.outlet_id,
        payload={
            "order_id": order.id,
            "session_id": order.session_id,
            "service_point_id": order.service_point_id,
            "table": place.point_label or None,
            "source": order.source,
            "currency": order.currency,
            "subtotal": order.subtotal,
            "item_count": order.item_count,
            "stations": sorted(by_station),
            "adapter": adapter_name,
        },
        dedupe_key=f"order.placed:{order.id}",
    )
    if inline and jobs and all(job.state == "acked" for job in jobs):
        return await _fire_acked_at_once(uow, pubsub, order, place, lines, jobs, placed, now)

    await OrderLineRepository(uow.session, tenant_id).add_all(lines)
    await FiringRepository(uow.session, tenant_id).add_all(jobs)
    await emit_all(uow, [placed])
    completed = await _complete_if_all_fired(uow, pubsub, order, place.timezone, now)
    if completed is not None:
        return completed
    # Not acknowledged yet: phones at the table see the order as pending until it is.
    to_table(uow, pubsub, order, ORDER_STATUS, status_message(order))
    return order


async def _fire_acked_at_once(
    uow: UnitOfWork,
    pubsub: PubSub,
    order: Order,
    place: OrderingPlace,
    lines: Sequence[OrderLine],
    jobs: Sequence[FiringJob],
    placed: PendingEvent,
    now: datetime,
) -> Order:
    """Every station acknowledged inside this request (the built-in kitchen): the order goes
    straight to `in_queue` with what `_complete_if_all_fired` and `kitchen.create_tickets`
    would write, decided in memory — nothing written here is read back, the lines are
    inserted already on their tickets, and the order row is updated once. The outbox rows
    (`order.placed`, per ticket `kitchen.ticket_created` + `kot.print`, `order.fired`) are
    one INSERT. The table and kitchen screens hear the same messages, after commit."""
    with uow.session.no_autoflush:  # the order row is written once, below
        order.eta_secs = await kitchen.new_order_eta_secs(
            uow, order.tenant_id, order.outlet_id, [line.menu_item_id for line in lines]
        )
    order.status, order.fired, order.acked_at = "in_queue", "acked", now
    order.status_changed_at = order.updated_at = now
    order.version = order.version + 1
    builtin = [job.station for job in jobs if job.adapter == fire.BUILTIN]
    tickets = kitchen.plan_tickets(order, lines, builtin, now)
    for line in lines:
        line.tenant_id = order.tenant_id
    for job in jobs:
        job.tenant_id = order.tenant_id
    uow.session.add_all([*lines, *jobs, *tickets])
    await uow.session.flush()

    table = place.point_label if order.service_point_id and place.point_id else None
    views, ticket_out = kitchen.new_tickets_out(order, tickets, lines, table)
    fired = {"order_id": order.id, "ticket_no": order.ticket_no}
    order_fired = PendingEvent(
        EventName.ORDER_FIRED,
        tenant_id=order.tenant_id,
        outlet_id=order.outlet_id,
        payload={**fired, "session_id": order.session_id, "acked_at": rfc3339(now)},
        dedupe_key=f"order.fired:{order.id}",
    )
    await emit_all(uow, [placed, *ticket_out, order_fired])
    kitchen.publish_new_tickets(uow, pubsub, order.outlet_id, views)
    _publish_fired(uow, pubsub, order, fired)
    return order


def _fire_request(
    job: FiringJob, tenant_id: str, ticket_no: str | None, attempt: int
) -> fire.FireRequest:
    return fire.FireRequest(
        firing_key=job.firing_key,
        order_id=job.order_id,
        station=job.station,
        tenant_id=tenant_id,
        outlet_id=job.outlet_id,
        payload=dict(job.order_payload),
        attempt=attempt,
        ticket_no=ticket_no,
    )


# --- firing outcomes ------------------------------------------------------------------------


def _publish_fired(
    uow: UnitOfWork, pubsub: PubSub | None, order: Order, fired: dict[str, Any]
) -> None:
    """After commit: the table hears `order_fired` and its new status, the staff grid too."""
    to_table(uow, pubsub, order, ORDER_FIRED, fired)
    to_table(uow, pubsub, order, ORDER_STATUS, status_message(order))
    to_staff(
        uow,
        pubsub,
        order.outlet_id,
        ORDER_FIRED,
        {**fired, "session_id": order.session_id, "service_point_id": order.service_point_id},
    )


async def _announce_fired(uow: UnitOfWork, pubsub: PubSub | None, order: Order) -> None:
    # The built-in kitchen's stations get their tickets (KDS, KOT print job, `ticket_new`).
    await kitchen.create_tickets(uow, pubsub, order)
    fired = {"order_id": order.id, "ticket_no": order.ticket_no}
    _publish_fired(uow, pubsub, order, fired)
    await emit(
        uow,
        EventName.ORDER_FIRED,
        tenant_id=order.tenant_id,
        outlet_id=order.outlet_id,
        payload={
            **fired,
            "session_id": order.session_id,
            "acked_at": rfc3339(order.acked_at or utcnow()),
        },
        dedupe_key=f"order.fired:{order.id}",
    )


async def _complete_if_all_fired(
    uow: UnitOfWork, pubsub: PubSub | None, order: Order, timezone: str, now: datetime
) -> Order | None:
    """When no station of the order is still waiting: `pending → in_queue` with ONE ticket
    number (the kitchen's, or the outlet's own sequence when the POS gave none), announced
    to the table and the staff. None when stations are still waiting or the order has
    moved on (cancelled meanwhile)."""
    firings = FiringRepository(uow.session, order.tenant_id)
    if await firings.unresolved_count(order.id):
        return None
    jobs = await firings.for_order(order.id)
    if not any(job.state in ("acked", "fired_manually") for job in jobs):
        return None  # every station cancelled
    orders = OrderRepository(uow.session, order.tenant_id)
    ticket = order.ticket_no or next((job.ticket_no for job in jobs if job.ticket_no), None)
    if ticket is None:
        ticket = await _ticket_number(uow, order, timezone, now)
    updated = await orders.change_status(
        order.id,
        current="pending",
        target="in_queue",
        now=now,
        fired="acked",
        ticket_no=ticket,
        acked_at=now,
        eta_secs=await _eta_secs(uow, order),
    )
    if updated is None:
        await orders.set_fired(order.id, "acked")
        return None
    await _announce_fired(uow, pubsub, updated)
    return updated


async def _announce_delay_once(
    uow: UnitOfWork, pubsub: PubSub | None, order: Order, job_id: str, now: datetime
) -> None:
    """The order is now `retrying`; the table and staff hear "checking with kitchen" once."""
    firings = FiringRepository(uow.session, order.tenant_id)
    await OrderRepository(uow.session, order.tenant_id).set_fired(order.id, "retrying")
    if not await firings.mark_delayed_once(job_id, now):
        return
    if await firings.order_delayed_before(order.id, job_id):
        return
    message = {"order_id": order.id}
    to_table_and_staff(uow, pubsub, order, ORDER_FIRE_DELAYED, message)


async def record_ack(
    uow: UnitOfWork,
    pubsub: PubSub | None,
    *,
    tenant_id: str,
    order_id: str,
    job_id: str,
    ticket_no: str | None,
) -> bool:
    """Accept an acknowledgement. Idempotent: True only for the one that moved the firing
    to `acked`; a late or repeated ACK is a no-op (False)."""
    order = await OrderRepository(uow.session, tenant_id).lock(order_id)
    if order is None:
        return False
    now = utcnow()
    if not await FiringRepository(uow.session, tenant_id).mark_acked(
        job_id, ticket_no=ticket_no, now=now
    ):
        return False
    timezone = await _timezone(uow, order)
    await _complete_if_all_fired(uow, pubsub, order, timezone, now)
    return True


async def _timezone(uow: UnitOfWork, order: Order) -> str:
    return await outlet_timezone(uow.session, order.tenant_id, order.outlet_id)


async def record_attempt_failure(
    uow: UnitOfWork,
    pubsub: PubSub | None,
    *,
    tenant_id: str,
    order_id: str,
    job_id: str,
    worker_id: str,
    retry_count: int,
    error: str,
) -> bool:
    """An attempt failed or got no ACK in time: retry after the back-off. False when the
    firing was resolved meanwhile (a late ACK won) or another worker holds it."""
    order = await OrderRepository(uow.session, tenant_id).lock(order_id)
    if order is None:
        return False
    now = utcnow()
    changed = await FiringRepository(uow.session, tenant_id).mark_attempt_failed(
        job_id,
        worker_id=worker_id,
        error=error,
        next_attempt_at=now + fire.backoff_delay(retry_count + 1),
        now=now,
    )
    if changed:
        await _announce_delay_once(uow, pubsub, order, job_id, now)
    return changed


async def watchdog_retry(
    uow: UnitOfWork, pubsub: PubSub | None, *, tenant_id: str, order_id: str, job_id: str
) -> bool:
    """A firing still `pending` `WATCHDOG_SECS` after it was created → `retrying`."""
    order = await OrderRepository(uow.session, tenant_id).lock(order_id)
    if order is None:
        return False
    now = utcnow()
    cutoff = now - timedelta(seconds=fire.WATCHDOG_SECS)
    changed = await FiringRepository(uow.session, tenant_id).watchdog_retry(
        job_id, next_attempt_at=now + fire.backoff_delay(1), cutoff=cutoff, now=now
    )
    if changed:
        await _announce_delay_once(uow, pubsub, order, job_id, now)
    return changed


async def alert_fire_delay(
    uow: UnitOfWork, pubsub: PubSub | None, *, tenant_id: str, order_id: str
) -> bool:
    """`fire_alert_after_mins` without an ACK: one front-of-house alert per order and the
    `order.fire_delayed` event. False when not due yet (outlet setting) or already sent."""
    order = await OrderRepository(uow.session, tenant_id).lock(order_id)
    if order is None:
        return False
    now = utcnow()
    settings = await get_effective_settings(uow, tenant_id, order.outlet_id)
    waited = (now - as_utc(order.created_at)).total_seconds()
    if waited < int(settings["fire_alert_after_mins"]) * 60:
        return False
    firings = FiringRepository(uow.session, tenant_id)
    if not await firings.mark_alerted(order.id, now):
        return False
    jobs = await firings.for_order(order.id)
    table = next((job.order_payload.get("table") for job in jobs if job.order_payload), None)
    data = {
        "kind": ALERT_FIRING_DELAYED,
        "order_id": order.id,
        "ticket_no": order.ticket_no,
        "order_ref": order.id[-6:],
        "session_id": order.session_id,
        "service_point_id": order.service_point_id,
        "table": table.get("label") if isinstance(table, dict) else None,
        "waiting_secs": int(waited),
        "last_error": next((job.last_error for job in jobs if job.last_error), None),
    }
    to_staff(uow, pubsub, order.outlet_id, ALERT, data)
    await emit(
        uow,
        EventName.ORDER_FIRE_DELAYED,
        tenant_id=tenant_id,
        outlet_id=order.outlet_id,
        payload=data,
        dedupe_key=f"order.fire_delayed:{order.id}",
    )
    return True


# --- staff: orders --------------------------------------------------------------------------


def _outlet(actor: StaffActor) -> str:
    if actor.outlet_id is None:
        raise OutletRequired()
    return actor.outlet_id


async def _staff_order(uow: UnitOfWork, actor: StaffActor, order_id: str) -> Order:
    order = await OrderRepository(uow.session, actor.tenant_id).get_in_outlet(
        order_id, _outlet(actor)
    )
    if order is None:
        raise OrderNotFound()
    return order


async def order_view(uow: UnitOfWork, actor: StaffActor, order_id: str) -> OrderRead:
    order = await _staff_order(uow, actor, order_id)
    return await read_model(uow, order)


async def read_model(uow: UnitOfWork, order: Order) -> OrderRead:
    lines = await OrderLineRepository(uow.session, order.tenant_id).for_order(order.id)
    jobs = await FiringRepository(uow.session, order.tenant_id).for_order(order.id)
    return OrderRead(
        order_id=order.id,
        outlet_id=order.outlet_id,
        session_id=order.session_id,
        service_point_id=order.service_point_id,
        source=order.source,
        status=order.status,
        fired=order.fired,
        ticket_no=order.ticket_no,
        eta_secs=order.eta_secs,
        currency=order.currency,
        subtotal=order.subtotal,
        item_count=order.item_count,
        placed_by_member_id=order.placed_by_member_id,
        created_at=as_utc(order.created_at),
        acked_at=as_utc(order.acked_at) if order.acked_at else None,
        status_changed_at=as_utc(order.status_changed_at),
        version=order.version,
        lines=[
            OrderLineRead(
                line_id=line.id,
                menu_item_id=line.menu_item_id,
                member_id=line.member_id,
                name=line.name,
                qty=line.qty,
                base_price=line.base_price,
                unit_price=line.unit_price,
                line_total=line.line_total,
                modifiers=[OrderModifierRead(**m) for m in line.modifiers],
                note=line.note,
                station=line.station,
                gst_rate=line.gst_rate,
                hsn=line.hsn,
                status=line.status,
            )
            for line in lines
        ],
        firing=[
            FiringRead(
                station=job.station,
                adapter=job.adapter,
                firing_key=job.firing_key,
                state=job.state,
                retry_count=job.retry_count,
                next_attempt_at=as_utc(job.next_attempt_at),
                ticket_no=job.ticket_no,
                last_error=job.last_error,
                acked_at=as_utc(job.acked_at) if job.acked_at else None,
            )
            for job in jobs
        ],
    )


async def change_status(
    uow: UnitOfWork, pubsub: PubSub, actor: StaffActor, order_id: str, target: str
) -> Order:
    """`PATCH /api/v1/orders/{id}/status`: one legal step of the order state machine
    (409 ILLEGAL_TRANSITION otherwise), audited and announced to the table and staff.
    Cancelling also stops the order's unacknowledged firings."""
    order = await _staff_order(uow, actor, order_id)
    needed = TARGET_PERMISSIONS.get(target)
    if needed is not None and not actor.can(needed):
        raise MissingPermission(needed)
    return await _move(uow, pubsub, actor, order, target)


async def _move(
    uow: UnitOfWork, pubsub: PubSub, actor: StaffActor, order: Order, target: str
) -> Order:
    check_staff_order_change(order.status, target)
    now = utcnow()
    before = order.status
    repo = OrderRepository(uow.session, actor.tenant_id)
    updated = await repo.change_status(order.id, current=before, target=target, now=now)
    if updated is None:  # another change won the race
        current = await repo.lock(order.id)
        raise IllegalTransition("order", current.status if current else before, target)
    if target == "cancelled":
        await FiringRepository(uow.session, actor.tenant_id).resolve_by_staff(
            order.id, state="cancelled", staff_id=actor.id, now=now
        )
    facts = await record_status_step(
        uow, actor, order, before=before, target=target, version=updated.version
    )
    if target == "cancelled":
        await emit(
            uow,
            EventName.ORDER_CANCELLED,
            tenant_id=actor.tenant_id,
            outlet_id=order.outlet_id,
            payload=facts,
            dedupe_key=f"order.cancelled:{order.id}",
        )
    to_table_and_staff(uow, pubsub, updated, ORDER_STATUS, status_message(updated))
    return updated


# --- staff: firing controls -----------------------------------------------------------------


async def _locked_staff_order(uow: UnitOfWork, actor: StaffActor, order_id: str) -> Order:
    order = await _staff_order(uow, actor, order_id)
    locked = await OrderRepository(uow.session, actor.tenant_id).lock(order.id)
    if locked is None:  # pragma: no cover - read a moment ago in this transaction
        raise OrderNotFound()
    return locked


async def retry_firing(uow: UnitOfWork, actor: StaffActor, order_id: str) -> Order:
    """Attempt the order's unacknowledged firings now instead of after the back-off."""
    order = await _locked_staff_order(uow, actor, order_id)
    if not await FiringRepository(uow.session, actor.tenant_id).retry_now(order.id, utcnow()):
        raise NothingToFire()
    await audit.record(
        uow,
        actor,
        "order.firing_retried",
        subject_type="order",
        subject_id=order.id,
        outlet_id=order.outlet_id,
    )
    return order


async def cancel_firing(uow: UnitOfWork, pubsub: PubSub, actor: StaffActor, order_id: str) -> Order:
    """Stop sending the order: its unacknowledged firings are cancelled, and an order the
    kitchen never acknowledged is cancelled with them (it cannot be cooked)."""
    order = await _locked_staff_order(uow, actor, order_id)
    now = utcnow()
    firings = FiringRepository(uow.session, actor.tenant_id)
    if not await firings.resolve_by_staff(order.id, state="cancelled", staff_id=actor.id, now=now):
        raise NothingToFire()
    await audit.record(
        uow,
        actor,
        "order.firing_cancelled",
        subject_type="order",
        subject_id=order.id,
        before={"status": order.status},
        outlet_id=order.outlet_id,
    )
    if order.status == "pending":
        jobs = await firings.for_order(order.id)
        if not any(job.state in ("acked", "fired_manually") for job in jobs):
            return await _move(uow, pubsub, actor, order, "cancelled")
    return order


async def fire_manually(uow: UnitOfWork, pubsub: PubSub, actor: StaffActor, order_id: str) -> Order:
    """Staff keyed the order into the POS by hand: its firings are resolved and the order
    goes `pending → in_queue` with the outlet's own ticket number."""
    order = await _locked_staff_order(uow, actor, order_id)
    now = utcnow()
    if not await FiringRepository(uow.session, actor.tenant_id).resolve_by_staff(
        order.id, state="fired_manually", staff_id=actor.id, now=now
    ):
        raise NothingToFire()
    await audit.record(
        uow,
        actor,
        "order.fired_manually",
        subject_type="order",
        subject_id=order.id,
        before={"status": order.status, "fired": order.fired},
        outlet_id=order.outlet_id,
    )
    completed = await _complete_if_all_fired(uow, pubsub, order, await _timezone(uow, order), now)
    return completed or order
