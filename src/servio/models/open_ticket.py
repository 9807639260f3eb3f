from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class OpenTicket(IdMixin, TenantMixin, TimestampMixin, Base):
    """A cart parked at the staff POS (seed 001 "open tickets"): a name ("Bar tab Ravi"),
    optionally a table or counter, and lines as the cart API takes them
    (`{menu_item_id, qty, note, modifiers}`), priced again whenever it is read or checked out.

    state: open → checked_out (an order was placed from it, `order_id`) | cancelled."""

    __tablename__ = "open_tickets"
    __table_args__ = (Index("ix_open_tickets_outlet_state", "outlet_id", "state"),)

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    service_point_id: Mapped[str | None] = mapped_column(String(26), default=None)
    name: Mapped[str] = mapped_column(String(80))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16), default="open")
    opened_by: Mapped[str | None] = mapped_column(String(26), default=None)  # staff id
    resumed_by: Mapped[str | None] = mapped_column(String(26), default=None)
    resumed_at: Mapped[datetime | None] = mapped_column(default=None)
    checked_out_at: Mapped[datetime | None] = mapped_column(default=None)
    order_id: Mapped[str | None] = mapped_column(String(26), default=None)
    version: Mapped[int] = mapped_column(default=1)
