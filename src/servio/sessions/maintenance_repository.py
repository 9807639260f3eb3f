"""Queries of the session automations (seed 004 §6): finding idle sessions across tenants
for the auto-close watchdog, and the nightly purge. Kept apart from `repository.py`, which
serves the request paths."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from servio.kit.db import UnitOfWork
from servio.kit.repository import TenantRepository
from servio.models.cart_line import CartLine
from servio.models.session_member import SessionMember
from servio.models.table_session import TableSession

PURGED_NICKNAME = "Guest"
_CHUNK = 500  # ids per IN (…) list


@dataclass(frozen=True)
class IdleSession:
    tenant_id: str
    outlet_id: str
    session_id: str


async def idle_active_sessions(
    uow: UnitOfWork, *, idle_since: datetime, limit: int = 5000
) -> list[IdleSession]:
    """Active sessions of every tenant without activity since `idle_since` (the caller's
    transaction bypasses row-level security). Only candidates: each is re-checked under
    its row lock before it is closed."""
    rows = await uow.session.execute(
        select(TableSession.tenant_id, TableSession.outlet_id, TableSession.id)
        .where(TableSession.state == "active", TableSession.last_activity_at <= idle_since)
        .order_by(TableSession.last_activity_at, TableSession.id)
        .limit(limit)
    )
    return [IdleSession(t, o, s) for t, o, s in rows.tuples()]


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


class SessionMaintenanceRepository(TenantRepository[TableSession]):
    model = TableSession
    not_found_label = "table session"

    async def purge_auto_closed(
        self, outlet_id: str, *, closed_before: datetime, now: datetime
    ) -> list[str]:
        """closed → purged, in one statement, for the outlet's auto-closed sessions closed
        before `closed_before`. Returns the purged ids."""
        result = await self.session.execute(
            update(TableSession)
            .where(
                self.scope(),
                TableSession.outlet_id == outlet_id,
                TableSession.state == "closed",
                TableSession.auto_closed.is_(True),
                TableSession.closed_at < closed_before,
            )
            .values(state="purged", purged_at=now, version=TableSession.version + 1)
            .returning(TableSession.id)
            .execution_options(synchronize_session=False)
        )
        return list(result.scalars())

    async def forget_guests(self, session_ids: Sequence[str]) -> tuple[int, int]:
        """Delete the sessions' cart lines and replace member nicknames with "Guest".
        Returns (cart lines deleted, members anonymised)."""
        lines = members = 0
        for chunk in _chunks(session_ids):
            deleted = await self.session.execute(
                delete(CartLine)
                .where(CartLine.tenant_id == self.tenant_id, CartLine.session_id.in_(chunk))
                .execution_options(synchronize_session=False)
            )
            renamed = await self.session.execute(
                update(SessionMember)
                .where(
                    SessionMember.tenant_id == self.tenant_id,
                    SessionMember.session_id.in_(chunk),
                )
                .values(nickname=PURGED_NICKNAME)
                .execution_options(synchronize_session=False)
            )
            lines += int(deleted.rowcount)  # type: ignore[attr-defined]
            members += int(renamed.rowcount)  # type: ignore[attr-defined]
        return lines, members
