from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TimestampMixin


class Tenant(IdMixin, TimestampMixin, Base):
    """A customer business. Owns outlets, staff and every tenant row."""

    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|paused|closed
    plan: Mapped[str] = mapped_column(String(32), default="starter")
    maintenance_until: Mapped[datetime | None] = mapped_column(default=None)
    # Licence limits (SAAS-02); None = the plan's default (servio.platform.limits).
    max_tables: Mapped[int | None] = mapped_column(default=None)
    max_menu_items: Mapped[int | None] = mapped_column(default=None)
    max_images_mb: Mapped[int | None] = mapped_column(default=None)
