"""Open tickets (seed 001: park a cart, list, edit, resume, check out, cancel) and the menu
the POS screen reads. Staff-entered orders, the queue and bulk progress live with the other
order routes in `ordering.endpoints` and call `pos.service`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Response, status

from servio.auth.actors import StaffActor
from servio.auth.dependencies import require_staff
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.idempotency import IDEMPOTENCY_PROBLEMS, idempotent
from servio.kit.pagination import PageParams, page_params
from servio.kit.routing import get_uow, make_router
from servio.ordering import service as ordering
from servio.platform.dependencies import etag, if_match_version
from servio.pos import service
from servio.pos.schemas import (
    CheckoutRead,
    OpenTicketCreate,
    OpenTicketPage,
    OpenTicketRead,
    OpenTicketUpdate,
    PosMenuRead,
)
from servio.realtime.pubsub import PubSub, get_pubsub

router = make_router(prefix="/api/v1", tags=["pos"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Pubsub = Annotated[PubSub, Depends(get_pubsub)]
IfMatch = Annotated[int | None, Depends(if_match_version)]
Paging = Annotated[PageParams, Depends(page_params)]
Reader = Annotated[StaffActor, Depends(require_staff("orders.read"))]
Till = Annotated[StaffActor, Depends(require_staff("orders.write"))]
TicketId = Annotated[str, Path(min_length=26, max_length=26, description="The ticket's ULID.")]

_STAFF = STAFF_OUTLET_ERRORS
_ONE = (*_STAFF, (404, "NOT_FOUND"))
_LINES = ((422, "ITEM_UNAVAILABLE"), (422, "INVALID_MODIFIERS"), (422, "VALIDATION_ERROR"))


@router.get(
    "/pos/menu",
    summary="The outlet's active menu for the POS screen: categories, items, modifier groups",
    response_model=PosMenuRead,
    responses=problem_responses(*_STAFF),
)
async def pos_menu(uow: Uow, actor: Till) -> PosMenuRead:
    return await service.pos_menu(uow, actor)


@router.post(
    "/open_tickets",
    status_code=status.HTTP_201_CREATED,
    summary="Park a cart as an open ticket",
    description="Stores the lines under a name (a bar tab, a table that is still choosing), "
    "optionally for a table. Lines that cannot be ordered now are refused (422, with "
    "`line_index`). Prices are never stored: the ticket is priced whenever it is read.",
    response_model=OpenTicketRead,
    responses=problem_responses(*_ONE, *_LINES),
)
async def park(body: OpenTicketCreate, uow: Uow, actor: Till, response: Response) -> OpenTicketRead:
    ticket = await service.park_ticket(uow, actor, body)
    response.headers.update(etag(ticket.version))
    return await service.read_ticket(uow, actor, ticket)


@router.get(
    "/open_tickets",
    summary="The outlet's open tickets, newest first, priced now",
    response_model=OpenTicketPage,
    responses=problem_responses(*_STAFF, (422, "INVALID_CURSOR")),
)
async def list_open(uow: Uow, actor: Reader, paging: Paging) -> OpenTicketPage:
    return await service.list_open(uow, actor, cursor=paging.cursor, limit=paging.limit)


@router.get(
    "/open_tickets/{ticket_id}",
    summary="One open ticket (any state), priced now",
    response_model=OpenTicketRead,
    responses=problem_responses(*_ONE),
)
async def get_ticket(
    ticket_id: TicketId, uow: Uow, actor: Reader, response: Response
) -> OpenTicketRead:
    ticket = await service.get_ticket(uow, actor, ticket_id)
    response.headers.update(etag(ticket.version))
    return await service.read_ticket(uow, actor, ticket)


@router.patch(
    "/open_tickets/{ticket_id}",
    summary="Edit an open ticket's name, table, note or lines (If-Match: its version)",
    description="Only the fields sent change; `items` replaces every line. With `If-Match` "
    "a ticket someone else changed meanwhile is `412 VERSION_MISMATCH`; a ticket that is "
    "checked out or cancelled is `409 OPEN_TICKET_CLOSED`.",
    response_model=OpenTicketRead,
    responses=problem_responses(
        *_ONE,
        *_LINES,
        (400, "INVALID_IF_MATCH"),
        (409, "OPEN_TICKET_CLOSED"),
        (412, "VERSION_MISMATCH"),
    ),
)
async def edit(
    ticket_id: TicketId,
    body: OpenTicketUpdate,
    uow: Uow,
    actor: Till,
    expected: IfMatch,
    response: Response,
) -> OpenTicketRead:
    ticket = await service.edit_ticket(uow, actor, ticket_id, body, expected)
    response.headers.update(etag(ticket.version))
    return await service.read_ticket(uow, actor, ticket)


@router.post(
    "/open_tickets/{ticket_id}/resume",
    summary="Resume an open ticket (remembers who picked it up and when)",
    response_model=OpenTicketRead,
    responses=problem_responses(*_ONE, (409, "OPEN_TICKET_CLOSED")),
)
async def resume(ticket_id: TicketId, uow: Uow, actor: Till, response: Response) -> OpenTicketRead:
    ticket = await service.resume_ticket(uow, actor, ticket_id)
    response.headers.update(etag(ticket.version))
    return await service.read_ticket(uow, actor, ticket)


@router.post(
    "/open_tickets/{ticket_id}/checkout",
    status_code=status.HTTP_201_CREATED,
    summary="Check an open ticket out: place its order and issue its invoice (atomically, once)",
    description="Claims the ticket and places its order (priced and fired like any order) "
    "in one transaction: of two concurrent checkouts exactly one succeeds, the other gets "
    "`409 OPEN_TICKET_CLOSED`. A line that cannot be ordered any more (422) leaves the "
    "ticket open. The order's invoice is issued in the same transaction (numbered, "
    "frozen); take payments against `invoice_id` (`POST /api/v1/invoices/{id}/payments`).",
    response_model=CheckoutRead,
    dependencies=[Depends(require_staff("orders.write")), Depends(idempotent())],
    responses=problem_responses(
        *IDEMPOTENCY_PROBLEMS,
        *_ONE,
        *_LINES,
        (409, "OPEN_TICKET_CLOSED"),
        (409, "CART_EMPTY"),
        (423, "TABLE_DISABLED"),
    ),
)
async def checkout(ticket_id: TicketId, uow: Uow, pubsub: Pubsub, actor: Till) -> CheckoutRead:
    order, ticket, invoice = await service.checkout_ticket(uow, pubsub, actor, ticket_id)
    return CheckoutRead(
        invoice_id=invoice.id,
        invoice_number=invoice.number,
        order=await ordering.read_model(uow, order),
        open_ticket=await service.read_ticket(uow, actor, ticket),
    )


@router.post(
    "/open_tickets/{ticket_id}/cancel",
    summary="Cancel an open ticket (nothing is ordered)",
    response_model=OpenTicketRead,
    responses=problem_responses(*_ONE, (409, "OPEN_TICKET_CLOSED")),
)
async def cancel(ticket_id: TicketId, uow: Uow, actor: Till, response: Response) -> OpenTicketRead:
    ticket = await service.cancel_ticket(uow, actor, ticket_id)
    response.headers.update(etag(ticket.version))
    return await service.read_ticket(uow, actor, ticket)
