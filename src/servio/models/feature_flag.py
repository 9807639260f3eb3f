from __future__ import annotations

from sqlalchemy import Boolean, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class FeatureFlag(IdMixin, TenantMixin, TimestampMixin, Base):
    """A flag override. `outlet_id` null = tenant-wide; the catalogue of known flags and
    their defaults lives in `servio.platform.flags`."""

    __tablename__ = "feature_flags"
    __table_args__ = (UniqueConstraint("tenant_id", "outlet_id", "name"),)

    outlet_id: Mapped[str | None] = mapped_column(String(26), default=None)
    name: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean)
