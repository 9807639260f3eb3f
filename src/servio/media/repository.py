"""Queries over `media_assets`. Tenant-scoped, except the one lookup the public file route
needs (media ids are unguessable ULIDs, so the id alone is the capability)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from servio.kit.repository import TenantRepository
from servio.models import MediaAsset


class MediaRepository(TenantRepository[MediaAsset]):
    model = MediaAsset
    not_found_label = "media"

    async def remove(self, media_id: str) -> MediaAsset | None:
        """Delete the row and return what it was (None when not found in this tenant).
        Atomic: of two concurrent deletes exactly one gets the row back."""
        stmt = (
            delete(MediaAsset).where(self.scope(), MediaAsset.id == media_id).returning(MediaAsset)
        )
        removed: MediaAsset | None = (await self.session.execute(stmt)).scalar_one_or_none()
        return removed


async def find_media_any_tenant(session: AsyncSession, media_id: str) -> MediaAsset | None:
    """The asset with this id in whichever tenant owns it. The caller's transaction must
    bypass row-level security and narrow the scope to the owner afterwards."""
    stmt = select(MediaAsset).where(MediaAsset.id == media_id)
    found: MediaAsset | None = (await session.execute(stmt)).scalar_one_or_none()
    return found
