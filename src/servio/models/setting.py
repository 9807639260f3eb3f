from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class Setting(IdMixin, TenantMixin, TimestampMixin, Base):
    """One setting value. `outlet_id` null = tenant default; set = outlet override."""

    __tablename__ = "settings"
    # NULLs are distinct in unique constraints, so tenant-wide rows (outlet_id NULL) get
    # their own partial unique index: one tenant default per key, on both databases.
    __table_args__ = (
        UniqueConstraint("tenant_id", "outlet_id", "key"),
        Index(
            "uq_settings_tenant_default",
            "tenant_id",
            "key",
            unique=True,
            sqlite_where=text("outlet_id IS NULL"),
            postgresql_where=text("outlet_id IS NULL"),
        ),
    )

    outlet_id: Mapped[str | None] = mapped_column(String(26), default=None)
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)
