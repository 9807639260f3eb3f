"""Guest receipt shapes (GUEST-07). A receipt is redacted: the number, when, where, what
and how much — never the contact it was found by (only its hint)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ReceiptCodeRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"outlet_id": "01JD3Y8W7Q5N2V4M6K8H0G2F4A", "phone": "+91 98765 43210"},
                {"outlet_id": "01JD3Y8W7Q5N2V4M6K8H0G2F4A", "email": "ravi@example.com"},
            ]
        }
    )

    outlet_id: str = Field(min_length=1, max_length=26)
    phone: str | None = Field(None, min_length=1, max_length=32)
    email: str | None = Field(None, min_length=1, max_length=254)

    @model_validator(mode="after")
    def _one_contact(self) -> ReceiptCodeRequest:
        if (self.phone is None) == (self.email is None):
            raise ValueError("send exactly one of phone or email")
        return self

    @property
    def contact(self) -> str:
        value = self.phone if self.phone is not None else self.email
        assert value is not None
        return value


class ReceiptCodeAccepted(BaseModel):
    """The same reply whether or not the contact has receipts here."""

    status: Literal["accepted"] = "accepted"
    detail: str = Field(
        "If this phone or e-mail has receipts at this outlet, a code is on its way.",
    )
    expires_in_secs: int = Field(description="How long a code is valid once sent")


class ReceiptLine(BaseModel):
    name: str
    qty: int
    amount: int


class ReceiptRead(BaseModel):
    number: str
    issued_at: datetime
    outlet_name: str
    total: int
    currency: str
    status: str
    contact_hint: str
    lines: list[ReceiptLine]


class ReceiptList(BaseModel):
    items: list[ReceiptRead] = Field(description="The last 10 receipts, newest first")
    retention_days: int = Field(description="Receipts older than this are not listed")
    code_expires_at: datetime = Field(description="Until when this code lists receipts")
