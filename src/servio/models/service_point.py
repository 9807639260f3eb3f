from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class ServicePoint(IdMixin, TenantMixin, TimestampMixin, Base):
    """Where a guest orders from: a table, a hotel room or a counter. Its QR token is signed
    with the server secret over (id, qr_version); rotating bumps `qr_version`, so every
    printed copy of the old token stops working."""

    __tablename__ = "service_points"
    __table_args__ = (UniqueConstraint("outlet_id", "kind", "label"),)

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="table")  # table | room | counter
    label: Mapped[str] = mapped_column(String(32))
    seats: Mapped[int] = mapped_column(default=4)
    area: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(16), default="open")
    # open | locked | cleaning | disabled
    qr_version: Mapped[int] = mapped_column(default=1)
    pos_x: Mapped[float | None] = mapped_column(Float, default=None)
    pos_y: Mapped[float | None] = mapped_column(Float, default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(default=1)
