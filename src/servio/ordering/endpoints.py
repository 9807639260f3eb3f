"""Orders. Guest: `POST /orders` (member token + Idempotency-Key). Staff: read an order,
move it through its states, and the firing controls (retry now, cancel, fired manually)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, status

from servio.auth.actors import GuestActor, StaffActor
from servio.auth.dependencies import require_guest, require_staff
from servio.kit.db import UnitOfWork
from servio.kit.errors import problem_responses
from servio.kit.idempotency import IDEMPOTENCY_PROBLEMS, idempotent
from servio.kit.ratelimit import RATE_LIMIT_PROBLEM, rate_limit
from servio.kit.routing import get_uow, make_router
from servio.ordering import service
from servio.ordering.schemas import OrderCreate, OrderPlaced, OrderRead, OrderStatusUpdate
from servio.realtime.pubsub import PubSub, get_pubsub

router = make_router(tags=["ordering"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Pubsub = Annotated[PubSub, Depends(get_pubsub)]
Member = Annotated[GuestActor, Depends(require_guest(member_required=True))]
Reader = Annotated[StaffActor, Depends(require_staff("orders.read"))]
StatusChanger = Annotated[StaffActor, Depends(require_staff("orders.status"))]
FiringManager = Annotated[StaffActor, Depends(require_staff("firing.manage"))]
OrderId = Annotated[str, Path(min_length=26, max_length=26, description="The order's ULID.")]

_STAFF = ((401, "UNAUTHORIZED"), (403, "FORBIDDEN"), (422, "OUTLET_REQUIRED"))
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
