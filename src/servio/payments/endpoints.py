"""Payments (PAY-01…03): take cash / card token / UPI / gateway payments against an invoice,
list and read them, refund with a manager's approval, and the gateways' webhooks."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Query, Request, status

from servio.auth.actors import StaffActor
from servio.auth.dependencies import app_settings, public, require_staff
from servio.kit.db import UnitOfWork
from servio.kit.errors import STAFF_OUTLET_ERRORS, problem_responses
from servio.kit.idempotency import IDEMPOTENCY_PROBLEMS, idempotent
from servio.kit.pagination import PageParams, page_params
from servio.kit.ratelimit import RATE_LIMIT_PROBLEM, rate_limit
from servio.kit.routing import get_uow, make_router, request_context
from servio.models import Payment
from servio.payments import service
from servio.payments.gateways import gateway_for
from servio.payments.schemas import (
    GatewayEventPage,
    GatewayEventRead,
    PaymentCreate,
    PaymentCreated,
    PaymentPage,
    PaymentRead,
    RefundCreate,
    RefundCreated,
    RefundList,
    RefundRead,
    WebhookAck,
)
from servio.payments.state import GatewayName, PaymentMethod, PaymentStatus

router = make_router(prefix="/api/v1", tags=["payments"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Paging = Annotated[PageParams, Depends(page_params)]
Reader = Annotated[StaffActor, Depends(require_staff("payments.read"))]
Cashier = Annotated[StaffActor, Depends(require_staff("payments.take"))]
InvoiceId = Annotated[str, Path(min_length=26, max_length=26, description="The invoice's ULID.")]
PaymentId = Annotated[str, Path(min_length=26, max_length=26, description="The payment's ULID.")]

_STAFF = STAFF_OUTLET_ERRORS
_ONE = (*_STAFF, (404, "NOT_FOUND"))


async def refuse_card_data(request: Request) -> None:
    """Runs before the body is validated, so a card number is refused (422
    `CARD_DATA_REFUSED`, naming the field only) before anything — validation errors, the
    idempotency store, logs — could hold it."""
    raw = await request.body()
    if not raw.strip():
        return
    try:
        data = json.loads(raw)
    except ValueError:
        return  # not JSON: body validation answers 422
    service.refuse_card_data(data)


def record_failed_gateway_payments(request: Request) -> None:
    request_context(request).hooks.append(service.FailedPaymentRecorder(request.app.state.db))


def created_reply(outcome: service.PaymentOutcome) -> PaymentCreated:
    return PaymentCreated(
        **PaymentRead.model_validate(outcome.payment).model_dump(),
        invoice=service.settlement(outcome.invoice),
        checkout=outcome.checkout,
    )


def _page(rows: list[Payment], next_cursor: str | None) -> PaymentPage:
    return PaymentPage(items=[PaymentRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "/invoices/{invoice_id}/payments",
    status_code=status.HTTP_201_CREATED,
    summary="Take a payment against an invoice (cash, card token, UPI UTR or gateway)",
    description="Locks the invoice and refuses more than its balance (or the split part's "
    "remaining amount). **cash**: `tendered` ≥ amount, change is returned, the sale goes "
    "into the open drawer. **card**: `reference` is the terminal's or provider's token — "
    "anything that looks like a card number, CVV or expiry anywhere in the body is refused "
    "(422 `CARD_DATA_REFUSED`). **upi**: the 12-digit `utr`, unique per outlet. "
    "**gateway** (flag `ENABLE_GATEWAY`): a `pending` payment and a provider intent; the "
    "reply's `checkout` finishes it in the browser and the provider's webhook settles it.",
    response_model=PaymentCreated,
    dependencies=[
        Depends(require_staff("payments.take")),
        Depends(refuse_card_data),
        Depends(idempotent()),
    ],
    responses=problem_responses(
        *IDEMPOTENCY_PROBLEMS,
        *_ONE,
        (409, "PAYMENT_EXCEEDS_BALANCE"),
        (409, "INVOICE_NOT_PAYABLE"),
        (409, "UTR_ALREADY_USED"),
        (409, "CASH_DRAWER_CLOSED"),
        (409, "CASH_DRAWER_REQUIRED"),
        (409, "GATEWAY_DISABLED"),
        (409, "GATEWAY_NOT_CONFIGURED"),
        (422, "CARD_DATA_REFUSED"),
        (422, "REFERENCE_REQUIRED"),
        (422, "UTR_INVALID"),
        (422, "TENDERED_TOO_LOW"),
        (422, "SPLIT_NOT_FOUND"),
        (422, "VALIDATION_ERROR"),
        (502, "GATEWAY_UNAVAILABLE"),
    ),
)
async def take_payment(
    invoice_id: InvoiceId, body: PaymentCreate, request: Request, uow: Uow, actor: Cashier
) -> PaymentCreated:
    record_failed_gateway_payments(request)
    outcome = await service.take_payment(
        uow, actor, invoice_id, body, settings=app_settings(request)
    )
    return created_reply(outcome)


@router.get(
    "/invoices/{invoice_id}/payments",
    summary="The payments of an invoice, oldest first",
    response_model=PaymentPage,
    responses=problem_responses(*_ONE),
)
async def invoice_payments(invoice_id: InvoiceId, uow: Uow, actor: Reader) -> PaymentPage:
    return _page(await service.invoice_payments(uow, actor, invoice_id), None)


@router.get(
    "/payments",
    summary="The outlet's payments, newest first (filter by method, status, time)",
    response_model=PaymentPage,
    responses=problem_responses(*_STAFF, (422, "INVALID_CURSOR")),
)
async def list_payments(
    uow: Uow,
    actor: Reader,
    paging: Paging,
    method: Annotated[PaymentMethod | None, Query()] = None,
    status_: Annotated[PaymentStatus | None, Query(alias="status")] = None,
    since: Annotated[
        datetime | None, Query(alias="from", description="Created at or after.")
    ] = None,
    until: Annotated[datetime | None, Query(alias="to", description="Created before.")] = None,
) -> PaymentPage:
    rows, next_cursor = await service.list_payments(
        uow,
        actor,
        method=method,
        status=status_,
        since=since,
        until=until,
        cursor=paging.cursor,
        limit=paging.limit,
    )
    return _page(rows, next_cursor)


@router.get(
    "/payments/gateway_events",
    summary="Verified gateway webhooks received for this outlet (read-only, no payloads)",
    response_model=GatewayEventPage,
    responses=problem_responses(*_STAFF, (422, "INVALID_CURSOR")),
)
async def gateway_events(
    uow: Uow,
    actor: Reader,
    paging: Paging,
    gateway: Annotated[GatewayName | None, Query()] = None,
    payment_id: Annotated[str | None, Query(max_length=26)] = None,
) -> GatewayEventPage:
    rows, next_cursor = await service.list_gateway_events(
        uow, actor, gateway=gateway, payment_id=payment_id, cursor=paging.cursor, limit=paging.limit
    )
    return GatewayEventPage(
        items=[GatewayEventRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.get(
    "/payments/{payment_id}",
    summary="One payment",
    response_model=PaymentRead,
    responses=problem_responses(*_ONE),
)
async def get_payment(payment_id: PaymentId, uow: Uow, actor: Reader) -> PaymentRead:
    return PaymentRead.model_validate(await service.get_payment(uow, actor, payment_id))


@router.get(
    "/payments/{payment_id}/refunds",
    summary="The refunds of a payment, oldest first",
    response_model=RefundList,
    responses=problem_responses(*_ONE),
)
async def payment_refunds(payment_id: PaymentId, uow: Uow, actor: Reader) -> RefundList:
    rows = await service.payment_refunds(uow, actor, payment_id)
    return RefundList(items=[RefundRead.model_validate(r) for r in rows])


@router.post(
    "/payments/{payment_id}/refunds",
    status_code=status.HTTP_201_CREATED,
    summary="Refund part or all of a payment (needs a manager's PIN approval)",
    description="`approval` is a token from `POST /api/v1/approvals/verify_pin` with action "
    "`refund`; it is spent by this refund. Refunds never exceed what the payment captured "
    "(409 `REFUND_EXCEEDS_CAPTURED`, decided by one conditional update). A credit note is "
    "issued for the amount; cash leaves the drawer; gateway payments are refunded through "
    "the provider.",
    response_model=RefundCreated,
    dependencies=[
        Depends(require_staff("payments.take")),
        Depends(rate_limit("refunds")),
        Depends(refuse_card_data),
        Depends(idempotent()),
    ],
    responses=problem_responses(
        *IDEMPOTENCY_PROBLEMS,
        *_ONE,
        (403, "APPROVAL_REQUIRED"),
        (403, "APPROVAL_INVALID"),
        (409, "REFUND_EXCEEDS_CAPTURED"),
        (409, "PAYMENT_NOT_REFUNDABLE"),
        (409, "CASH_DRAWER_CLOSED"),
        (409, "CASH_DRAWER_REQUIRED"),
        (409, "CASH_SHORT"),
        (422, "CARD_DATA_REFUSED"),
        (422, "VALIDATION_ERROR"),
        (502, "GATEWAY_UNAVAILABLE"),
        RATE_LIMIT_PROBLEM,
    ),
)
async def refund(
    payment_id: PaymentId, body: RefundCreate, request: Request, uow: Uow, actor: Cashier
) -> RefundCreated:
    outcome = await service.refund_payment(
        uow, actor, payment_id, body, settings=app_settings(request)
    )
    return RefundCreated(
        **RefundRead.model_validate(outcome.refund).model_dump(),
        payment=PaymentRead.model_validate(outcome.payment),
        invoice=service.settlement(outcome.invoice),
    )


# --- webhooks ------------------------------------------------------------------------------


async def webhook_uow(request: Request) -> UnitOfWork:
    """Webhooks carry no tenant: the payment is found with row-level security bypassed,
    then the service scopes the transaction to its tenant."""
    ctx = request_context(request)
    await ctx.scope_tenant(None)
    return await ctx.open()


async def _webhook(request: Request, uow: UnitOfWork, gateway: GatewayName) -> WebhookAck:
    adapter = gateway_for(app_settings(request), gateway)
    result = await service.handle_webhook(uow, adapter, request.headers, await request.body())
    if result.outcome == "duplicate":
        return WebhookAck(duplicate=True, outcome="duplicate")
    return WebhookAck(outcome="processed" if result.outcome == "processed" else "ignored")


_WEBHOOK_ERRORS = problem_responses((400, "SIGNATURE_INVALID"), (400, "WEBHOOK_PAYLOAD_INVALID"))


@router.post(
    "/payments/webhooks/stripe",
    summary="Stripe webhook (Stripe-Signature verified; each event processed once)",
    description="`payment_intent.succeeded` settles the payment named by "
    "`metadata.payment_id`, `payment_intent.payment_failed` fails it. A redelivered event "
    'answers `{"duplicate": true}` and changes nothing.',
    response_model=WebhookAck,
    dependencies=[Depends(public)],
    tags=["webhooks"],
    responses=_WEBHOOK_ERRORS,
)
async def stripe_webhook(request: Request, uow: UnitOfWork = Depends(webhook_uow)) -> WebhookAck:
    return await _webhook(request, uow, "stripe")


@router.post(
    "/payments/webhooks/razorpay",
    summary="Razorpay webhook (X-Razorpay-Signature verified; each event processed once)",
    description="`payment.captured` / `order.paid` settle the payment named by "
    "`notes.payment_id`, `payment.failed` fails it. A redelivered event answers "
    '`{"duplicate": true}` and changes nothing.',
    response_model=WebhookAck,
    dependencies=[Depends(public)],
    tags=["webhooks"],
    responses=_WEBHOOK_ERRORS,
)
async def razorpay_webhook(request: Request, uow: UnitOfWork = Depends(webhook_uow)) -> WebhookAck:
    return await _webhook(request, uow, "razorpay")
