"""Every query over kitchen tickets, their items (order lines) and prep-time averages.

Races are decided by the database: tickets are inserted with `ON CONFLICT DO NOTHING` on
(order_id, station); item changes are conditional UPDATEs (`… WHERE status = :current`);
an expo pick is `… WHERE status = 'ready' AND picked_at IS NULL`; the prep-time average is
one atomic `UPDATE … SET ema = ema·(1 - ALPHA) + ALPHA·sample` after an insert-if-missing.
Callers lock the order row first (`OrderRepository.lock`), so the changes of one order apply
one at a time and its derived ticket and order states are computed from committed facts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, bindparam, case, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from servio.kit.ids import new_id
from servio.kit.repository import TenantRepository
from servio.kitchen import eta
from servio.models.kitchen_ticket import KitchenTicket
from servio.models.menu_item import MenuItem
from servio.models.order import Order, OrderLine
from servio.models.prep_time_stat import PrepTimeStat
from servio.models.service_point import ServicePoint

ACTIVE_TICKET: tuple[str, ...] = ("queued", "in_progress")


@dataclass(frozen=True)
class TicketRow:
    """A ticket with the facts of its order the KDS shows."""

    ticket: KitchenTicket
    source: str
    table: str | None


class TicketRepository(TenantRepository[KitchenTicket]):
    model = KitchenTicket
    not_found_label = "kitchen ticket"

    def _insert(self) -> Any:
        dialect = self.session.bind.dialect.name
        return postgresql.insert if dialect == "postgresql" else sqlite.insert

    async def insert_missing(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert one ticket per (order, station) unless it exists already."""
        insert = self._insert()
        for row in rows:
            stmt = (
                insert(KitchenTicket)
                .values({"id": new_id(), **row, "tenant_id": self.tenant_id})
                .on_conflict_do_nothing(index_elements=["order_id", "station"])
            )
            await self.session.execute(stmt)

    async def for_order(self, order_id: str) -> Sequence[KitchenTicket]:
        stmt = (
            self.select()
            .where(KitchenTicket.order_id == order_id)
            .order_by(KitchenTicket.station)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    def _rows(self) -> Any:
        return (
            select(KitchenTicket, Order.source, ServicePoint.label)
            .join(Order, Order.id == KitchenTicket.order_id)
            .outerjoin(ServicePoint, ServicePoint.id == Order.service_point_id)
            .where(self.scope())
            .execution_options(populate_existing=True)
        )

    async def row(self, ticket_id: str, outlet_id: str) -> TicketRow | None:
        stmt = self._rows().where(
            KitchenTicket.id == ticket_id, KitchenTicket.outlet_id == outlet_id
        )
        found = (await self.session.execute(stmt)).one_or_none()
        return TicketRow(*found) if found is not None else None

    async def board(
        self,
        outlet_id: str,
        *,
        station: str | None,
        statuses: Collection[str] | None,
        unpicked: bool = False,
        since: datetime | None = None,
        limit: int = 500,
    ) -> list[TicketRow]:
        """Tickets of the outlet (one station, or all), oldest first."""
        stmt = self._rows().where(KitchenTicket.outlet_id == outlet_id)
        if station is not None:
            stmt = stmt.where(KitchenTicket.station == station)
        if statuses is not None:
            stmt = stmt.where(KitchenTicket.status.in_(list(statuses)))
        if unpicked:
            stmt = stmt.where(KitchenTicket.picked_at.is_(None))
        if since is not None:
            stmt = stmt.where(KitchenTicket.created_at >= since)
        stmt = stmt.order_by(KitchenTicket.created_at, KitchenTicket.id).limit(limit)
        return [TicketRow(*found) for found in (await self.session.execute(stmt)).all()]

    async def oldest_ready(self, outlet_id: str, *, skip: Collection[str] = ()) -> str | None:
        stmt = (
            select(KitchenTicket.id)
            .where(
                self.scope(),
                KitchenTicket.outlet_id == outlet_id,
                KitchenTicket.status == "ready",
                KitchenTicket.picked_at.is_(None),
            )
            .order_by(KitchenTicket.created_at, KitchenTicket.id)
            .limit(1)
        )
        if skip:
            stmt = stmt.where(KitchenTicket.id.not_in(list(skip)))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def set_status(
        self, ticket_id: str, *, status: str, ready_at: datetime | None, now: datetime
    ) -> None:
        await self.session.execute(
            update(KitchenTicket)
            .where(self.scope(), KitchenTicket.id == ticket_id)
            .values(
                status=status, ready_at=ready_at, updated_at=now, version=KitchenTicket.version + 1
            )
            .execution_options(synchronize_session=False)
        )

    async def mark_picked(self, ticket_id: str, *, staff_id: str, now: datetime) -> bool:
        """ready and unpicked → served, picked by `staff_id`. False when someone was first."""
        stmt = (
            update(KitchenTicket)
            .where(
                self.scope(),
                KitchenTicket.id == ticket_id,
                KitchenTicket.status == "ready",
                KitchenTicket.picked_at.is_(None),
            )
            .values(
                status="served",
                picked_at=now,
                picked_by=staff_id,
                updated_at=now,
                version=KitchenTicket.version + 1,
            )
            .returning(KitchenTicket.id)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def set_print_state(self, ticket_id: str, state: str, now: datetime) -> None:
        await self.session.execute(
            update(KitchenTicket)
            .where(self.scope(), KitchenTicket.id == ticket_id)
            .values(print_state=state, updated_at=now)
            .execution_options(synchronize_session=False)
        )

    async def station_counts(self, outlet_id: str) -> dict[str, tuple[int, int]]:
        """station → (active, ready) over tickets still on a board."""
        active = func.sum(case((KitchenTicket.status.in_(ACTIVE_TICKET), 1), else_=0))
        ready = func.sum(
            case(
                ((KitchenTicket.status == "ready") & KitchenTicket.picked_at.is_(None), 1),
                else_=0,
            )
        )
        stmt = (
            select(KitchenTicket.station, active, ready)
            .where(self.scope(), KitchenTicket.outlet_id == outlet_id)
            .group_by(KitchenTicket.station)
        )
        return {
            station: (int(a or 0), int(r or 0))
            for station, a, r in (await self.session.execute(stmt)).tuples()
        }

    async def menu_stations(self, outlet_id: str) -> list[str]:
        """The distinct stations of the outlet's active menu items."""
        stmt = (
            select(MenuItem.station)
            .where(
                MenuItem.tenant_id == self.tenant_id,
                MenuItem.outlet_id == outlet_id,
                MenuItem.is_active.is_(True),
            )
            .distinct()
        )
        return [s for s in (await self.session.execute(stmt)).scalars() if s]

    async def ticket_stations(self, outlet_id: str) -> list[str]:
        stmt = (
            select(KitchenTicket.station)
            .where(self.scope(), KitchenTicket.outlet_id == outlet_id)
            .distinct()
        )
        return list((await self.session.execute(stmt)).scalars())


class KitchenLineRepository(TenantRepository[OrderLine]):
    """Order lines as kitchen items."""

    model = OrderLine
    not_found_label = "kitchen item"

    async def in_outlet(self, line_id: str, outlet_id: str) -> OrderLine | None:
        """The line, when its order is in `outlet_id` and it is on a kitchen ticket."""
        stmt = (
            self.select()
            .join(Order, Order.id == OrderLine.order_id)
            .where(
                OrderLine.id == line_id,
                Order.outlet_id == outlet_id,
                OrderLine.ticket_id.is_not(None),
            )
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def for_order(self, order_id: str) -> Sequence[OrderLine]:
        stmt = (
            self.select()
            .where(OrderLine.order_id == order_id)
            .order_by(OrderLine.position, OrderLine.id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def for_tickets(self, ticket_ids: Iterable[str]) -> Sequence[OrderLine]:
        ids = list(ticket_ids)
        if not ids:
            return []
        stmt = (
            self.select()
            .where(OrderLine.ticket_id.in_(ids))
            .order_by(OrderLine.position, OrderLine.id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def attach_to_ticket(self, order_id: str, station: str, ticket_id: str) -> None:
        await self.session.execute(
            update(OrderLine)
            .where(
                self.scope(),
                OrderLine.order_id == order_id,
                OrderLine.station == station,
                OrderLine.ticket_id.is_(None),
            )
            .values(ticket_id=ticket_id)
            .execution_options(synchronize_session=False)
        )

    async def change_status(
        self, line_id: str, *, current: str, target: str, now: datetime
    ) -> bool:
        """`current → target` in one statement, stamping when it happened; False when the
        item was not in `current` any more."""
        values: dict[str, Any] = {"status": target, "status_changed_at": now}
        if target == "in_progress":
            values["started_at"] = func.coalesce(OrderLine.started_at, now)
        elif target == "ready":
            values["ready_at"] = now
        elif target == "served":
            values["served_at"] = now
        stmt = (
            update(OrderLine)
            .where(self.scope(), OrderLine.id == line_id, OrderLine.status == current)
            .values(**values)
            .returning(OrderLine.id)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None


# Written as text because SQLAlchemy 2.0 compiles an `INSERT … ON CONFLICT` built with the
# dialect `insert()` again on every execution (`inherit_cache = False`, upstream #10445):
# ≈ 0.8 ms of CPU per sample, and a bump to ready records two per item. A `text()` clause is
# compiled once and cached; the same SQL runs on SQLite (≥ 3.24) and PostgreSQL.
_RECORD_SAMPLE = text(
    f"""
    INSERT INTO prep_time_stats
        (id, tenant_id, outlet_id, menu_item_id, ema_secs, samples, updated_at)
    VALUES (:id, :tenant_id, :outlet_id, :menu_item_id, :sample, 1, :now)
    ON CONFLICT (outlet_id, menu_item_id) DO UPDATE SET
        ema_secs = prep_time_stats.ema_secs * {1.0 - eta.ALPHA!r}
            + {eta.ALPHA!r} * excluded.ema_secs,
        samples = prep_time_stats.samples + 1,
        updated_at = excluded.updated_at
    WHERE prep_time_stats.tenant_id = excluded.tenant_id
    """  # noqa: S608 - the only interpolations are the module's float constants
).bindparams(
    bindparam("sample", type_=Float()),
    bindparam("now", type_=PrepTimeStat.__table__.c.updated_at.type),
)


class PrepTimeRepository(TenantRepository[PrepTimeStat]):
    model = PrepTimeStat
    not_found_label = "prep time"

    async def averages(self, outlet_id: str, menu_item_ids: Iterable[str]) -> dict[str, float]:
        """menu item id → average seconds, with the outlet-wide one under `""`."""
        keys = {*menu_item_ids, eta.OUTLET_WIDE}
        stmt = select(PrepTimeStat.menu_item_id, PrepTimeStat.ema_secs).where(
            self.scope(),
            PrepTimeStat.outlet_id == outlet_id,
            PrepTimeStat.menu_item_id.in_(list(keys)),
        )
        return {key: float(value) for key, value in (await self.session.execute(stmt)).tuples()}

    async def record_sample(
        self, outlet_id: str, menu_item_id: str, sample_secs: float, now: datetime
    ) -> None:
        """Fold one sample into the average (`eta.update_ema`), atomically and in one
        statement: the first sample inserts the row, later ones update it (upsert)."""
        await self.session.execute(
            _RECORD_SAMPLE,
            {
                "id": new_id(),
                "tenant_id": self.tenant_id,
                "outlet_id": outlet_id,
                "menu_item_id": menu_item_id,
                "sample": max(0.0, float(sample_secs)),
                "now": now,
            },
        )
