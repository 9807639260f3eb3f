"""Every query of the auth context.

`CredentialRepository` serves the pre-authentication lookups (an email, a refresh token, an
outlet's PIN) that necessarily search across tenants; it runs with row-level security
bypassed, so it only ever answers "which account is this?". Once the caller is known,
`StaffRepository` takes over and scopes everything to their tenant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, case, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from servio.kit.db import UTCDateTime
from servio.kit.ids import new_id
from servio.kit.repository import TenantRepository
from servio.models import (
    AuthSession,
    Outlet,
    PinAttempt,
    ProviderAdmin,
    RetiredRefreshToken,
    StaffOutletGrant,
    StaffUser,
    Tenant,
)


class CredentialRepository:
    """Cross-tenant lookups by credential, used before the caller is known."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def user_by_email(self, email: str) -> StaffUser | None:
        stmt = select(StaffUser).where(StaffUser.email == email)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def user(self, user_id: str) -> StaffUser | None:
        return await self.session.get(StaffUser, user_id)

    async def auth_session(self, session_id: str) -> AuthSession | None:
        return await self.session.get(AuthSession, session_id)

    async def outlet(self, outlet_id: str) -> Outlet | None:
        return await self.session.get(Outlet, outlet_id)

    async def tenant_by_id_or_slug(self, key: str) -> Tenant | None:
        stmt = select(Tenant).where(or_(Tenant.id == key, Tenant.slug == key))
        return (await self.session.execute(stmt)).scalars().first()

    async def outlets_of_tenant(self, tenant_id: str) -> Sequence[Outlet]:
        stmt = select(Outlet).where(Outlet.tenant_id == tenant_id).order_by(Outlet.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def grant_by_pin(self, outlet_id: str, lookup: str) -> StaffOutletGrant | None:
        stmt = select(StaffOutletGrant).where(
            StaffOutletGrant.outlet_id == outlet_id, StaffOutletGrant.pin_lookup == lookup
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def grant(self, staff_id: str, outlet_id: str) -> StaffOutletGrant | None:
        stmt = select(StaffOutletGrant).where(
            StaffOutletGrant.staff_id == staff_id, StaffOutletGrant.outlet_id == outlet_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        """Spend TOTP time step `step` for this user; False when it (or a later one) was
        already used, so one code cannot log in twice, even by two requests at once."""
        stmt = (
            update(StaffUser)
            .where(
                StaffUser.id == user_id,
                or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .returning(StaffUser.id)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None

    # --- refresh tokens ---

    async def rotate_refresh_token(
        self, old_hash: str, new_hash: str, now: datetime
    ) -> AuthSession | None:
        """Swap the session's refresh hash in one statement. Of two requests presenting
        the same token, exactly one gets the session back."""
        stmt = (
            update(AuthSession)
            .where(
                AuthSession.refresh_token_hash == old_hash,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
            )
            .values(refresh_token_hash=new_hash, updated_at=now)
            .returning(AuthSession)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def retire_refresh_token(
        self, session: AuthSession, token_hash: str, now: datetime
    ) -> None:
        self.session.add(
            RetiredRefreshToken(
                tenant_id=session.tenant_id,
                session_id=session.id,
                token_hash=token_hash,
                retired_at=now,
            )
        )
        await self.session.flush()

    async def retired_refresh_token(self, token_hash: str) -> RetiredRefreshToken | None:
        stmt = select(RetiredRefreshToken).where(RetiredRefreshToken.token_hash == token_hash)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def session_by_refresh_hash(self, token_hash: str) -> AuthSession | None:
        stmt = select(AuthSession).where(AuthSession.refresh_token_hash == token_hash)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    # --- sessions ---

    async def add_session(self, session: AuthSession) -> AuthSession:
        self.session.add(session)
        await self.session.flush()
        return session

    async def revoke_session(self, session_id: str, now: datetime) -> bool:
        stmt = (
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return bool(getattr(result, "rowcount", 0))

    # --- PIN lockout counters ---

    async def pin_attempt(self, scope: str) -> PinAttempt | None:
        stmt = select(PinAttempt).where(PinAttempt.scope == scope)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def record_pin_failure(
        self,
        *,
        scope: str,
        tenant_id: str,
        now: datetime,
        window: timedelta,
        threshold: int,
        lock_for: timedelta,
    ) -> PinAttempt:
        """Count one failure atomically (an upsert), locking the scope when the count
        reaches `threshold` within `window`. A stale window or an expired lock starts the
        count again. Returns the row as it is after the update."""
        table = PinAttempt.__table__
        now_value = literal(now, UTCDateTime())
        restart = or_(
            table.c.window_started_at < literal(now - window, UTCDateTime()),
            and_(table.c.locked_until.is_not(None), table.c.locked_until <= now_value),
        )
        failures = case((restart, 1), else_=table.c.failures + 1)
        values = {
            "id": new_id(),
            "tenant_id": tenant_id,
            "scope": scope,
            "failures": 1,
            "window_started_at": now,
            "locked_until": now + lock_for if threshold <= 1 else None,
        }
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        upsert = (
            insert(PinAttempt)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[table.c.scope],
                set_={
                    "failures": failures,
                    "window_started_at": case(
                        (restart, now_value), else_=table.c.window_started_at
                    ),
                    "locked_until": case(
                        (failures >= threshold, literal(now + lock_for, UTCDateTime())), else_=None
                    ),
                },
            )
            .returning(PinAttempt)
        )
        result = await self.session.execute(upsert, execution_options={"populate_existing": True})
        row: PinAttempt = result.scalar_one()
        return row

    async def clear_pin_failures(self, scope: str) -> None:
        stmt = (
            update(PinAttempt)
            .where(PinAttempt.scope == scope)
            .values(failures=0, locked_until=None)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    # --- provider admins ---

    async def provider_by_email(self, email: str) -> ProviderAdmin | None:
        stmt = select(ProviderAdmin).where(ProviderAdmin.email == email)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def provider(self, admin_id: str) -> ProviderAdmin | None:
        return await self.session.get(ProviderAdmin, admin_id)

    async def add_provider(self, admin: ProviderAdmin) -> ProviderAdmin:
        self.session.add(admin)
        await self.session.flush()
        return admin


class StaffRepository(TenantRepository[StaffUser]):
    """Staff of one tenant. An id from another tenant is simply not found."""

    model = StaffUser
    not_found_label = "staff member"

    async def deactivate(self, user_id: str, now: datetime) -> StaffUser | None:
        stmt = (
            update(StaffUser)
            .where(self.scope(), StaffUser.id == user_id)
            .values(
                is_active=False,
                deactivated_at=case(
                    (StaffUser.deactivated_at.is_(None), literal(now, UTCDateTime())),
                    else_=StaffUser.deactivated_at,
                ),
                updated_at=now,
            )
            .returning(StaffUser)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt, execution_options={"populate_existing": True})
        return result.scalar_one_or_none()

    async def revoke_all_sessions(self, user_id: str, now: datetime) -> int:
        stmt = (
            update(AuthSession)
            .where(
                AuthSession.tenant_id == self.tenant_id,
                AuthSession.staff_id == user_id,
                AuthSession.revoked_at.is_(None),
            )
            .values(revoked_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return int(getattr(result, "rowcount", 0))

    async def granted_outlets(self, user_id: str) -> Sequence[Outlet]:
        stmt = (
            select(Outlet)
            .join(StaffOutletGrant, StaffOutletGrant.outlet_id == Outlet.id)
            .where(
                StaffOutletGrant.tenant_id == self.tenant_id, StaffOutletGrant.staff_id == user_id
            )
            .order_by(Outlet.id)
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def tenant_outlets(self) -> Sequence[Outlet]:
        stmt = select(Outlet).where(Outlet.tenant_id == self.tenant_id).order_by(Outlet.id)
        return (await self.session.execute(stmt)).scalars().all()

    async def outlet(self, outlet_id: str) -> Outlet | None:
        stmt = select(Outlet).where(Outlet.tenant_id == self.tenant_id, Outlet.id == outlet_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def has_grant(self, user_id: str, outlet_id: str) -> bool:
        stmt = select(StaffOutletGrant.id).where(
            StaffOutletGrant.tenant_id == self.tenant_id,
            StaffOutletGrant.staff_id == user_id,
            StaffOutletGrant.outlet_id == outlet_id,
        )
        return (await self.session.execute(stmt)).first() is not None

    async def tenant(self) -> Tenant | None:
        return await self.session.get(Tenant, self.tenant_id)

    async def add_grant(self, grant: StaffOutletGrant) -> StaffOutletGrant:
        grant.tenant_id = self.tenant_id
        self.session.add(grant)
        await self.session.flush()
        return grant

    async def grant(self, user_id: str, outlet_id: str) -> StaffOutletGrant | None:
        stmt = select(StaffOutletGrant).where(
            StaffOutletGrant.tenant_id == self.tenant_id,
            StaffOutletGrant.staff_id == user_id,
            StaffOutletGrant.outlet_id == outlet_id,
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()
