from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class TableSession(IdMixin, TenantMixin, TimestampMixin, Base):
    """One sitting at a table (seed 004 "Session"): from the first scan until staff close it
    or the watchdog auto-closes it. States (api.md): active → closed → purged; restore returns
    a closed session to active.

    `live_point_id` holds the service point id while the session is active and NULL
    otherwise; its unique constraint is what makes "create or join" race-free — two phones
    scanning at once cannot open two live sessions at one table (NULLs never collide)."""

    __tablename__ = "table_sessions"
    __table_args__ = (
        UniqueConstraint("live_point_id"),
        Index("ix_table_sessions_outlet_state", "outlet_id", "state"),
        Index("ix_table_sessions_point_created", "service_point_id", "created_at"),
    )

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    service_point_id: Mapped[str] = mapped_column(
        ForeignKey("service_points.id", ondelete="CASCADE")
    )
    live_point_id: Mapped[str | None] = mapped_column(String(26), default=None)
    state: Mapped[str] = mapped_column(String(16), default="active")  # active|closed|purged
    payment_status: Mapped[str] = mapped_column(String(16), default="unpaid")
    # unpaid | bill_requested | partially_paid | settled
    auto_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    daily_pass_required: Mapped[bool] = mapped_column(Boolean, default=False)
    pass_validated: Mapped[bool] = mapped_column(Boolean, default=False)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_order_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by: Mapped[str | None] = mapped_column(String(26), default=None)  # staff id / None
    restored_at: Mapped[datetime | None] = mapped_column(default=None)
    purged_at: Mapped[datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)
