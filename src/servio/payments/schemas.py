"""Payment, refund and gateway-event requests and replies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from servio.kit.pagination import Page
from servio.payments.state import GatewayName, PaymentMethod, PaymentStatus


class PaymentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"method": "cash", "amount": 52500, "tendered": 60000},
                {"method": "card", "amount": 20000, "reference": "tok_1QX…"},
                {"method": "upi", "amount": 12500, "utr": "412345678901"},
                {"method": "gateway", "amount": 52500, "split_id": "01JD…"},
            ]
        },
    )

    method: PaymentMethod
    amount: int = Field(gt=0, description="Minor units (paise, cents).")
    reference: str | None = Field(
        default=None,
        max_length=128,
        description="card: the terminal's or provider's token/nonce (never the card number).",
    )
    utr: str | None = Field(default=None, max_length=32, description="upi: the 12-digit UTR.")
    tendered: int | None = Field(
        default=None, ge=0, description="cash: what was handed over (≥ amount); change is due."
    )
    split_id: str | None = Field(
        default=None, min_length=26, max_length=26, description="The split part this pays."
    )
    drawer_id: str | None = Field(
        default=None,
        min_length=26,
        max_length=26,
        description="cash: the drawer, when several are open and none is yours.",
    )


class GatewayCheckout(BaseModel):
    """What the browser needs to finish a gateway payment."""

    gateway: GatewayName
    client_secret: str | None = Field(
        default=None, description="Stripe: confirm the PaymentIntent with this."
    )
    order_id: str | None = Field(default=None, description="Razorpay: open Checkout with this.")
    key_id: str | None = Field(default=None, description="Razorpay: the public key id.")


class InvoiceSettlement(BaseModel):
    id: str
    status: str
    total: int
    paid_amount: int
    refunded_amount: int
    credited_amount: int
    balance_due: int


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    invoice_id: str
    split_id: str | None
    outlet_id: str
    method: PaymentMethod
    status: PaymentStatus
    currency: str
    amount: int
    tendered: int | None
    change_due: int
    reference: str | None
    utr: str | None
    gateway: str | None
    gateway_ref: str | None
    refunded_amount: int
    cash_session_id: str | None
    taken_by: str | None
    taken_by_member: str | None
    failure_reason: str
    created_at: datetime
    succeeded_at: datetime | None


class PaymentCreated(PaymentRead):
    """The new payment, the invoice's settlement after it, and for gateway payments what
    the browser needs to complete it."""

    invoice: InvoiceSettlement
    checkout: GatewayCheckout | None = None


PaymentPage = Page[PaymentRead]


class GuestPayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    split_id: str | None = Field(
        default=None,
        min_length=26,
        max_length=26,
        description="Pay this split part's remaining amount; omitted: the whole balance.",
    )


class RefundCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"amount": 5000, "reason": "cold soup", "approval": "apv_3q2…"}]
        },
    )

    amount: int = Field(gt=0, description="Minor units; at most what is still refundable.")
    reason: str = Field(min_length=1, max_length=200)
    approval: str | None = Field(
        default=None,
        max_length=200,
        description="The token from POST /api/v1/approvals/verify_pin (action refund).",
    )
    drawer_id: str | None = Field(
        default=None,
        min_length=26,
        max_length=26,
        description="cash refunds: the drawer the money leaves, when several are open.",
    )


class RefundRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    payment_id: str
    invoice_id: str
    amount: int
    currency: str
    method: str
    reason: str
    status: str
    approval_id: str | None
    approved_by: str | None
    credit_note_id: str | None
    cash_session_id: str | None
    refunded_by: str | None
    gateway_ref: str | None
    created_at: datetime


class RefundCreated(RefundRead):
    payment: PaymentRead
    invoice: InvoiceSettlement


class RefundList(BaseModel):
    items: list[RefundRead]


class GatewayEventRead(BaseModel):
    """A verified webhook as stored: metadata only, never the provider's raw payload."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    gateway: str
    event_id: str
    event_type: str
    payment_id: str | None
    outcome: str
    received_at: datetime


GatewayEventPage = Page[GatewayEventRead]


class WebhookAck(BaseModel):
    received: bool = True
    duplicate: bool = False
    outcome: Literal["processed", "ignored", "duplicate"] = "processed"
