"""Queries for onboarding sessions, logo lookups and the provider's licence overrides.
(Outlet reads and writes go through `servio.platform.repository.OutletRepository`; tables
are created through `servio.floor.service`.)

Sessions are read `FOR UPDATE` before a step changes them, so two browser tabs saving
steps of the same session apply one after the other instead of losing a step.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from servio.kit.clock import utcnow
from servio.kit.repository import TenantRepository
from servio.models import MediaAsset, OnboardingSession, Tenant


class OnboardingRepository(TenantRepository[OnboardingSession]):
    model = OnboardingSession
    not_found_label = "onboarding session"

    async def in_progress_for(self, outlet_id: str) -> OnboardingSession | None:
        """The newest unfinished session of the outlet (a second `start` resumes it)."""
        stmt = (
            self.select()
            .where(
                OnboardingSession.outlet_id == outlet_id,
                OnboardingSession.status == "in_progress",
            )
            .order_by(OnboardingSession.created_at.desc(), OnboardingSession.id.desc())
            .limit(1)
        )
        row: OnboardingSession | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def save(self, row: OnboardingSession, values: dict[str, Any]) -> OnboardingSession:
        """Write `values` to a session read `FOR UPDATE` in this transaction."""
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        await self.session.flush()
        return row


class SetupMediaRepository(TenantRepository[MediaAsset]):
    model = MediaAsset
    not_found_label = "media"


class LimitsRepository:
    """A tenant's plan and licence overrides. Staff read their own tenant (row-level
    security lets nothing else through); the provider writes any tenant (RLS bypass)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    async def set_limits(self, tenant_id: str, values: dict[str, int | None]) -> Tenant | None:
        stmt = (
            update(Tenant)
            .where(Tenant.id == tenant_id)
            .values(**values, updated_at=utcnow())
            .returning(Tenant)
            .execution_options(populate_existing=True)
        )
        row: Tenant | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row
