"""Kitchen use cases (KDS-01, RT-04): station tickets, item states, bump, expo pick, ETA.

- `create_tickets` is called by ordering when an order is acknowledged (`pending →
  in_queue`): one `KitchenTicket` per built-in-kitchen station, its lines attached, the
  `kitchen.ticket_created` event, a `kot.print` outbox job and `ticket_new` on the station's
  socket.
- Item changes (`set_item_status`, `bump_ticket`, `pick_ticket`, `pick_oldest`) lock the order
  row first, move items with conditional UPDATEs along `ordering.state.ITEM_TRANSITIONS`
  (409 otherwise), then re-derive the tickets' and the order's status from their items:
  any started → in_progress, every item ready (or voided) → ready, every item served →
  served. The order only moves *forward* along its own state machine (a recall does not
  take a `ready` order back; staff may have moved it by hand meanwhile).
- Every change is audited and broadcast after commit: `item_status` and `ticket_updated`
  on the station's KDS channel, `order_status` (with the live ETA) to the table and staff.

Real-time channels: a station screen listens on `kds_channel(outlet, station)`; the expo
socket (`station="*"`) on `kds_channel(outlet, "*")`. `publish_to_kds` sends to both (as the
SLA watcher does for `sla_breach`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from servio.audit import service as audit
from servio.auth.actors import DeviceActor, StaffActor
from servio.events import EventName
from servio.kit.clock import as_utc, rfc3339, utcnow
from servio.kit.db import UnitOfWork
from servio.kit.ids import new_id
from servio.kitchen import eta
from servio.kitchen.exceptions import (
    ItemNotFound,
    KitchenOutletRequired,
    NothingReady,
    NothingToBump,
    TicketNotFound,
    TicketNotReady,
)
from servio.kitchen.repository import (
    ACTIVE_TICKET,
    KitchenLineRepository,
    PrepTimeRepository,
    TicketRepository,
    TicketRow,
)
from servio.kitchen.schemas import (
    KdsItem,
    KdsModifier,
    KdsTicket,
    KdsTicketList,
    StationCount,
    StationList,
)
from servio.models.kitchen_ticket import KitchenTicket
from servio.models.order import Order, OrderLine
from servio.ordering.announce import record_status_step, to_table_and_staff
from servio.ordering.exceptions import MissingPermission
from servio.ordering.firing import BUILTIN
from servio.ordering.repository import FiringRepository, OrderRepository
from servio.ordering.state import (
    ITEM_ACTIONS,
    ORDER_TRANSITIONS,
    IllegalTransition,
    check_transition,
)
from servio.platform.service import get_effective_settings
from servio.realtime.messages import ITEM_STATUS, ORDER_STATUS, TICKET_NEW, TICKET_UPDATED
from servio.realtime.publish import publish_after_commit
from servio.realtime.pubsub import PubSub, kds_channel
from servio.worker.dispatch import PendingEvent, emit, emit_all
from servio.worker.outbox import Outgoing

KitchenActor = StaffActor | DeviceActor

EXPO_STATION = "*"
KOT_PRINT_TOPIC = "kot.print"
ALL_WINDOW = timedelta(hours=24)  # `state=all`: tickets of the last day
PICK_ATTEMPTS = 5  # pick_oldest: tickets tried when other expo screens win the race

# What each requested item status needs beyond `kds.operate` (the route's permission).
STATUS_PERMISSIONS: Mapping[str, str] = {"served": "kds.pick", "voided": "orders.void"}

# Requested statuses that name an action of `ordering.state.ITEM_ACTIONS`.
REQUEST_ACTIONS: Mapping[str, str] = {"recalled": "recall"}

# Ticket / item status → the order status it implies.
_ORDER_FOR: Mapping[str, str] = {
    "queued": "in_queue",
    "in_progress": "in_progress",
    "ready": "ready",
    "served": "served",
}


# --- pure rules ----------------------------------------------------------------------------


def derive_status(item_statuses: Iterable[str]) -> str:
    """A ticket's (or an order's kitchen) status from its items: every item voided →
    voided; every other item served → served; every other item ready or served → ready;
    any started → in_progress; else queued."""
    live = [s for s in item_statuses if s != "voided"]
    if not live:
        return "voided"
    if all(s == "served" for s in live):
        return "served"
    if all(s in ("ready", "served") for s in live):
        return "ready"
    if any(s != "queued" for s in live):
        return "in_progress"
    return "queued"


def order_path(current: str, target: str) -> list[str]:
    """The shortest forward path `current → … → target` in the order state machine
    (excluding `current`); [] when target is current or not reachable."""
    if current == target:
        return []
    previous: dict[str, str] = {}
    queue = deque([current])
    while queue:
        state = queue.popleft()
        for nxt in sorted(ORDER_TRANSITIONS.get(state, frozenset())):
            if nxt in previous or nxt == current or nxt == "cancelled":
                continue
            previous[nxt] = state
            if nxt == target:
                path = [nxt]
                while previous[path[-1]] != current:
                    path.append(previous[path[-1]])
                return path[::-1]
            queue.append(nxt)
    return []


def bump_target(status: str) -> str | None:
    """Where a bump moves an item: queued → in_progress → ready; None otherwise."""
    return {"queued": "in_progress", "in_progress": "ready"}.get(status)


def item_target(current: str, requested: str) -> str:
    """The item state a requested status means (`recalled` is ready → in_progress)."""
    action = REQUEST_ACTIONS.get(requested, requested)
    if action in ITEM_ACTIONS:
        source, target = ITEM_ACTIONS[action]
        if current != source:
            raise IllegalTransition("item", current, target)
        return target
    return requested


# --- small shared steps --------------------------------------------------------------------


def outlet_of(actor: KitchenActor) -> str:
    if actor.outlet_id is None:
        raise KitchenOutletRequired()
    return actor.outlet_id


def publish_to_kds(
    uow: UnitOfWork,
    pubsub: PubSub | None,
    outlet_id: str,
    station: str,
    type_: str,
    data: Mapping[str, Any],
) -> None:
    """A kitchen socket message for one station's screens and the expo screens (which
    listen on `kds_channel(outlet, "*")`), after commit. `station="*"`: expo only."""
    if pubsub is None:
        return
    publish_after_commit(uow, pubsub, kds_channel(outlet_id, station), type_, data)
    if station != EXPO_STATION:
        publish_after_commit(uow, pubsub, kds_channel(outlet_id, EXPO_STATION), type_, data)


def _age(created_at: datetime, now: datetime) -> int:
    return max(0, int((now - as_utc(created_at)).total_seconds()))


def _item_view(line: OrderLine) -> KdsItem:
    return KdsItem(
        id=line.id,
        name=line.name,
        qty=line.qty,
        modifiers=[
            KdsModifier(name=str(m.get("name", "")), qty=int(m.get("qty", 1) or 1))
            for m in line.modifiers or []
        ],
        note=line.note or "",
        allergens=list(line.allergens or []),
        status=line.status,
        started_at=as_utc(line.started_at) if line.started_at else None,
        ready_at=as_utc(line.ready_at) if line.ready_at else None,
    )


def _ticket_view(row: TicketRow, lines: Sequence[OrderLine], now: datetime) -> KdsTicket:
    ticket = row.ticket
    return KdsTicket(
        id=ticket.id,
        order_id=ticket.order_id,
        ticket_no=ticket.ticket_no,
        station=ticket.station,
        status=ticket.status,
        table=row.table,
        source=row.source,
        created_at=as_utc(ticket.created_at),
        ready_at=as_utc(ticket.ready_at) if ticket.ready_at else None,
        picked_at=as_utc(ticket.picked_at) if ticket.picked_at else None,
        age_secs=_age(ticket.created_at, now),
        print_state=ticket.print_state,
        items=[_item_view(line) for line in lines],
    )


async def _views(uow: UnitOfWork, tenant_id: str, rows: Sequence[TicketRow]) -> list[KdsTicket]:
    lines = await KitchenLineRepository(uow.session, tenant_id).for_tickets(
        row.ticket.id for row in rows
    )
    by_ticket: dict[str, list[OrderLine]] = {}
    for line in lines:
        by_ticket.setdefault(line.ticket_id or "", []).append(line)
    now = utcnow()
    return [_ticket_view(row, by_ticket.get(row.ticket.id, []), now) for row in rows]


async def _view(uow: UnitOfWork, tenant_id: str, outlet_id: str, ticket_id: str) -> KdsTicket:
    row = await TicketRepository(uow.session, tenant_id).row(ticket_id, outlet_id)
    if row is None:
        raise TicketNotFound()
    [view] = await _views(uow, tenant_id, [row])
    return view


def _require(actor: KitchenActor, permission: str) -> None:
    if not actor.can(permission):
        raise MissingPermission(permission)


# --- ETA -----------------------------------------------------------------------------------


async def order_eta_secs(
    uow: UnitOfWork, order: Order, *, now: datetime | None = None
) -> int | None:
    """The order's live ETA (RT-04) from the outlet's prep-time averages: what is left of
    the slowest unfinished item, never below 0, exactly 0 once the order is ready."""
    now = now or utcnow()
    if order.status in eta.ORDER_NO_ETA or order.status in eta.ORDER_DONE:
        return eta.order_remaining_secs([], {}, 0, order_status=order.status)
    settings = await get_effective_settings(uow, order.tenant_id, order.outlet_id)
    default_secs = float(int(settings["order_eta_default_mins"]) * 60)
    lines = await KitchenLineRepository(uow.session, order.tenant_id).for_order(order.id)
    tickets = {
        t.id: t for t in await TicketRepository(uow.session, order.tenant_id).for_order(order.id)
    }
    averages = await PrepTimeRepository(uow.session, order.tenant_id).averages(
        order.outlet_id, {line.menu_item_id for line in lines}
    )
    # The kitchen starts when it gets the order: its station ticket, else the acknowledgement
    # (an external POS's kitchen); an order not acknowledged yet has not started at all.
    start_of_order = as_utc(order.acked_at) if order.acked_at else now
    timings = []
    for line in lines:
        ticket = tickets.get(line.ticket_id or "")
        start = as_utc(ticket.created_at) if ticket is not None else start_of_order
        timings.append(
            eta.ItemTiming(line.menu_item_id, line.status, (now - start).total_seconds())
        )
    return eta.order_remaining_secs(timings, averages, default_secs, order_status=order.status)


async def new_order_eta_secs(
    uow: UnitOfWork, tenant_id: str, outlet_id: str, menu_item_ids: Iterable[str]
) -> int:
    """`order_eta_secs` of an order being acknowledged right now: every item queued, none
    started, so only the averages matter (two queries, nothing read back)."""
    ids = list(menu_item_ids)
    settings = await get_effective_settings(uow, tenant_id, outlet_id)
    default_secs = float(int(settings["order_eta_default_mins"]) * 60)
    averages = await PrepTimeRepository(uow.session, tenant_id).averages(outlet_id, set(ids))
    timings = [eta.ItemTiming(item_id, "queued", 0.0) for item_id in ids]
    secs = eta.order_remaining_secs(timings, averages, default_secs, order_status="pending")
    assert secs is not None  # only cancelled and refunded orders have none
    return secs


async def order_status_message(uow: UnitOfWork, order: Order) -> dict[str, Any]:
    """`order_status` data with the live ETA."""
    return {
        "order_id": order.id,
        "status": order.status,
        "eta_secs": await order_eta_secs(uow, order),
    }


# --- the hook: an acknowledged order reaches its stations -----------------------------------


async def create_tickets(uow: UnitOfWork, pubsub: PubSub | None, order: Order) -> list[str]:
    """One ticket per station the built-in kitchen acknowledged (stations of an external
    POS get theirs there). Idempotent: existing tickets are kept. Returns the new ids."""
    jobs = await FiringRepository(uow.session, order.tenant_id).for_order(order.id)
    stations = sorted(
        {j.station for j in jobs if j.adapter == BUILTIN and j.state in ("acked", "fired_manually")}
    )
    if not stations:
        return []
    tickets = TicketRepository(uow.session, order.tenant_id)
    lines_repo = KitchenLineRepository(uow.session, order.tenant_id)
    lines = await lines_repo.for_order(order.id)
    with_lines = {line.station for line in lines}
    now = utcnow()
    wanted = {station: new_id() for station in stations if station in with_lines}
    await tickets.insert_missing(
        [
            {
                "id": ticket_id,
                "outlet_id": order.outlet_id,
                "order_id": order.id,
                "station": station,
                "ticket_no": order.ticket_no,
                "status": "queued",
                "print_state": "queued",
                "created_at": now,
                "updated_at": now,
            }
            for station, ticket_id in wanted.items()
        ]
    )
    created: list[str] = []
    for ticket in await tickets.for_order(order.id):
        await lines_repo.attach_to_ticket(order.id, ticket.station, ticket.id)
        if wanted.get(ticket.station) == ticket.id:
            created.append(ticket.id)
    for ticket_id in created:
        view = await _view(uow, order.tenant_id, order.outlet_id, ticket_id)
        await emit_all(uow, _ticket_outbox(order, view))
        publish_to_kds(
            uow,
            pubsub,
            order.outlet_id,
            view.station,
            TICKET_NEW,
            {"ticket": view.model_dump(mode="json")},
        )
    return created


def plan_tickets(
    order: Order, lines: Sequence[OrderLine], stations: Iterable[str], now: datetime
) -> list[KitchenTicket]:
    """`create_tickets` for an order acknowledged in the transaction that creates it: the
    tickets (not added yet) with the lines pointed at them in memory, so the lines are
    inserted once, already attached. The caller adds them and calls `new_tickets_out`."""
    with_lines = {line.station for line in lines}
    tickets: list[KitchenTicket] = []
    for station in sorted(set(stations) & with_lines):
        ticket = KitchenTicket(
            id=new_id(),
            tenant_id=order.tenant_id,
            outlet_id=order.outlet_id,
            order_id=order.id,
            station=station,
            ticket_no=order.ticket_no,
            status="queued",
            print_state="queued",
            version=1,
            created_at=now,
            updated_at=now,
        )
        for line in lines:
            if line.station == station:
                line.ticket_id = ticket.id
        tickets.append(ticket)
    return tickets


def new_tickets_out(
    order: Order,
    tickets: Sequence[KitchenTicket],
    lines: Sequence[OrderLine],
    table: str | None,
) -> tuple[list[KdsTicket], list[PendingEvent | Outgoing]]:
    """The KDS views of `plan_tickets`' tickets and what `create_tickets` writes for each:
    `kitchen.ticket_created` and the `kot.print` job (for `emit_all`)."""
    views: list[KdsTicket] = []
    out: list[PendingEvent | Outgoing] = []
    for ticket in tickets:
        view = _ticket_view(
            TicketRow(ticket, order.source, table),
            [line for line in lines if line.ticket_id == ticket.id],
            ticket.created_at,
        )
        views.append(view)
        out += _ticket_outbox(order, view)
    return views, out


def _ticket_outbox(order: Order, view: KdsTicket) -> list[PendingEvent | Outgoing]:
    """What a new ticket writes to the outbox: `kitchen.ticket_created` and its KOT print job."""
    return [
        PendingEvent(
            EventName.KITCHEN_TICKET_CREATED,
            tenant_id=order.tenant_id,
            outlet_id=order.outlet_id,
            payload={
                "ticket_id": view.id,
                "order_id": order.id,
                "station": view.station,
                "ticket_no": view.ticket_no,
                "table": view.table,
                "item_count": sum(item.qty for item in view.items),
            },
            dedupe_key=f"kitchen.ticket_created:{view.id}",
        ),
        Outgoing(
            tenant_id=order.tenant_id,
            outlet_id=order.outlet_id,
            topic=KOT_PRINT_TOPIC,
            payload={"ticket_id": view.id},
            dedupe_key=f"kot.print:{view.id}",
        ),
    ]


def publish_new_tickets(
    uow: UnitOfWork, pubsub: PubSub | None, outlet_id: str, views: Sequence[KdsTicket]
) -> None:
    for view in views:
        publish_to_kds(
            uow,
            pubsub,
            outlet_id,
            view.station,
            TICKET_NEW,
            {"ticket": view.model_dump(mode="json")},
        )


# --- reads ---------------------------------------------------------------------------------


async def list_tickets(
    uow: UnitOfWork, actor: KitchenActor, station: str | None, state: str
) -> KdsTicketList:
    outlet_id = outlet_of(actor)
    repo = TicketRepository(uow.session, actor.tenant_id)
    only = None if station in (None, "", EXPO_STATION) else station
    if state == "active":
        rows = await repo.board(outlet_id, station=only, statuses=ACTIVE_TICKET)
    elif state == "ready":
        rows = await repo.board(outlet_id, station=only, statuses=("ready",), unpicked=True)
    else:
        rows = await repo.board(outlet_id, station=only, statuses=None, since=utcnow() - ALL_WINDOW)
    return KdsTicketList(items=await _views(uow, actor.tenant_id, rows))


async def expo_board(uow: UnitOfWork, actor: KitchenActor) -> KdsTicketList:
    """Every station's tickets still to be picked (queued, cooking, ready), oldest first."""
    rows = await TicketRepository(uow.session, actor.tenant_id).board(
        outlet_of(actor), station=None, statuses=(*ACTIVE_TICKET, "ready"), unpicked=True
    )
    return KdsTicketList(items=await _views(uow, actor.tenant_id, rows))


