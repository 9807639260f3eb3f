"""Payment use cases (PAY-01…03): take a payment against an invoice (cash, card token, UPI
with UTR, gateway), the guest's gateway payment from the table, the providers' webhooks, and
PIN-approved refunds. Functions take the request's unit of work and never commit.

Every payment and refund first locks its invoice (`billing.service.lock_invoice`), so the
balance it is checked against cannot move underneath it; the checks that guard money against
concurrent requests are the database's: the UTR's unique index, one conditional UPDATE per
refund, one INSERT per webhook event.

A gateway payment is inserted `pending` and its provider intent created (timeout + circuit
breaker) in the same transaction. When the provider cannot be asked, the request fails with
502 `GATEWAY_UNAVAILABLE` — its transaction rolls back, the idempotency claim is released so
the client may retry with the same key — and `record_failed_gateway_payment` then writes the
attempt as a `failed` payment in a transaction of its own (`FailedPaymentRecorder`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from servio.approvals.service import consume_approval
from servio.audit.service import record as audit
from servio.auth.actors import AnyActor, GuestActor, StaffActor, SystemActor
from servio.billing import service as billing
from servio.billing.state import balance_due
from servio.cash.service import record_cash
from servio.config import Settings
from servio.events import EventName
from servio.floor.qr import InvalidQrToken, verify_qr_token
from servio.kit.clock import utcnow
from servio.kit.db import Database, UnitOfWork
from servio.kit.errors import NotFound
from servio.kit.ids import new_id
from servio.kit.logging import get_logger
from servio.kit.pagination import DEFAULT_LIMIT
from servio.models import GatewayEvent, Invoice, Payment, Refund
from servio.payments import exceptions as exc
from servio.payments.card_guard import find_card_data
from servio.payments.gateways import (
    GatewayError,
    GatewayIntent,
    IntentRequest,
    PaymentGateway,
    RefundRequest,
    WebhookEvent,
    gateway_for,
)
from servio.payments.repository import (
    GatewayEventRepository,
    GatewayLookup,
    PaymentRepository,
    RefundRepository,
)
from servio.payments.schemas import (
    GatewayCheckout,
    InvoiceSettlement,
    PaymentCreate,
    RefundCreate,
)
from servio.payments.state import UTR_LENGTH, change_due, initial_status, refundable
from servio.platform.flags import ENABLE_GATEWAY
from servio.platform.service import is_enabled
from servio.sessions.exceptions import SessionExpired
from servio.worker.dispatch import emit

log = get_logger("servio.payments")

_UTR = re.compile(rf"^[0-9]{{{UTR_LENGTH}}}$")


@dataclass(frozen=True)
class PaymentOutcome:
    payment: Payment
    invoice: Invoice
    checkout: GatewayCheckout | None = None


@dataclass(frozen=True)
class RefundOutcome:
    refund: Refund
    payment: Payment
    invoice: Invoice


# --- reading -------------------------------------------------------------------------------


def settlement(invoice: Invoice) -> InvoiceSettlement:
    return InvoiceSettlement(
        id=invoice.id,
        status=invoice.status,
        total=invoice.total,
        paid_amount=invoice.paid_amount,
        refunded_amount=invoice.refunded_amount,
        credited_amount=invoice.credited_amount,
        balance_due=balance_due(invoice),
    )


def outlet_of(actor: StaffActor) -> str:
    if actor.outlet_id is None:
        raise exc.OutletRequired()
    return actor.outlet_id


async def get_payment(uow: UnitOfWork, actor: StaffActor, payment_id: str) -> Payment:
    payment = await PaymentRepository(uow.session, actor.tenant_id).in_outlet(
        payment_id, outlet_of(actor)
    )
    if payment is None:
        raise NotFound("payment")
    return payment


async def invoice_payments(uow: UnitOfWork, actor: StaffActor, invoice_id: str) -> list[Payment]:
    repo = PaymentRepository(uow.session, actor.tenant_id)
    if await repo.invoice_in_outlet(invoice_id, outlet_of(actor)) is None:
        raise NotFound("invoice")
    return list(await repo.for_invoice(invoice_id))


async def list_payments(
    uow: UnitOfWork,
    actor: StaffActor,
    *,
    method: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> tuple[list[Payment], str | None]:
    return await PaymentRepository(uow.session, actor.tenant_id).page(
        outlet_of(actor),
        method=method,
        status=status,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )


async def payment_refunds(uow: UnitOfWork, actor: StaffActor, payment_id: str) -> list[Refund]:
    payment = await get_payment(uow, actor, payment_id)
    return list(await RefundRepository(uow.session, actor.tenant_id).for_payment(payment.id))


async def list_gateway_events(
    uow: UnitOfWork,
    actor: StaffActor,
    *,
    gateway: str | None = None,
    payment_id: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> tuple[list[GatewayEvent], str | None]:
    return await GatewayEventRepository(uow.session, actor.tenant_id).page(
        outlet_of(actor), gateway=gateway, payment_id=payment_id, cursor=cursor, limit=limit
    )


# --- shared checks ---------------------------------------------------------------------------


def refuse_card_data(body: Any) -> None:
    """422 `CARD_DATA_REFUSED` when any field is or holds card data (never echoes it)."""
    found = find_card_data(body)
    if found is not None:
        log.warning("payments.card_data_refused", field=found)
        raise exc.CardDataRefused(found)


def _check_payable(invoice: Invoice) -> None:
    if invoice.kind != "invoice":
        raise exc.InvoiceNotPayable("a credit note is not paid")
    if invoice.status == "void":
        raise exc.InvoiceNotPayable("this invoice is void")


async def _locked_invoice(
    uow: UnitOfWork, tenant_id: str, outlet_id: str, invoice_id: str
) -> Invoice:
    invoice = await billing.lock_invoice(uow, tenant_id, invoice_id)
    if invoice.outlet_id != outlet_id:
        raise NotFound("invoice")
    return invoice


async def _payable_amount(
    repo: PaymentRepository, invoice: Invoice, split_id: str | None
) -> tuple[int, bool]:
    """(most that may be paid now, whether that is a split part's remainder)."""
    balance = balance_due(invoice)
    if split_id is None:
        return balance, False
    part = await repo.split(invoice.id, split_id)
    if part is None:
        raise exc.SplitNotFound()
    return min(balance, max(0, part.amount - part.paid_amount)), True


def _facts(payment: Payment) -> dict[str, Any]:
    return {
        "payment_id": payment.id,
        "invoice_id": payment.invoice_id,
        "split_id": payment.split_id,
        "method": payment.method,
        "status": payment.status,
        "amount": payment.amount,
        "currency": payment.currency,
        "gateway": payment.gateway,
    }


async def _announce(uow: UnitOfWork, actor: AnyActor, payment: Payment, name: EventName) -> None:
    """Audit entry + outbox event (same transaction as the change)."""
    facts = _facts(payment)
    await audit(
        uow,
        actor,
        name,
        subject_type="payment",
        subject_id=payment.id,
        outlet_id=payment.outlet_id,
        tenant_id=payment.tenant_id,
        after={**facts, "utr": payment.utr, "refunded_amount": payment.refunded_amount},
    )
    await emit(
        uow,
        name,
        tenant_id=payment.tenant_id,
        outlet_id=payment.outlet_id,
        payload=facts,
        dedupe_key=f"{name}:{payment.id}",
    )


# --- taking payments -------------------------------------------------------------------------


async def take_payment(
    uow: UnitOfWork,
    actor: StaffActor,
    invoice_id: str,
    body: PaymentCreate,
    *,
    settings: Settings,
    gateway: PaymentGateway | None = None,
) -> PaymentOutcome:
    """`POST /api/v1/invoices/{id}/payments`."""
    refuse_card_data(body.model_dump(exclude_none=True))
    outlet_id = outlet_of(actor)
    tenant_id = actor.tenant_id
    repo = PaymentRepository(uow.session, tenant_id)
    invoice = await _locked_invoice(uow, tenant_id, outlet_id, invoice_id)
    _check_payable(invoice)
    most, is_part = await _payable_amount(repo, invoice, body.split_id)
    if body.amount > most:
        raise exc.PaymentExceedsBalance(body.amount, most, part=is_part)
    now = utcnow()
    if body.method == "gateway":
        payment, checkout = await _start_gateway_payment(
            uow,
            invoice,
            split_id=body.split_id,
            amount=body.amount,
            taken_by=actor.user_id,
            taken_by_member=None,
            actor=actor,
            settings=settings,
            gateway=gateway,
            now=now,
        )
        return PaymentOutcome(payment, invoice, checkout)

    payment = Payment(
        id=new_id(),
        outlet_id=outlet_id,
        invoice_id=invoice.id,
        split_id=body.split_id,
        method=body.method,
        status=initial_status(body.method),
        currency=invoice.currency,
        amount=body.amount,
        taken_by=actor.user_id,
        succeeded_at=now,
        created_at=now,
        updated_at=now,
    )
    if body.method == "cash":
        tendered = body.amount if body.tendered is None else body.tendered
        if tendered < body.amount:
            raise exc.TenderedTooLow()
        payment.tendered = tendered
        payment.change_due = change_due(tendered, body.amount)
        payment.cash_session_id = await record_cash(
            uow,
            tenant_id=tenant_id,
            outlet_id=outlet_id,
            staff_id=actor.user_id,
            kind="sale",
            amount=body.amount,
            payment_id=payment.id,
            drawer_id=body.drawer_id,
        )
    elif body.method == "card":
        reference = (body.reference or "").strip()
        if not reference:
            raise exc.ReferenceRequired()
        payment.reference = reference
    elif body.method == "upi":
        utr = (body.utr or "").strip()
        if not _UTR.match(utr):
            raise exc.UtrInvalid()
        payment.utr = utr
        payment.reference = (body.reference or "").strip() or None
    await _insert(repo, payment)
    invoice = await billing.record_settlement(
        uow,
        invoice,
        paid_delta=payment.amount,
        split_id=payment.split_id,
        now=now,
        actor=actor,
    )
    await _announce(uow, actor, payment, EventName.PAYMENT_RECORDED)
    await emit(
        uow,
        EventName.PAYMENT_VERIFIED,
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        payload=_facts(payment),
        dedupe_key=f"{EventName.PAYMENT_VERIFIED}:{payment.id}",
    )
    return PaymentOutcome(payment, invoice)


async def _insert(repo: PaymentRepository, payment: Payment) -> None:
    """Insert; the (outlet, UTR) unique index decides a reused UTR (no check-then-act)."""
    try:
        await repo.add(payment)
    except IntegrityError as error:
        if payment.utr is not None and "utr" in str(error.orig).lower():
            raise exc.UtrAlreadyUsed() from None
        raise


async def _gateway_ready(
    uow: UnitOfWork,
    tenant_id: str,
    outlet_id: str,
    settings: Settings,
    gateway: PaymentGateway | None,
) -> PaymentGateway:
    if not await is_enabled(uow, tenant_id, outlet_id, ENABLE_GATEWAY):
        raise exc.GatewayDisabled()
    adapter = gateway or gateway_for(settings)
    if not adapter.configured():
        raise exc.GatewayNotConfigured(adapter.name)
    return adapter


def _checkout(intent: GatewayIntent) -> GatewayCheckout:
    if intent.gateway == "razorpay":
        return GatewayCheckout(
            gateway="razorpay", order_id=intent.ref, key_id=intent.public.get("key_id")
        )
    return GatewayCheckout(gateway=intent.gateway, client_secret=intent.client_secret)


async def _start_gateway_payment(
    uow: UnitOfWork,
    invoice: Invoice,
    *,
    split_id: str | None,
    amount: int,
    taken_by: str | None,
    taken_by_member: str | None,
    actor: AnyActor,
    settings: Settings,
    gateway: PaymentGateway | None,
    now: datetime,
) -> tuple[Payment, GatewayCheckout]:
    adapter = await _gateway_ready(uow, invoice.tenant_id, invoice.outlet_id, settings, gateway)
    repo = PaymentRepository(uow.session, invoice.tenant_id)
    payment = await repo.add(
        Payment(
            id=new_id(),
            outlet_id=invoice.outlet_id,
            invoice_id=invoice.id,
            split_id=split_id,
            method="gateway",
            status="pending",
            currency=invoice.currency,
            amount=amount,
            gateway=adapter.name,
            taken_by=taken_by,
            taken_by_member=taken_by_member,
            created_at=now,
            updated_at=now,
        )
    )
    try:
        intent = await adapter.create_intent(
            IntentRequest(
                payment_id=payment.id,
                invoice_id=invoice.id,
                amount=amount,
                currency=invoice.currency,
                description=f"Invoice {invoice.number}",
            )
        )
    except GatewayError as error:
        log.warning("payments.gateway_unavailable", gateway=adapter.name, reason=error.reason)
        raise exc.GatewayUnavailable(
            error.reason,
            exc.FailedGatewayPayment(
                payment_id=payment.id,
                tenant_id=invoice.tenant_id,
                outlet_id=invoice.outlet_id,
                invoice_id=invoice.id,
                split_id=split_id,
                amount=amount,
                currency=invoice.currency,
                gateway=adapter.name,
                taken_by=taken_by,
                taken_by_member=taken_by_member,
                failure_reason=error.reason[:200],
            ),
        ) from None
    payment.gateway_ref = intent.ref
    await uow.session.flush()
    await _announce(uow, actor, payment, EventName.PAYMENT_RECORDED)
    return payment, _checkout(intent)


async def record_failed_gateway_payment(uow: UnitOfWork, failed: exc.FailedGatewayPayment) -> None:
    """Write a gateway payment that could not be started as `failed` (its own transaction,
    after the request's rolled back)."""
    now = utcnow()
    repo = PaymentRepository(uow.session, failed.tenant_id)
    payment = await repo.add(
        Payment(
            id=failed.payment_id,
            outlet_id=failed.outlet_id,
            invoice_id=failed.invoice_id,
            split_id=failed.split_id,
            method="gateway",
            status="failed",
            currency=failed.currency,
            amount=failed.amount,
            gateway=failed.gateway,
            taken_by=failed.taken_by,
            taken_by_member=failed.taken_by_member,
            failure_reason=failed.failure_reason,
            created_at=now,
            updated_at=now,
        )
    )
    actor = SystemActor(name=f"gateway:{failed.gateway}", tenant_id=failed.tenant_id)
    await _announce(uow, actor, payment, EventName.PAYMENT_FAILED)


class FailedPaymentRecorder:
    """A `RequestHook`: once a request that failed with `GatewayUnavailable` has rolled
    back, record its payment attempt as `failed`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def before_commit(self, uow: UnitOfWork, response: object) -> None:
        return None

    async def on_error(self, error: BaseException) -> None:
        if not isinstance(error, exc.GatewayUnavailable) or error.failed is None:
            return
        failed = error.failed
        try:
            async with self.db.unit_of_work(tenant_id=failed.tenant_id) as uow:
                await record_failed_gateway_payment(uow, failed)
        except Exception:
            log.exception("payments.failed_payment_not_recorded", payment_id=failed.payment_id)


# --- guests ----------------------------------------------------------------------------------


async def guest_pay(
    uow: UnitOfWork,
    actor: GuestActor,
    *,
    qr_token: str,
    invoice_id: str,
    split_id: str | None,
    settings: Settings,
    gateway: PaymentGateway | None = None,
) -> PaymentOutcome:
    """`POST /g/{qr_token}/invoices/{id}/pay`: a gateway payment of the part's remaining
    amount (or the whole balance) of one of the member's own session's invoices."""
    try:
        point_id, _ = verify_qr_token(settings, qr_token)
    except InvalidQrToken:
        raise NotFound("invoice") from None
    repo = PaymentRepository(uow.session, actor.tenant_id)
    session = await repo.table_session(actor.session_id)
    if session is None or point_id not in (session.service_point_id, session.live_point_id):
        raise NotFound("invoice")
    if session.state != "active":
        raise SessionExpired()
    invoice = await billing.lock_invoice(uow, actor.tenant_id, invoice_id)
    if invoice.session_id != session.id:
        raise NotFound("invoice")
    _check_payable(invoice)
    amount, _ = await _payable_amount(repo, invoice, split_id)
    if amount <= 0:
        raise exc.NothingToPay()
    payment, checkout = await _start_gateway_payment(
        uow,
        invoice,
        split_id=split_id,
        amount=amount,
        taken_by=None,
        taken_by_member=actor.member_id,
        actor=actor,
        settings=settings,
        gateway=gateway,
        now=utcnow(),
    )
    return PaymentOutcome(payment, invoice, checkout)


# --- webhooks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookResult:
    outcome: str  # processed | ignored | duplicate
    payment_id: str | None = None


async def handle_webhook(
    uow: UnitOfWork,
    gateway: PaymentGateway,
    headers: Mapping[str, str],
    body: bytes,
) -> WebhookResult:
    """Verify, store once, apply. The caller's unit of work starts unscoped; it is scoped
    to the payment's tenant once the payment is found."""
    now = utcnow()
    if not gateway.webhook_configured() or not gateway.verify_signature(
        headers, body, now=now.timestamp()
    ):
        log.warning("payments.webhook_signature_invalid", gateway=gateway.name)
        raise exc.SignatureInvalid()
    try:
        event = gateway.parse_event(headers, body)
    except ValueError:
        raise exc.WebhookPayloadInvalid() from None

    await uow.set_tenant(None, bypass=True)
    lookup = GatewayLookup(uow.session)
    payment = await lookup.payment(event.payment_id) if event.payment_id else None
    if payment is not None and payment.gateway != gateway.name:
        payment = None
    if payment is None and event.gateway_ref:
        payment = await lookup.payment_by_ref(gateway.name, event.gateway_ref)
    if payment is None:
        await uow.set_tenant(None)
        log.warning(
            "payments.webhook_unmatched",
            gateway=gateway.name,
            event_id=event.event_id,
            event_type=event.event_type,
        )
        return WebhookResult("ignored")
    await uow.set_tenant(payment.tenant_id)

    events = GatewayEventRepository(uow.session, payment.tenant_id)
    row_id = await events.claim(
        gateway=gateway.name,
        event_id=event.event_id,
        event_type=event.event_type,
        outlet_id=payment.outlet_id,
        payment_id=payment.id,
        payload=event.summary(),
        now=now,
    )
    if row_id is None:
        log.info("payments.webhook_duplicate", gateway=gateway.name, event_id=event.event_id)
        return WebhookResult("duplicate", payment.id)
    actor = SystemActor(name=f"gateway:{gateway.name}", tenant_id=payment.tenant_id)
    outcome, note = await _apply_event(uow, actor, payment, event, now)
    await events.set_outcome(row_id, outcome, {**event.summary(), "note": note})
    await audit(
        uow,
        actor,
        EventName.GATEWAY_EVENT_RECEIVED,
        subject_type="gateway_event",
        subject_id=row_id,
        outlet_id=payment.outlet_id,
        after={
            "event_id": event.event_id,
            "event_type": event.event_type,
            "payment_id": payment.id,
            "outcome": outcome,
            "note": note,
        },
    )
    await emit(
        uow,
        EventName.GATEWAY_EVENT_RECEIVED,
        tenant_id=payment.tenant_id,
        outlet_id=payment.outlet_id,
        payload={
            "gateway": gateway.name,
            "event_id": event.event_id,
            "event_type": event.event_type,
            "payment_id": payment.id,
            "outcome": outcome,
        },
        dedupe_key=f"gateway_event:{gateway.name}:{event.event_id}",
    )
    return WebhookResult(outcome, payment.id)


async def _apply_event(
    uow: UnitOfWork, actor: SystemActor, payment: Payment, event: WebhookEvent, now: datetime
) -> tuple[str, str]:
    """(outcome, note) of acting on one new event."""
    if event.outcome == "other":
        return "ignored", "event type not acted on"
    if event.amount != payment.amount or (
        event.currency is not None and event.currency != payment.currency.upper()
    ):
        log.warning(
            "payments.webhook_amount_mismatch",
            payment_id=payment.id,
            event_id=event.event_id,
            expected=payment.amount,
            got=event.amount,
        )
        return "ignored", "amount or currency does not match the payment"
    repo = PaymentRepository(uow.session, payment.tenant_id)
    if event.outcome == "failed":
        failed = await repo.settle_pending(
            payment.id,
            status="failed",
            now=now,
            from_statuses=("pending",),
            failure_reason=event.failure_reason[:200],
        )
        if failed is None:
            return "ignored", f"payment is already {payment.status}"
        await _announce(uow, actor, failed, EventName.PAYMENT_FAILED)
        return "processed", "payment failed"

    invoice = await billing.lock_invoice(uow, payment.tenant_id, payment.invoice_id)
    values: dict[str, Any] = {"failure_reason": ""}
    if event.provider_payment_id:
        values["reference"] = event.provider_payment_id[:128]
    succeeded = await repo.settle_pending(
        payment.id, status="succeeded", now=now, from_statuses=("pending", "failed"), **values
    )
    if succeeded is None:
        return "ignored", "payment is already succeeded"
    if succeeded.amount > balance_due(invoice):
        log.warning("payments.gateway_overpaid", payment_id=payment.id, invoice_id=invoice.id)
    await billing.record_settlement(
        uow,
        invoice,
        paid_delta=succeeded.amount,
        split_id=succeeded.split_id,
        now=now,
        actor=actor,
    )
    await _announce(uow, actor, succeeded, EventName.PAYMENT_VERIFIED)
    return "processed", "payment succeeded"


# --- refunds ---------------------------------------------------------------------------------


async def refund_payment(
    uow: UnitOfWork,
    actor: StaffActor,
    payment_id: str,
    body: RefundCreate,
    *,
    settings: Settings,
    gateway: PaymentGateway | None = None,
) -> RefundOutcome:
    """`POST /api/v1/payments/{id}/refunds`: approved by a manager's PIN (spent here),
    never more than the payment captured, with a credit note and the drawer/provider leg."""
    refuse_card_data({"reason": body.reason})
    outlet_id = outlet_of(actor)
    tenant_id = actor.tenant_id
    repo = PaymentRepository(uow.session, tenant_id)
    payment = await repo.in_outlet(payment_id, outlet_id)
    if payment is None:
        raise NotFound("payment")
    invoice = await _locked_invoice(uow, tenant_id, outlet_id, payment.invoice_id)
    now = utcnow()
    approval = await consume_approval(
        uow,
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        token=body.approval,
        action="refund",
        subject_id=payment.id,
        now=now,
        actor=actor,
    )
    if payment.status != "succeeded":
        raise exc.PaymentNotRefundable(payment.status)
    refunded = await repo.add_refund_to(payment.id, body.amount, now)
    if refunded is None:
        current = await repo.in_outlet(payment.id, outlet_id)
        left = refundable(current.status, current.amount, current.refunded_amount) if current else 0
        raise exc.RefundExceedsCaptured(left)
    refund = Refund(
        id=new_id(),
        outlet_id=outlet_id,
        payment_id=payment.id,
        invoice_id=invoice.id,
        amount=body.amount,
        currency=payment.currency,
        method=payment.method,
        reason=body.reason,
        status="succeeded",
        approval_id=approval.id,
        approved_by=approval.approved_by,
        refunded_by=actor.user_id,
        created_at=now,
    )
    if payment.method == "cash":
        refund.cash_session_id = await record_cash(
            uow,
            tenant_id=tenant_id,
            outlet_id=outlet_id,
            staff_id=actor.user_id,
            kind="refund",
            amount=body.amount,
            payment_id=payment.id,
            refund_id=refund.id,
            drawer_id=body.drawer_id,
        )
    elif payment.method == "gateway":
        adapter = gateway or gateway_for(settings, payment.gateway)
        try:
            result = await adapter.refund(
                RefundRequest(
                    refund_id=refund.id,
                    payment_id=payment.id,
                    gateway_ref=payment.gateway_ref or "",
                    provider_payment_id=payment.reference,
                    amount=body.amount,
                    currency=payment.currency,
                )
            )
        except GatewayError as error:
            log.warning(
                "payments.gateway_refund_failed", payment_id=payment.id, reason=error.reason
            )
            raise exc.GatewayUnavailable(error.reason) from None
        refund.gateway_ref = result.ref
        refund.status = "pending" if result.status == "pending" else "succeeded"
    credit_note = await billing.issue_credit_note(
        uow, actor, invoice, amount=body.amount, reason=body.reason, now=now
    )
    refund.credit_note_id = credit_note.id
    await RefundRepository(uow.session, tenant_id).add(refund)
    invoice = await billing.record_settlement(
        uow,
        invoice,
        refunded_delta=body.amount,
        split_id=payment.split_id,
        now=now,
        actor=actor,
    )
    facts = {
        "refund_id": refund.id,
        "payment_id": payment.id,
        "invoice_id": invoice.id,
        "credit_note_id": credit_note.id,
        "amount": body.amount,
        "currency": payment.currency,
        "method": payment.method,
        "approval_id": approval.id,
        "approved_by": approval.approved_by,
    }
    await audit(
        uow,
        actor,
        EventName.PAYMENT_REFUNDED,
        subject_type="payment",
        subject_id=payment.id,
        outlet_id=outlet_id,
        before={"refunded_amount": refunded.refunded_amount - body.amount},
        after={**facts, "reason": body.reason, "refunded_amount": refunded.refunded_amount},
    )
    await emit(
        uow,
        EventName.PAYMENT_REFUNDED,
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        payload=facts,
        dedupe_key=f"{EventName.PAYMENT_REFUNDED}:{refund.id}",
    )
    return RefundOutcome(refund, refunded, invoice)
