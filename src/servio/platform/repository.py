"""Queries for tenants, outlets, settings and feature flags.

Writes that two staff members can race on are single statements: an `UPDATE … WHERE
version = :expected RETURNING` either wins or changes nothing, and first inserts rely on
the unique indexes (inside a SAVEPOINT so a lost race does not abort the transaction).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from servio.kit.clock import utcnow
from servio.kit.pagination import DEFAULT_LIMIT, apply_keyset, build_page
from servio.kit.repository import TenantRepository
from servio.models import FeatureFlag, Outlet, Setting, StaffOutletGrant, Tenant


def _at_scope(column: Any, outlet_id: str | None) -> ColumnElement[bool]:
    """`outlet_id IS NULL` for the tenant default, `= :outlet` for an outlet override."""
    result: ColumnElement[bool] = column.is_(None) if outlet_id is None else column == outlet_id
    return result


class TenantSelfRepository(TenantRepository[Tenant]):
    """The caller's own tenant row (the `tenants` table is keyed by its id)."""

    model = Tenant
    tenant_column = "id"
    not_found_label = "tenant"

    async def current(self) -> Tenant | None:
        return await self.get(self.tenant_id)


class OutletRepository(TenantRepository[Outlet]):
    model = Outlet
    not_found_label = "outlet"

    def granted_to(self, staff_id: str) -> ColumnElement[bool]:
        """Only the outlets a staff member holds a grant for (roles bound to outlets)."""
        granted = select(StaffOutletGrant.outlet_id).where(
            StaffOutletGrant.tenant_id == self.tenant_id, StaffOutletGrant.staff_id == staff_id
        )
        return Outlet.id.in_(granted)

    async def get_visible(
        self, outlet_id: str, *filters: ColumnElement[bool], for_update: bool = False
    ) -> Outlet | None:
        stmt = self.select().where(Outlet.id == outlet_id, *filters)
        if for_update:
            stmt = stmt.with_for_update()
        row: Outlet | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def update_if_version(
        self, outlet_id: str, expected_version: int | None, values: dict[str, Any]
    ) -> Outlet | None:
        """Apply `values` and bump the version in one statement; None when the outlet is
        missing, in another tenant, or no longer at `expected_version`."""
        stmt = (
            update(Outlet)
            .where(self.scope(), Outlet.id == outlet_id)
            .values(**values, version=Outlet.version + 1, updated_at=utcnow())
            .returning(Outlet)
            .execution_options(populate_existing=True)
        )
        if expected_version is not None:
            stmt = stmt.where(Outlet.version == expected_version)
        row: Outlet | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row