async def station_names(uow: UnitOfWork, tenant_id: str, outlet_id: str) -> list[str]:
    repo = TicketRepository(uow.session, tenant_id)
    return sorted({*await repo.menu_stations(outlet_id), *await repo.ticket_stations(outlet_id)})


async def list_stations(uow: UnitOfWork, actor: KitchenActor) -> StationList:
    outlet_id = outlet_of(actor)
    counts = await TicketRepository(uow.session, actor.tenant_id).station_counts(outlet_id)
    names = await station_names(uow, actor.tenant_id, outlet_id)
    return StationList(
        items=[
            StationCount(
                station=name, active=counts.get(name, (0, 0))[0], ready=counts.get(name, (0, 0))[1]
            )
            for name in names
        ]
    )


# --- changes -------------------------------------------------------------------------------


async def _locked_order(uow: UnitOfWork, tenant_id: str, order_id: str) -> Order:
    order = await OrderRepository(uow.session, tenant_id).lock(order_id)
    if order is None:  # pragma: no cover - the ticket/line was read in this transaction
        raise TicketNotFound()
    return order


async def _apply(
    uow: UnitOfWork,
    pubsub: PubSub | None,
    actor: KitchenActor,
    order: Order,
    moves: Sequence[tuple[OrderLine, str]],
    now: datetime,
) -> None:
    """Move items (each `(line, target)` already checked), keep the prep-time averages,
    re-derive their tickets and the order, and queue the broadcasts."""
    tenant_id = order.tenant_id
    lines_repo = KitchenLineRepository(uow.session, tenant_id)
    tickets_repo = TicketRepository(uow.session, tenant_id)
    tickets = {t.id: t for t in await tickets_repo.for_order(order.id)}
    prep = PrepTimeRepository(uow.session, tenant_id)
    for line, target in moves:
        before = line.status
        check_transition("item", before, target)
        if not await lines_repo.change_status(line.id, current=before, target=target, now=now):
            fresh = await lines_repo.in_outlet(line.id, order.outlet_id)
            raise IllegalTransition("item", fresh.status if fresh else before, target)
        ticket = tickets.get(line.ticket_id or "")
        if target == "ready" and line.ready_at is None and ticket is not None:
            sample = (now - as_utc(ticket.created_at)).total_seconds()
            await prep.record_sample(order.outlet_id, line.menu_item_id, sample, now)
            await prep.record_sample(order.outlet_id, eta.OUTLET_WIDE, sample, now)
        await emit(
            uow,
            EventName.KITCHEN_ITEM_STATUS,
            tenant_id=tenant_id,
            outlet_id=order.outlet_id,
            payload={
                "item_id": line.id,
                "ticket_id": line.ticket_id,
                "order_id": order.id,
                "station": line.station,
                "from": before,
                "to": target,
                "by": actor.id,
            },
            dedupe_key=f"kitchen.item_status:{line.id}:{target}:{rfc3339(now)}",
        )
        if ticket is not None:
            publish_to_kds(
                uow,
                pubsub,
                order.outlet_id,
                ticket.station,
                ITEM_STATUS,
                {"item_id": line.id, "ticket_id": ticket.id, "status": target},
            )

    # The tickets follow their items.
    lines = await lines_repo.for_order(order.id)
    touched = {line.ticket_id for line, _ in moves if line.ticket_id}
    for ticket_id in sorted(touched):
        ticket = tickets[ticket_id]
        status = derive_status(line.status for line in lines if line.ticket_id == ticket_id)
        if ticket.picked_at is not None:
            status = "served" if status in ("ready", "served") else status
        ready_at = ticket.ready_at if status in ("ready", "served") and ticket.ready_at else None
        if status in ("ready", "served") and ready_at is None:
            ready_at = now
        if status != ticket.status or ready_at != ticket.ready_at:
            await tickets_repo.set_status(ticket_id, status=status, ready_at=ready_at, now=now)
        view = await _view(uow, tenant_id, order.outlet_id, ticket_id)
        publish_to_kds(
            uow,
            pubsub,
            order.outlet_id,
            ticket.station,
            TICKET_UPDATED,
            {"ticket": view.model_dump(mode="json")},
        )

    # The order follows every item of it.
    await _follow_items(uow, pubsub, actor, order, lines, now)


