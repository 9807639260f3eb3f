from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin, TenantMixin


class PrepTimeStat(IdMixin, TenantMixin, Base):
    """The exponential moving average of preparation time (queued → ready), per outlet and
    menu item; `menu_item_id = ""` is the outlet-wide average used for items never timed
    (RT-04). Updated with one upsert per item that reaches `ready`."""

    __tablename__ = "prep_time_stats"
    __table_args__ = (UniqueConstraint("outlet_id", "menu_item_id"),)

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    menu_item_id: Mapped[str] = mapped_column(String(26), default="")
    ema_secs: Mapped[float] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
