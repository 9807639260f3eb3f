"""Cash drawer shapes (PAY-04). Amounts are int minor units of the outlet's currency.
Figures are always computed by the server from the session's movements; a client sends
only what it counted or moved."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from servio.cash.state import CashState

MAX_AMOUNT = 100_000_000_00  # 10 crore rupees (or 100 million of a two-decimal currency)

ManualMovementType = Literal["cash_in", "cash_out", "no_sale"]


def _text(value: str) -> str:
    return " ".join(value.split())


class DrawerCreate(BaseModel):
    name: str = Field(min_length=1, max_length=80, examples=["Front till"])

    _name = field_validator("name")(_text)


class DrawerRead(BaseModel):
    id: str
    outlet_id: str
    name: str
    is_active: bool
    open_session_id: str | None = Field(
        None, description="The drawer's open session, null when nobody has it open"
    )
    created_at: datetime


class DrawerList(BaseModel):
    items: list[DrawerRead]


class CashSessionCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"drawer_id": "01JD3Y8W7Q5N2V4M6K8H0G2F4A", "opening_float": 200000}]
        }
    )

    drawer_id: str = Field(min_length=1, max_length=26)
    opening_float: int = Field(ge=0, le=MAX_AMOUNT, description="Cash in the drawer at opening")


class MovementCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"type": "cash_out", "amount": 50000, "reason": "Milk from the dairy"},
                {"type": "no_sale", "amount": 0, "reason": "Change for a note", "approval": "…"},
            ]
        }
    )

    type: ManualMovementType
    amount: int = Field(0, ge=0, le=MAX_AMOUNT)
    reason: str = Field(min_length=1, max_length=200)
    approval: str | None = Field(
        None,
        max_length=256,
        description="A manager's approval token for action `no_sale` (POST /api/v1/approvals)",
    )

    _reason = field_validator("reason")(_text)

    @model_validator(mode="after")
    def _amount_fits_type(self) -> MovementCreate:
        if not self.reason:
            raise ValueError("reason must not be blank")
        if self.type == "no_sale" and self.amount != 0:
            raise ValueError("a no-sale moves no money: amount must be 0")
        if self.type != "no_sale" and self.amount <= 0:
            raise ValueError("amount must be more than 0")
        return self


class CashSessionClose(BaseModel):
    counted: int = Field(ge=0, le=MAX_AMOUNT, description="Cash counted in the drawer")
    note: str = Field("", max_length=200)


class MovementRead(BaseModel):
    id: str
    type: str
    amount: int
    direction: int = Field(description="+1 into the drawer, -1 out of it, 0 for a no-sale")
    reason: str
    payment_id: str | None
    refund_id: str | None
    staff_id: str | None
    approval_id: str | None
    created_at: datetime


class CashSessionRead(BaseModel):
    id: str
    outlet_id: str
    drawer_id: str
    drawer_name: str
    state: CashState
    currency: str
    opened_by: str | None
    opened_at: datetime
    closed_by: str | None
    closed_at: datetime | None
    note: str
    opening_float: int
    cash_sales: int
    cash_refunds: int
    cash_in: int
    cash_out: int
    expected: int = Field(
        description="opening_float + cash_sales - cash_refunds + cash_in - cash_out "
        "(frozen at close; live while open)"
    )
    counted: int | None
    variance: int | None = Field(description="counted - expected; negative when short")


class CashSessionDetail(CashSessionRead):
    movements: list[MovementRead]


class CashSessionPage(BaseModel):
    items: list[CashSessionRead]
    next_cursor: str | None = None
