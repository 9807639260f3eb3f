from __future__ import annotations

from sqlalchemy import Boolean, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class FeatureFlag(IdMixin, TenantMixin, TimestampMixin, Base):
    """A flag override. `outlet_id` null = tenant-wide; the catalogue of known flags and
    their defaults lives in `servio.platform.flags`."""

    __tablename__ = "feature_flags"
    # NULLs are distinct in unique constraints, so tenant-wide rows (outlet_id NULL) get
    # their own partial unique index: one tenant default per name, on both databases.
    __table_args__ = (
        UniqueConstraint("tenant_id", "outlet_id", "name"),
        Index(
            "uq_feature_flags_tenant_default",
            "tenant_id",
            "name",
            unique=True,
            sqlite_where=text("outlet_id IS NULL"),
            postgresql_where=text("outlet_id IS NULL"),
        ),
    )

    outlet_id: Mapped[str | None] = mapped_column(String(26), default=None)
    name: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean)
