"""Request and response bodies of the invoice routes (staff and guest)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from servio.billing.split import MAX_PARTS, MIN_PARTS, SplitMode

Money = Annotated[int, Field(ge=0, le=10**12, description="Integer minor units.")]


class GuestBillCreate(BaseModel):
    """`POST /g/{qr_token}/bill`: the whole table's bill."""

    model_config = ConfigDict(extra="forbid")

    tip: Money = 0
    coupons: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=5
    )
    contact: str | None = Field(
        default=None,
        max_length=120,
        description="A phone number or e-mail for the guest-receipts lookup (stored only as a "
        "keyed hash and a redacted hint).",
    )


class BuyerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=120)
    gstin: str | None = Field(default=None, pattern=r"^[0-9A-Z]{15}$")


class StaffBillCreate(GuestBillCreate):
    """`POST /api/v1/sessions/{id}/bill` and `POST /api/v1/orders/{id}/bill`."""

    place_of_supply: str | None = Field(
        default=None,
        max_length=8,
        description="The buyer's state code when it differs from the outlet's (IGST).",
    )
    buyer: BuyerIn | None = None


class SharedLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_ref: str = Field(min_length=1, max_length=40)
    member_ids: list[str] = Field(min_length=1, max_length=MAX_PARTS)


class ItemsPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(default="", max_length=80)
    line_refs: list[str] = Field(min_length=1, max_length=500)


class AmountPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(default="", max_length=80)
    amount: Money


class SplitCreate(BaseModel):
    """How to divide the bill. `parts` is a number for `even`, a list of `{label, line_refs}`
    for `by_items`, a list of `{label, amount}` for `by_amount`, and unused by `by_guest`
    (which takes `shared` instead)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"mode": "by_guest", "shared": [{"line_ref": "…", "member_ids": ["…", "…"]}]},
                {"mode": "even", "parts": 3},
                {"mode": "by_amount", "parts": [{"label": "A", "amount": 30000}]},
            ]
        },
    )

    mode: SplitMode
    parts: (
        Annotated[int, Field(ge=MIN_PARTS, le=MAX_PARTS)]
        | list[ItemsPart]
        | list[AmountPart]
        | None
    ) = None
    shared: list[SharedLine] = Field(default_factory=list, max_length=200)


class VoidCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=200)
    approval: str | None = Field(
        default=None,
        max_length=200,
        description="The approval token from POST /api/v1/approvals/verify_pin (action void).",
    )


class TaxLineRead(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    rate: str
    amount: int


class InvoiceLineRead(BaseModel):
    """One frozen line. Further engine fields (adjustments, tax_rate, …) pass through."""

    model_config = ConfigDict(extra="allow")

    ref: str
    name: str
    member_id: str | None = None
    menu_item_id: str | None = None
    qty: int = 1
    unit_price: int = 0
    subtotal: int = 0
    discount: int = 0
    taxable_value: int = 0
    hsn: str | None = None
    taxes: list[TaxLineRead] = Field(default_factory=list)
    total: int = 0


class SplitRead(BaseModel):
    id: str
    position: int
    mode: str
    label: str
    member_id: str | None
    line_refs: list[str]
    amount: int
    paid_amount: int
    due: int = Field(description="amount - paid_amount, never negative")


class SellerRead(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = ""
    address: str = ""
    gstin: str | None = None
    fssai: str | None = None


class AppliedCouponRead(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    amount: int


class InvoiceRead(BaseModel):
    id: str
    number: str
    kind: Literal["invoice", "credit_note"]
    status: str
    source: str
    currency: str
    outlet_id: str
    session_id: str | None
    table_label: str | None = None
    original_invoice_id: str | None = None
    order_ids: list[str]
    issued_at: datetime
    due_at: datetime | None
    lines: list[InvoiceLineRead]
    subtotal: int
    discount_total: int
    applied_coupons: list[AppliedCouponRead]
    effective_discount: int
    service_charge: int
    taxable_subtotal: int
    tax_lines: list[TaxLineRead]
    tax_total: int
    tip: int
    round_off: int
    total: int
    paid_amount: int
    refunded_amount: int
    credited_amount: int
    balance_due: int
    splits: list[SplitRead]
    seller: SellerRead
    buyer: dict[str, Any] = Field(default_factory=dict)
    tax_basis: dict[str, Any] = Field(default_factory=dict)
    contact_hint: str = ""
    pdf_url: str
    version: int


class InvoicePage(BaseModel):
    items: list[InvoiceRead]
    next_cursor: str | None = None


class GuestPaymentOptions(BaseModel):
    """What the table may do at the bill: add a tip, pay online."""

    tips_enabled: bool
    gateway_enabled: bool


class GuestInvoicePage(InvoicePage):
    payment_options: GuestPaymentOptions


class MismatchRead(BaseModel):
    invoice_id: str
    number: str
    status: str
    expected_status: str
    total: int
    credited_amount: int
    paid_amount: int
    payments_paid: int
    refunded_amount: int
    refunds_total: int
    balance_due: int
    expected_balance_due: int
    payment_count: int
    last_payment_at: datetime | None
    reconcile_url: str


class MismatchPage(BaseModel):
    items: list[MismatchRead]
    next_cursor: str | None = None


class ReconcileRead(BaseModel):
    changed: bool
    before: dict[str, Any]
    after: dict[str, Any]
    invoice: InvoiceRead