async def _follow_items(
    uow: UnitOfWork,
    pubsub: PubSub | None,
    actor: KitchenActor,
    order: Order,
    lines: Sequence[OrderLine],
    now: datetime,
) -> Order:
    target = _ORDER_FOR.get(derive_status(line.status for line in lines))
    path = order_path(order.status, target) if target else []
    repo = OrderRepository(uow.session, order.tenant_id)
    current = order
    for step in path:
        before = current.status
        moved = await repo.change_status(order.id, current=before, target=step, now=now)
        if moved is None:  # pragma: no cover - the order row is locked
            break
        current = moved
        await record_status_step(
            uow, actor, order, before=before, target=step, version=moved.version, by_kitchen=True
        )
    if path:
        message = await order_status_message(uow, current)
        if message["eta_secs"] != current.eta_secs:
            current.eta_secs = message["eta_secs"]
        to_table_and_staff(uow, pubsub, current, ORDER_STATUS, message)
    return current


async def _line(uow: UnitOfWork, actor: KitchenActor, line_id: str) -> OrderLine:
    line = await KitchenLineRepository(uow.session, actor.tenant_id).in_outlet(
        line_id, outlet_of(actor)
    )
    if line is None:
        raise ItemNotFound()
    return line


async def set_item_status(
    uow: UnitOfWork, pubsub: PubSub | None, actor: KitchenActor, line_id: str, requested: str
) -> KdsTicket:
    """`POST /api/v1/kds/items/{id}/status`: one step of the item state machine."""
    needed = STATUS_PERMISSIONS.get(requested)
    if needed is not None:
        _require(actor, needed)
    line = await _line(uow, actor, line_id)
    order = await _locked_order(uow, actor.tenant_id, line.order_id)
    line = await _line(uow, actor, line_id)  # fresh, now that the order is locked
    before = line.status
    target = item_target(before, requested)
    check_transition("item", before, target)
    now = utcnow()
    await _apply(uow, pubsub, actor, order, [(line, target)], now)
    await audit.record(
        uow,
        actor,
        "kds.item_status",
        subject_type="order_line",
        subject_id=line.id,
        before={"status": before},
        after={"status": target, "action": requested, "ticket_id": line.ticket_id},
        outlet_id=order.outlet_id,
    )
    assert line.ticket_id is not None
    return await _view(uow, actor.tenant_id, order.outlet_id, line.ticket_id)


