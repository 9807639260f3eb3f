"""Orders. Guest: `POST /orders` (member token + Idempotency-Key). Staff: read an order,
move it through its states, and the firing controls (retry now, cancel, fired manually)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, status

from servio.auth.actors import GuestActor, StaffActor
from servio.auth.dependencies import require_guest, require_staff
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.idempotency import IDEMPOTENCY_PROBLEMS, idempotent
from servio.kit.pagination import PageParams, page_params
from servio.kit.ratelimit import RATE_LIMIT_PROBLEM, rate_limit
from servio.kit.routing import get_uow, make_router
from servio.ordering import service
from servio.ordering.schemas import OrderCreate, OrderPlaced, OrderRead, OrderStatusUpdate
from servio.ordering.state import OrderStatus
from servio.pos import service as pos
from servio.pos.schemas import BulkProgress, BulkProgressRead, QueuePage, StaffOrderCreate
from servio.realtime.pubsub import PubSub, get_pubsub

router = make_router(tags=["ordering"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Pubsub = Annotated[PubSub, Depends(get_pubsub)]
Member = Annotated[GuestActor, Depends(require_guest(member_required=True))]
Reader = Annotated[StaffActor, Depends(require_staff("orders.read"))]
StatusChanger = Annotated[StaffActor, Depends(require_staff("orders.status"))]
FiringManager = Annotated[StaffActor, Depends(require_staff("firing.manage"))]
Till = Annotated[StaffActor, Depends(require_staff("orders.write"))]
OrderId = Annotated[str, Path(min_length=26, max_length=26, description="The order's ULID.")]

_STAFF = STAFF_OUTLET_ERRORS
_ONE = (*_STAFF, (404, "NOT_FOUND"))


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    summary="Send the table's cart to the kitchen as one order",
    description="Sends every member's current cart lines as one order, priced by the server, "
    "and empties the cart. With the built-in kitchen the reply is already `in_queue` with "
    "its ticket number (`fired: acked`); with an external POS it is `pending` and the "
    "acknowledgement — or, after 3 s without one, `order_fire_delayed` — arrives on the "
    "table's socket. `order_id` (optional, a client-generated ULID) makes a resend after a "
    "dropped connection return the same order, whatever its Idempotency-Key.",
    response_model=OrderPlaced,
    dependencies=[
        Depends(require_guest(member_required=True)),
        Depends(rate_limit("guest")),
        Depends(idempotent()),
    ],
    responses=problem_responses(
        *IDEMPOTENCY_PROBLEMS,
        (401, "UNAUTHORIZED"),
        (403, "MEMBER_REQUIRED"),
        (403, "PASS_REQUIRED"),
        (404, "NOT_FOUND"),
        (409, "CART_EMPTY"),
        (409, "ORDER_ID_TAKEN"),
        (410, "SESSION_EXPIRED"),
        (422, "ITEM_UNAVAILABLE"),
        (422, "INVALID_MODIFIERS"),
        (422, "VALIDATION_ERROR"),
        (423, "TABLE_DISABLED"),
        RATE_LIMIT_PROBLEM,
    ),
)
async def send_order(body: OrderCreate, uow: Uow, pubsub: Pubsub, actor: Member) -> OrderPlaced:
    order = await service.place_order(uow, pubsub, actor, body.session_id, body.order_id)
    return service.placed_reply(order)


# --- staff POS (ORD-03, ORD-05): registered before /api/v1/orders/{order_id} ---------------


@router.post(
    "/api/v1/orders",
    status_code=status.HTTP_201_CREATED,
    summary="Enter an order at the POS for a table or the counter",
    description="Staff-entered order (`source`: pos or counter), priced by the server from "
    "the menu (client prices are ignored) and fired to the kitchen like a guest's order. "
    "With `service_point_id` of a table that has a live session the order joins that "
    "session; otherwise `session_id` is null (a counter order). `order_id` (optional "
    "client ULID) makes a resend return the same order.",
    response_model=OrderRead,
    dependencies=[Depends(require_staff("orders.write")), Depends(idempotent())],
    responses=problem_responses(
        *IDEMPOTENCY_PROBLEMS,
        *_ONE,
        (409, "ORDER_ID_TAKEN"),
        (422, "ITEM_UNAVAILABLE"),
        (422, "INVALID_MODIFIERS"),
        (422, "VALIDATION_ERROR"),
        (423, "TABLE_DISABLED"),
    ),
)
async def enter_order(body: StaffOrderCreate, uow: Uow, pubsub: Pubsub, actor: Till) -> OrderRead:
    order = await pos.place_staff_order(
        uow,
        pubsub,
        actor,
        items=body.items,
        service_point_id=body.service_point_id,
        order_id=body.order_id,
        source=body.source,
    )
    return await service.read_model(uow, order)


@router.get(
    "/api/v1/orders/queue",
    summary="The outlet's active orders, oldest first (filter by status and station)",
    description="Active = pending, in_queue, in_progress, ready, out_for_delivery unless "
    "`status` names others. `station` keeps orders with a line for that station and shows "
    "only those lines. Cursor-paged.",
    response_model=QueuePage,
    responses=problem_responses(*_STAFF, (422, "INVALID_CURSOR"), (422, "VALIDATION_ERROR")),
)
async def order_queue(
    uow: Uow,
    actor: Reader,
    paging: Annotated[PageParams, Depends(page_params)],
    status_: Annotated[
        list[OrderStatus] | None, Query(alias="status", description="Only these states.")
    ] = None,
    station: Annotated[str | None, Query(max_length=32, description="Only this station.")] = None,
) -> QueuePage:
    return await pos.order_queue(
        uow, actor, statuses=status_, station=station, cursor=paging.cursor, limit=paging.limit
    )


@router.post(
    "/api/v1/orders/bulk-progress",
    summary="Move each listed order one step along the order state machine",
    description="in_queue → in_progress → ready → served (out_for_delivery → served). Each "
    "id gets its own result: one that cannot move (unknown, pending the kitchen's "
    "acknowledgement, no next step, moved by someone else) is reported with its code and "
    "the others still move. Every move is audited and announced like a single one.",
    response_model=BulkProgressRead,
    responses=problem_responses(*_STAFF, (422, "VALIDATION_ERROR")),
)
async def bulk_progress(
    body: BulkProgress, uow: Uow, pubsub: Pubsub, actor: StatusChanger
) -> BulkProgressRead:
    return await pos.bulk_progress(uow, pubsub, actor, body.ids)


@router.get(
    "/api/v1/orders/{order_id}",
    summary="An order with its lines and firing state",
    response_model=OrderRead,
    responses=problem_responses(*_ONE),
)
async def get_order(order_id: OrderId, uow: Uow, actor: Reader) -> OrderRead:
    return await service.order_view(uow, actor, order_id)


@router.patch(
    "/api/v1/orders/{order_id}/status",
    summary="Move an order to its next state (in_progress, ready, served, …)",
    description='Follows the order state machine (api.md "States"); an illegal change is '
    "`409 ILLEGAL_TRANSITION`. Cancelling needs `orders.cancel` and stops the order's "
    "unacknowledged firings; refunding needs `orders.refund`. The table and the staff "
    "screens get `order_status`.",
    response_model=OrderRead,
    responses=problem_responses(*_ONE, (409, "ILLEGAL_TRANSITION"), (422, "VALIDATION_ERROR")),
)
async def set_order_status(
    order_id: OrderId, body: OrderStatusUpdate, uow: Uow, pubsub: Pubsub, actor: StatusChanger
) -> OrderRead:
    order = await service.change_status(uow, pubsub, actor, order_id, body.status)
    return await service.read_model(uow, order)


@router.post(
    "/api/v1/orders/{order_id}/firing/retry",
    summary="Send the order's unacknowledged firings to the kitchen/POS again now",
    response_model=OrderRead,
    responses=problem_responses(*_ONE, (409, "FIRING_RESOLVED")),
)
async def retry_firing(order_id: OrderId, uow: Uow, actor: FiringManager) -> OrderRead:
    order = await service.retry_firing(uow, actor, order_id)
    return await service.read_model(uow, order)


@router.post(
    "/api/v1/orders/{order_id}/firing/cancel",
    summary="Stop sending the order (an unacknowledged order is cancelled with it)",
    response_model=OrderRead,
    responses=problem_responses(*_ONE, (409, "FIRING_RESOLVED"), (409, "ILLEGAL_TRANSITION")),
)
async def cancel_firing(
    order_id: OrderId, uow: Uow, pubsub: Pubsub, actor: FiringManager
) -> OrderRead:
    order = await service.cancel_firing(uow, pubsub, actor, order_id)
    return await service.read_model(uow, order)


@router.post(
    "/api/v1/orders/{order_id}/firing/fired_manually",
    summary="Mark the order as keyed into the POS by hand (it gets a ticket number)",
    response_model=OrderRead,
    responses=problem_responses(*_ONE, (409, "FIRING_RESOLVED")),
)
async def fired_manually(
    order_id: OrderId, uow: Uow, pubsub: Pubsub, actor: FiringManager
) -> OrderRead:
    order = await service.fire_manually(uow, pubsub, actor, order_id)
    return await service.read_model(uow, order)
