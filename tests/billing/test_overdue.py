"""The overdue sweep: an invoice still owing money a day after it was issued becomes
`overdue` (audited); a paid one never does; the job is wired into the worker."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from servio.billing.service import lock_invoice, record_settlement
from servio.billing.tasks import mark_overdue_invoices
from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.worker.handlers import HandlerRegistry
from servio.worker.runner import Worker
from servio.worker.scheduler import ScheduleRegistry, discover_tasks, every, schedules
from tests.billing.invoice_world import World, audits, build_world, invoice_row, order, staff_bill

pytestmark = pytest.mark.backends


@pytest.fixture
async def world(db: Database, settings: Settings) -> World:
    return await build_world(db, settings)


def _worker(db: Database, settings: Settings) -> Worker:
    registry = ScheduleRegistry()
    registry.register("billing.mark_overdue", every(minutes=15))(mark_overdue_invoices)
    return Worker(
        db,
        settings,
        worker_id="billing",
        handler_registry=HandlerRegistry(),
        schedule_registry=registry,
    )


def test_the_sweep_is_wired_into_the_worker() -> None:
    discover_tasks()
    schedule = schedules.get("billing.mark_overdue")
    assert schedule is not None
    assert schedule.run is mark_overdue_invoices


async def test_an_unpaid_invoice_past_its_due_date_becomes_overdue(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    world: World,
    clock: FrozenClock,
) -> None:
    await order(client, db, world, "Asha", [("salad", 1, ())])
    unpaid = await staff_bill(client, world)
    await order(client, db, world, "Ravi", [("lassi", 1, ())])
    paid = await staff_bill(client, world)
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        invoice = await lock_invoice(uow, world.tenant_id, paid["id"])
        await record_settlement(uow, invoice, paid_delta=paid["total"], now=clock.now())
    worker = _worker(db, settings)

    due_at = (await invoice_row(db, world, unpaid["id"])).due_at
    assert due_at is not None
    clock.set(due_at - timedelta(minutes=1))
    await worker.run_once()
    assert (await invoice_row(db, world, unpaid["id"])).status == "sent"

    clock.set(due_at + timedelta(minutes=16))
    await worker.run_once()
    assert (await invoice_row(db, world, unpaid["id"])).status == "overdue"
    assert (await invoice_row(db, world, paid["id"])).status == "paid"
    [entry] = await audits(db, world, "invoice.overdue")
    assert entry.subject_id == unpaid["id"]

    # A payment after that still settles it.
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        invoice = await lock_invoice(uow, world.tenant_id, unpaid["id"])
        settled = await record_settlement(uow, invoice, paid_delta=unpaid["total"], now=clock.now())
        assert settled.status == "paid"
