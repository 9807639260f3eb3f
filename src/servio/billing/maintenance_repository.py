"""Queries of the billing automations, across tenants (the caller's transaction bypasses
row-level security). Kept apart from `repository.py`, which serves the request paths."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from servio.kit.db import UnitOfWork
from servio.models.invoice import Invoice

OVERDUE_FROM = ("sent", "partial")


@dataclass(frozen=True)
class OverdueInvoice:
    tenant_id: str
    outlet_id: str
    invoice_id: str
    number: str


async def mark_overdue(uow: UnitOfWork, *, now: datetime) -> list[OverdueInvoice]:
    """Invoices still owing money past their due date become `overdue` — one conditional
    UPDATE (a payment landing at the same moment moves the status on under its own lock,
    and a paid invoice never matches). Only the settlement column changes, which the
    issued-invoice trigger allows."""
    due = (
        update(Invoice)
        .where(
            Invoice.kind == "invoice",
            Invoice.status.in_(OVERDUE_FROM),
            Invoice.due_at.is_not(None),
            Invoice.due_at < now,
        )
        .values(status="overdue", version=Invoice.version + 1)
        .returning(Invoice.tenant_id, Invoice.outlet_id, Invoice.id, Invoice.number)
        .execution_options(synchronize_session=False)
    )
    rows = (await uow.session.execute(due)).tuples().all()
    return [OverdueInvoice(t, o, i, n) for t, o, i, n in rows]
