"""Business counters of `/metrics` (PLAT-08), moved by in-process event consumers so every
path that creates an order or issues an invoice counts exactly once, after its commit
(auto-discovered like every `<context>/tasks.py`)."""

from __future__ import annotations

from servio.events import EventName
from servio.ops.metrics import invoices_generated_total, orders_created_total
from servio.worker.dispatch import DomainEvent, on_event


@on_event(EventName.ORDER_PLACED)
async def count_order(event: DomainEvent) -> None:
    orders_created_total.inc()


@on_event(EventName.INVOICE_ISSUED)
async def count_invoice(event: DomainEvent) -> None:
    invoices_generated_total.inc()
