"""Request and response bodies of the coupon admin API (`/api/v1/coupons`). Field rules
live here (code shape, percent via `kit.money.parse_rate`, caps, validity window) so the
service gets clean values; `CouponCreate` also re-validates a PATCH merged onto the row."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from servio.kit.clock import as_utc
from servio.kit.money import parse_rate
from servio.kit.pagination import Page

MAX_AMOUNT = 100_000_000  # ₹10 lakh in paise: anything above is a typo
CODE_PATTERN = r"^[A-Z0-9_-]{3,40}$"


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _percent(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        rate = parse_rate(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(str(exc)) from None
    if rate <= 0:
        raise ValueError("percent must be more than 0")
    return format(rate, "f")


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("send a time with its UTC offset, e.g. 2026-11-22T13:00:00Z")
    return as_utc(value)


Code = Annotated[
    str,
    BeforeValidator(_upper),
    Field(
        pattern=CODE_PATTERN,
        description="3 to 40 characters A-Z, 0-9, '-' or '_' (stored upper case)",
        examples=["WELCOME10"],
    ),
]
Percent = Annotated[
    str | None,
    AfterValidator(_percent),
    Field(description="Percent off, a decimal string (0 < p ≤ 100)", examples=["10"]),
]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT, strict=True)]
Cap = Annotated[int, Field(ge=1, le=10_000_000, strict=True)]
UtcTime = Annotated[datetime | None, AfterValidator(_utc)]
Name = Annotated[str, Field(max_length=120)]
OutletId = Annotated[str | None, Field(max_length=26)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CouponCreate(_Body):
    code: Code
    name: Name = ""
    kind: Literal["percent", "flat"] = "percent"
    percent: Percent = None
    amount: Annotated[
        Amount | None, Field(description="Flat amount off, minor units (> 0)", examples=[5000])
    ] = None
    max_discount: Annotated[
        Amount | None, Field(description="The most it takes off one invoice, minor units")
    ] = None
    min_subtotal: Annotated[
        Amount, Field(description="Smallest bill subtotal it applies to, minor units")
    ] = 0
    stackable: bool = Field(False, description="May be combined with other stackable coupons")
    valid_from: UtcTime = None
    valid_to: UtcTime = None
    cap_per_outlet: Cap | None = Field(None, description="Total uses at one outlet")
    cap_per_day: Cap | None = Field(None, description="Uses per outlet per business day")
    cap_per_guest: Cap | None = Field(None, description="Uses per guest")
    outlet_id: OutletId = Field(
        None,
        description="Left out: the outlet you work in. null: every outlet of the tenant "
        "(owners and admins only)",
    )
    is_active: bool = True

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _consistent(self) -> CouponCreate:
        if self.kind == "percent":
            if self.percent is None:
                raise ValueError("a percent coupon needs `percent`")
            if self.amount is not None:
                raise ValueError("a percent coupon has no `amount`; use kind flat")
        else:
            if self.amount is None or self.amount <= 0:
                raise ValueError("a flat coupon needs an `amount` above 0")
            if self.percent is not None:
                raise ValueError("a flat coupon has no `percent`; use kind percent")
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError("valid_to must be after valid_from")
        return self


class CouponUpdate(_Body):
    """Only the fields sent change; the merged coupon is validated like a new one."""

    code: Code | None = None
    name: Name | None = None
    kind: Literal["percent", "flat"] | None = None
    percent: Percent = None
    amount: Amount | None = None
    max_discount: Amount | None = None
    min_subtotal: Amount | None = None
    stackable: bool | None = None
    valid_from: UtcTime = None
    valid_to: UtcTime = None
    cap_per_outlet: Cap | None = None
    cap_per_day: Cap | None = None
    cap_per_guest: Cap | None = None
    is_active: bool | None = None

    @field_validator("code", "kind", "name", "min_subtotal", "stackable", "is_active")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null; leave the field out to keep it")
        return value


class CouponUsage(BaseModel):
    total: int = Field(description="Redemptions on issued invoices, all time")
    today: int = Field(description="Redemptions today (business day of your outlet)")


class CouponRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    name: str
    kind: str
    percent: str | None
    amount: int | None
    max_discount: int | None
    min_subtotal: int
    stackable: bool
    valid_from: datetime | None
    valid_to: datetime | None
    cap_per_outlet: int | None
    cap_per_day: int | None
    cap_per_guest: int | None
    outlet_id: str | None
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime
    usage: CouponUsage | None = None


class CouponPage(Page[CouponRead]):
    """`{"items": [...], "next_cursor": …}`"""
