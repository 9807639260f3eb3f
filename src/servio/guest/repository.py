"""Queries behind the guest menu.

`find_menu_target` is the hot path: every guest menu request, cached or not, runs exactly
this one statement (the service point by primary key joined with its outlet), so a cache
hit costs one indexed lookup. It runs with row-level security bypassed because the guest
has no tenant until the point is found; the caller narrows the scope before reading more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from servio.models.media_asset import MediaAsset
from servio.models.outlet import Outlet
from servio.models.service_point import ServicePoint


@dataclass(frozen=True, slots=True)
class MenuTarget:
    """What a QR token points at, with the outlet fields the menu reply and its cache key use."""

    service_point_id: str
    tenant_id: str
    outlet_id: str
    kind: str
    label: str
    state: str
    qr_version: int
    is_active: bool
    outlet_name: str
    outlet_status: str
    outlet_version: int
    menu_version: int
    currency: str
    locale: str
    timezone: str


_MENU_TARGET = (
    select(
        ServicePoint.id,
        ServicePoint.tenant_id,
        ServicePoint.outlet_id,
        ServicePoint.kind,
        ServicePoint.label,
        ServicePoint.state,
        ServicePoint.qr_version,
        ServicePoint.is_active,
        Outlet.name,
        Outlet.status,
        Outlet.version,
        Outlet.menu_version,
        Outlet.currency,
        Outlet.locale,
        Outlet.timezone,
    )
    .join(Outlet, Outlet.id == ServicePoint.outlet_id)
    .where(ServicePoint.id == bindparam("point_id"), Outlet.tenant_id == ServicePoint.tenant_id)
)  # built once: every guest menu request that reaches the route runs it


async def find_menu_target(session: AsyncSession, service_point_id: str) -> MenuTarget | None:
    """The point and its outlet in one query, across tenants (RLS must be bypassed)."""
    row = (await session.execute(_MENU_TARGET, {"point_id": service_point_id})).one_or_none()
    return None if row is None else MenuTarget(*row)


async def find_images(
    session: AsyncSession, tenant_id: str, media_ids: Iterable[str]
) -> dict[str, MediaAsset]:
    """The media assets with these ids in the tenant (missing ones are simply absent)."""
    wanted = set(media_ids)
    if not wanted:
        return {}
    assets = await session.scalars(
        select(MediaAsset).where(MediaAsset.tenant_id == tenant_id, MediaAsset.id.in_(wanted))
    )
    return {asset.id: asset for asset in assets}
