from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base


class SystemStatus(Base):
    """The persisted status page (`/status.json`), overridable by a provider admin."""

    __tablename__ = "system_status"

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default="platform")
    status: Mapped[str] = mapped_column(String(16), default="operational")
    # operational | degraded | partial_outage | major_outage | maintenance
    message: Mapped[str] = mapped_column(Text, default="")
    overridden: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(64), default=None)
