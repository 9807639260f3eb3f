from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin, TenantMixin


class SessionMember(IdMixin, TenantMixin, Base):
    """A guest at the table, known by a nickname. `host_of` is the session id for the first
    member and NULL for the rest: the unique constraint makes "first member is host" hold
    even when two phones join in the same instant."""

    __tablename__ = "session_members"
    __table_args__ = (UniqueConstraint("host_of"),)

    session_id: Mapped[str] = mapped_column(
        ForeignKey("table_sessions.id", ondelete="CASCADE"), index=True
    )
    nickname: Mapped[str] = mapped_column(String(24))
    is_host: Mapped[bool] = mapped_column(Boolean, default=False)
    host_of: Mapped[str | None] = mapped_column(String(26), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # GUEST-11: a phone that opted in to WhatsApp order updates (E.164), and when.
    notify_phone: Mapped[str | None] = mapped_column(String(20), default=None)
    notify_opt_in_at: Mapped[datetime | None] = mapped_column(default=None)
