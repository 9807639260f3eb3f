from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class QrPackExport(IdMixin, TenantMixin, TimestampMixin, Base):
    """One QR pack / poster generation: who, when, with which options (exportable audit)."""

    __tablename__ = "qr_pack_exports"

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    requested_by: Mapped[str | None] = mapped_column(String(26), default=None)
    format: Mapped[str] = mapped_column(String(16))  # pdf | html | zip
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    service_points: Mapped[int] = mapped_column(default=0)
    bytes: Mapped[int] = mapped_column(default=0)
    cache_key: Mapped[str] = mapped_column(String(64), index=True)
