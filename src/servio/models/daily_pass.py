from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin, TenantMixin


class DailyPass(IdMixin, TenantMixin, Base):
    """The outlet's pass word for one business day (GUEST-04). Only a keyed hash of the word
    is stored; the word itself travels once, in the owner's e-mail."""

    __tablename__ = "daily_passes"
    __table_args__ = (UniqueConstraint("outlet_id", "business_date"),)

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"))
    business_date: Mapped[date]
    word_hash: Mapped[str] = mapped_column(String(128))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