class ProviderTenantRepository:
    """Provider-side access across all tenants. Used only behind `require_provider()`,
    whose transaction runs with the row-level-security bypass."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, tenant_id: str) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    async def list_page(
        self, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> tuple[list[Tenant], str | None]:
        stmt = apply_keyset(
            select(Tenant), Tenant.created_at, Tenant.id, cursor=cursor, limit=limit
        )
        rows = (await self.session.execute(stmt)).scalars().all()
        return build_page(rows, limit=limit, key=lambda t: (t.created_at, t.id))

    async def add_all(self, *rows: object) -> None:
        """Insert a new tenant with its first rows; IntegrityError propagates (unique
        slug or owner email) so the service can name the clash."""
        for row in rows:
            self.session.add(row)
            await self.session.flush()

    async def set_maintenance(self, tenant_id: str, until: datetime | None) -> Tenant | None:
        stmt = (
            update(Tenant)
            .where(Tenant.id == tenant_id)
            .values(maintenance_until=until, updated_at=utcnow())
            .returning(Tenant)
            .execution_options(populate_existing=True)
        )
        row: Tenant | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row


class SettingRepository(TenantRepository[Setting]):
    model = Setting
    not_found_label = "setting"

    async def for_outlet(self, outlet_id: str | None) -> Sequence[Setting]:
        """Tenant defaults plus, when an outlet is given, that outlet's overrides."""
        scope = (
            or_(Setting.outlet_id.is_(None), Setting.outlet_id == outlet_id)
            if outlet_id
            else Setting.outlet_id.is_(None)
        )
        return (await self.session.execute(self.select().where(scope))).scalars().all()

    async def find(
        self, key: str, outlet_id: str | None, *, for_update: bool = False
    ) -> Setting | None:
        stmt = self.select().where(Setting.key == key, _at_scope(Setting.outlet_id, outlet_id))
        if for_update:
            stmt = stmt.with_for_update()
        row: Setting | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def update_value(
        self, key: str, outlet_id: str | None, value: Any, expected_version: int | None
    ) -> Setting | None:
        """Replace the value and bump the version; None if there is no row at that scope
        or it is not at `expected_version`."""
        stmt = (
            update(Setting)
            .where(self.scope(), Setting.key == key, _at_scope(Setting.outlet_id, outlet_id))
            .values(value=value, version=Setting.version + 1, updated_at=utcnow())
            .returning(Setting)
            .execution_options(populate_existing=True)
        )
        if expected_version is not None:
            stmt = stmt.where(Setting.version == expected_version)
        row: Setting | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def insert(self, key: str, outlet_id: str | None, value: Any) -> Setting | None:
        """Create the row at version 1; None if a concurrent writer created it first."""
        row = Setting(
            tenant_id=self.tenant_id, outlet_id=outlet_id, key=key, value=value, version=1
        )
        return row if await _insert_unless_duplicate(self.session, row) else None

    async def delete_row(
        self, key: str, outlet_id: str | None, expected_version: int | None
    ) -> Setting | None:
        """Delete the row at that scope; returns it, or None when absent or stale."""
        stmt = (
            delete(Setting)
            .where(self.scope(), Setting.key == key, _at_scope(Setting.outlet_id, outlet_id))
            .returning(Setting)
        )
        if expected_version is not None:
            stmt = stmt.where(Setting.version == expected_version)
        row: Setting | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row


class FlagRepository(TenantRepository[FeatureFlag]):
    model = FeatureFlag
    not_found_label = "feature flag"

    async def for_outlet(self, outlet_id: str | None) -> Sequence[FeatureFlag]:
        scope = (
            or_(FeatureFlag.outlet_id.is_(None), FeatureFlag.outlet_id == outlet_id)
            if outlet_id
            else FeatureFlag.outlet_id.is_(None)
        )
        return (await self.session.execute(self.select().where(scope))).scalars().all()

    async def set_enabled(self, name: str, outlet_id: str | None, enabled: bool) -> None:
        """Upsert without check-then-act: update, else insert, else (lost an insert race)
        update again."""
        for _attempt in range(2):
            stmt = (
                update(FeatureFlag)
                .where(
                    self.scope(),
                    FeatureFlag.name == name,
                    _at_scope(FeatureFlag.outlet_id, outlet_id),
                )
                .values(enabled=enabled, updated_at=utcnow())
                .execution_options(synchronize_session="fetch")
            )
            if (await self.session.execute(stmt)).rowcount:  # type: ignore[attr-defined]
                return
            row = FeatureFlag(
                tenant_id=self.tenant_id, outlet_id=outlet_id, name=name, enabled=enabled
            )
            if await _insert_unless_duplicate(self.session, row):
                return
        raise RuntimeError(f"could not upsert flag {name!r}")  # pragma: no cover

    async def delete_override(self, name: str, outlet_id: str | None) -> bool:
        stmt = (
            delete(FeatureFlag)
            .where(
                self.scope(), FeatureFlag.name == name, _at_scope(FeatureFlag.outlet_id, outlet_id)
            )
            .execution_options(synchronize_session="fetch")
        )
        return bool((await self.session.execute(stmt)).rowcount)  # type: ignore[attr-defined]


async def _insert_unless_duplicate(session: AsyncSession, row: object) -> bool:
    """INSERT inside a SAVEPOINT; False when a unique index says the row already exists."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True
