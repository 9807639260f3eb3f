from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class KitchenTicket(IdMixin, TenantMixin, TimestampMixin, Base):
    """What one kitchen station (kitchen, bar, …) sees of one order: its lines for that
    station (`OrderLine.ticket_id`). Created when the firing for the station is acknowledged
    by the built-in kitchen. `status` is derived from the items (queued → in_progress →
    ready → served; voided when every item is). Expo picks a ready ticket (`picked_at`).
    `print_state`: none → queued → printed | failed (the KOT on the station's printer)."""

    __tablename__ = "kitchen_tickets"
    __table_args__ = (
        UniqueConstraint("order_id", "station"),
        Index("ix_kitchen_tickets_board", "outlet_id", "station", "status"),
    )

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    station: Mapped[str] = mapped_column(String(32))
    ticket_no: Mapped[str | None] = mapped_column(String(32), default=None)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    ready_at: Mapped[datetime | None] = mapped_column(default=None)
    picked_at: Mapped[datetime | None] = mapped_column(default=None)
    picked_by: Mapped[str | None] = mapped_column(String(26), default=None)  # staff id
    print_state: Mapped[str] = mapped_column(String(16), default="none")
    printed_at: Mapped[datetime | None] = mapped_column(default=None)
    printer_id: Mapped[str | None] = mapped_column(String(26), default=None)  # who printed it
    version: Mapped[int] = mapped_column(default=1)
