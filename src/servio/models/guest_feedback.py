from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin, TenantMixin


class GuestFeedback(IdMixin, TenantMixin, Base):
    """A guest's thumbs up/down (with an optional note) or NPS score 0-10 (GUEST-10)."""

    __tablename__ = "guest_feedback"
    __table_args__ = (Index("ix_guest_feedback_outlet_created", "outlet_id", "created_at"),)

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(String(26), default=None)
    member_id: Mapped[str | None] = mapped_column(String(26), default=None)
    order_id: Mapped[str | None] = mapped_column(String(26), default=None)
    kind: Mapped[str] = mapped_column(String(8))  # thumbs | nps
    thumbs_up: Mapped[bool | None] = mapped_column(default=None)
    score: Mapped[int | None] = mapped_column(default=None)
    comment: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
