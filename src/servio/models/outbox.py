from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin


class OutboxMessage(IdMixin, Base):
    """A durable side effect, written in the same transaction as the change that caused it
    and delivered by the worker. (tenant, dedupe_key) is unique so a retried producer never
    enqueues twice."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_tenant_status", "tenant_id", "status", "created_at"),
    )

    tenant_id: Mapped[str] = mapped_column(String(26))  # "" for platform-level messages
    outlet_id: Mapped[str | None] = mapped_column(String(26), default=None)
    topic: Mapped[str] = mapped_column(String(64))  # handler name, e.g. "event", "email"
    event: Mapped[str] = mapped_column(String(64), default="")
    dedupe_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # pending | processing | delivered | dead (the DLQ) | discarded (dropped from the DLQ)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    locked_by: Mapped[str | None] = mapped_column(String(64), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
