from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servio.kit.clock import utcnow
from servio.kit.db import Base, IdMixin, TenantMixin, TimestampMixin


class Invoice(IdMixin, TenantMixin, TimestampMixin, Base):
    """An issued tax invoice or credit note (BILL-05). Everything from `number` to `buyer`
    is a snapshot frozen at issue: later menu, tax or outlet changes never touch it, the API
    refuses every write to it and on PostgreSQL a trigger refuses an UPDATE of those columns
    (migration 0005). Only the settlement columns below the snapshot move: `status`,
    `paid_amount`, `refunded_amount`, `credited_amount`, `due_at`.

    kind: invoice | credit_note (a refund or void; `original_invoice_id` names the invoice,
    figures are positive and reduce it). status: sent → partial → paid, overdue when unpaid
    past `due_at`, void once fully credited (billing.state)."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("outlet_id", "number", name="uq_invoices_outlet_number"),
        Index("ix_invoices_outlet_issued", "outlet_id", "issued_at"),
        Index("ix_invoices_outlet_status", "outlet_id", "status"),
        Index("ix_invoices_contact", "outlet_id", "contact_hash"),
    )

    outlet_id: Mapped[str] = mapped_column(ForeignKey("outlets.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16), default="invoice")  # invoice | credit_note
    number: Mapped[str] = mapped_column(String(48))
    series_period: Mapped[str] = mapped_column(String(16), default="")  # counter period used
    original_invoice_id: Mapped[str | None] = mapped_column(String(26), default=None, index=True)
    source: Mapped[str] = mapped_column(String(16), default="session")  # session|pos|counter
    session_id: Mapped[str | None] = mapped_column(String(26), default=None, index=True)
    order_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    subtotal: Mapped[int] = mapped_column(default=0)
    discount_total: Mapped[int] = mapped_column(default=0)
    effective_discount: Mapped[int] = mapped_column(default=0)  # coupons' combined discount
    applied_coupons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    service_charge: Mapped[int] = mapped_column(default=0)
    taxable_subtotal: Mapped[int] = mapped_column(default=0)
    tax_total: Mapped[int] = mapped_column(default=0)
    tip: Mapped[int] = mapped_column(default=0)
    round_off: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tax_lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The rate basis: gst_mode, gstin, state_code, place_of_supply, prices_include_tax,
    # gst_rounding, rounding_mode, rounding, service_charge_pct.
    tax_basis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # name, address, gstin, fssai
    seller: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    buyer: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # name?, gstin?
    # Guest receipts (GUEST-07): a keyed hash of the phone/e-mail the guest gave, never the
    # contact itself, and a redacted hint ("••••3210") for display.
    contact_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    contact_hint: Mapped[str] = mapped_column(String(64), default="")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by: Mapped[str | None] = mapped_column(String(26), default=None)  # staff id
    issued_by_member: Mapped[str | None] = mapped_column(String(26), default=None)
    # --- settlement (mutable) ---
    status: Mapped[str] = mapped_column(String(16), default="sent")
    paid_amount: Mapped[int] = mapped_column(default=0)
    refunded_amount: Mapped[int] = mapped_column(default=0)
    credited_amount: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)


class InvoiceSplit(IdMixin, TenantMixin, Base):
    """One part of a split bill (BEY-02): who pays how much of an invoice. The parts of an
    invoice always sum to its total; payments may name the part they settle.

    mode: by_guest | by_items | even | by_amount (shared items are split inside by_guest)."""

    __tablename__ = "invoice_splits"
    __table_args__ = (UniqueConstraint("invoice_id", "position", name="uq_invoice_splits_part"),)

    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    mode: Mapped[str] = mapped_column(String(16), default="even")
    label: Mapped[str] = mapped_column(String(80), default="")
    member_id: Mapped[str | None] = mapped_column(String(26), default=None)
    line_refs: Mapped[list[str]] = mapped_column(JSON, default=list)  # invoice line ids
    amount: Mapped[int] = mapped_column(default=0)
    paid_amount: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
