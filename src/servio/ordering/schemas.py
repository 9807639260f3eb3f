"""Order shapes: the guest's `POST /orders` and the staff order views (api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from servio.kit.ids import is_ulid
from servio.ordering.state import OrderStatus

FiredSummary = Literal["pending", "retrying", "acked"]


class OrderCreate(BaseModel):
    """Send every member's current cart lines as one order. Prices, totals and statuses are
    never taken from the client; anything else in the body is ignored."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"session_id": "01JD3Y8W7Q5N2V4M6K8H0G2F4D", "order_id": None}]
        }
    )

    session_id: str = Field(min_length=1, max_length=64)
    order_id: str | None = Field(
        None,
        description="Optional client-generated ULID. Sending the same id again (after a "
        "dropped connection, with any Idempotency-Key) returns the same order.",
    )

    @field_validator("order_id")
    @classmethod
    def _ulid(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not is_ulid(value):
            raise ValueError("must be a ULID (26 Crockford base32 characters)")
        return value.upper()


class OrderPlaced(BaseModel):
    """`201` of `POST /orders`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": "01JD3Y9A1B2C3D4E5F6G7H8J9K",
                    "status": "in_queue",
                    "ticket_no": "1",
                    "fired": "acked",
                }
            ]
        }
    )

    order_id: str
    status: OrderStatus = Field(
        description="pending (external POS not yet acknowledged) or in_queue"
    )
    ticket_no: str | None = None
    fired: FiredSummary


class OrderStatusUpdate(BaseModel):
    status: OrderStatus


class OrderModifierRead(BaseModel):
    id: str
    group_id: str | None = None
    name: str
    price_delta: int
    qty: int = 1


class OrderLineRead(BaseModel):
    line_id: str
    menu_item_id: str
    member_id: str | None
    name: str
    qty: int
    base_price: int
    unit_price: int
    line_total: int
    modifiers: list[OrderModifierRead]
    note: str
    station: str
    gst_rate: str
    hsn: str
    status: str = Field(
        description="Kitchen item state: queued, in_progress, ready, served, voided"
    )


class FiringRead(BaseModel):
    station: str
    adapter: str
    firing_key: str
    state: str = Field(description="pending, retrying, acked, cancelled or fired_manually")
    retry_count: int
    next_attempt_at: datetime
    ticket_no: str | None
    last_error: str | None
    acked_at: datetime | None


class OrderRead(BaseModel):
    order_id: str
    outlet_id: str
    session_id: str | None
    service_point_id: str | None
    source: str
    status: OrderStatus
    fired: FiredSummary
    ticket_no: str | None
    eta_secs: int | None
    currency: str
    subtotal: int
    item_count: int
    placed_by_member_id: str | None
    created_at: datetime
    acked_at: datetime | None
    status_changed_at: datetime
    version: int
    lines: list[OrderLineRead]
    firing: list[FiringRead]
