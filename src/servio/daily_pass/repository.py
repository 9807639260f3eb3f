"""Every query of the daily pass: the outlet's passes, the outlet's clock and the owners
who receive the word. Writes that could race are single statements (INSERT … ON CONFLICT
on the unique (outlet, business_date))."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from servio.kit.repository import TenantRepository
from servio.models import Outlet, StaffUser
from servio.models.daily_pass import DailyPass


@dataclass(frozen=True)
class OutletFacts:
    id: str
    name: str
    timezone: str


class DailyPassRepository(TenantRepository[DailyPass]):
    model = DailyPass
    sort_column = "valid_from"
    not_found_label = "daily pass"

    async def current(self, outlet_id: str, now: datetime) -> DailyPass | None:
        """The pass guests must enter at `now` (the newest one valid then), or None."""
        stmt = (
            self.select()
            .where(
                DailyPass.outlet_id == outlet_id,
                DailyPass.valid_from <= now,
                DailyPass.valid_until > now,
            )
            .order_by(DailyPass.valid_from.desc(), DailyPass.id.desc())
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def for_day(self, outlet_id: str, business_date: date) -> DailyPass | None:
        stmt = self.select().where(
            DailyPass.outlet_id == outlet_id, DailyPass.business_date == business_date
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    def _insert(self) -> Any:
        dialect = self.session.get_bind().dialect.name
        return postgresql.insert if dialect == "postgresql" else sqlite.insert

    async def insert_new(self, values: dict[str, Any]) -> bool:
        """The day's pass unless the day already has one (then False: an owner rotated
        by hand earlier, or the rota already ran)."""
        stmt = (
            self._insert()(DailyPass)
            .values(**values, tenant_id=self.tenant_id)
            .on_conflict_do_nothing(index_elements=["outlet_id", "business_date"])
            .returning(DailyPass.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    async def replace(self, values: dict[str, Any]) -> None:
        """Insert the day's pass, or overwrite the day's word (a rotation by hand)."""
        insert = self._insert()(DailyPass).values(**values, tenant_id=self.tenant_id)
        stmt = insert.on_conflict_do_update(
            index_elements=["outlet_id", "business_date"],
            set_={
                "word_hash": insert.excluded.word_hash,
                "valid_from": insert.excluded.valid_from,
                "valid_until": insert.excluded.valid_until,
                "created_at": insert.excluded.created_at,
            },
        )
        await self.session.execute(stmt)

    async def end_earlier(self, outlet_id: str, business_date: date, now: datetime) -> int:
        """Earlier days' passes stop working now (a late rota still retires yesterday's)."""
        result = await self.session.execute(
            update(DailyPass)
            .where(
                self.scope(),
                DailyPass.outlet_id == outlet_id,
                DailyPass.business_date < business_date,
                DailyPass.valid_until > now,
            )
            .values(valid_until=now)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def outlet(self, outlet_id: str) -> OutletFacts | None:
        stmt = select(Outlet.id, Outlet.name, Outlet.timezone).where(
            Outlet.tenant_id == self.tenant_id, Outlet.id == outlet_id
        )
        row = (await self.session.execute(stmt)).one_or_none()
        return None if row is None else OutletFacts(*row)

    async def owner_emails(self) -> list[str]:
        """E-mail addresses of the tenant's active owners (roles are a JSON list, filtered
        here rather than with a dialect-specific JSON operator; a tenant has few staff)."""
        stmt = (
            select(StaffUser.email, StaffUser.roles)
            .where(
                StaffUser.tenant_id == self.tenant_id,
                StaffUser.is_active.is_(True),
                StaffUser.email.is_not(None),
            )
            .order_by(StaffUser.created_at, StaffUser.id)
        )
        rows = (await self.session.execute(stmt)).tuples()
        return [email for email, roles in rows if email and "owner" in (roles or [])]
