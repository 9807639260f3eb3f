"""Every alert rule query, scoped to the caller's tenant. Edits are single
`UPDATE … WHERE version = :expected RETURNING` statements; deleted rules stay as rows
(`deleted_at`) so the delivery log can still name them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select, update

from servio.kit.clock import utcnow
from servio.kit.pagination import DEFAULT_LIMIT
from servio.kit.repository import TenantRepository
from servio.models import AlertRule, Outlet


class AlertRuleRepository(TenantRepository[AlertRule]):
    model = AlertRule
    not_found_label = "alert rule"

    @staticmethod
    def visible_from(outlet_id: str | None) -> ColumnElement[bool]:
        """Live rules of `outlet_id` plus the tenant-wide ones (None: every live rule)."""
        live = AlertRule.deleted_at.is_(None)
        if outlet_id is None:
            return live
        return live & or_(AlertRule.outlet_id.is_(None), AlertRule.outlet_id == outlet_id)

    async def get_visible(
        self, rule_id: str, outlet_id: str | None, *, for_update: bool = False
    ) -> AlertRule | None:
        stmt = self.select().where(AlertRule.id == rule_id, self.visible_from(outlet_id))
        if for_update:
            stmt = stmt.with_for_update()
        row: AlertRule | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def list_visible(
        self, outlet_id: str | None, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
    ) -> tuple[list[AlertRule], str | None]:
        return await self.list_page(self.visible_from(outlet_id), cursor=cursor, limit=limit)

    async def update_if_version(
        self, rule_id: str, expected_version: int, values: dict[str, Any]
    ) -> AlertRule | None:
        stmt = (
            update(AlertRule)
            .where(
                self.scope(),
                AlertRule.id == rule_id,
                AlertRule.version == expected_version,
                AlertRule.deleted_at.is_(None),
            )
            .values(**values, version=AlertRule.version + 1, updated_at=utcnow())
            .returning(AlertRule)
            .execution_options(populate_existing=True)
        )
        row: AlertRule | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def outlet_exists(self, outlet_id: str) -> bool:
        stmt = select(Outlet.id).where(Outlet.id == outlet_id, Outlet.tenant_id == self.tenant_id)
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None
