"""Invoice reconciliation (BILL-07, seed 002).

`GET /api/v1/invoices/mismatches` lists invoices whose stored settlement disagrees with the
payments and refunds tables (or whose status disagrees with their own figures, e.g. unpaid
past the due date). `POST /api/v1/invoices/{id}/reconcile` repairs one:

1. lock the invoice row;
2. recompute `paid_amount` (succeeded payments) and `refunded_amount` (succeeded refunds)
   from those tables — no payment is ever invented;
3. set the status the figures mean (`billing.state.status_for`: paid / partial / sent /
   overdue; void stays void);
4. audit the before/after (status, paid, refunded, balance, payment count) on every call.

It is idempotent: a second call finds nothing to change and changes nothing (it is still
audited, as the seed asks: every reconcile call leaves a trace). The `invoice.reconciled`
event is emitted only when something changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from servio.audit import service as audit
from servio.auth.actors import StaffActor
from servio.billing.exceptions import NotAnInvoice, NotFinance
from servio.billing.repository import InvoiceRepository, PaymentSums
from servio.billing.schemas import MismatchPage, MismatchRead
from servio.billing.service import (
    after_status_change,
    lock_staff_invoice,
    staff_outlet,
)
from servio.billing.state import balance_due, check_transition, status_for
from servio.events import EventName
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.models.invoice import Invoice
from servio.worker.dispatch import emit

FINANCE_PERMISSIONS = ("reports.finance", "billing.void")


def require_finance(actor: StaffActor) -> None:
    if not any(actor.can(p) for p in FINANCE_PERMISSIONS):
        raise NotFinance()


def _expected(invoice: Invoice, sums: PaymentSums, now: Any) -> tuple[str, int]:
    status = status_for(
        total=invoice.total,
        paid_amount=sums.paid,
        refunded_amount=sums.refunded,
        credited_amount=invoice.credited_amount,
        due_at=invoice.due_at,
        now=now,
    )
    balance = max(0, invoice.total - invoice.credited_amount - sums.paid + sums.refunded)
    return status, balance


async def mismatches(
    uow: UnitOfWork, actor: StaffActor, *, cursor: str | None, limit: int
) -> MismatchPage:
    require_finance(actor)
    now = utcnow()
    rows, next_cursor = await InvoiceRepository(uow.session, actor.tenant_id).mismatches(
        staff_outlet(actor), now=now, cursor=cursor, limit=limit
    )
    items = []
    for row in rows:
        invoice, sums = row.invoice, row.sums
        expected_status, expected_balance = _expected(invoice, sums, now)
        items.append(
            MismatchRead(
                invoice_id=invoice.id,
                number=invoice.number,
                status=invoice.status,
                expected_status=expected_status,
                total=invoice.total,
                credited_amount=invoice.credited_amount,
                paid_amount=invoice.paid_amount,
                payments_paid=sums.paid,
                refunded_amount=invoice.refunded_amount,
                refunds_total=sums.refunded,
                balance_due=balance_due(invoice),
                expected_balance_due=expected_balance,
                payment_count=sums.payments,
                last_payment_at=sums.last_payment_at,
                reconcile_url=f"/api/v1/invoices/{invoice.id}/reconcile",
            )
        )
    return MismatchPage(items=items, next_cursor=next_cursor)


@dataclass(frozen=True)
class Reconciled:
    invoice: Invoice
    changed: bool
    before: dict[str, Any]
    after: dict[str, Any]


def _facts(invoice: Invoice, payments: int) -> dict[str, Any]:
    return {
        "status": invoice.status,
        "paid_amount": invoice.paid_amount,
        "refunded_amount": invoice.refunded_amount,
        "balance_due": balance_due(invoice),
        "payments": payments,
    }


async def reconcile(uow: UnitOfWork, actor: StaffActor, invoice_id: str) -> Reconciled:
    require_finance(actor)
    invoice = await lock_staff_invoice(uow, actor, invoice_id)
    if invoice.kind != "invoice":
        raise NotAnInvoice()
    repo = InvoiceRepository(uow.session, actor.tenant_id)
    sums = await repo.payment_sums(invoice.id)
    now = utcnow()
    status, _ = _expected(invoice, sums, now)
    before = _facts(invoice, sums.payments)
    changed = (
        status != invoice.status
        or sums.paid != invoice.paid_amount
        or sums.refunded != invoice.refunded_amount
    )
    if changed:
        check_transition(invoice.status, status)
        previous = {
            "status": invoice.status,
            "paid_amount": invoice.paid_amount,
            "refunded_amount": invoice.refunded_amount,
        }
        invoice = await repo.set_settlement(
            invoice.id, status=status, paid_amount=sums.paid, refunded_amount=sums.refunded
        )
        await after_status_change(uow, actor, invoice, previous, now)
    after = _facts(invoice, sums.payments)
    await audit.record(
        uow,
        actor,
        "invoice.reconciled",
        subject_type="invoice",
        subject_id=invoice.id,
        before=before,
        after=after | {"changed": changed},
        outlet_id=invoice.outlet_id,
    )
    if changed:
        await emit(
            uow,
            EventName.INVOICE_RECONCILED,
            tenant_id=actor.tenant_id,
            outlet_id=invoice.outlet_id,
            payload={"invoice_id": invoice.id, "before": before, "after": after},
            dedupe_key=f"invoice.reconciled:{invoice.id}:{invoice.version}",
        )
    return Reconciled(invoice, changed, before, after)
