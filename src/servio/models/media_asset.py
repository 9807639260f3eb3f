from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class MediaAsset(IdMixin, TenantMixin, TimestampMixin, Base):
    """An uploaded image after validation and re-encoding (EXIF gone). The bytes live in the
    storage backend under `storage_key`; `bytes` counts toward the tenant's image quota."""

    __tablename__ = "media_assets"

    outlet_id: Mapped[str | None] = mapped_column(
        ForeignKey("outlets.id", ondelete="CASCADE"), default=None, index=True
    )
    purpose: Mapped[str] = mapped_column(String(32), default="menu_item")  # | logo | poster
    content_type: Mapped[str] = mapped_column(String(32))
    bytes: Mapped[int] = mapped_column(default=0)
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    uploaded_by: Mapped[str | None] = mapped_column(String(26), default=None)
