"""Queries behind QR packs and posters: the points to print, the outlet logo, and the
export log. All tenant-scoped through `TenantRepository`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement

from servio.kit.pagination import DEFAULT_LIMIT
from servio.kit.repository import TenantRepository
from servio.models import MediaAsset, Outlet, QrPackExport, ServicePoint


class PrintablePointRepository(TenantRepository[ServicePoint]):
    model = ServicePoint
    not_found_label = "service point"

    async def printable(self, outlet_id: str, kinds: Sequence[str]) -> list[ServicePoint]:
        """Active points of the outlet of the given kinds (unordered; callers sort labels
        naturally). Disabled points are printed too: disabling is temporary, the QR stays."""
        stmt = self.select().where(
            ServicePoint.outlet_id == outlet_id,
            ServicePoint.is_active.is_(True),
            ServicePoint.kind.in_(list(kinds)),
        )
        return list((await self.session.execute(stmt)).scalars().all())


class QrOutletRepository(TenantRepository[Outlet]):
    model = Outlet
    not_found_label = "outlet"


class QrLogoRepository(TenantRepository[MediaAsset]):
    model = MediaAsset
    not_found_label = "media"


class QrPackExportRepository(TenantRepository[QrPackExport]):
    model = QrPackExport
    not_found_label = "QR pack export"

    async def page(
        self, *, outlet_id: str | None, cursor: str | None, limit: int = DEFAULT_LIMIT
    ) -> tuple[list[QrPackExport], str | None]:
        filters: list[ColumnElement[bool]] = []
        if outlet_id is not None:
            filters.append(QrPackExport.outlet_id == outlet_id)
        return await self.list_page(*filters, cursor=cursor, limit=limit)
