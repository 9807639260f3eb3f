from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin, TenantMixin


class SlaBreach(IdMixin, TenantMixin, Base):
    """A kitchen item cooking past the outlet's `kds_sla_secs` (KDS-02): one row per item and
    escalation level (1 expo, 2 manager, 3 owner) — the unique key makes each level raise
    exactly once however many watchers run."""

    __tablename__ = "sla_breaches"
    __table_args__ = (
        UniqueConstraint("order_line_id", "level"),
        Index("ix_sla_breaches_outlet_open", "outlet_id", "resolved_at"),
    )

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[str] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    station: Mapped[str] = mapped_column(String(32))
    level: Mapped[int] = mapped_column(default=1)
    overdue_secs: Mapped[int] = mapped_column(default=0)
    breached_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)  # the item left cooking
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(26), default=None)