async def _ticket(uow: UnitOfWork, actor: KitchenActor, ticket_id: str) -> KitchenTicket:
    row = await TicketRepository(uow.session, actor.tenant_id).row(ticket_id, outlet_of(actor))
    if row is None:
        raise TicketNotFound()
    return row.ticket


async def bump_ticket(
    uow: UnitOfWork, pubsub: PubSub | None, actor: KitchenActor, ticket_id: str
) -> KdsTicket:
    """Every item of the ticket one step on (queued → in_progress → ready)."""
    ticket = await _ticket(uow, actor, ticket_id)
    order = await _locked_order(uow, actor.tenant_id, ticket.order_id)
    ticket = await _ticket(uow, actor, ticket_id)
    lines = await KitchenLineRepository(uow.session, actor.tenant_id).for_tickets([ticket.id])
    moves = [(line, t) for line in lines if (t := bump_target(line.status)) is not None]
    if not moves:
        raise NothingToBump(ticket.status)
    now = utcnow()
    await _apply(uow, pubsub, actor, order, moves, now)
    await audit.record(
        uow,
        actor,
        "kds.ticket_bumped",
        subject_type="kitchen_ticket",
        subject_id=ticket.id,
        before={"status": ticket.status, "items": {line.id: line.status for line, _ in moves}},
        after={"items": {line.id: target for line, target in moves}},
        outlet_id=order.outlet_id,
    )
    return await _view(uow, actor.tenant_id, order.outlet_id, ticket.id)


