"""Billing automations, run by the worker's scheduler:

- `billing.mark_overdue` every 15 minutes: invoices still owing money past their due date
  (issue + 1 day, `billing.service`) become `overdue`, each audited. Reconcile and the next
  payment compute the same status from the figures, so the sweep only saves finance from
  waiting for either.
"""

from __future__ import annotations

import structlog

from servio.audit import service as audit
from servio.auth.actors import SystemActor
from servio.billing.maintenance_repository import mark_overdue
from servio.worker.scheduler import ScheduledRun, every, scheduled

logger = structlog.get_logger("servio.billing")


@scheduled("billing.mark_overdue", every(minutes=15))
async def mark_overdue_invoices(run: ScheduledRun) -> None:
    async with run.unit_of_work() as uow:
        overdue = await mark_overdue(uow, now=run.now)
        for invoice in overdue:
            await audit.record(
                uow,
                SystemActor(tenant_id=invoice.tenant_id),
                "invoice.overdue",
                subject_type="invoice",
                subject_id=invoice.invoice_id,
                after={"status": "overdue", "number": invoice.number},
                outlet_id=invoice.outlet_id,
                tenant_id=invoice.tenant_id,
            )
    if overdue:
        logger.info("billing.invoices_overdue", count=len(overdue))
