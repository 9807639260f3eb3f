"""Every query of the kitchen SLA (KDS-02): items cooking past a threshold with their ticket,
order and table; breach rows, inserted once per (order_line_id, level) whatever the number
of watchers; resolution when an item leaves `in_progress`; the expo/manager breach list.

Breaches are never checked-then-inserted: `INSERT … ON CONFLICT (order_line_id, level) DO
NOTHING RETURNING id` answers "did *this* transaction raise it?" atomically, so only the
winner emits the event and pushes to the screens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult

from servio.kit.db import UnitOfWork
from servio.kit.ids import new_id
from servio.kit.pagination import apply_keyset, build_page
from servio.kit.repository import TenantRepository
from servio.kitchen.sla import CookingItem
from servio.models.kitchen_ticket import KitchenTicket
from servio.models.order import Order, OrderLine
from servio.models.service_point import ServicePoint
from servio.models.sla_breach import SlaBreach

COOKING = "in_progress"
SelectT = TypeVar("SelectT", bound=Select[Any])

_CHUNK = 500  # ids per IN (…) list

BreachState = str  # "open" | "resolved" | "all"


def _started() -> ColumnElement[Any]:
    """When the item started cooking; `status_changed_at` for rows written before
    `started_at` was filled in."""
    return func.coalesce(OrderLine.started_at, OrderLine.status_changed_at)


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


@dataclass(frozen=True)
class WatchedOutlet:
    tenant_id: str
    outlet_id: str


async def outlets_to_watch(
    uow: UnitOfWork, *, started_before: datetime, limit: int = 5000
) -> list[WatchedOutlet]:
    """Outlets of every tenant (the caller bypasses row-level security) with an item
    cooking since before `started_before`, or with a breach still open (to resolve it)."""
    cooking = (
        select(Order.tenant_id, Order.outlet_id)
        .join(
            OrderLine, and_(OrderLine.order_id == Order.id, OrderLine.tenant_id == Order.tenant_id)
        )
        .where(OrderLine.status == COOKING, _started() < started_before)
    )
    open_breaches = select(SlaBreach.tenant_id, SlaBreach.outlet_id).where(
        SlaBreach.resolved_at.is_(None)
    )
    union = cooking.union(open_breaches).subquery()
    rows = await uow.session.execute(
        select(union.c.tenant_id, union.c.outlet_id)
        .order_by(union.c.tenant_id, union.c.outlet_id)
        .limit(limit)
    )
    return [WatchedOutlet(t, o) for t, o in rows.tuples()]


@dataclass(frozen=True)
class BreachRow:
    """A breach with the facts the expo/manager view shows next to it."""

    breach: SlaBreach
    name: str
    qty: int
    line_status: str
    started_at: datetime | None
    ticket_id: str | None
    ticket_no: str | None
    table: str | None


@dataclass(frozen=True)
class LineState:
    order_line_id: str
    status: str
    started_at: datetime | None


class SlaRepository(TenantRepository[SlaBreach]):
    model = SlaBreach
    sort_column = "breached_at"
    not_found_label = "SLA breach"

    # --- items ----------------------------------------------------------------------------

    async def cooking_items(
        self,
        outlet_id: str,
        *,
        started_before: datetime,
        line_ids: Sequence[str] | None = None,
    ) -> list[CookingItem]:
        """The outlet's items in progress since before `started_before` (only `line_ids`
        when given), joined to their order, ticket and table, with the levels already
        raised for each."""
        stmt = (
            self._with_table_and_ticket(
                select(
                    OrderLine.id,
                    Order.id,
                    OrderLine.station,
                    OrderLine.name,
                    OrderLine.qty,
                    _started(),
                    ServicePoint.label,
                    OrderLine.ticket_id,
                    func.coalesce(KitchenTicket.ticket_no, Order.ticket_no),
                ).join(
                    Order, and_(Order.id == OrderLine.order_id, Order.tenant_id == self.tenant_id)
                )
            )
            .where(
                OrderLine.tenant_id == self.tenant_id,
                Order.outlet_id == outlet_id,
                OrderLine.status == COOKING,
                _started() < started_before,
            )
            .order_by(_started(), OrderLine.id)
        )
        if line_ids is not None:
            if not line_ids:
                return []
            stmt = stmt.where(OrderLine.id.in_(list(line_ids)))
        rows = list((await self.session.execute(stmt)).tuples())
        raised = await self.raised_levels([r[0] for r in rows])
        return [
            CookingItem(
                order_line_id=line_id,
                order_id=order_id,
                station=station,
                name=name,
                qty=qty,
                started_at=started,
                table=table,
                ticket_id=ticket_id,
                ticket_no=ticket_no,
                raised_levels=frozenset(raised.get(line_id, ())),
            )
            for line_id, order_id, station, name, qty, started, table, ticket_id, ticket_no in rows
        ]

    async def raised_levels(self, line_ids: Sequence[str]) -> dict[str, set[int]]:
        raised: dict[str, set[int]] = {}
        for chunk in _chunks(line_ids):
            rows = await self.session.execute(
                select(SlaBreach.order_line_id, SlaBreach.level).where(
                    self.scope(), SlaBreach.order_line_id.in_(list(chunk))
                )
            )
            for line_id, level in rows.tuples():
                raised.setdefault(line_id, set()).add(level)
        return raised

    async def line_states(self, outlet_id: str, line_ids: Sequence[str]) -> dict[str, LineState]:
        """Which of `line_ids` are lines of this outlet (another tenant's or outlet's id is
        simply absent), with their kitchen status."""
        found: dict[str, LineState] = {}
        for chunk in _chunks(line_ids):
            rows = await self.session.execute(
                select(OrderLine.id, OrderLine.status, _started())
                .join(
                    Order, and_(Order.id == OrderLine.order_id, Order.tenant_id == self.tenant_id)
                )
                .where(
                    OrderLine.tenant_id == self.tenant_id,
                    Order.outlet_id == outlet_id,
                    OrderLine.id.in_(list(chunk)),
                )
            )
            for line_id, line_status, started in rows.tuples():
                found[line_id] = LineState(line_id, line_status, started)
        return found

    # --- breaches -------------------------------------------------------------------------

    def _insert(self) -> Any:
        if self.session.get_bind().dialect.name == "postgresql":
            return postgresql.insert(SlaBreach)
        return sqlite.insert(SlaBreach)

    async def insert_once(
        self,
        *,
        outlet_id: str,
        order_id: str,
        order_line_id: str,
        station: str,
        level: int,
        overdue_secs: int,
        now: datetime,
    ) -> str | None:
        """The new breach's id, or None when this level of the line was already raised
        (by another watcher run, another worker or a KDS push)."""
        stmt = (
            self._insert()
            .values(
                id=new_id(),
                tenant_id=self.tenant_id,
                outlet_id=outlet_id,
                order_id=order_id,
                order_line_id=order_line_id,
                station=station,
                level=level,
                overdue_secs=overdue_secs,
                breached_at=now,
            )
            .on_conflict_do_nothing(index_elements=["order_line_id", "level"])
            .returning(SlaBreach.id)
        )
        new: str | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return new

    async def resolve_left_cooking(self, outlet_id: str, now: datetime) -> list[SlaBreach]:
        """Close the outlet's open breaches whose item is no longer in progress (ready,
        served, voided, …). Returns the breaches resolved now."""
        left_cooking = (
            select(OrderLine.id)
            .where(
                OrderLine.id == SlaBreach.order_line_id,
                OrderLine.tenant_id == self.tenant_id,
                OrderLine.status != COOKING,
            )
            .exists()
        )
        result = await self.session.execute(
            update(SlaBreach)
            .where(
                self.scope(),
                SlaBreach.outlet_id == outlet_id,
                SlaBreach.resolved_at.is_(None),
                left_cooking,
            )
            .values(resolved_at=now)
            .returning(SlaBreach)
            .execution_options(synchronize_session=False)
        )
        return list(result.scalars())

    async def acknowledge(self, breach_id: str, outlet_id: str, *, by: str, now: datetime) -> bool:
        """Set `acknowledged_at/by` once; False when it was already acknowledged."""
        result = await self.session.execute(
            update(SlaBreach)
            .where(
                self.scope(),
                SlaBreach.id == breach_id,
                SlaBreach.outlet_id == outlet_id,
                SlaBreach.acknowledged_at.is_(None),
            )
            .values(acknowledged_at=now, acknowledged_by=by)
            .execution_options(synchronize_session=False)
        )
        return isinstance(result, CursorResult) and result.rowcount > 0

    def _rows(self) -> Any:
        return self._with_table_and_ticket(
            select(
                SlaBreach,
                OrderLine.name,
                OrderLine.qty,
                OrderLine.status,
                _started(),
                OrderLine.ticket_id,
                func.coalesce(KitchenTicket.ticket_no, Order.ticket_no),
                ServicePoint.label,
            )
            .join(
                OrderLine,
                and_(
                    OrderLine.id == SlaBreach.order_line_id, OrderLine.tenant_id == self.tenant_id
                ),
            )
            .join(Order, and_(Order.id == SlaBreach.order_id, Order.tenant_id == self.tenant_id))
        ).where(self.scope())

    def _with_table_and_ticket(self, stmt: SelectT) -> SelectT:
        """`stmt` (already joined to the order and its line) outer-joined to the order's
        table and the line's kitchen ticket, both of this tenant."""
        return stmt.outerjoin(
            ServicePoint,
            and_(
                ServicePoint.id == Order.service_point_id,
                ServicePoint.tenant_id == self.tenant_id,
            ),
        ).outerjoin(
            KitchenTicket,
            and_(
                KitchenTicket.id == OrderLine.ticket_id,
                KitchenTicket.tenant_id == self.tenant_id,
            ),
        )

    @staticmethod
    def _row(row: Any) -> BreachRow:
        breach, name, qty, line_status, started, ticket_id, ticket_no, table = row
        return BreachRow(breach, name, qty, line_status, started, ticket_id, ticket_no, table)

    async def page(
        self,
        outlet_id: str,
        *,
        state: BreachState,
        station: str | None,
        level: int | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[BreachRow], str | None]:
        """The outlet's breaches, newest first."""
        stmt = self._rows().where(SlaBreach.outlet_id == outlet_id)
        if state == "open":
            stmt = stmt.where(SlaBreach.resolved_at.is_(None))
        elif state == "resolved":
            stmt = stmt.where(SlaBreach.resolved_at.is_not(None))
        if station is not None:
            stmt = stmt.where(SlaBreach.station == station)
        if level is not None:
            stmt = stmt.where(SlaBreach.level == level)
        stmt = apply_keyset(stmt, SlaBreach.breached_at, SlaBreach.id, cursor=cursor, limit=limit)
        rows = [self._row(r) for r in (await self.session.execute(stmt)).all()]
        return build_page(rows, limit=limit, key=lambda r: (r.breach.breached_at, r.breach.id))

    async def one(self, breach_id: str, outlet_id: str) -> BreachRow | None:
        stmt = self._rows().where(SlaBreach.id == breach_id, SlaBreach.outlet_id == outlet_id)
        row = (await self.session.execute(stmt.execution_options(populate_existing=True))).first()
        return self._row(row) if row is not None else None

    async def by_ids(self, breach_ids: Sequence[str]) -> list[BreachRow]:
        found: list[BreachRow] = []
        for chunk in _chunks(breach_ids):
            stmt = self._rows().where(SlaBreach.id.in_(list(chunk)))
            found += [self._row(r) for r in (await self.session.execute(stmt)).all()]
        return found
