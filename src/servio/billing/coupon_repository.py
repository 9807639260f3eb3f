"""Every coupon query. Rows are scoped to the caller's tenant (`TenantRepository`); the
service narrows further to coupons visible from the caller's outlet (their own outlet's and
the tenant-wide ones).

Concurrency: the code is unique per tenant (`uq_coupons_code`), so creating or renaming
runs in a SAVEPOINT and a clash comes back as `None`/`False` instead of a check-then-act
lookup; edits are single `UPDATE … WHERE version = :expected RETURNING`; cap counters are
taken with one `INSERT … ON CONFLICT DO UPDATE … WHERE used < :cap RETURNING used` per
scope (`take_use`), which both SQLite (≥ 3.35) and PostgreSQL run atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from servio.kit.clock import utcnow
from servio.kit.ids import new_id
from servio.kit.pagination import DEFAULT_LIMIT
from servio.kit.repository import TenantRepository
from servio.models import Coupon, CouponCounter, CouponRedemption


class CouponRepository(TenantRepository[Coupon]):
    model = Coupon
    not_found_label = "coupon"

    @staticmethod
    def visible_from(outlet_id: str | None) -> ColumnElement[bool]:
        """Coupons of `outlet_id` plus the tenant-wide ones (None: every coupon)."""
        if outlet_id is None:
            clause: ColumnElement[bool] = Coupon.id.is_not(None)
            return clause
        return or_(Coupon.outlet_id.is_(None), Coupon.outlet_id == outlet_id)

    async def get_visible(
        self, coupon_id: str, outlet_id: str | None, *, for_update: bool = False
    ) -> Coupon | None:
        stmt = self.select().where(Coupon.id == coupon_id, self.visible_from(outlet_id))
        if for_update:
            stmt = stmt.with_for_update()
        row: Coupon | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row

    async def list_visible(
        self,
        outlet_id: str | None,
        *,
        active: bool | None = None,
        code: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> tuple[list[Coupon], str | None]:
        filters: list[ColumnElement[bool]] = [self.visible_from(outlet_id)]
        if active is not None:
            filters.append(Coupon.is_active.is_(active))
        if code:
            filters.append(Coupon.code.startswith(code.strip().upper(), autoescape=True))
        return await self.list_page(*filters, cursor=cursor, limit=limit)

    async def update_if_version(
        self, coupon_id: str, expected_version: int, values: dict[str, Any]
    ) -> Coupon | None:
        """Apply `values` and bump `version` in one statement (in a SAVEPOINT: a code clash
        raises IntegrityError without spoiling the transaction); None when the row moved on."""
        stmt = (
            update(Coupon)
            .where(self.scope(), Coupon.id == coupon_id, Coupon.version == expected_version)
            .values(**values, version=Coupon.version + 1, updated_at=utcnow())
            .returning(Coupon)
            .execution_options(populate_existing=True)
        )
        async with self.session.begin_nested():
            row: Coupon | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return row


class CouponCounterRepository(TenantRepository[CouponCounter]):
    model = CouponCounter

    async def take_use(self, coupon_id: str, scope: str, cap: int) -> int | None:
        """One more use in `scope` unless `cap` uses are already taken: the new count, or
        None at the cap. The row lock lasts until the caller's transaction ends, so a racing
        caller waits and then sees the committed count (or the rolled-back one)."""
        bind = self.session.bind
        insert = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
        statement = (
            insert(CouponCounter)
            .values(id=new_id(), tenant_id=self.tenant_id, coupon_id=coupon_id, scope=scope, used=1)
            .on_conflict_do_update(
                index_elements=["coupon_id", "scope"],
                set_={"used": CouponCounter.used + 1},
                where=CouponCounter.used < cap,
            )
            .returning(CouponCounter.used)
        )
        used: int | None = (await self.session.execute(statement)).scalar_one_or_none()
        return used


class CouponRedemptionRepository(TenantRepository[CouponRedemption]):
    model = CouponRedemption

    async def usage(
        self, coupon_ids: Sequence[str], business_day: str
    ) -> dict[str, tuple[int, int]]:
        """coupon id → (redemptions all time, redemptions on `business_day`)."""
        if not coupon_ids:
            return {}
        today = func.sum(case((CouponRedemption.business_day == business_day, 1), else_=0))
        stmt = (
            select(CouponRedemption.coupon_id, func.count(), today)
            .where(self.scope(), CouponRedemption.coupon_id.in_(list(set(coupon_ids))))
            .group_by(CouponRedemption.coupon_id)
        )
        return {
            coupon_id: (int(total), int(on_day or 0))
            for coupon_id, total, on_day in (await self.session.execute(stmt)).tuples()
        }
