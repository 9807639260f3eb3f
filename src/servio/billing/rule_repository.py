"""Every pricing rule and price list query. Rows are scoped to the caller's tenant AND outlet:
an id of another outlet is not found, exactly like one of another tenant. Edits are single
`UPDATE … WHERE version = :expected RETURNING` statements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, TypeVar

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from servio.kit.clock import utcnow
from servio.kit.db import Base
from servio.kit.pagination import DEFAULT_LIMIT
from servio.kit.repository import TenantRepository
from servio.models import MenuCategory, MenuItem, Outlet, PriceList, PricingRule

ModelT = TypeVar("ModelT", bound=Base)


class OutletScopedRepository(TenantRepository[ModelT]):
    """A tenant repository narrowed to one outlet (`model.outlet_id`)."""

    model: ClassVar[type[Any]]

    def __init__(self, session: AsyncSession, tenant_id: str, outlet_id: str) -> None:
        super().__init__(session, tenant_id)
        self.outlet_id = outlet_id

    def scope(self) -> ColumnElement[bool]:
        clause: ColumnElement[bool] = super().scope() & (
            self._column("outlet_id") == self.outlet_id
        )
        return clause

    async def add(self, row: ModelT) -> ModelT:
        setattr(row, "outlet_id", self.outlet_id)  # noqa: B010 - generic over two models
        return await super().add(row)

    async def list_filtered(
        self,
        *filters: ColumnElement[bool],
        active: bool | None,
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> tuple[list[ModelT], str | None]:
        wanted = list(filters)
        if active is not None:
            wanted.append(self._column("is_active").is_(active))
        return await self.list_page(*wanted, cursor=cursor, limit=limit)

    async def update_if_version(
        self, id: str, expected_version: int, values: dict[str, Any]
    ) -> ModelT | None:
        model = self.model
        stmt = (
            update(model)
            .where(self.scope(), model.id == id, model.version == expected_version)
            .values(**values, version=model.version + 1, updated_at=utcnow())
            .returning(model)
            .execution_options(populate_existing=True)
        )
        row: ModelT | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row


class PricingRuleRepository(OutletScopedRepository[PricingRule]):
    model = PricingRule
    not_found_label = "pricing rule"

    async def list_rules(
        self,
        *,
        kind: str | None = None,
        active: bool | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> tuple[list[PricingRule], str | None]:
        filters = [PricingRule.kind == kind] if kind else []
        return await self.list_filtered(*filters, active=active, cursor=cursor, limit=limit)

    async def active_of_kind(self, kind: str) -> Sequence[PricingRule]:
        stmt = (
            self.select()
            .where(PricingRule.kind == kind, PricingRule.is_active.is_(True))
            .order_by(PricingRule.start_time, PricingRule.name, PricingRule.id)
        )
        return (await self.session.execute(stmt)).scalars().all()


class PriceListRepository(OutletScopedRepository[PriceList]):
    model = PriceList
    not_found_label = "price list"


class OutletMenuRefs:
    """Which menu items and categories the outlet has (to refuse foreign or unknown ids)."""

    def __init__(self, session: AsyncSession, tenant_id: str, outlet_id: str) -> None:
        self.session, self.tenant_id, self.outlet_id = session, tenant_id, outlet_id

    async def known_items(self, ids: Iterable[str]) -> set[str]:
        wanted = list(set(ids))
        if not wanted:
            return set()
        stmt = select(MenuItem.id).where(
            MenuItem.tenant_id == self.tenant_id,
            MenuItem.outlet_id == self.outlet_id,
            MenuItem.id.in_(wanted),
            MenuItem.is_active.is_(True),
        )
        return set((await self.session.execute(stmt)).scalars().all())

    async def known_categories(self, ids: Iterable[str]) -> set[str]:
        wanted = list(set(ids))
        if not wanted:
            return set()
        stmt = select(MenuCategory.id).where(
            MenuCategory.tenant_id == self.tenant_id,
            MenuCategory.outlet_id == self.outlet_id,
            MenuCategory.id.in_(wanted),
            MenuCategory.is_active.is_(True),
        )
        return set((await self.session.execute(stmt)).scalars().all())

    async def timezone(self) -> str | None:
        stmt = select(Outlet.timezone).where(
            Outlet.tenant_id == self.tenant_id, Outlet.id == self.outlet_id
        )
        zone: str | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return zone
