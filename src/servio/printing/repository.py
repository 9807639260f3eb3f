"""Every query of the printing context: printers, and the kitchen tickets, order lines,
orders, outlets and service points a KOT is printed from (read-only here, except a
ticket's `print_state`/`printed_at`/`printer_id`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update

from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.kit.repository import TenantRepository
from servio.models import Outlet, ServicePoint
from servio.models.kitchen_ticket import KitchenTicket
from servio.models.order import Order, OrderLine
from servio.models.printer import Printer


class PrinterRepository(TenantRepository[Printer]):
    model = Printer
    not_found_label = "printer"

    async def for_outlet(self, outlet_id: str, *, lock: bool = False) -> list[Printer]:
        """The outlet's printers, oldest first. `lock` holds them until the transaction
        ends, so two concurrent fallback edits cannot together close a loop that neither
        would alone (SQLite's BEGIN IMMEDIATE already serialises writers)."""
        stmt = (
            self.select()
            .where(Printer.outlet_id == outlet_id)
            .order_by(Printer.created_at, Printer.id)
        )
        if lock:
            stmt = stmt.with_for_update()
        return list((await self.session.execute(stmt)).scalars().all())

    async def get_in_outlet(self, printer_id: str, outlet_id: str) -> Printer | None:
        stmt = self.select().where(Printer.id == printer_id, Printer.outlet_id == outlet_id)
        row: Printer | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def update_values(
        self, printer_id: str, values: dict[str, Any], *, expected_version: int | None = None
    ) -> Printer | None:
        """Apply `values` and bump the version in one statement; None when the row is gone
        or no longer at `expected_version`. Raises IntegrityError (inside a SAVEPOINT) when
        the new name is taken."""
        stmt = (
            update(Printer)
            .where(self.scope(), Printer.id == printer_id)
            .values(**values, version=Printer.version + 1, updated_at=utcnow())
            .returning(Printer)
            .execution_options(populate_existing=True)
        )
        if expected_version is not None:
            stmt = stmt.where(Printer.version == expected_version)
        async with self.session.begin_nested():
            row: Printer | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def insert(self, printer: Printer) -> Printer:
        """`add` inside a SAVEPOINT, so a taken name raises IntegrityError without
        spoiling the request's transaction."""
        async with self.session.begin_nested():
            return await self.add(printer)

    async def set_status(
        self, printer_id: str, *, status: str, last_error: str | None, now: datetime
    ) -> tuple[str, Printer] | None:
        """Record a health observation; returns (previous status, printer). The row is
        locked first so two observers agree on what "changed" means."""
        printer = await self.get(printer_id, for_update=True)
        if printer is None:
            return None
        previous = printer.status
        printer.status = status
        printer.last_error = last_error
        printer.status_checked_at = now
        await self.session.flush()
        return previous, printer

    async def clear_fallbacks_to(self, outlet_id: str, printer_id: str) -> list[str]:
        """Printers that fell back to `printer_id` lose that fallback; returns their ids."""
        stmt = (
            update(Printer)
            .where(
                self.scope(),
                Printer.outlet_id == outlet_id,
                Printer.fallback_printer_id == printer_id,
            )
            .values(fallback_printer_id=None, version=Printer.version + 1, updated_at=utcnow())
            .returning(Printer.id)
            .execution_options(synchronize_session=False)
        )
        return [str(row) for row in (await self.session.execute(stmt)).scalars().all()]

    async def delete(self, printer_id: str) -> None:
        await self.session.execute(
            delete(Printer)
            .where(self.scope(), Printer.id == printer_id)
            .execution_options(synchronize_session=False)
        )


class TicketRepository(TenantRepository[KitchenTicket]):
    model = KitchenTicket
    not_found_label = "kitchen ticket"

    async def for_order(self, order_id: str) -> list[KitchenTicket]:
        stmt = (
            self.select()
            .where(KitchenTicket.order_id == order_id)
            .order_by(KitchenTicket.station, KitchenTicket.id)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def lines(self, ticket_ids: Sequence[str]) -> list[OrderLine]:
        if not ticket_ids:
            return []
        stmt = (
            select(OrderLine)
            .where(OrderLine.tenant_id == self.tenant_id, OrderLine.ticket_id.in_(ticket_ids))
            .order_by(OrderLine.position, OrderLine.id)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def order_lines(self, order_id: str) -> list[OrderLine]:
        stmt = (
            select(OrderLine)
            .where(OrderLine.tenant_id == self.tenant_id, OrderLine.order_id == order_id)
            .order_by(OrderLine.position, OrderLine.id)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def order(self, order_id: str, *, outlet_id: str | None = None) -> Order | None:
        stmt = select(Order).where(Order.tenant_id == self.tenant_id, Order.id == order_id)
        if outlet_id is not None:
            stmt = stmt.where(Order.outlet_id == outlet_id)
        row: Order | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def outlet(self, outlet_id: str) -> Outlet | None:
        stmt = select(Outlet).where(Outlet.tenant_id == self.tenant_id, Outlet.id == outlet_id)
        row: Outlet | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def service_point(self, point_id: str | None) -> ServicePoint | None:
        if not point_id:
            return None
        stmt = select(ServicePoint).where(
            ServicePoint.tenant_id == self.tenant_id, ServicePoint.id == point_id
        )
        row: ServicePoint | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def set_print_state(
        self, ticket_id: str, values: dict[str, Any], *, from_states: Sequence[str] | None = None
    ) -> bool:
        """Set the print fields; with `from_states`, only when the ticket is in one of them
        (a late failure never overwrites `printed`). True when the row changed."""
        stmt = (
            update(KitchenTicket)
            .where(self.scope(), KitchenTicket.id == ticket_id)
            .values(**values, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if from_states is not None:
            stmt = stmt.where(KitchenTicket.print_state.in_(list(from_states)))
        result = await self.session.execute(stmt)
        return bool(getattr(result, "rowcount", 0))


async def active_printers_everywhere(uow: UnitOfWork) -> list[Printer]:
    """Every active printer of every tenant, for the health sweep (a global schedule; the
    caller's unit of work bypasses row-level security)."""
    stmt = select(Printer).where(Printer.is_active.is_(True)).order_by(Printer.id)
    return list((await uow.session.execute(stmt)).scalars().all())
