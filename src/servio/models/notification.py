from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class WebhookEndpoint(IdMixin, TenantMixin, TimestampMixin, Base):
    """A receiver of signed webhooks (NOTIF-01/04). The signing secret is shown once (at
    creation and at each rotation) and kept only encrypted (`kit.secretbox`). After a
    rotation the previous secret still signs until `previous_secret_expires_at`, so a
    receiver can switch over without dropping a delivery (two `v1,` signatures)."""

    __tablename__ = "webhook_endpoints"

    outlet_id: Mapped[str | None] = mapped_column(
        ForeignKey("outlets.id", ondelete="CASCADE"), default=None, index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    url: Mapped[str] = mapped_column(String(500))
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    secret_hint: Mapped[str] = mapped_column(String(16), default="")  # "whsec_…ab12"
    previous_secret_ciphertext: Mapped[str | None] = mapped_column(Text, default=None)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(default=1)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class AlertRule(IdMixin, TenantMixin, TimestampMixin, Base):
    """ "On `event` send through `channel` to `target`" (NOTIF-04). `event` is a catalogue
    name (`servio.events`) or `*`; `target` is a webhook endpoint id (channel webhook), a
    comma-separated e-mail list, an E.164 phone number (whatsapp, sms) or empty (console).
    `outlet_id` None: events of every outlet of the tenant."""

    __tablename__ = "alert_rules"
    __table_args__ = (Index("ix_alert_rules_event", "tenant_id", "event", "enabled"),)

    outlet_id: Mapped[str | None] = mapped_column(
        ForeignKey("outlets.id", ondelete="CASCADE"), default=None, index=True
    )
    name: Mapped[str] = mapped_column(String(120), default="")
    event: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))  # console|webhook|email|whatsapp|sms
    target: Mapped[str] = mapped_column(String(500), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(26), default=None)
    version: Mapped[int] = mapped_column(default=1)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class DeliveryAttempt(IdMixin, TenantMixin, Base):
    """One try at delivering one outbox message through a channel: the delivery log of a
    webhook endpoint, and the per-row attempt history of the outbox (NOTIF-02). `target`
    is already masked (a phone's last digits, a URL without query string)."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (
        Index("ix_delivery_attempts_outbox", "outbox_id", "attempt"),
        Index("ix_delivery_attempts_endpoint", "tenant_id", "webhook_endpoint_id", "started_at"),
    )

    outbox_id: Mapped[str | None] = mapped_column(String(26), default=None)
    attempt: Mapped[int] = mapped_column(default=1)
    channel: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(64), default="")
    target: Mapped[str] = mapped_column(String(200), default="")
    webhook_endpoint_id: Mapped[str | None] = mapped_column(String(26), default=None)
    webhook_id: Mapped[str | None] = mapped_column(String(40), default=None)
    kind: Mapped[str] = mapped_column(String(12), default="delivery")  # delivery|test|probe
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    status_code: Mapped[int | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    duration_ms: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
