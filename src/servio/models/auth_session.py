from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class AuthSession(IdMixin, TenantMixin, TimestampMixin, Base):
    """A revocable login (password, PIN or console cookie). Access tokens carry its id as
    `sid`; revoking the row ends the login everywhere."""

    __tablename__ = "auth_sessions"

    staff_id: Mapped[str] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    outlet_id: Mapped[str | None] = mapped_column(ForeignKey("outlets.id"), default=None)
    kind: Mapped[str] = mapped_column(String(16))  # password | pin | cookie
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
