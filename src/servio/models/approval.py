from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin, TenantMixin


class Approval(IdMixin, TenantMixin, Base):
    """A manager's PIN approval of one sensitive action (STAFF-02: refund, void, discount
    over the limit, drawer no-sale). The caller gets a short-lived token once; only its hash
    is stored; it is spent by exactly one action (`used_at`, set by an atomic update)."""

    __tablename__ = "approvals"

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(40))
    requested_by: Mapped[str | None] = mapped_column(String(26), default=None)
    approved_by: Mapped[str] = mapped_column(String(26))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    used_for: Mapped[str | None] = mapped_column(String(26), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