async def _pick(
    uow: UnitOfWork, pubsub: PubSub | None, actor: KitchenActor, ticket: KitchenTicket, order: Order
) -> KdsTicket | None:
    """Serve every ready item of a ready ticket; None when another screen picked it first
    or it is not ready any more."""
    now = utcnow()
    tickets = TicketRepository(uow.session, actor.tenant_id)
    if not await tickets.mark_picked(ticket.id, staff_id=actor.id, now=now):
        return None
    lines = await KitchenLineRepository(uow.session, actor.tenant_id).for_tickets([ticket.id])
    moves = [(line, "served") for line in lines if line.status == "ready"]
    await _apply(uow, pubsub, actor, order, moves, now)
    age = _age(ticket.created_at, now)
    await audit.record(
        uow,
        actor,
        EventName.EXPO_PICKED,
        subject_type="kitchen_ticket",
        subject_id=ticket.id,
        before={"status": "ready"},
        after={
            "status": "served",
            "order_id": order.id,
            "station": ticket.station,
            "age_secs": age,
        },
        outlet_id=order.outlet_id,
    )
    await emit(
        uow,
        EventName.EXPO_PICKED,
        tenant_id=actor.tenant_id,
        outlet_id=order.outlet_id,
        payload={
            "ticket_id": ticket.id,
            "order_id": order.id,
            "station": ticket.station,
            "ticket_no": ticket.ticket_no,
            "age_secs": age,
            "picked_by": actor.id,
            "picked_at": rfc3339(now),
        },
        dedupe_key=f"expo.picked:{ticket.id}",
    )
    return await _view(uow, actor.tenant_id, order.outlet_id, ticket.id)


