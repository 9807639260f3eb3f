"""Every query of the staff POS: open tickets, the order queue, and the outlet and table
facts a staff-entered order needs.

Open-ticket changes are single conditional statements (`UPDATE … WHERE state = 'open'
[AND version = :expected] RETURNING`), so two cashiers checking out the same ticket at the
same instant cannot both succeed: the database lets exactly one UPDATE match."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from servio.kit.pagination import build_page, decode_cursor
from servio.kit.repository import TenantRepository
from servio.models.open_ticket import OpenTicket
from servio.models.order import Order, OrderLine
from servio.models.outlet import Outlet
from servio.models.service_point import ServicePoint
from servio.ordering.repository import OrderingPlace


class OpenTicketRepository(TenantRepository[OpenTicket]):
    model = OpenTicket
    not_found_label = "open ticket"

    async def get_in_outlet(self, ticket_id: str, outlet_id: str) -> OpenTicket | None:
        stmt = (
            self.select()
            .where(OpenTicket.id == ticket_id, OpenTicket.outlet_id == outlet_id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def open_page(
        self, outlet_id: str, *, cursor: str | None, limit: int
    ) -> tuple[list[OpenTicket], str | None]:
        """Open tickets of the outlet, newest first."""
        return await self.list_page(
            OpenTicket.outlet_id == outlet_id,
            OpenTicket.state == "open",
            cursor=cursor,
            limit=limit,
        )

    async def change_open(
        self,
        ticket_id: str,
        outlet_id: str,
        *,
        now: datetime,
        expected_version: int | None = None,
        **values: Any,
    ) -> OpenTicket | None:
        """Apply `values` to an OPEN ticket in one statement (and only at
        `expected_version` when given); None when it is not open any more, not at that
        version, or not this outlet's. The winner gets the fresh row."""
        conditions = [
            self.scope(),
            OpenTicket.id == ticket_id,
            OpenTicket.outlet_id == outlet_id,
            OpenTicket.state == "open",
        ]
        if expected_version is not None:
            conditions.append(OpenTicket.version == expected_version)
        stmt = (
            update(OpenTicket)
            .where(*conditions)
            .values(updated_at=now, version=OpenTicket.version + 1, **values)
            .returning(OpenTicket.id)
            .execution_options(synchronize_session=False)
        )
        if (await self.session.execute(stmt)).scalar_one_or_none() is None:
            return None
        return await self.get_in_outlet(ticket_id, outlet_id)


class QueueRepository(TenantRepository[Order]):
    """The outlet's active orders, oldest first (the pass and the expo read them)."""

    model = Order
    not_found_label = "order"

    async def page(
        self,
        outlet_id: str,
        *,
        statuses: Sequence[str],
        station: str | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[Order], str | None]:
        stmt = self.select().where(Order.outlet_id == outlet_id, Order.status.in_(statuses))
        if station is not None:
            on_station = select(OrderLine.order_id).where(
                OrderLine.tenant_id == self.tenant_id,
                OrderLine.station == station,
                OrderLine.status != "voided",
            )
            stmt = stmt.where(Order.id.in_(on_station))
        if cursor:
            after = decode_cursor(cursor)
            stmt = stmt.where(
                or_(
                    Order.created_at > after.sort_key,
                    and_(Order.created_at == after.sort_key, Order.id > after.id),
                )
            )
        stmt = stmt.order_by(Order.created_at, Order.id).limit(limit + 1)
        rows = (await self.session.execute(stmt)).scalars().all()
        return build_page(rows, limit=limit, key=lambda row: (row.created_at, row.id))

    async def lines_of(self, order_ids: Iterable[str]) -> dict[str, list[OrderLine]]:
        ids = list(order_ids)
        if not ids:
            return {}
        stmt = (
            select(OrderLine)
            .where(OrderLine.tenant_id == self.tenant_id, OrderLine.order_id.in_(ids))
            .order_by(OrderLine.order_id, OrderLine.position, OrderLine.id)
        )
        out: dict[str, list[OrderLine]] = {order_id: [] for order_id in ids}
        for line in (await self.session.execute(stmt)).scalars():
            out[line.order_id].append(line)
        return out

    async def in_outlet(self, order_ids: Iterable[str], outlet_id: str) -> dict[str, Order]:
        ids = list(set(order_ids))
        if not ids:
            return {}
        stmt = self.select().where(Order.id.in_(ids), Order.outlet_id == outlet_id)
        return {order.id: order for order in (await self.session.execute(stmt)).scalars()}


class PosPlaceRepository(TenantRepository[ServicePoint]):
    """Tables, rooms and counters of the outlet as the POS needs them."""

    model = ServicePoint
    not_found_label = "table"

    async def point_in_outlet(self, point_id: str, outlet_id: str) -> ServicePoint | None:
        stmt = self.select().where(
            ServicePoint.id == point_id,
            ServicePoint.outlet_id == outlet_id,
            ServicePoint.is_active.is_(True),
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def labels(self, point_ids: Iterable[str]) -> dict[str, str]:
        ids = list({p for p in point_ids if p})
        if not ids:
            return {}
        stmt = select(ServicePoint.id, ServicePoint.label).where(
            self.scope(), ServicePoint.id.in_(ids)
        )
        return dict((await self.session.execute(stmt)).tuples().all())


async def counter_place(
    session: AsyncSession, tenant_id: str, outlet_id: str
) -> OrderingPlace | None:
    """The outlet facts of an order taken at the counter, with no table: the table fields
    are empty (the kitchen payload then carries `table: null`)."""
    stmt = select(Outlet.id, Outlet.currency, Outlet.timezone, Outlet.menu_version).where(
        Outlet.tenant_id == tenant_id, Outlet.id == outlet_id
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        return None
    outlet, currency, timezone, menu_version = row
    return OrderingPlace(
        outlet_id=outlet,
        currency=currency,
        timezone=timezone,
        menu_version=menu_version,
        qr_ordering_enabled=True,
        point_id="",
        point_label="",
        point_kind="counter",
        point_state="open",
        point_active=True,
    )


async def outlet_currency(session: AsyncSession, tenant_id: str, outlet_id: str) -> str:
    stmt = select(Outlet.currency).where(Outlet.tenant_id == tenant_id, Outlet.id == outlet_id)
    return str((await session.execute(stmt)).scalar_one_or_none() or "INR")
