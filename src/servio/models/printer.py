from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class Printer(IdMixin, TenantMixin, TimestampMixin, Base):
    """A network thermal printer (ESC/POS over TCP, usually port 9100) serving one station's
    KOTs. `fallback_printer_id` takes the station's tickets while this one is offline or out
    of paper. `status`: unknown | online | offline | paper_out (last health check)."""

    __tablename__ = "printers"
    __table_args__ = (UniqueConstraint("outlet_id", "name"),)

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    station: Mapped[str] = mapped_column(String(32), default="kitchen")
    kind: Mapped[str] = mapped_column(String(16), default="escpos_net")
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(default=9100)
    chars_per_line: Mapped[int] = mapped_column(default=48)  # 80 mm paper, font A
    fallback_printer_id: Mapped[str | None] = mapped_column(String(26), default=None)
    is_active: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    status_checked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    version: Mapped[int] = mapped_column(default=1)
