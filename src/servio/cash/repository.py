"""Every query of the cash context. Tenant scoping comes from the actor (TenantRepository);
outlet scoping is explicit in every method.

Concurrency:
- One open session per drawer is the partial unique index `uq_cash_sessions_one_open`:
  `add_unless_taken` INSERTs in a SAVEPOINT and reports the refusal, never checks first.
- Everything that moves money in a session starts with `lock_open`, one conditional
  `UPDATE … SET version = version + 1 WHERE state = 'open' RETURNING`: it row-locks the
  session on PostgreSQL (SQLite's BEGIN IMMEDIATE already serialises writers) and fails for
  a session closed meanwhile. A close and a cash payment on the same drawer therefore
  queue behind each other: the payment is either counted in the close or refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from servio.kit.repository import TenantRepository
from servio.models.cash import CashDrawer, CashMovement, CashSession
from servio.models.outlet import Outlet


class DrawerRepository(TenantRepository[CashDrawer]):
    model = CashDrawer
    not_found_label = "cash drawer"

    async def in_outlet(self, drawer_id: str, outlet_id: str) -> CashDrawer | None:
        stmt = self.select().where(CashDrawer.id == drawer_id, CashDrawer.outlet_id == outlet_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def list_for_outlet(self, outlet_id: str) -> Sequence[CashDrawer]:
        stmt = (
            self.select()
            .where(CashDrawer.outlet_id == outlet_id)
            .order_by(CashDrawer.name, CashDrawer.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def outlet_currency(self, outlet_id: str) -> str:
        stmt = select(Outlet.currency).where(
            Outlet.id == outlet_id, Outlet.tenant_id == self.tenant_id
        )
        currency: str | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return currency or "INR"


@dataclass(frozen=True)
class OpenSessionRef:
    id: str
    drawer_id: str
    opened_by: str | None


class CashSessionRepository(TenantRepository[CashSession]):
    model = CashSession
    sort_column = "opened_at"
    not_found_label = "cash session"

    async def in_outlet(self, session_id: str, outlet_id: str) -> CashSession | None:
        stmt = (
            self.select()
            .where(CashSession.id == session_id, CashSession.outlet_id == outlet_id)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def open_for_drawer(self, drawer_id: str) -> CashSession | None:
        stmt = (
            self.select()
            .where(CashSession.drawer_id == drawer_id, CashSession.state == "open")
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def open_in_outlet(self, outlet_id: str) -> list[OpenSessionRef]:
        """The outlet's open sessions, newest first."""
        stmt = (
            select(CashSession.id, CashSession.drawer_id, CashSession.opened_by)
            .where(
                self.scope(),
                CashSession.outlet_id == outlet_id,
                CashSession.state == "open",
            )
            .order_by(CashSession.opened_at.desc(), CashSession.id.desc())
        )
        return [OpenSessionRef(*row) for row in (await self.session.execute(stmt)).all()]

    async def lock_open(self, session_id: str, outlet_id: str, now: datetime) -> bool:
        """Row-lock an OPEN session of the outlet (bumping its version); False when it is
        closed (or not this outlet's)."""
        stmt = (
            update(CashSession)
            .where(
                self.scope(),
                CashSession.id == session_id,
                CashSession.outlet_id == outlet_id,
                CashSession.state == "open",
            )
            .values(version=CashSession.version + 1, updated_at=now)
            .returning(CashSession.id)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def close(self, session_id: str, values: dict[str, Any]) -> CashSession | None:
        """Freeze the close figures on a session still open (locked by `lock_open`)."""
        stmt = (
            update(CashSession)
            .where(self.scope(), CashSession.id == session_id, CashSession.state == "open")
            .values(state="closed", version=CashSession.version + 1, **values)
            .returning(CashSession)
            .execution_options(populate_existing=True)
        )
        closed: CashSession | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return closed

    async def page(
        self,
        outlet_id: str,
        *,
        state: str | None,
        opened_from: datetime | None,
        opened_to: datetime | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[CashSession], str | None]:
        filters = [CashSession.outlet_id == outlet_id]
        if state is not None:
            filters.append(CashSession.state == state)
        if opened_from is not None:
            filters.append(CashSession.opened_at >= opened_from)
        if opened_to is not None:
            filters.append(CashSession.opened_at < opened_to)
        return await self.list_page(*filters, cursor=cursor, limit=limit)

    async def drawer_names(self, drawer_ids: Sequence[str]) -> dict[str, str]:
        if not drawer_ids:
            return {}
        stmt = select(CashDrawer.id, CashDrawer.name).where(
            CashDrawer.tenant_id == self.tenant_id, CashDrawer.id.in_(set(drawer_ids))
        )
        return {row.id: row.name for row in (await self.session.execute(stmt)).all()}


class MovementRepository(TenantRepository[CashMovement]):
    model = CashMovement
    not_found_label = "cash movement"

    async def totals(self, session_ids: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
        """`{session_id: [(type, sum of amounts), …]}` for each session with movements."""
        if not session_ids:
            return {}
        stmt = (
            select(CashMovement.session_id, CashMovement.type, func.sum(CashMovement.amount))
            .where(self.scope(), CashMovement.session_id.in_(set(session_ids)))
            .group_by(CashMovement.session_id, CashMovement.type)
        )
        out: dict[str, list[tuple[str, int]]] = {}
        for session_id, kind, total in (await self.session.execute(stmt)).all():
            out.setdefault(session_id, []).append((kind, int(total or 0)))
        return out

    async def of_session(self, session_id: str) -> Sequence[CashMovement]:
        stmt = (
            self.select()
            .where(CashMovement.session_id == session_id)
            .order_by(CashMovement.created_at, CashMovement.id)
        )
        return (await self.session.execute(stmt)).scalars().all()