async def pick_ticket(
    uow: UnitOfWork, pubsub: PubSub | None, actor: KitchenActor, ticket_id: str
) -> KdsTicket:
    """Expo picks a ready ticket: its items are served (409 unless it is ready)."""
    ticket = await _ticket(uow, actor, ticket_id)
    order = await _locked_order(uow, actor.tenant_id, ticket.order_id)
    ticket = await _ticket(uow, actor, ticket_id)
    if ticket.status != "ready" or ticket.picked_at is not None:
        raise TicketNotReady(ticket.status)
    picked = await _pick(uow, pubsub, actor, ticket, order)
    if picked is None:  # pragma: no cover - the order row is locked
        raise TicketNotReady(ticket.status)
    return picked


async def pick_oldest(uow: UnitOfWork, pubsub: PubSub | None, actor: KitchenActor) -> KdsTicket:
    """The expo's `P`: pick the oldest ready ticket of any station (409 NOTHING_READY)."""
    outlet_id = outlet_of(actor)
    tickets = TicketRepository(uow.session, actor.tenant_id)
    tried: list[str] = []
    for _ in range(PICK_ATTEMPTS):
        ticket_id = await tickets.oldest_ready(outlet_id, skip=tried)
        if ticket_id is None:
            break
        tried.append(ticket_id)
        ticket = await _ticket(uow, actor, ticket_id)
        order = await _locked_order(uow, actor.tenant_id, ticket.order_id)
        ticket = await _ticket(uow, actor, ticket_id)
        if ticket.status != "ready" or ticket.picked_at is not None:
            continue
        picked = await _pick(uow, pubsub, actor, ticket, order)
        if picked is not None:
            return picked
    raise NothingReady()
