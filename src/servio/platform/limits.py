"""Licence limits (SAAS-02): per-plan defaults, per-tenant overrides on `Tenant`, and the
one check every creating path calls before it adds a counted thing.

    await enforce_limit(uow, tenant_id, "max_tables", adding=1)

raises `403 FEATURE_LIMIT` with a hint. Counting happens inside the caller's transaction; on
SQLite that transaction holds the write lock (BEGIN IMMEDIATE) and on PostgreSQL the tenant
row is locked `FOR UPDATE`, so two concurrent creations cannot both squeeze under the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select

from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound, ProblemError
from servio.models import MediaAsset, MenuItem, ServicePoint, Tenant

LimitName = Literal["max_tables", "max_menu_items", "max_images_mb"]
LIMIT_NAMES: tuple[LimitName, ...] = ("max_tables", "max_menu_items", "max_images_mb")

# None = unlimited.
PLAN_LIMITS: dict[str, dict[LimitName, int | None]] = {
    "starter": {"max_tables": 15, "max_menu_items": 150, "max_images_mb": 100},
    "growth": {"max_tables": 60, "max_menu_items": 600, "max_images_mb": 1000},
    "enterprise": {"max_tables": None, "max_menu_items": None, "max_images_mb": None},
    "demo": {"max_tables": 50, "max_menu_items": 300, "max_images_mb": 200},
}
DEFAULT_PLAN = "starter"
_MB = 1024 * 1024


@dataclass(frozen=True)
class LimitUsage:
    name: LimitName
    used: int  # tables, items, or megabytes (rounded up) for images
    limit: int | None

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)


def limit_for(tenant: Tenant, name: LimitName) -> int | None:
    override: int | None = getattr(tenant, name)
    if override is not None:
        return override
    return PLAN_LIMITS.get(tenant.plan, PLAN_LIMITS[DEFAULT_PLAN])[name]


async def _used(uow: UnitOfWork, tenant_id: str, name: LimitName) -> int:
    if name == "max_tables":
        stmt = (
            select(func.count())
            .select_from(ServicePoint)
            .where(
                ServicePoint.tenant_id == tenant_id,
                ServicePoint.kind == "table",
                ServicePoint.is_active.is_(True),
            )
        )
    elif name == "max_menu_items":
        stmt = (
            select(func.count())
            .select_from(MenuItem)
            .where(MenuItem.tenant_id == tenant_id, MenuItem.is_active.is_(True))
        )
    else:
        stmt = select(func.coalesce(func.sum(MediaAsset.bytes), 0)).where(
            MediaAsset.tenant_id == tenant_id
        )
    return int((await uow.session.execute(stmt)).scalar_one())


async def _tenant(uow: UnitOfWork, tenant_id: str, *, lock: bool) -> Tenant:
    stmt = select(Tenant).where(Tenant.id == tenant_id)
    if lock:
        stmt = stmt.with_for_update()  # ignored on SQLite, where BEGIN IMMEDIATE serialises
    tenant = (await uow.session.execute(stmt)).scalar_one_or_none()
    if tenant is None:
        raise NotFound("tenant")
    return tenant


async def usage(uow: UnitOfWork, tenant_id: str) -> list[LimitUsage]:
    tenant = await _tenant(uow, tenant_id, lock=False)
    out: list[LimitUsage] = []
    for name in LIMIT_NAMES:
        used = await _used(uow, tenant_id, name)
        if name == "max_images_mb":
            used = -(-used // _MB)
        out.append(LimitUsage(name, used, limit_for(tenant, name)))
    return out


async def enforce_limit(
    uow: UnitOfWork, tenant_id: str, name: LimitName, *, adding: int = 1
) -> None:
    """Refuse with `403 FEATURE_LIMIT` when adding `adding` (items, tables, or bytes for
    `max_images_mb`) would go over the tenant's licence."""
    tenant = await _tenant(uow, tenant_id, lock=True)
    limit = limit_for(tenant, name)
    if limit is None:
        return
    used = await _used(uow, tenant_id, name)
    capacity = limit * _MB if name == "max_images_mb" else limit
    if used + adding > capacity:
        what = {
            "max_tables": "tables",
            "max_menu_items": "menu items",
            "max_images_mb": "MB of images",
        }[name]
        raise ProblemError(
            403,
            "FEATURE_LIMIT",
            f"your plan allows {limit} {what}",
            hint="remove unused ones or ask your provider to raise the limit",
            extra={"limit": name, "allowed": limit},
        )
