"""Request and response models of `POST /api/v1/pricing/preview` (api.md "Pricing preview
and bills (exact)"). The response is `billing.tax.BillFigures.as_dict()`, field for field."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_PREVIEW_LINES = 200
MAX_COUPONS = 10

_EXAMPLE_REQUEST: dict[str, Any] = {
    "lines": [{"menu_item_id": "01JDQ8M8Y1ZP0Q7W4X9V2B3C4D", "qty": 2, "modifiers": []}],
    "coupons": [],
    "tip": 0,
    "payment_type": "cash",
    "at": "2026-11-22T13:00:00Z",
    "place_of_supply": "29",
}
_GST_5 = [
    {"name": "CGST", "rate": "2.5", "amount": 1250},
    {"name": "SGST", "rate": "2.5", "amount": 1250},
]
_EXAMPLE_RESPONSE: dict[str, Any] = {
    "currency": "INR",
    "prices_include_tax": False,
    "lines": [
        {
            "ref": "0",
            "menu_item_id": "01JDQ8M8Y1ZP0Q7W4X9V2B3C4D",
            "name": "Paneer Tikka",
            "member_id": None,
            "qty": 2,
            "unit_price": 25000,
            "subtotal": 50000,
            "discount": 0,
            "taxable_value": 50000,
            "hsn": "996331",
            "tax_rate": "5",
            "taxes": _GST_5,
            "total": 52500,
            "adjustments": [],
        }
    ],
    "subtotal": 50000,
    "discount_total": 0,
    "applied_coupons": [],
    "effective_discount": 0,
    "service_charge": 0,
    "taxable_subtotal": 50000,
    "tax_lines": _GST_5,
    "tax_total": 2500,
    "tip": 0,
    "round_off": 0,
    "total": 52500,
}


class PreviewLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    menu_item_id: str = Field(min_length=1, max_length=26)
    qty: int = Field(ge=1, le=999)
    modifiers: list[Annotated[str, Field(max_length=26)]] = Field(
        default=[], max_length=50, description="Modifier ids; repeat an id to pick it twice"
    )


class PricingPreviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE_REQUEST]})

    lines: list[PreviewLine] = Field(max_length=MAX_PREVIEW_LINES)
    coupons: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default=[], max_length=MAX_COUPONS, description="Coupon codes (case-insensitive)"
    )
    tip: int = Field(default=0, ge=0, le=10**9, description="Tip in minor units")
    payment_type: str | None = Field(
        default=None,
        max_length=16,
        description="cash, card, upi, … — selects `payment_type` pricing rules",
    )
    at: datetime | None = Field(
        default=None,
        description="The instant to price at (RFC 3339; happy hours, price lists and coupon "
        "validity are judged on it); default now",
    )
    place_of_supply: str | None = Field(
        default=None,
        max_length=8,
        description="GST state code of the place of supply; another state than the outlet's "
        "makes the bill inter-state (IGST)",
    )

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry a time zone (e.g. 2026-11-22T13:00:00Z)")
        return value


class TaxLineRead(BaseModel):
    name: str = Field(description="CGST, SGST, IGST or VAT")
    rate: str = Field(description="The component's rate, a decimal string")
    amount: int
    on: Literal["service_charge"] | None = Field(
        default=None, description='Present ("service_charge") on the service charge\'s taxes'
    )


class AdjustmentRead(BaseModel):
    rule_id: str
    name: str
    kind: str = Field(description="happy_hour, payment_type or promotion")
    direction: Literal["discount", "surcharge"]
    amount: int = Field(description="What the rule changed on this line, minor units")


class PricedLineRead(BaseModel):
    ref: str
    menu_item_id: str
    name: str
    member_id: str | None
    qty: int
    unit_price: int = Field(description="Per unit incl. modifiers and surcharges")
    subtotal: int
    discount: int = Field(description="Pricing-rule discounts plus this line's coupon share")
    taxable_value: int
    hsn: str
    tax_rate: str
    taxes: list[TaxLineRead]
    total: int = Field(description="taxable_value + taxes")
    adjustments: list[AdjustmentRead]


class AppliedCouponRead(BaseModel):
    code: str
    amount: int


class PricingPreviewRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE_RESPONSE]})

    currency: str
    prices_include_tax: bool
    lines: list[PricedLineRead]
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
