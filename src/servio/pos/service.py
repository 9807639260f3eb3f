"""Staff POS use cases (ORD-03, ORD-05, seed 001 open tickets).

- `place_staff_order`: a cashier or waiter enters an order for a table or the counter. It is
  priced by the server and fired exactly like a guest order (`ordering.service.price_and_fire`);
  at a table with a live session it joins that session (its bill), otherwise it is a counter
  order (`session_id` null).
- `order_queue` / `bulk_progress`: the outlet's active orders oldest first, and moving many
  of them one step along the order state machine at once (each id reported on its own).
- Open tickets: a cart parked under a name, listed repriced, edited, resumed, cancelled, or
  checked out — the checkout claims the ticket with one conditional UPDATE, places the order
  in the same transaction and hands over to billing (`billing_handoff`: its invoice).

Every change is audited; nothing here commits (the request's unit of work does).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from servio.audit import service as audit
from servio.auth.actors import StaffActor
from servio.billing.service import issue_for_order
from servio.events import EventName
from servio.kit.clock import as_utc, utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import ProblemError
from servio.kit.ids import new_id
from servio.menu.pricing import ItemSnapshot, PricingError, price_item, price_line
from servio.menu.repository import ModifierRepository
from servio.menu.service import load_menu, price_snapshot
from servio.models.invoice import Invoice
from servio.models.open_ticket import OpenTicket
from servio.models.order import Order
from servio.ordering import service as ordering
from servio.ordering.exceptions import OrderIdTaken, OutletRequired
from servio.ordering.repository import OrderingPlace, OrderRepository, ordering_place
from servio.pos.exceptions import (
    OpenTicketClosed,
    OpenTicketEmpty,
    OpenTicketNotFound,
    OpenTicketVersionMismatch,
    ServicePointDisabled,
    ServicePointNotFound,
)
from servio.pos.repository import (
    OpenTicketRepository,
    PosPlaceRepository,
    QueueRepository,
    counter_place,
    outlet_currency,
)
from servio.pos.schemas import (
    BulkProblem,
    BulkProgressRead,
    BulkResult,
    OpenTicketCreate,
    OpenTicketLineRead,
    OpenTicketPage,
    OpenTicketRead,
    OpenTicketUpdate,
    PosCategory,
    PosLine,
    PosMenuItem,
    PosMenuRead,
    PosModifier,
    PosModifierGroup,
    QueueItem,
    QueueLine,
    QueuePage,
)
from servio.realtime.pubsub import PubSub
from servio.sessions.repository import SessionRepository
from servio.worker.dispatch import emit

# Orders the kitchen or the floor still has to act on.
ACTIVE_STATUSES: tuple[str, ...] = (
    "pending",
    "in_queue",
    "in_progress",
    "ready",
    "out_for_delivery",
)

# One step of bulk progress. `pending → in_queue` is the kitchen's acknowledgement and
# `served → completed` is settlement (billing): neither is a floor action.
NEXT_STEP: Mapping[str, str] = {
    "in_queue": "in_progress",
    "in_progress": "ready",
    "ready": "served",
    "out_for_delivery": "served",
}


def acting_outlet(actor: StaffActor) -> str:
    if actor.outlet_id is None:
        raise OutletRequired()
    return actor.outlet_id


def _choices(lines: Iterable[PosLine | Mapping[str, Any]]) -> list[ordering.LineChoice]:
    """POS lines (request bodies or an open ticket's stored lines) as order line choices."""
    out: list[ordering.LineChoice] = []
    for position, raw in enumerate(lines, start=1):
        line = raw if isinstance(raw, PosLine) else PosLine.model_validate(raw)
        out.append(
            ordering.LineChoice(
                id=f"line-{position}",
                menu_item_id=line.menu_item_id,
                qty=line.qty,
                note=line.note,
                modifiers=tuple(line.modifiers),
            )
        )
    return out


def _stored_lines(items: Sequence[PosLine]) -> list[dict[str, Any]]:
    return [
        {"menu_item_id": i.menu_item_id, "qty": i.qty, "note": i.note, "modifiers": i.modifiers}
        for i in items
    ]


# --- staff-entered orders -------------------------------------------------------------------


async def _where(
    uow: UnitOfWork, actor: StaffActor, outlet_id: str, point_id: str | None, now: datetime
) -> tuple[OrderingPlace, str | None]:
    """The place facts for the order and the live session it joins (None: counter)."""
    tenant_id = actor.tenant_id
    if point_id is None:
        place = await counter_place(uow.session, tenant_id, outlet_id)
        if place is None:  # pragma: no cover - the actor's outlet exists
            raise OutletRequired()
        return place, None
    point = await PosPlaceRepository(uow.session, tenant_id).point_in_outlet(point_id, outlet_id)
    if point is None:
        raise ServicePointNotFound()
    if point.state == "disabled":
        raise ServicePointDisabled(point.label)
    table_place = await ordering_place(uow.session, tenant_id, outlet_id, point.id)
    if table_place is None:  # pragma: no cover - read a moment ago
        raise ServicePointNotFound()
    sessions = SessionRepository(uow.session, tenant_id)
    live = await sessions.live_for_point(point.id)
    # `touch` locks the live session's row (its writes queue here) and keeps it alive; a
    # session closed in the meantime is not joined.
    joined = await sessions.touch(live.id, now) if live is not None else None
    return table_place, joined.id if joined is not None else None


async def place_staff_order(
    uow: UnitOfWork,
    pubsub: PubSub,
    actor: StaffActor,
    *,
    items: Sequence[PosLine | Mapping[str, Any]],
    service_point_id: str | None,
    order_id: str | None,
    source: str,
) -> Order:
    """`POST /api/v1/orders`: the order, priced and fired like a guest's. A repeated
    `order_id` of this outlet's staff order returns that order unchanged."""
    outlet_id = acting_outlet(actor)
    tenant_id = actor.tenant_id
    now = utcnow()
    place, session_id = await _where(uow, actor, outlet_id, service_point_id, now)
    orders = OrderRepository(uow.session, tenant_id)
    order = ordering.new_order(
        order_id,
        place,
        now,
        outlet_id=outlet_id,
        session_id=session_id,
        service_point_id=service_point_id,
        source=source,
        placed_by_staff_id=actor.id,
    )
    if not await orders.insert_new(order):
        existing = await orders.get(order.id)
        if (
            existing is None
            or existing.outlet_id != outlet_id
            or existing.placed_by_staff_id is None
        ):
            raise OrderIdTaken()
        return existing
    placed = await ordering.price_and_fire(uow, pubsub, order, place, _choices(items), now)
    if session_id is not None:
        await SessionRepository(uow.session, tenant_id).mark_ordered(session_id, now)
    await audit.record(
        uow,
        actor,
        "order.placed",
        subject_type="order",
        subject_id=placed.id,
        after={
            "source": placed.source,
            "service_point_id": placed.service_point_id,
            "session_id": placed.session_id,
            "subtotal": placed.subtotal,
            "item_count": placed.item_count,
            "status": placed.status,
        },
        outlet_id=outlet_id,
    )
    return placed


# --- the queue and bulk progress ------------------------------------------------------------


async def order_queue(
    uow: UnitOfWork,
    actor: StaffActor,
    *,
    statuses: Sequence[str] | None,
    station: str | None,
    cursor: str | None,
    limit: int,
) -> QueuePage:
    outlet_id = acting_outlet(actor)
    repo = QueueRepository(uow.session, actor.tenant_id)
    orders, next_cursor = await repo.page(
        outlet_id,
        statuses=list(statuses) if statuses else list(ACTIVE_STATUSES),
        station=station,
        cursor=cursor,
        limit=limit,
    )
    lines = await repo.lines_of(o.id for o in orders)
    labels = await PosPlaceRepository(uow.session, actor.tenant_id).labels(
        o.service_point_id for o in orders if o.service_point_id
    )
    now = utcnow()
    items = [
        QueueItem(
            order_id=o.id,
            ticket_no=o.ticket_no,
            status=o.status,
            fired=o.fired,
            source=o.source,
            session_id=o.session_id,
            service_point_id=o.service_point_id,
            table=labels.get(o.service_point_id or ""),
            created_at=as_utc(o.created_at),
            status_changed_at=as_utc(o.status_changed_at),
            age_secs=max(0, int((now - as_utc(o.created_at)).total_seconds())),
            item_count=o.item_count,
            subtotal=o.subtotal,
            currency=o.currency,
            lines=[
                QueueLine(
                    line_id=ln.id,
                    name=ln.name,
                    qty=ln.qty,
                    modifiers=[m["name"] for m in ln.modifiers for _ in range(int(m["qty"]))],
                    note=ln.note,
                    station=ln.station,
                    status=ln.status,
                )
                for ln in lines.get(o.id, [])
                if station is None or ln.station == station
            ],
        )
        for o in orders
    ]
    return QueuePage(items=items, next_cursor=next_cursor)


async def bulk_progress(
    uow: UnitOfWork, pubsub: PubSub, actor: StaffActor, ids: Sequence[str]
) -> BulkProgressRead:
    """Each order one step along the state machine (`NEXT_STEP`). An id that cannot move
    (unknown, another outlet's, no next step, moved by someone else meanwhile) is reported
    in its result; the others still move. Each move is audited like a single one."""
    outlet_id = acting_outlet(actor)
    wanted = list(dict.fromkeys(i.strip().upper() for i in ids))
    orders = await QueueRepository(uow.session, actor.tenant_id).in_outlet(wanted, outlet_id)
    results: list[BulkResult] = []
    for order_id in wanted:
        order = orders.get(order_id)
        if order is None:
            results.append(_failed(order_id, None, "NOT_FOUND", "order not found"))
            continue
        current = order.status
        target = NEXT_STEP.get(current)
        if target is None:
            why = (
                "waits for the kitchen's acknowledgement"
                if current == "pending"
                else "has no next step on the floor"
            )
            results.append(
                _failed(order_id, current, "ILLEGAL_TRANSITION", f"an order {current} {why}")
            )
            continue
        try:
            moved = await ordering.change_status(uow, pubsub, actor, order_id, target)
        except ProblemError as exc:
            results.append(_failed(order_id, current, exc.code, exc.detail))
            continue
        results.append(
            BulkResult(order_id=order_id, ok=True, from_status=current, to_status=moved.status)
        )
    moved_count = sum(1 for r in results if r.ok)
    await audit.record(
        uow,
        actor,
        "orders.bulk_progressed",
        subject_type="order",
        after={
            "moved": [r.order_id for r in results if r.ok],
            "failed": {r.order_id: r.error.code for r in results if r.error is not None},
        },
        outlet_id=outlet_id,
    )
    return BulkProgressRead(results=results, moved=moved_count, failed=len(results) - moved_count)


def _failed(order_id: str, current: str | None, code: str, detail: str) -> BulkResult:
    return BulkResult(
        order_id=order_id,
        ok=False,
        from_status=current,
        error=BulkProblem(code=code, detail=detail),
    )


# --- open tickets ---------------------------------------------------------------------------


async def _check_lines(
    uow: UnitOfWork, tenant_id: str, outlet_id: str, items: Sequence[PosLine]
) -> None:
    """Parking or editing a ticket refuses lines that cannot be ordered now (422 naming
    the line's index); reading one later reprices and flags instead of failing."""
    if not items:
        return
    snapshots = await price_snapshot(uow, tenant_id, outlet_id, {i.menu_item_id for i in items})
    known = await ModifierRepository(uow.session, tenant_id, outlet_id).groups_of(
        m for i in items for m in i.modifiers
    )
    for index, item in enumerate(items):
        try:
            price_line(snapshots, item.menu_item_id, item.modifiers, modifier_groups=known)
        except PricingError as exc:
            exc.extra["line_index"] = index
            raise


async def _check_point(
    uow: UnitOfWork, tenant_id: str, outlet_id: str, point_id: str | None
) -> None:
    if point_id is None:
        return
    point = await PosPlaceRepository(uow.session, tenant_id).point_in_outlet(point_id, outlet_id)
    if point is None:
        raise ServicePointNotFound()


def _price_stored_line(
    raw: Mapping[str, Any], snapshots: Mapping[str, ItemSnapshot]
) -> OpenTicketLineRead:
    """One stored line priced now. Never raises: an unorderable line is flagged."""
    item_id = str(raw.get("menu_item_id", ""))
    qty = int(raw.get("qty", 1))
    chosen = [str(m) for m in raw.get("modifiers") or []]
    note = str(raw.get("note") or "")
    item = snapshots.get(item_id)
    if item is None:
        return OpenTicketLineRead(
            menu_item_id=item_id,
            name="(no longer on the menu)",
            qty=qty,
            note=note,
            modifiers=chosen,
            modifier_names=[],
            unit_price=0,
            line_total=0,
            is_available=False,
        )
    names = {m.id: m.name for group in item.groups for m in group.modifiers}
    try:
        priced = price_item(item, chosen)
    except PricingError:
        unit, available = item.price, False
        modifier_names = [names[m] for m in chosen if m in names]
    else:
        unit, available = priced.unit_price, True
        modifier_names = [m.name for m in priced.modifiers for _ in range(m.qty)]
    return OpenTicketLineRead(
        menu_item_id=item_id,
        name=item.name,
        qty=qty,
        note=note,
        modifiers=chosen,
        modifier_names=modifier_names,
        unit_price=unit,
        line_total=unit * qty,
        is_available=available,
    )


async def _read_many(
    uow: UnitOfWork, actor: StaffActor, tickets: Sequence[OpenTicket]
) -> list[OpenTicketRead]:
    """Tickets priced now: one menu read and one label read for the whole list."""
    if not tickets:
        return []
    tenant_id = actor.tenant_id
    outlet_id = tickets[0].outlet_id
    item_ids = {str(ln.get("menu_item_id", "")) for t in tickets for ln in t.lines}
    snapshots = await price_snapshot(uow, tenant_id, outlet_id, item_ids) if item_ids else {}
    labels = await PosPlaceRepository(uow.session, tenant_id).labels(
        t.service_point_id for t in tickets if t.service_point_id
    )
    currency = await outlet_currency(uow.session, tenant_id, outlet_id)
    out: list[OpenTicketRead] = []
    for t in tickets:
        lines = [_price_stored_line(ln, snapshots) for ln in t.lines]
        out.append(
            OpenTicketRead(
                id=t.id,
                name=t.name,
                state=t.state,
                service_point_id=t.service_point_id,
                table=labels.get(t.service_point_id or ""),
                note=t.note,
                lines=lines,
                currency=currency,
                item_count=sum(ln.qty for ln in lines),
                subtotal=sum(ln.line_total for ln in lines),
                orderable=bool(lines) and all(ln.is_available for ln in lines),
                opened_by=t.opened_by,
                resumed_by=t.resumed_by,
                resumed_at=as_utc(t.resumed_at) if t.resumed_at else None,
                checked_out_at=as_utc(t.checked_out_at) if t.checked_out_at else None,
                order_id=t.order_id,
                created_at=as_utc(t.created_at),
                updated_at=as_utc(t.updated_at),
                version=t.version,
            )
        )
    return out


async def read_ticket(uow: UnitOfWork, actor: StaffActor, ticket: OpenTicket) -> OpenTicketRead:
    [read] = await _read_many(uow, actor, [ticket])
    return read


async def _ticket(uow: UnitOfWork, actor: StaffActor, ticket_id: str) -> OpenTicket:
    ticket = await OpenTicketRepository(uow.session, actor.tenant_id).get_in_outlet(
        ticket_id, acting_outlet(actor)
    )
    if ticket is None:
        raise OpenTicketNotFound()
    return ticket


async def _changed(
    uow: UnitOfWork, actor: StaffActor, ticket: OpenTicket, action: str, before: dict[str, Any]
) -> None:
    """Audit entry and `open_ticket.changed` event for one change of a ticket."""
    await audit.record(
        uow,
        actor,
        f"open_ticket.{action}",
        subject_type="open_ticket",
        subject_id=ticket.id,
        before=before or None,
        after={
            "name": ticket.name,
            "state": ticket.state,
            "service_point_id": ticket.service_point_id,
            "lines": len(ticket.lines),
            "order_id": ticket.order_id,
            "version": ticket.version,
        },
        outlet_id=ticket.outlet_id,
    )
    await emit(
        uow,
        EventName.OPEN_TICKET_CHANGED,
        tenant_id=ticket.tenant_id,
        outlet_id=ticket.outlet_id,
        payload={
            "open_ticket_id": ticket.id,
            "action": action,
            "state": ticket.state,
            "order_id": ticket.order_id,
            "by": actor.id,
        },
        dedupe_key=f"open_ticket.changed:{ticket.id}:{ticket.version}",
    )


async def park_ticket(uow: UnitOfWork, actor: StaffActor, body: OpenTicketCreate) -> OpenTicket:
    outlet_id = acting_outlet(actor)
    await _check_point(uow, actor.tenant_id, outlet_id, body.service_point_id)
    await _check_lines(uow, actor.tenant_id, outlet_id, body.items)
    now = utcnow()
    ticket = await OpenTicketRepository(uow.session, actor.tenant_id).add(
        OpenTicket(
            id=new_id(),
            outlet_id=outlet_id,
            service_point_id=body.service_point_id,
            name=body.name,
            lines=_stored_lines(body.items),
            note=body.note,
            state="open",
            opened_by=actor.id,
            created_at=now,
            updated_at=now,
            version=1,
        )
    )
    await _changed(uow, actor, ticket, "parked", {})
    return ticket


async def list_open(
    uow: UnitOfWork, actor: StaffActor, *, cursor: str | None, limit: int
) -> OpenTicketPage:
    tickets, next_cursor = await OpenTicketRepository(uow.session, actor.tenant_id).open_page(
        acting_outlet(actor), cursor=cursor, limit=limit
    )
    return OpenTicketPage(items=await _read_many(uow, actor, tickets), next_cursor=next_cursor)


async def get_ticket(uow: UnitOfWork, actor: StaffActor, ticket_id: str) -> OpenTicket:
    return await _ticket(uow, actor, ticket_id)


async def _refused(
    uow: UnitOfWork, actor: StaffActor, ticket_id: str, expected_version: int | None
) -> ProblemError:
    """Why a conditional change of a ticket matched nothing."""
    current = await _ticket(uow, actor, ticket_id)  # 404 when not this outlet's
    if current.state != "open":
        return OpenTicketClosed(current.state)
    if expected_version is not None and current.version != expected_version:
        return OpenTicketVersionMismatch(current.version)
    return OpenTicketClosed(current.state)  # pragma: no cover - changed and reverted


async def edit_ticket(
    uow: UnitOfWork,
    actor: StaffActor,
    ticket_id: str,
    body: OpenTicketUpdate,
    expected_version: int | None,
) -> OpenTicket:
    """Change the name, table, note or lines of an OPEN ticket (`If-Match`: its version)."""
    outlet_id = acting_outlet(actor)
    before = await _ticket(uow, actor, ticket_id)
    snapshot = {"name": before.name, "lines": len(before.lines), "version": before.version}
    values: dict[str, Any] = {}
    sent = body.model_fields_set
    if "name" in sent and body.name is not None:
        values["name"] = body.name.strip() or before.name
    if "note" in sent and body.note is not None:
        values["note"] = body.note
    if "service_point_id" in sent:
        await _check_point(uow, actor.tenant_id, outlet_id, body.service_point_id)
        values["service_point_id"] = body.service_point_id
    if "items" in sent and body.items is not None:
        await _check_lines(uow, actor.tenant_id, outlet_id, body.items)
        values["lines"] = _stored_lines(body.items)
    changed = await OpenTicketRepository(uow.session, actor.tenant_id).change_open(
        ticket_id, outlet_id, now=utcnow(), expected_version=expected_version, **values
    )
    if changed is None:
        raise await _refused(uow, actor, ticket_id, expected_version)
    await _changed(uow, actor, changed, "edited", snapshot)
    return changed


async def resume_ticket(uow: UnitOfWork, actor: StaffActor, ticket_id: str) -> OpenTicket:
    """A cashier picks the ticket up again: who and when are remembered."""
    now = utcnow()
    changed = await OpenTicketRepository(uow.session, actor.tenant_id).change_open(
        ticket_id, acting_outlet(actor), now=now, resumed_by=actor.id, resumed_at=now
    )
    if changed is None:
        raise await _refused(uow, actor, ticket_id, None)
    await _changed(uow, actor, changed, "resumed", {})
    return changed


async def cancel_ticket(uow: UnitOfWork, actor: StaffActor, ticket_id: str) -> OpenTicket:
    changed = await OpenTicketRepository(uow.session, actor.tenant_id).change_open(
        ticket_id, acting_outlet(actor), now=utcnow(), state="cancelled"
    )
    if changed is None:
        raise await _refused(uow, actor, ticket_id, None)
    await _changed(uow, actor, changed, "cancelled", {"state": "open"})
    return changed


async def checkout_ticket(
    uow: UnitOfWork, pubsub: PubSub, actor: StaffActor, ticket_id: str
) -> tuple[Order, OpenTicket, Invoice]:
    """Claim the ticket (`open → checked_out` in ONE conditional UPDATE: of two concurrent
    checkouts exactly one matches), place its order in the same transaction, then hand over
    to billing. Any failure after the claim (an item out of stock, a disabled table) rolls
    the whole transaction back, so the ticket stays open."""
    outlet_id = acting_outlet(actor)
    await _ticket(uow, actor, ticket_id)  # 404 before anything else
    now = utcnow()
    order_id = new_id()
    claimed = await OpenTicketRepository(uow.session, actor.tenant_id).change_open(
        ticket_id,
        outlet_id,
        now=now,
        state="checked_out",
        checked_out_at=now,
        order_id=order_id,
    )
    if claimed is None:
        raise await _refused(uow, actor, ticket_id, None)
    if not claimed.lines:
        raise OpenTicketEmpty()
    order = await place_staff_order(
        uow,
        pubsub,
        actor,
        items=claimed.lines,
        service_point_id=claimed.service_point_id,
        order_id=order_id,
        source="pos",
    )
    invoice = await billing_handoff(uow, actor, ticket=claimed, order=order)
    await _changed(uow, actor, claimed, "checked_out", {"state": "open"})
    return order, claimed, invoice


async def billing_handoff(
    uow: UnitOfWork, actor: StaffActor, *, ticket: OpenTicket, order: Order
) -> Invoice:
    """Seed 001 checks an open ticket out "to sales + payments atomically": the order placed
    from the ticket gets its invoice here, in this same transaction, so the ticket, the
    order and the invoice commit — or roll back — together (a failure while invoicing
    leaves the ticket open). The invoice is priced by billing's engine, numbered from the
    outlet's series and frozen (`billing.service.issue_for_order`, source "pos"); payments
    are then taken against it (`POST /api/v1/invoices/{id}/payments`)."""
    return await issue_for_order(uow, actor, order, source="pos")


# --- the POS screen's menu ------------------------------------------------------------------


async def pos_menu(uow: UnitOfWork, actor: StaffActor) -> PosMenuRead:
    menu = await load_menu(uow, actor.tenant_id, acting_outlet(actor))
    return PosMenuRead(
        currency=menu.currency,
        menu_version=menu.menu_version,
        categories=[PosCategory(id=c.id, name=c.name) for c in menu.categories],
        items=[
            PosMenuItem(
                id=e.item.id,
                name=e.item.name,
                price=e.item.price,
                kind=e.item.kind,
                category_id=e.category_id,
                station=e.item.station,
                is_available=e.item.is_available
                and all(part.is_available for part in e.item.components),
                dietary=list(e.dietary),
                allergens=list(e.allergens),
                groups=[
                    PosModifierGroup(
                        id=g.id,
                        name=g.name,
                        min_select=g.minimum,
                        max_select=g.max_select,
                        required=g.required,
                        modifiers=[
                            PosModifier(
                                id=m.id,
                                name=m.name,
                                price_delta=m.price_delta,
                                is_available=m.is_available,
                            )
                            for m in g.modifiers
                        ],
                    )
                    for g in e.item.groups
                ],
            )
            for e in menu.items
        ],
    )
