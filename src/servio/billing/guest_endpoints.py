"""Guest bill routes (GUEST-07, BEY-02), authenticated like `POST /orders`: the member (or,
for reads, guest) token of a live session, which must sit at the table of the QR token in
the path — another table's or another tenant's token is 404.

POST /g/{qr_token}/bill                       the table's bill (201 new / 200 open one)
GET  /g/{qr_token}/invoices                   the session's invoices and credit notes
GET  /g/{qr_token}/invoices/{id}              one of them, with its split parts
POST /g/{qr_token}/invoices/{id}/split        split it (same body as the staff route)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request, Response, status

from servio.auth.actors import GuestActor
from servio.auth.dependencies import app_settings, require_guest
from servio.billing import service
from servio.billing.endpoints import _PRICING, _SPLIT, BILL_DESCRIPTION
from servio.billing.schemas import GuestBillCreate, GuestInvoicePage, InvoiceRead, SplitCreate
from servio.kit.db import UnitOfWork
from servio.kit.errors import problem_responses
from servio.kit.idempotency import IDEMPOTENCY_PROBLEMS, idempotent
from servio.kit.ratelimit import RATE_LIMIT_PROBLEM, rate_limit
from servio.kit.routing import get_uow, make_router
from servio.realtime.pubsub import PubSub, get_pubsub

router = make_router(tags=["guest"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Pubsub = Annotated[PubSub, Depends(get_pubsub)]
Member = Annotated[GuestActor, Depends(require_guest(member_required=True))]
Guest = Annotated[GuestActor, Depends(require_guest())]
QrToken = Annotated[str, Path(max_length=128, description="The token printed in the QR")]
InvoiceId = Annotated[str, Path(min_length=26, max_length=26, description="The invoice's ULID.")]

_GUEST = (
    (401, "UNAUTHORIZED"),
    (404, "NOT_FOUND"),
    (410, "SESSION_EXPIRED"),
    RATE_LIMIT_PROBLEM,
)


@router.post(
    "/g/{qr_token}/bill",
    status_code=status.HTTP_201_CREATED,
    summary="Ask for the table's bill (optional tip, coupons, receipt contact)",
    description=BILL_DESCRIPTION,
    response_model=InvoiceRead,
    dependencies=[
        Depends(require_guest(member_required=True)),
        Depends(rate_limit("guest")),
        Depends(idempotent()),
    ],
    responses={
        200: {"description": "Nothing new was ordered: the table's open invoice."},
        **problem_responses(
            *IDEMPOTENCY_PROBLEMS,
            *_GUEST,
            (403, "MEMBER_REQUIRED"),
            (409, "NOTHING_TO_BILL"),
            *_PRICING,
        ),
    },
)
async def guest_bill(
    qr_token: QrToken,
    body: GuestBillCreate,
    request: Request,
    response: Response,
    uow: Uow,
    pubsub: Pubsub,
    actor: Member,
) -> InvoiceRead:
    outcome = await service.guest_bill(uow, pubsub, app_settings(request), actor, qr_token, body)
    response.status_code = status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK
    return await service.read_model(uow, outcome.invoice)


@router.get(
    "/g/{qr_token}/invoices",
    summary="The table's invoices and credit notes, oldest first",
    response_model=GuestInvoicePage,
    dependencies=[Depends(require_guest()), Depends(rate_limit("guest"))],
    responses=problem_responses(*_GUEST),
)
async def guest_invoices(
    qr_token: QrToken, request: Request, uow: Uow, actor: Guest
) -> GuestInvoicePage:
    rows = await service.guest_invoices(uow, app_settings(request), actor, qr_token)
    return GuestInvoicePage(
        items=await service.read_many(uow, actor.tenant_id, rows),
        payment_options=await service.guest_payment_options(uow, actor),
    )


@router.get(
    "/g/{qr_token}/invoices/{invoice_id}",
    summary="One of the table's invoices, with its split parts",
    response_model=InvoiceRead,
    dependencies=[Depends(require_guest()), Depends(rate_limit("guest"))],
    responses=problem_responses(*_GUEST),
)
async def guest_invoice(
    qr_token: QrToken, invoice_id: InvoiceId, request: Request, uow: Uow, actor: Guest
) -> InvoiceRead:
    invoice = await service.guest_invoice(uow, app_settings(request), actor, qr_token, invoice_id)
    return await service.read_model(uow, invoice)


@router.post(
    "/g/{qr_token}/invoices/{invoice_id}/split",
    summary="Split the table's bill: by guest, by items, evenly or by amount",
    description="Same body and rules as `POST /api/v1/invoices/{id}/split`.",
    response_model=InvoiceRead,
    dependencies=[Depends(require_guest(member_required=True)), Depends(rate_limit("guest"))],
    responses=problem_responses(*_GUEST, (403, "MEMBER_REQUIRED"), *_SPLIT),
)
async def guest_split(
    qr_token: QrToken,
    invoice_id: InvoiceId,
    body: SplitCreate,
    request: Request,
    uow: Uow,
    actor: Member,
) -> InvoiceRead:
    invoice = await service.guest_split(
        uow, app_settings(request), actor, qr_token, invoice_id, body
    )
    return await service.read_model(uow, invoice)
