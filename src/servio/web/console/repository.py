"""The few reads the console pages do themselves (everything else goes through the APIs
the pages call from the browser)."""

from __future__ import annotations

from sqlalchemy import select

from servio.kit.repository import TenantRepository
from servio.models import OnboardingSession, Outlet


class ConsoleOnboardingRepository(TenantRepository[OnboardingSession]):
    model = OnboardingSession
    not_found_label = "onboarding session"

    async def latest_for_outlet(self, outlet_id: str) -> OnboardingSession | None:
        """The outlet's most recent wizard run, finished or not (newest first)."""
        stmt = (
            self.select()
            .where(OnboardingSession.outlet_id == outlet_id)
            .order_by(OnboardingSession.created_at.desc(), OnboardingSession.id.desc())
            .limit(1)
        )
        row: OnboardingSession | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def outlet(self, outlet_id: str) -> Outlet | None:
        """The outlet a wizard run sets up (it may be a new draft outlet, not the caller's)."""
        stmt = select(Outlet).where(Outlet.tenant_id == self.tenant_id, Outlet.id == outlet_id)
        row: Outlet | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row
