from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class FiringJob(IdMixin, TenantMixin, TimestampMixin, Base):
    """Sending one order's lines for one station to the kitchen or an external POS — the
    seed's RetryJob (`order_payload`, `retry_count`, `next_attempt_at`). Written in the same
    transaction as the order, so an order is never without its firing; never deleted while
    unacknowledged. `firing_key` (`{order_id}:{station}`) is sent with every attempt so the
    receiver can drop repeats, and is unique here so we never create a second firing.

    state: pending → acked; retrying after the ACK watchdog or a failure; cancelled or
    fired_manually by staff (api.md "States")."""

    __tablename__ = "firing_jobs"
    __table_args__ = (
        UniqueConstraint("firing_key"),
        Index("ix_firing_jobs_due", "state", "next_attempt_at"),
    )

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    station: Mapped[str] = mapped_column(String(32))
    adapter: Mapped[str] = mapped_column(String(32))  # builtin | external_pos | …
    firing_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    order_payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    retry_count: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    locked_by: Mapped[str | None] = mapped_column(String(64), default=None)
    ticket_no: Mapped[str | None] = mapped_column(String(32), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    acked_at: Mapped[datetime | None] = mapped_column(default=None)
    delayed_at: Mapped[datetime | None] = mapped_column(default=None)  # order_fire_delayed sent
    alerted_at: Mapped[datetime | None] = mapped_column(default=None)  # FOH alert sent
    resolved_by: Mapped[str | None] = mapped_column(String(26), default=None)  # staff id
