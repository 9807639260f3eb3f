from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class OnboardingSession(IdMixin, TenantMixin, TimestampMixin, Base):
    """A setup wizard run that keeps its progress: each step's validated data in `data`
    under the step's name, `completed_steps` in order; `finish` activates the outlet."""

    __tablename__ = "onboarding_sessions"

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="CASCADE"), index=True)
    started_by: Mapped[str | None] = mapped_column(String(26), default=None)
    status: Mapped[str] = mapped_column(String(16), default="in_progress")  # | finished
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    completed_steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
