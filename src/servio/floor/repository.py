"""Queries for service points (tables, rooms, counters).

Labels are unique per outlet and kind (a unique index); inserts run inside a SAVEPOINT so a
taken label is a clean `None` instead of an aborted transaction. Edits and state changes are
one `UPDATE … WHERE version/state = :expected RETURNING`, so two staff members changing the
same table cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from servio.kit.clock import utcnow
from servio.kit.repository import TenantRepository
from servio.models.service_point import ServicePoint


async def find_point_any_tenant(
    session: AsyncSession, service_point_id: str
) -> ServicePoint | None:
    """Cross-tenant lookup for QR resolution only (the guest has no tenant yet); the
    caller must have bypassed row-level security and must narrow the scope afterwards."""
    stmt = select(ServicePoint).where(ServicePoint.id == service_point_id)
    point: ServicePoint | None = (await session.execute(stmt)).scalar_one_or_none()
    return point


class ServicePointRepository(TenantRepository[ServicePoint]):
    model = ServicePoint
    not_found_label = "service point"

    async def get_live(
        self, point_id: str, *, kind: str | None = None, outlet_id: str | None = None
    ) -> ServicePoint | None:
        """An active (not deleted) point of this tenant, of `kind` and at `outlet_id` when
        given: staff reach only the points of the outlet they act for."""
        stmt = self.select().where(ServicePoint.id == point_id, ServicePoint.is_active.is_(True))
        if outlet_id is not None:
            stmt = stmt.where(ServicePoint.outlet_id == outlet_id)
        if kind is not None:
            stmt = stmt.where(ServicePoint.kind == kind)
        point: ServicePoint | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return point

    async def list_for_outlet(
        self, outlet_id: str, *filters: ColumnElement[bool]
    ) -> Sequence[ServicePoint]:
        """Every active point of the outlet matching `filters` (ordering is the caller's)."""
        stmt = self.select().where(
            ServicePoint.outlet_id == outlet_id, ServicePoint.is_active.is_(True), *filters
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def insert(self, point: ServicePoint) -> bool:
        """INSERT in a SAVEPOINT; False when the label is already used in the outlet."""
        return await self.add_unless_taken(point)

    async def revive(
        self, outlet_id: str, kind: str, label: str, values: dict[str, Any]
    ) -> ServicePoint | None:
        """Bring back a deleted point that still holds `label` (its id, and so its order
        history, is kept). The QR version is bumped: codes printed before the deletion stay
        dead. None when no deleted point holds the label."""
        stmt = (
            update(ServicePoint)
            .where(
                self.scope(),
                ServicePoint.outlet_id == outlet_id,
                ServicePoint.kind == kind,
                ServicePoint.label == label,
                ServicePoint.is_active.is_(False),
            )
            .values(
                **values,
                is_active=True,
                state="open",
                qr_version=ServicePoint.qr_version + 1,
                version=ServicePoint.version + 1,
                updated_at=utcnow(),
            )
            .returning(ServicePoint)
            .execution_options(populate_existing=True)
        )
        point: ServicePoint | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return point

    async def update_if(
        self,
        point_id: str,
        values: dict[str, Any],
        *,
        kind: str | None = None,
        outlet_id: str | None = None,
        expected_version: int | None = None,
        expected_state: str | None = None,
    ) -> ServicePoint | None:
        """Apply `values` and bump `version` in one statement. None when the point is gone,
        of another kind or tenant, or no longer at `expected_version` / `expected_state`.
        Raises IntegrityError (inside a SAVEPOINT) when a new label is taken."""
        stmt = (
            update(ServicePoint)
            .where(self.scope(), ServicePoint.id == point_id, ServicePoint.is_active.is_(True))
            .values(**values, version=ServicePoint.version + 1, updated_at=utcnow())
            .returning(ServicePoint)
            .execution_options(populate_existing=True)
        )
        if kind is not None:
            stmt = stmt.where(ServicePoint.kind == kind)
        if outlet_id is not None:
            stmt = stmt.where(ServicePoint.outlet_id == outlet_id)
        if expected_version is not None:
            stmt = stmt.where(ServicePoint.version == expected_version)
        if expected_state is not None:
            stmt = stmt.where(ServicePoint.state == expected_state)
        async with self.session.begin_nested():
            point: ServicePoint | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return point

    async def labels_in_use(self, outlet_id: str, kind: str, labels: Sequence[str]) -> list[str]:
        """Which of `labels` active points of the outlet already carry."""
        stmt = select(ServicePoint.label).where(
            self.scope(),
            ServicePoint.outlet_id == outlet_id,
            ServicePoint.kind == kind,
            ServicePoint.is_active.is_(True),
            ServicePoint.label.in_(list(labels)),
        )
        return sorted((await self.session.execute(stmt)).scalars().all())
