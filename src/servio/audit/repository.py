"""Audit log queries. Append-only by construction: this repository can add and read rows,
nothing else (and on PostgreSQL a trigger refuses UPDATE/DELETE on the table)."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from servio.kit.pagination import DEFAULT_LIMIT
from servio.kit.repository import TenantRepository
from servio.models import AuditLog


class AuditRepository(TenantRepository[AuditLog]):
    model = AuditLog
    sort_column = "at"
    not_found_label = "audit entry"

    async def list_entries(
        self,
        *,
        action: str | None = None,
        subject_type: str | None = None,
        subject_id: str | None = None,
        actor_id: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> tuple[list[AuditLog], str | None]:
        filters: list[ColumnElement[bool]] = []
        if action:
            filters.append(AuditLog.action == action)
        if subject_type:
            filters.append(AuditLog.subject_type == subject_type)
        if subject_id:
            filters.append(AuditLog.subject_id == subject_id)
        if actor_id:
            filters.append(AuditLog.actor_id == actor_id)
        return await self.list_page(*filters, cursor=cursor, limit=limit)


def append(session: AsyncSession, entry: AuditLog) -> None:
    """Queue one entry for insertion with the surrounding transaction. Works for
    platform-level entries too (tenant_id None), which no tenant repository can write."""
    session.add(entry)
