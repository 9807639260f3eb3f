from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin


class PinAttempt(IdMixin, TenantMixin, Base):
    """Failure counter for PIN login lockout. `scope` is `staff:<id>` or `ip:<outlet>:<ip>`."""

    __tablename__ = "pin_attempts"
    __table_args__ = (UniqueConstraint("scope"),)

    scope: Mapped[str] = mapped_column(String(128))
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
