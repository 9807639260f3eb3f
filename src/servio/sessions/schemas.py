"""The guest journey's JSON shapes (api.md "The guest journey contract"). The cart and
order shapes are shared by every reply and socket message that carries them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from servio.sessions.state import PaymentStatus, ReportedState


class CartModifierRead(BaseModel):
    id: str
    name: str
    price_delta: int


class CartLineRead(BaseModel):
    line_id: str
    menu_item_id: str
    name: str
    qty: int
    note: str = ""
    modifiers: list[CartModifierRead] = []
    unit_price: int = Field(description="Server price of one unit with its modifiers")
    line_total: int
    is_available: bool = Field(
        True, description="False when the item or a modifier can no longer be ordered"
    )


class MemberCartRead(BaseModel):
    member_id: str
    nickname: str
    is_host: bool
    lines: list[CartLineRead]
    item_count: int
    subtotal: int


class TableCartRead(BaseModel):
    """The whole table's cart: every member's lines, priced by the server."""

    session_id: str
    currency: str
    members: list[MemberCartRead] = Field(description="Grouped by member, in joining order")
    item_count: int
    subtotal: int


class MemberRead(BaseModel):
    member_id: str
    nickname: str
    is_host: bool
    joined_at: datetime


class OrderLineSummary(BaseModel):
    name: str
    qty: int
    member_id: str | None
    note: str = ""
    modifiers: list[str] = Field(default=[], description="Modifier names")
    line_total: int
    status: str = Field(description="Kitchen item state: queued, in_progress, ready, …")


class SessionOrderRead(BaseModel):
    order_id: str
    status: str = Field(description="pending, in_queue, in_progress, ready, served, …")
    fired: Literal["pending", "retrying", "acked"]
    ticket_no: str | None
    eta_secs: int | None = None
    currency: str
    subtotal: int
    item_count: int
    created_at: datetime
    lines: list[OrderLineSummary]


class OutletSummary(BaseModel):
    id: str
    name: str
    currency: str
    locale: str
    timezone: str


class TableSummary(BaseModel):
    id: str
    kind: str
    label: str


class GuestSessionRead(BaseModel):
    """`GET /t/{qr_token}`: everything a phone needs to show the table."""

    session_id: str
    guest_token: str = Field(description="Scoped to this session; send it to POST /member")
    session_state: ReportedState
    payment_status: PaymentStatus
    outlet: OutletSummary
    table: TableSummary
    members: list[MemberRead]
    cart: TableCartRead
    orders: list[SessionOrderRead]
    daily_pass_required: bool
    pass_validated: bool
