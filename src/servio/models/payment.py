from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class Payment(IdMixin, TenantMixin, TimestampMixin, Base):
    """Money received against an invoice (PAY-01), one row per tender of a split payment.

    method: cash | card | upi | gateway. Card payments keep only the terminal/provider token
    in `reference` (never a PAN or CVV); UPI keeps the UTR in `utr`, unique per outlet;
    gateway payments start `pending` and succeed once the provider's signed webhook says so.
    status: pending → succeeded | failed. `refunded_amount` never exceeds `amount`."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("outlet_id", "utr", name="uq_payments_outlet_utr"),
        UniqueConstraint("gateway", "gateway_ref", name="uq_payments_gateway_ref"),
        Index("ix_payments_outlet_created", "outlet_id", "created_at"),
    )

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="RESTRICT"))
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    split_id: Mapped[str | None] = mapped_column(String(26), default=None)
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="succeeded")
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    amount: Mapped[int] = mapped_column(default=0)
    tendered: Mapped[int | None] = mapped_column(default=None)  # cash handed over
    change_due: Mapped[int] = mapped_column(default=0)
    reference: Mapped[str | None] = mapped_column(String(128), default=None)
    utr: Mapped[str | None] = mapped_column(String(32), default=None)
    gateway: Mapped[str | None] = mapped_column(String(16), default=None)  # stripe | razorpay
    gateway_ref: Mapped[str | None] = mapped_column(String(128), default=None)
    refunded_amount: Mapped[int] = mapped_column(default=0)
    cash_session_id: Mapped[str | None] = mapped_column(String(26), default=None, index=True)
    taken_by: Mapped[str | None] = mapped_column(String(26), default=None)  # staff id
    taken_by_member: Mapped[str | None] = mapped_column(String(26), default=None)
    succeeded_at: Mapped[datetime | None] = mapped_column(default=None)
    failure_reason: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(default=1)


class Refund(IdMixin, TenantMixin, Base):
    """Money given back on a payment (PAY-02): approved by a manager PIN (`approval_id`),
    recorded with the credit note it produced."""

    __tablename__ = "refunds"

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="RESTRICT"))
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    invoice_id: Mapped[str] = mapped_column(String(26), index=True)
    amount: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    method: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="succeeded")
    approval_id: Mapped[str | None] = mapped_column(String(26), default=None)
    approved_by: Mapped[str | None] = mapped_column(String(26), default=None)
    credit_note_id: Mapped[str | None] = mapped_column(String(26), default=None)
    cash_session_id: Mapped[str | None] = mapped_column(String(26), default=None)
    refunded_by: Mapped[str | None] = mapped_column(String(26), default=None)
    gateway_ref: Mapped[str | None] = mapped_column(String(128), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GatewayEvent(IdMixin, TenantMixin, Base):
    """A verified payment-gateway webhook (PAY-03), stored once per (gateway, event_id) so a
    redelivery is recognised and not processed again; listable read-only."""

    __tablename__ = "gateway_events"
    __table_args__ = (UniqueConstraint("gateway", "event_id", name="uq_gateway_events_event"),)

    outlet_id: Mapped[str | None] = mapped_column(String(26), default=None)
    gateway: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(64))
    payment_id: Mapped[str | None] = mapped_column(String(26), default=None, index=True)
    outcome: Mapped[str] = mapped_column(String(24), default="processed")  # processed|ignored
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
