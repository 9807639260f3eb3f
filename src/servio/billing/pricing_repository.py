"""Every query the pricing service makes: pricing rules, price lists and coupons of an
outlet, and menu items' categories. Scoped to the tenant (and outlet) given."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from servio.kit.repository import TenantRepository
from servio.models import Coupon, MenuItem, Outlet, PriceList, PricingRule


class PricingRuleReader(TenantRepository[PricingRule]):
    model = PricingRule

    async def active_for_outlet(self, outlet_id: str) -> Sequence[PricingRule]:
        """Active rules of the outlet in a stable order (the engine decides what is in force)."""
        stmt = (
            self.select()
            .where(PricingRule.outlet_id == outlet_id, PricingRule.is_active.is_(True))
            .order_by(PricingRule.priority.desc(), PricingRule.id)
        )
        return (await self.session.execute(stmt)).scalars().all()


class PriceListReader(TenantRepository[PriceList]):
    model = PriceList

    async def active_for_outlet(self, outlet_id: str) -> Sequence[PriceList]:
        stmt = (
            self.select()
            .where(PriceList.outlet_id == outlet_id, PriceList.is_active.is_(True))
            .order_by(PriceList.priority.desc(), PriceList.id)
        )
        return (await self.session.execute(stmt)).scalars().all()


class CouponReader(TenantRepository[Coupon]):
    model = Coupon

    async def by_codes(self, outlet_id: str, codes: Iterable[str]) -> dict[str, Coupon]:
        """Upper-cased code → coupon usable at this outlet (its own or tenant-wide), active or
        not (the service reports an inactive one as COUPON_INACTIVE)."""
        wanted = sorted({c.strip().upper() for c in codes if c.strip()})
        if not wanted:
            return {}
        stmt = self.select().where(
            func.upper(Coupon.code).in_(wanted),
            or_(Coupon.outlet_id.is_(None), Coupon.outlet_id == outlet_id),
        )
        found: dict[str, Coupon] = {}
        for row in (await self.session.execute(stmt)).scalars():
            key = row.code.upper()
            # An outlet's own coupon wins over a tenant-wide one of the same code.
            if key not in found or row.outlet_id is not None:
                found[key] = row
        return found


async def item_categories(
    session: AsyncSession, tenant_id: str, outlet_id: str, item_ids: Iterable[str]
) -> dict[str, str | None]:
    """menu item id → category id, for the outlet's items among `item_ids` (any state:
    a bill for an order keeps matching category rules after the item is retired)."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    stmt = select(MenuItem.id, MenuItem.category_id).where(
        MenuItem.tenant_id == tenant_id, MenuItem.outlet_id == outlet_id, MenuItem.id.in_(ids)
    )
    return {row.id: row.category_id for row in (await session.execute(stmt)).all()}


async def outlet_for(session: AsyncSession, tenant_id: str, outlet_id: str) -> Outlet | None:
    """The tenant's outlet, or None (another tenant's id is simply not found)."""
    stmt = select(Outlet).where(Outlet.tenant_id == tenant_id, Outlet.id == outlet_id)
    row: Outlet | None = (await session.execute(stmt)).scalar_one_or_none()
    return row
