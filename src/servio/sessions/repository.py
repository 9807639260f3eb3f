"""Every query over table sessions, their members and cart lines. Writes that decide a
race are single atomic statements (`UPDATE … WHERE state = … RETURNING`, or an INSERT that a
unique constraint lets only one caller win), never read-then-write."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from servio.kit.repository import TenantRepository
from servio.models.cart_line import CartLine
from servio.models.order import Order, OrderLine
from servio.models.outlet import Outlet
from servio.models.service_point import ServicePoint
from servio.models.session_member import SessionMember
from servio.models.table_session import TableSession


class SessionRepository(TenantRepository[TableSession]):
    model = TableSession
    not_found_label = "table session"

    async def live_for_point(self, point_id: str) -> TableSession | None:
        stmt = self.select().where(TableSession.live_point_id == point_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def latest_for_point(self, point_id: str) -> TableSession | None:
        stmt = (
            self.select()
            .where(TableSession.service_point_id == point_id)
            .order_by(TableSession.created_at.desc(), TableSession.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def insert_live(self, values: dict[str, Any]) -> bool:
        """Insert an active session for `values["service_point_id"]` unless one is live
        there already (then nothing happens and False is returned): the unique
        `live_point_id` decides concurrent scans."""
        dialect = self.session.bind.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        row = {
            **values,
            "tenant_id": self.tenant_id,
            "state": "active",
            "live_point_id": values["service_point_id"],
        }
        stmt = (
            insert(TableSession)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["live_point_id"])
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def touch(self, session_id: str, now: datetime) -> TableSession | None:
        """Mark activity on an ACTIVE session and lock its row until the transaction ends
        (the UPDATE takes the row lock on PostgreSQL; SQLite already holds the write lock),
        so cart edits, joins and orders at one table run one after another. None when the
        session is not active (closed, purged, unknown or another tenant's)."""
        stmt = (
            update(TableSession)
            .where(self.scope(), TableSession.id == session_id, TableSession.state == "active")
            .values(last_activity_at=now)
            .returning(TableSession)
            .execution_options(populate_existing=True)
        )
        row: TableSession | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def close(
        self, session_id: str, *, now: datetime, closed_by: str | None, auto_closed: bool
    ) -> TableSession | None:
        """active → closed in one statement; None when it was not active (lost the race)."""
        stmt = (
            update(TableSession)
            .where(self.scope(), TableSession.id == session_id, TableSession.state == "active")
            .values(
                state="closed",
                live_point_id=None,
                closed_at=now,
                closed_by=closed_by,
                auto_closed=auto_closed,
                version=TableSession.version + 1,
            )
            .returning(TableSession.id)
        )
        if (await self.session.execute(stmt)).scalar_one_or_none() is None:
            return None
        return await self._fresh(session_id)

    async def restore(self, session_id: str, *, now: datetime) -> TableSession | None:
        """closed → active in one statement. None when it was not closed. Raises
        IntegrityError (inside a savepoint, so the transaction survives) when another
        session is live at the table."""
        stmt = (
            update(TableSession)
            .where(self.scope(), TableSession.id == session_id, TableSession.state == "closed")
            .values(
                state="active",
                live_point_id=TableSession.service_point_id,
                auto_closed=False,
                closed_at=None,
                closed_by=None,
                restored_at=now,
                last_activity_at=now,
                version=TableSession.version + 1,
            )
            .returning(TableSession.id)
        )
        async with self.session.begin_nested():
            restored = (await self.session.execute(stmt)).scalar_one_or_none()
        if restored is None:
            return None
        return await self._fresh(session_id)

    async def set_pass_validated(self, session_id: str) -> None:
        await self.session.execute(
            update(TableSession)
            .where(self.scope(), TableSession.id == session_id)
            .values(pass_validated=True)
        )

    async def mark_ordered(self, session_id: str, now: datetime) -> None:
        """Remember when the table first ordered (the grid's unpaid timer starts there) and
        that a settled table owes money again — one UPDATE for both, touching the row only
        when one of them changes."""
        # An order after the table settled is unpaid again: without this the settled-table
        # auto-close could close a session that still has an unbilled order.
        settled = TableSession.payment_status == "settled"
        await self.session.execute(
            update(TableSession)
            .where(
                self.scope(),
                TableSession.id == session_id,
                TableSession.first_order_at.is_(None) | settled,
            )
            .values(
                first_order_at=func.coalesce(TableSession.first_order_at, now),
                payment_status=case((settled, "partially_paid"), else_=TableSession.payment_status),
            )
            .execution_options(synchronize_session=False)
        )

    async def list_for_outlet(
        self, outlet_id: str, states: Iterable[str] = ("active",)
    ) -> Sequence[TableSession]:
        stmt = (
            self.select()
            .where(TableSession.outlet_id == outlet_id, TableSession.state.in_(tuple(states)))
            .order_by(TableSession.created_at)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def for_grid(
        self, outlet_id: str, *, active: bool, closed_since: datetime | None
    ) -> Sequence[TableSession]:
        """The staff grid's sessions of an outlet in one query: the active ones (oldest
        first) when `active`, then those closed since `closed_since` (newest first) when
        given."""
        wanted = []
        if active:
            wanted.append(TableSession.state == "active")
        if closed_since is not None:
            wanted.append(
                (TableSession.state == "closed") & (TableSession.closed_at >= closed_since)
            )
        if not wanted:
            return []
        condition = wanted[0] if len(wanted) == 1 else wanted[0] | wanted[1]
        stmt = self.select().where(TableSession.outlet_id == outlet_id, condition)
        rows = (await self.session.execute(stmt)).scalars().all()
        live = sorted((r for r in rows if r.state == "active"), key=lambda r: (r.created_at, r.id))
        ended = sorted(
            (r for r in rows if r.state != "active"),
            key=lambda r: (r.closed_at or r.updated_at, r.id),
            reverse=True,
        )
        return [*live, *ended]

    async def live_for_points(self, point_ids: Iterable[str]) -> dict[str, TableSession]:
        ids = tuple(point_ids)
        if not ids:
            return {}
        stmt = self.select().where(TableSession.live_point_id.in_(ids))
        return {row.service_point_id: row for row in (await self.session.execute(stmt)).scalars()}

    async def _fresh(self, session_id: str) -> TableSession:
        stmt = (
            self.select()
            .where(TableSession.id == session_id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one()


class MemberRepository(TenantRepository[SessionMember]):
    model = SessionMember
    not_found_label = "member"

    async def join(self, session_id: str, nickname: str, now: datetime) -> SessionMember:
        """The first member of a session becomes its host; the unique `host_of` makes that
        hold under concurrent joins (the loser of the race joins as a plain member)."""
        for host in (True, False):
            member = SessionMember(
                tenant_id=self.tenant_id,
                session_id=session_id,
                nickname=nickname,
                is_host=host,
                host_of=session_id if host else None,
                created_at=now,
            )
            try:
                async with self.session.begin_nested():
                    self.session.add(member)
                    await self.session.flush()
            except IntegrityError:
                if not host:
                    raise
                continue
            return member
        raise AssertionError("unreachable")

    async def for_session(self, session_id: str) -> Sequence[SessionMember]:
        stmt = (
            self.select()
            .where(SessionMember.session_id == session_id)
            .order_by(SessionMember.created_at, SessionMember.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def count_for_session(self, session_id: str) -> int:
        stmt = select(func.count()).where(self.scope(), SessionMember.session_id == session_id)
        return int((await self.session.execute(stmt)).scalar_one())

    async def counts_for_sessions(self, session_ids: Iterable[str]) -> dict[str, int]:
        ids = tuple(set(session_ids))
        if not ids:
            return {}
        stmt = (
            select(SessionMember.session_id, func.count())
            .where(self.scope(), SessionMember.session_id.in_(ids))
            .group_by(SessionMember.session_id)
        )
        return {sid: int(n) for sid, n in (await self.session.execute(stmt)).tuples()}


class CartRepository(TenantRepository[CartLine]):
    model = CartLine
    sort_column = "position"
    not_found_label = "cart line"

    async def for_session(self, session_id: str) -> Sequence[CartLine]:
        stmt = (
            self.select()
            .where(CartLine.session_id == session_id)
            .order_by(CartLine.member_id, CartLine.position, CartLine.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def replace_for_member(
        self, session_id: str, member_id: str, lines: Sequence[CartLine]
    ) -> None:
        await self.session.execute(
            delete(CartLine).where(
                self.scope(), CartLine.session_id == session_id, CartLine.member_id == member_id
            )
        )
        self.session.add_all(lines)
        await self.session.flush()

    async def clear_session(self, session_id: str) -> int:
        result = await self.session.execute(
            delete(CartLine).where(self.scope(), CartLine.session_id == session_id)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class SessionOrderRepository(TenantRepository[Order]):
    """The orders of a table session, for the guest's view of the table."""

    model = Order
    not_found_label = "order"

    async def for_session(self, session_id: str) -> Sequence[Order]:
        stmt = (
            self.select().where(Order.session_id == session_id).order_by(Order.created_at, Order.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def for_sessions(self, session_ids: Iterable[str]) -> Sequence[Order]:
        """The orders of many sessions in one query (the staff grid)."""
        ids = tuple(set(session_ids))
        if not ids:
            return []
        stmt = self.select().where(Order.session_id.in_(ids)).order_by(Order.created_at, Order.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def has_orders(self, session_id: str) -> bool:
        stmt = select(Order.id).where(self.scope(), Order.session_id == session_id).limit(1)
        return (await self.session.execute(stmt)).first() is not None

    async def lines_for_orders(self, order_ids: Iterable[str]) -> Sequence[OrderLine]:
        ids = tuple(set(order_ids))
        if not ids:
            return []
        stmt = (
            select(OrderLine)
            .where(OrderLine.tenant_id == self.tenant_id, OrderLine.order_id.in_(ids))
            .order_by(OrderLine.order_id, OrderLine.position, OrderLine.id)
        )
        return (await self.session.execute(stmt)).scalars().all()


class SessionPlaceRepository(TenantRepository[ServicePoint]):
    """The tables (service points) and outlet facts the session routes show and gate on."""

    model = ServicePoint
    not_found_label = "table"

    async def points(self, point_ids: Iterable[str]) -> dict[str, ServicePoint]:
        ids = tuple(set(point_ids))
        if not ids:
            return {}
        stmt = self.select().where(ServicePoint.id.in_(ids))
        return {row.id: row for row in (await self.session.execute(stmt)).scalars()}

    async def outlet(self, outlet_id: str) -> Outlet | None:
        stmt = select(Outlet).where(Outlet.tenant_id == self.tenant_id, Outlet.id == outlet_id)
        row: Outlet | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def set_qr_ordering(self, outlet_id: str, enabled: bool) -> bool | None:
        """Switch QR ordering for the outlet in one statement; the previous value, or None
        when there is no such outlet in the tenant. The row lock it takes orders concurrent
        switches, so the audit's before/after always chain."""
        previous = (
            await self.session.execute(
                select(Outlet.qr_ordering_enabled)
                .where(Outlet.tenant_id == self.tenant_id, Outlet.id == outlet_id)
                .with_for_update()
            )
        ).scalar_one_or_none()
        if previous is None:
            return None
        await self.session.execute(
            update(Outlet)
            .where(Outlet.tenant_id == self.tenant_id, Outlet.id == outlet_id)
            .values(qr_ordering_enabled=enabled)
        )
        return bool(previous)
