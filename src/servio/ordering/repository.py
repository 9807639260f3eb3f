"""Every query over orders, their lines and their firing jobs.

Races are decided by the database, never by read-then-write:
- a client-chosen order id is claimed by the INSERT of its primary key (in a SAVEPOINT, so a
  duplicate is a clean `False` and the transaction goes on to return the existing order);
- firing outcomes are conditional UPDATEs (`… WHERE state IN ('pending','retrying')`), so a
  late or repeated acknowledgement is accepted once and the second is a no-op;
- the worker claims due firings with an atomic lease UPDATE (`SKIP LOCKED` on PostgreSQL);
- an order's own row is locked before its firings are resolved, so two stations acknowledged
  at the same instant still complete the order exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from servio.kit.db import UnitOfWork
from servio.kit.repository import TenantRepository
from servio.models.firing_job import FiringJob
from servio.models.order import Order, OrderLine
from servio.models.outlet import Outlet
from servio.models.service_point import ServicePoint
from servio.ordering.state import UNRESOLVED_FIRING


class OrderRepository(TenantRepository[Order]):
    model = Order
    not_found_label = "order"

    async def insert_new(self, order: Order) -> bool:
        """INSERT the order in a SAVEPOINT; False when its id is already taken (by this or
        any other tenant — the primary key is global), leaving the transaction usable."""
        order.tenant_id = self.tenant_id
        try:
            async with self.session.begin_nested():
                self.session.add(order)
                await self.session.flush()
        except IntegrityError:
            return False  # the rolled-back SAVEPOINT already expunged `order`
        return True

    async def get_in_outlet(self, order_id: str, outlet_id: str) -> Order | None:
        stmt = self.select().where(Order.id == order_id, Order.outlet_id == outlet_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def lock(self, order_id: str) -> Order | None:
        """The order, freshly read and locked until the transaction ends."""
        stmt = (
            self.select()
            .where(Order.id == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def change_status(
        self, order_id: str, *, current: str, target: str, now: datetime, **values: Any
    ) -> Order | None:
        """`current → target` in one statement; None when the order was not in `current`
        any more (someone else moved it first)."""
        stmt = (
            update(Order)
            .where(self.scope(), Order.id == order_id, Order.status == current)
            .values(
                status=target,
                status_changed_at=now,
                updated_at=now,
                version=Order.version + 1,
                **values,
            )
            .returning(Order.id)
            .execution_options(synchronize_session=False)
        )
        if (await self.session.execute(stmt)).scalar_one_or_none() is None:
            return None
        return await self.lock(order_id)

    async def set_fired(self, order_id: str, fired: str, *, unless: str = "acked") -> None:
        await self.session.execute(
            update(Order)
            .where(self.scope(), Order.id == order_id, Order.fired != unless)
            .values(fired=fired)
            .execution_options(synchronize_session=False)
        )


class OrderLineRepository(TenantRepository[OrderLine]):
    model = OrderLine
    not_found_label = "order line"

    async def for_order(self, order_id: str) -> Sequence[OrderLine]:
        stmt = (
            self.select()
            .where(OrderLine.order_id == order_id)
            .order_by(OrderLine.position, OrderLine.id)
        )
        return (await self.session.execute(stmt)).scalars().all()


def _unresolved() -> ColumnElement[bool]:
    return FiringJob.state.in_(UNRESOLVED_FIRING)


class FiringRepository(TenantRepository[FiringJob]):
    model = FiringJob
    not_found_label = "firing"

    async def for_order(self, order_id: str) -> Sequence[FiringJob]:
        stmt = (
            self.select()
            .where(FiringJob.order_id == order_id)
            .order_by(FiringJob.station, FiringJob.id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def mark_acked(self, job_id: str, *, ticket_no: str | None, now: datetime) -> bool:
        """pending/retrying → acked. False for a late or repeated ACK (already acked,
        cancelled or fired manually): accepted once, the rest are no-ops."""
        stmt = (
            update(FiringJob)
            .where(self.scope(), FiringJob.id == job_id, _unresolved())
            .values(
                state="acked",
                ticket_no=ticket_no,
                acked_at=now,
                locked_until=None,
                locked_by=None,
                last_error=None,
                updated_at=now,
            )
            .returning(FiringJob.id)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def mark_attempt_failed(
        self,
        job_id: str,
        *,
        worker_id: str,
        error: str,
        next_attempt_at: datetime,
        now: datetime,
    ) -> bool:
        """An attempt this worker holds failed or timed out: `retrying`, one more retry,
        the next attempt after the back-off. False when the lease was lost or the firing
        got resolved meanwhile (a late ACK, staff)."""
        stmt = (
            update(FiringJob)
            .where(
                self.scope(),
                FiringJob.id == job_id,
                _unresolved(),
                FiringJob.locked_by == worker_id,
            )
            .values(
                state="retrying",
                retry_count=FiringJob.retry_count + 1,
                next_attempt_at=next_attempt_at,
                last_error=error[:2000],
                locked_until=None,
                locked_by=None,
                updated_at=now,
            )
            .returning(FiringJob.id)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def watchdog_retry(
        self, job_id: str, *, next_attempt_at: datetime, cutoff: datetime, now: datetime
    ) -> bool:
        """pending since before `cutoff` and not being attempted → retrying."""
        stmt = (
            update(FiringJob)
            .where(
                self.scope(),
                FiringJob.id == job_id,
                FiringJob.state == "pending",
                FiringJob.created_at <= cutoff,
                or_(FiringJob.locked_until.is_(None), FiringJob.locked_until <= now),
            )
            .values(
                state="retrying",
                retry_count=FiringJob.retry_count + 1,
                next_attempt_at=next_attempt_at,
                last_error=func.coalesce(FiringJob.last_error, "no acknowledgement in time"),
                updated_at=now,
            )
            .returning(FiringJob.id)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def mark_delayed_once(self, job_id: str, now: datetime) -> bool:
        """Stamp `delayed_at` unless an earlier pass did: True exactly once per firing."""
        stmt = (
            update(FiringJob)
            .where(self.scope(), FiringJob.id == job_id, FiringJob.delayed_at.is_(None))
            .values(delayed_at=now)
            .returning(FiringJob.id)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def order_delayed_before(self, order_id: str, except_job: str) -> bool:
        """Whether another station of the order already announced a delay."""
        stmt = select(func.count()).where(
            self.scope(),
            FiringJob.order_id == order_id,
            FiringJob.id != except_job,
            FiringJob.delayed_at.is_not(None),
        )
        return int((await self.session.execute(stmt)).scalar_one()) > 0

    async def mark_alerted(self, order_id: str, now: datetime) -> int:
        """Stamp `alerted_at` on the order's unresolved, not yet alerted firings; the
        number stamped (0: another pass alerted already)."""
        result = await self.session.execute(
            update(FiringJob)
            .where(
                self.scope(),
                FiringJob.order_id == order_id,
                _unresolved(),
                FiringJob.alerted_at.is_(None),
            )
            .values(alerted_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def unresolved_count(self, order_id: str) -> int:
        stmt = select(func.count()).where(
            self.scope(), FiringJob.order_id == order_id, _unresolved()
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def retry_now(self, order_id: str, now: datetime) -> int:
        result = await self.session.execute(
            update(FiringJob)
            .where(self.scope(), FiringJob.order_id == order_id, _unresolved())
            .values(next_attempt_at=now, locked_until=None, locked_by=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def resolve_by_staff(
        self, order_id: str, *, state: str, staff_id: str, now: datetime
    ) -> int:
        """Unresolved firings → `cancelled` or `fired_manually` by a staff member."""
        result = await self.session.execute(
            update(FiringJob)
            .where(self.scope(), FiringJob.order_id == order_id, _unresolved())
            .values(
                state=state,
                resolved_by=staff_id,
                locked_until=None,
                locked_by=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


# --- what ordering reads from other tables -------------------------------------------------


@dataclass(frozen=True)
class OrderingPlace:
    """The outlet and table facts an order needs (one query)."""

    outlet_id: str
    currency: str
    timezone: str
    menu_version: int
    qr_ordering_enabled: bool
    point_id: str
    point_label: str
    point_kind: str
    point_state: str
    point_active: bool


async def ordering_place(
    session: AsyncSession, tenant_id: str, outlet_id: str, point_id: str
) -> OrderingPlace | None:
    stmt = (
        select(
            Outlet.id,
            Outlet.currency,
            Outlet.timezone,
            Outlet.menu_version,
            Outlet.qr_ordering_enabled,
            ServicePoint.id,
            ServicePoint.label,
            ServicePoint.kind,
            ServicePoint.state,
            ServicePoint.is_active,
        )
        .join(ServicePoint, ServicePoint.outlet_id == Outlet.id)
        .where(
            Outlet.tenant_id == tenant_id,
            Outlet.id == outlet_id,
            ServicePoint.id == point_id,
            ServicePoint.tenant_id == tenant_id,
        )
    )
    row = (await session.execute(stmt)).one_or_none()
    return OrderingPlace(*row) if row is not None else None


async def outlet_timezone(session: AsyncSession, tenant_id: str, outlet_id: str) -> str:
    stmt = select(Outlet.timezone).where(Outlet.tenant_id == tenant_id, Outlet.id == outlet_id)
    return str((await session.execute(stmt)).scalar_one_or_none() or "UTC")


# --- the firing worker (across tenants: the caller bypasses row-level security) -------------


@dataclass(frozen=True)
class ClaimedFiring:
    id: str
    tenant_id: str
    outlet_id: str
    order_id: str
    station: str
    adapter: str
    firing_key: str
    order_payload: dict[str, Any]
    retry_count: int
    created_at: datetime


_CLAIMED_COLUMNS = (
    FiringJob.id,
    FiringJob.tenant_id,
    FiringJob.outlet_id,
    FiringJob.order_id,
    FiringJob.station,
    FiringJob.adapter,
    FiringJob.firing_key,
    FiringJob.order_payload,
    FiringJob.retry_count,
    FiringJob.created_at,
)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        _unresolved(),
        FiringJob.next_attempt_at <= now,
        or_(FiringJob.locked_until.is_(None), FiringJob.locked_until <= now),
    )


async def claim_due_firings(
    uow: UnitOfWork, *, now: datetime, worker_id: str, lease_until: datetime, limit: int
) -> list[ClaimedFiring]:
    """Lease up to `limit` due firings to this worker in one atomic UPDATE."""
    pick = (
        select(FiringJob.id)
        .where(_due(now))
        .order_by(FiringJob.next_attempt_at, FiringJob.id)
        .limit(limit)
    )
    mark = update(FiringJob).values(locked_until=lease_until, locked_by=worker_id)
    if uow.session.bind.dialect.name == "postgresql":
        ids = list((await uow.session.execute(pick.with_for_update(skip_locked=True))).scalars())
        if not ids:
            return []
        mark = mark.where(FiringJob.id.in_(ids), _due(now))
    else:
        mark = mark.where(FiringJob.id.in_(pick.scalar_subquery()), _due(now))
    result = await uow.session.execute(
        mark.returning(*_CLAIMED_COLUMNS).execution_options(synchronize_session=False)
    )
    claimed = [ClaimedFiring(*row) for row in result]
    claimed.sort(key=lambda job: job.id)
    return claimed


@dataclass(frozen=True)
class FiringRef:
    id: str
    tenant_id: str
    outlet_id: str
    order_id: str
    created_at: datetime


async def stale_pending_firings(
    uow: UnitOfWork, *, cutoff: datetime, now: datetime, limit: int
) -> list[FiringRef]:
    """Firings still `pending` since before `cutoff` that nobody is attempting."""
    stmt = (
        select(
            FiringJob.id,
            FiringJob.tenant_id,
            FiringJob.outlet_id,
            FiringJob.order_id,
            FiringJob.created_at,
        )
        .where(
            FiringJob.state == "pending",
            FiringJob.created_at <= cutoff,
            or_(FiringJob.locked_until.is_(None), FiringJob.locked_until <= now),
        )
        .order_by(FiringJob.created_at, FiringJob.id)
        .limit(limit)
    )
    return [FiringRef(*row) for row in await uow.session.execute(stmt)]


async def unalerted_firings(uow: UnitOfWork, *, cutoff: datetime, limit: int) -> list[FiringRef]:
    """Unresolved firings created before `cutoff` whose front-of-house alert is not sent."""
    stmt = (
        select(
            FiringJob.id,
            FiringJob.tenant_id,
            FiringJob.outlet_id,
            FiringJob.order_id,
            FiringJob.created_at,
        )
        .where(_unresolved(), FiringJob.alerted_at.is_(None), FiringJob.created_at <= cutoff)
        .order_by(FiringJob.created_at, FiringJob.id)
        .limit(limit)
    )
    return [FiringRef(*row) for row in await uow.session.execute(stmt)]
