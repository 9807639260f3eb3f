"""Request and response bodies of the pricing rule admin API: happy hours, payment-type
rules and promotions (`/api/v1/pricing/rules`) and price lists
(`/api/v1/pricing/price_lists`). Field rules live here (days, HH:MM times, percent via
`kit.money.parse_rate`); whether item and category ids belong to the outlet is the
service's check. `XCreate` also re-validates a PATCH merged onto the row."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from servio.billing.coupon_schemas import MAX_AMOUNT, Percent, UtcTime
from servio.billing.rules import DAYS, parse_hhmm
from servio.kit.pagination import Page

PAYMENT_TYPES = ("cash", "card", "upi", "gateway")
MAX_TARGETS = 500

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=26)]


def _days(value: list[str]) -> list[str]:
    return [d for d in DAYS if d in set(value)]  # week order, no repeats


def _hhmm(value: str | None) -> str | None:
    if value is None:
        return None
    parse_hhmm(value)  # ValueError: "expected HH:MM, got …"
    return value


def _ids(value: list[str]) -> list[str]:
    return sorted(set(value))


Days = Annotated[
    list[Day],
    AfterValidator(_days),
    Field(description="mon…sun; empty means every day", examples=[["fri", "sat"]]),
]
Hhmm = Annotated[
    str | None,
    AfterValidator(_hhmm),
    Field(description="Outlet-local HH:MM; an end at or before the start runs past midnight"),
]
Ids = Annotated[list[Id], AfterValidator(_ids), Field(max_length=MAX_TARGETS)]
Priority = Annotated[int, Field(ge=-1000, le=1000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_window(
    start: str | None, end: str | None, valid_from: datetime | None, valid_to: datetime | None
) -> None:
    if start is not None and end is not None and start == end:
        raise ValueError("start_time and end_time may not be the same")
    if valid_from and valid_to and valid_to <= valid_from:
        raise ValueError("valid_to must be after valid_from")


# --- pricing rules --------------------------------------------------------------------------


class PricingRuleCreate(_Body):
    name: Name
    kind: Literal["happy_hour", "payment_type", "promotion"] = "happy_hour"
    adjustment: Literal["percent", "flat"] = "percent"
    direction: Literal["discount", "surcharge"] = "discount"
    percent: Percent = None
    amount: Annotated[
        int | None,
        Field(gt=0, le=MAX_AMOUNT, strict=True, description="Flat, minor units per unit"),
    ] = None
    days: Days = Field(default_factory=list)
    start_time: Hhmm = Field(None, examples=["17:00"])
    end_time: Hhmm = Field(None, examples=["19:00"])
    payment_type: Literal["cash", "card", "upi", "gateway"] | None = Field(
        None, description="kind payment_type: the payment method the rule applies to"
    )
    item_ids: Ids = Field(default_factory=list, description="Empty with category_ids: all items")
    category_ids: Ids = Field(default_factory=list)
    valid_from: UtcTime = None
    valid_to: UtcTime = None
    priority: Priority = 0
    is_active: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> PricingRuleCreate:
        if self.adjustment == "percent":
            if self.percent is None:
                raise ValueError("a percent adjustment needs `percent`")
            if self.amount is not None:
                raise ValueError("a percent adjustment has no `amount`; use adjustment flat")
        else:
            if self.amount is None:
                raise ValueError("a flat adjustment needs an `amount` above 0")
            if self.percent is not None:
                raise ValueError("a flat adjustment has no `percent`; use adjustment percent")
        if self.kind == "payment_type" and self.payment_type is None:
            raise ValueError("a payment_type rule needs `payment_type` (cash, card, upi, gateway)")
        if self.kind != "payment_type" and self.payment_type is not None:
            raise ValueError("only payment_type rules have a `payment_type`")
        _check_window(self.start_time, self.end_time, self.valid_from, self.valid_to)
        return self


class PricingRuleUpdate(_Body):
    name: Name | None = None
    kind: Literal["happy_hour", "payment_type", "promotion"] | None = None
    adjustment: Literal["percent", "flat"] | None = None
    direction: Literal["discount", "surcharge"] | None = None
    percent: Percent = None
    amount: int | None = None
    days: Days | None = None
    start_time: Hhmm = None
    end_time: Hhmm = None
    payment_type: Literal["cash", "card", "upi", "gateway"] | None = None
    item_ids: Ids | None = None
    category_ids: Ids | None = None
    valid_from: UtcTime = None
    valid_to: UtcTime = None
    priority: Priority | None = None
    is_active: bool | None = None

    @field_validator(
        "name",
        "kind",
        "adjustment",
        "direction",
        "days",
        "item_ids",
        "category_ids",
        "priority",
        "is_active",
    )
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null; leave the field out to keep it")
        return value


class PricingRuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    outlet_id: str
    name: str
    kind: str
    adjustment: str
    direction: str
    percent: str | None
    amount: int | None
    days: list[str]
    start_time: str | None
    end_time: str | None
    payment_type: str | None
    item_ids: list[str]
    category_ids: list[str]
    valid_from: datetime | None
    valid_to: datetime | None
    priority: int
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime
    in_force: bool | None = Field(
        None, description="Whether its window is open now on the outlet's clock"
    )


class PricingRulePage(Page[PricingRuleRead]):
    """`{"items": [...], "next_cursor": …}`"""


# --- price lists ----------------------------------------------------------------------------

Prices = Annotated[
    dict[Id, Annotated[int, Field(ge=0, le=MAX_AMOUNT, strict=True)]],
    Field(
        max_length=MAX_TARGETS,
        description="Menu item id → unit price in minor units while the list is in force",
    ),
]


class PriceListCreate(_Body):
    name: Name
    prices: Prices = Field(default_factory=dict)
    days: Days = Field(default_factory=list)
    start_time: Hhmm = None
    end_time: Hhmm = None
    valid_from: UtcTime = None
    valid_to: UtcTime = None
    priority: Priority = 0
    is_active: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> PriceListCreate:
        _check_window(self.start_time, self.end_time, self.valid_from, self.valid_to)
        return self


class PriceListUpdate(_Body):
    name: Name | None = None
    prices: Prices | None = None
    days: Days | None = None
    start_time: Hhmm = None
    end_time: Hhmm = None
    valid_from: UtcTime = None
    valid_to: UtcTime = None
    priority: Priority | None = None
    is_active: bool | None = None

    @field_validator("name", "prices", "days", "priority", "is_active")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may not be null; leave the field out to keep it")
        return value


class PriceListRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    outlet_id: str
    name: str
    prices: dict[str, int]
    days: list[str]
    start_time: str | None
    end_time: str | None
    valid_from: datetime | None
    valid_to: datetime | None
    priority: int
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime
    in_force: bool | None = None


class PriceListPage(Page[PriceListRead]):
    """`{"items": [...], "next_cursor": …}`"""


# --- happy hours now ------------------------------------------------------------------------


class HappyHoursNow(BaseModel):
    flag_enabled: bool = Field(description="FLAG_HAPPY_HOUR at this outlet")
    applies: bool = Field(description="The flag is on and at least one happy hour is open")
    at: datetime = Field(description="Now, UTC")
    local_time: str = Field(description="Now on the outlet's clock, HH:MM", examples=["17:45"])
    day: str = Field(description="Today on the outlet's clock, mon…sun", examples=["fri"])
    timezone: str
    in_force: list[PricingRuleRead] = Field(description="Active happy hours open right now")
    happy_hours: list[PricingRuleRead] = Field(description="Every active happy hour")
