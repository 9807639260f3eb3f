"""Staff POS shapes: staff-entered orders, the order queue and bulk progress (ORD-03,
ORD-05), open tickets (seed 001) and the compact menu the POS screen reads.

Prices, totals, tenant ids and statuses are never taken from the client: a line is only
`{menu_item_id, qty, note?, modifiers?}`; anything else in a body is ignored."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from servio.kit.ids import is_ulid
from servio.ordering.schemas import OrderRead
from servio.ordering.state import OrderStatus

MAX_LINES = 100
MAX_BULK = 100

OrderSource = Literal["pos", "counter"]
OpenTicketState = Literal["open", "checked_out", "cancelled"]


def _ulid_or_none(value: str | None) -> str | None:
    if value is None:
        return None
    if not is_ulid(value):
        raise ValueError("must be a ULID (26 Crockford base32 characters)")
    return value.upper()


class PosLine(BaseModel):
    """One line as the cashier chose it. A repeated modifier id means "that modifier N
    times" (two extra cheese)."""

    menu_item_id: str = Field(min_length=1, max_length=64)
    qty: int = Field(ge=1, le=99)
    note: str = Field("", max_length=200)
    modifiers: list[str] = Field(default_factory=list, max_length=30)


_LINE_EXAMPLE: dict[str, Any] = {
    "menu_item_id": "01JD3Y8W7Q5N2V4M6K8H0G2F4D",
    "qty": 2,
    "note": "no onion",
    "modifiers": ["01JD3Y8W7Q5N2V4M6K8H0G2F4E"],
}


class StaffOrderCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "service_point_id": "01JD3Y8W7Q5N2V4M6K8H0G2F4A",
                    "order_id": None,
                    "items": [_LINE_EXAMPLE],
                    "source": "pos",
                }
            ]
        }
    )

    service_point_id: str | None = Field(
        None,
        description="A table, room or counter of the outlet. When it has a live session the "
        "order joins that session's bill; otherwise (and without one) it is a counter order.",
    )
    order_id: str | None = Field(
        None,
        description="Optional client-generated ULID: sending it again returns the same order.",
    )
    items: list[PosLine] = Field(min_length=1, max_length=MAX_LINES)
    source: OrderSource = "pos"

    _ids = field_validator("order_id", "service_point_id")(_ulid_or_none)


class QueueLine(BaseModel):
    line_id: str
    name: str
    qty: int
    modifiers: list[str] = Field(description="Modifier names, repeated per unit")
    note: str
    station: str
    status: str


class QueueItem(BaseModel):
    order_id: str
    ticket_no: str | None
    status: OrderStatus
    fired: str
    source: str
    session_id: str | None
    service_point_id: str | None
    table: str | None = Field(description="The table/room/counter label, null for counter")
    created_at: datetime
    status_changed_at: datetime
    age_secs: int
    item_count: int
    subtotal: int
    currency: str
    lines: list[QueueLine]


class QueuePage(BaseModel):
    items: list[QueueItem]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to get the next page; null on the last page."
    )


class BulkProgress(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"ids": ["01JD3Y9A1B2C3D4E5F6G7H8J9K"]}]}
    )

    ids: list[str] = Field(min_length=1, max_length=MAX_BULK)


class BulkProblem(BaseModel):
    code: str
    detail: str


class BulkResult(BaseModel):
    order_id: str
    ok: bool
    from_status: str | None = Field(None, alias="from")
    to_status: str | None = Field(None, alias="to")
    error: BulkProblem | None = None

    model_config = ConfigDict(populate_by_name=True)


class BulkProgressRead(BaseModel):
    results: list[BulkResult]
    moved: int
    failed: int


# --- open tickets ---------------------------------------------------------------------------


class OpenTicketCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Bar tab Ravi",
                    "service_point_id": None,
                    "items": [_LINE_EXAMPLE],
                    "note": "pays at the end",
                }
            ]
        }
    )

    name: str = Field(min_length=1, max_length=80)
    service_point_id: str | None = None
    items: list[PosLine] = Field(default_factory=list, max_length=MAX_LINES)
    note: str = Field("", max_length=200)

    _ids = field_validator("service_point_id")(_ulid_or_none)

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value


class OpenTicketUpdate(BaseModel):
    """Only the fields sent change. `items` replaces every line."""

    name: str | None = Field(None, min_length=1, max_length=80)
    service_point_id: str | None = None
    items: list[PosLine] | None = Field(None, max_length=MAX_LINES)
    note: str | None = Field(None, max_length=200)

    _ids = field_validator("service_point_id")(_ulid_or_none)


class OpenTicketLineRead(BaseModel):
    menu_item_id: str
    name: str
    qty: int
    note: str
    modifiers: list[str] = Field(description="Modifier ids as chosen (repeats = quantity)")
    modifier_names: list[str]
    unit_price: int
    line_total: int
    is_available: bool = Field(description="False when the line cannot be ordered right now")


class OpenTicketRead(BaseModel):
    id: str
    name: str
    state: OpenTicketState
    service_point_id: str | None
    table: str | None
    note: str
    lines: list[OpenTicketLineRead]
    currency: str
    item_count: int
    subtotal: int = Field(description="Priced now from the menu (server prices)")
    orderable: bool = Field(description="Every line can be ordered right now")
    opened_by: str | None
    resumed_by: str | None
    resumed_at: datetime | None
    checked_out_at: datetime | None
    order_id: str | None
    created_at: datetime
    updated_at: datetime
    version: int


class OpenTicketPage(BaseModel):
    items: list[OpenTicketRead]
    next_cursor: str | None = None


class CheckoutRead(BaseModel):
    """`201` of a checkout: the order placed from the ticket, its invoice (payments are
    taken against `invoice_id`) and the ticket, now `checked_out`."""

    invoice_id: str
    invoice_number: str
    order: OrderRead
    open_ticket: OpenTicketRead


# --- the POS screen's menu ------------------------------------------------------------------


class PosModifier(BaseModel):
    id: str
    name: str
    price_delta: int
    is_available: bool


class PosModifierGroup(BaseModel):
    id: str
    name: str
    min_select: int
    max_select: int
    required: bool
    modifiers: list[PosModifier]


class PosMenuItem(BaseModel):
    id: str
    name: str
    price: int
    kind: str
    category_id: str | None
    station: str
    is_available: bool
    dietary: list[str]
    allergens: list[str]
    groups: list[PosModifierGroup]


class PosCategory(BaseModel):
    id: str
    name: str


class PosMenuRead(BaseModel):
    currency: str
    menu_version: int
    categories: list[PosCategory]
    items: list[PosMenuItem]
