"""Every query the ops context runs: readiness probes, the persisted status page and a
tenant's maintenance window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from servio.models.system_status import SystemStatus
from servio.models.tenant import Tenant

PLATFORM_STATUS_ID = "platform"


async def ping(engine: AsyncEngine) -> None:
    """One round trip on a pooled connection (readiness)."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def tenant_maintenance_until(session: AsyncSession, tenant_id: str) -> datetime | None:
    result = await session.execute(select(Tenant.maintenance_until).where(Tenant.id == tenant_id))
    return result.scalar_one_or_none()


async def get_system_status(session: AsyncSession) -> SystemStatus | None:
    return await session.get(SystemStatus, PLATFORM_STATUS_ID)


async def upsert_system_status(
    session: AsyncSession,
    *,
    status: str,
    message: str,
    overridden: bool,
    updated_at: datetime,
    updated_by: str | None,
) -> SystemStatus:
    """Insert-or-update in one statement, so two concurrent overrides never collide."""
    values = {
        "id": PLATFORM_STATUS_ID,
        "status": status,
        "message": message,
        "overridden": overridden,
        "updated_at": updated_at,
        "updated_by": updated_by,
    }
    changes = {k: v for k, v in values.items() if k != "id"}
    if session.get_bind().dialect.name == "postgresql":
        stmt = (
            postgresql.insert(SystemStatus)
            .values(**values)
            .on_conflict_do_update(index_elements=[SystemStatus.id], set_=changes)
            .returning(SystemStatus)
        )
    else:
        stmt = (
            sqlite.insert(SystemStatus)
            .values(**values)
            .on_conflict_do_update(index_elements=[SystemStatus.id], set_=changes)
            .returning(SystemStatus)
        )
    result = await session.execute(stmt, execution_options={"populate_existing": True})
    row: SystemStatus = result.scalar_one()
    return row
