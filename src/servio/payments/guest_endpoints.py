"""The guest's pay button: `POST /g/{qr_token}/invoices/{id}/pay` (member token, like
`POST /orders`) starts a gateway payment for their split part or the bill's balance."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request, status

from servio.auth.actors import GuestActor
from servio.auth.dependencies import app_settings, require_guest
from servio.kit.db import UnitOfWork
from servio.kit.errors import problem_responses
from servio.kit.idempotency import IDEMPOTENCY_PROBLEMS, idempotent
from servio.kit.ratelimit import RATE_LIMIT_PROBLEM, rate_limit
from servio.kit.routing import get_uow, make_router
from servio.payments import service
from servio.payments.endpoints import created_reply, record_failed_gateway_payments
from servio.payments.schemas import GuestPayRequest, PaymentCreated

router = make_router(tags=["guest"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Member = Annotated[GuestActor, Depends(require_guest(member_required=True))]
QrToken = Annotated[str, Path(max_length=128, description="The token printed in the QR")]
InvoiceId = Annotated[str, Path(min_length=26, max_length=26, description="The invoice's ULID.")]


@router.post(
    "/g/{qr_token}/invoices/{invoice_id}/pay",
    status_code=status.HTTP_201_CREATED,
    summary="Pay your part of the bill (or the balance) online",
    description="Starts a gateway payment (flag `ENABLE_GATEWAY`) for the split part's "
    "remaining amount, or the invoice's balance without `split_id`. The reply's `checkout` "
    "opens the provider's payment sheet; the provider's webhook settles the payment. Only "
    "invoices of this table's session are found (another table's token → 404).",
    response_model=PaymentCreated,
    dependencies=[
        Depends(require_guest(member_required=True)),
        Depends(rate_limit("guest")),
        Depends(idempotent()),
    ],
    responses=problem_responses(
        *IDEMPOTENCY_PROBLEMS,
        (401, "UNAUTHORIZED"),
        (403, "MEMBER_REQUIRED"),
        (404, "NOT_FOUND"),
        (409, "GATEWAY_DISABLED"),
        (409, "GATEWAY_NOT_CONFIGURED"),
        (409, "INVOICE_NOT_PAYABLE"),
        (409, "NOTHING_TO_PAY"),
        (410, "SESSION_EXPIRED"),
        (422, "SPLIT_NOT_FOUND"),
        (422, "VALIDATION_ERROR"),
        (502, "GATEWAY_UNAVAILABLE"),
        RATE_LIMIT_PROBLEM,
    ),
)
async def guest_pay(
    qr_token: QrToken,
    invoice_id: InvoiceId,
    body: GuestPayRequest,
    request: Request,
    uow: Uow,
    actor: Member,
) -> PaymentCreated:
    record_failed_gateway_payments(request)
    outcome = await service.guest_pay(
        uow,
        actor,
        qr_token=qr_token,
        invoice_id=invoice_id,
        split_id=body.split_id,
        settings=app_settings(request),
    )
    return created_reply(outcome)
