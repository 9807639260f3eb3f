from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin, TenantMixin


class CartLine(IdMixin, TenantMixin, Base):
    """One line of a member's part of the table's shared cart (seed 004 "CartItem"). Only
    what the guest chose is stored; prices are computed from the menu on every read."""

    __tablename__ = "cart_lines"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("table_sessions.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[str] = mapped_column(
        ForeignKey("session_members.id", ondelete="CASCADE"), index=True
    )
    menu_item_id: Mapped[str] = mapped_column(String(26))
    qty: Mapped[int] = mapped_column(default=1)
    note: Mapped[str] = mapped_column(String(200), default="")
    modifiers: Mapped[list[str]] = mapped_column(JSON, default=list)  # modifier ids, as chosen
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
