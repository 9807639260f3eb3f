"""The guest journey's JSON shapes (api.md "The guest journey contract"). The cart and
order shapes are shared by every reply and socket message that carries them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from servio.sessions.state import PaymentStatus, ReportedState

# Limits of one member's part of the cart (PUT /session/{id}/cart).
MAX_CART_LINES = 50
MAX_LINE_QTY = 99
MAX_NOTE_LEN = 200
MAX_MODIFIERS_PER_LINE = 20
NICKNAME_MAX_LEN = 24  # the column's size; the outlet setting may only lower it


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


class GuestSessionView(BaseModel):
    """The table as a guest sees it: `GET /session/{id}` (re-read after a reconnect) and,
    with a fresh `guest_token`, `GET /t/{qr_token}`."""

    session_id: str
    session_state: Literal["active", "stale"] = Field(
        description="`stale`: idle longer than the outlet's auto-close limit, or a previous "
        "party's unpaid bill; offer “Previous bill exists - Start new?”"
    )
    payment_status: PaymentStatus
    outlet: OutletSummary
    table: TableSummary
    members: list[MemberRead]
    cart: TableCartRead
    orders: list[SessionOrderRead]
    daily_pass_required: bool
    pass_validated: bool
    whatsapp_updates_available: bool = Field(
        default=False,
        description="Whether guests may opt in to WhatsApp order updates "
        "(`PUT /session/{id}/updates`)",
    )


class GuestSessionRead(GuestSessionView):
    """`GET /t/{qr_token}` and `POST /session/{id}/start_new`: everything a phone needs to
    show the table, and the credential for it."""

    guest_token: str = Field(description="Scoped to this session; send it to POST /member")


# --- guest writes ---------------------------------------------------------------------------


class MemberCreate(BaseModel):
    """Join the table with a nickname. Surrounding spaces are dropped."""

    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(max_length=26)
    nickname: str = Field(examples=["Asha"])

    @field_validator("nickname")
    @classmethod
    def _nickname(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("nickname must not be empty")
        if len(value) > NICKNAME_MAX_LEN:
            raise ValueError(f"nickname must be at most {NICKNAME_MAX_LEN} characters")
        return value


class MemberJoined(BaseModel):
    member_id: str
    member_token: str = Field(
        description="Send as `Authorization: Bearer` on every later guest call"
    )
    is_host: bool = Field(description="The first member of the session is its host")


class CartItemWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    menu_item_id: str = Field(max_length=26)
    qty: int = Field(ge=1, le=MAX_LINE_QTY)
    note: str = Field(default="", max_length=MAX_NOTE_LEN)
    modifiers: list[Annotated[str, Field(max_length=26)]] = Field(
        default=[],
        max_length=MAX_MODIFIERS_PER_LINE,
        description="Modifier ids; repeat an id to pick it more than once",
    )

    @field_validator("note")
    @classmethod
    def _note(cls, value: str) -> str:
        return value.strip()


class CartWrite(BaseModel):
    """The caller's whole part of the cart (replaces their previous lines; `[]` empties
    it). Other members' lines are left alone. Prices are the server's."""

    model_config = ConfigDict(extra="forbid")

    items: list[CartItemWrite] = Field(max_length=MAX_CART_LINES)


# --- staff ----------------------------------------------------------------------------------


FiredSummary = Literal["pending", "retrying", "acked"]


class SessionGridRead(BaseModel):
    """One table session on the staff grid."""

    session_id: str
    service_point_id: str
    table_label: str
    table_kind: str
    table_state: str = Field(description="open, locked, cleaning or disabled")
    state: ReportedState
    payment_status: PaymentStatus
    auto_closed: bool
    amber: bool = Field(description="Active with orders still unpaid after 60 minutes")
    opened_at: datetime
    last_activity_at: datetime
    first_order_at: datetime | None
    closed_at: datetime | None
    member_count: int
    order_count: int
    ticket_nos: list[str]
    fired: FiredSummary | None = Field(
        description="The worst firing state over its orders (retrying > pending > acked)"
    )
    subtotal: int = Field(description="Sum of its orders' subtotals, minor units")


class SessionGridList(BaseModel):
    items: list[SessionGridRead]
    next_cursor: str | None = None


class SessionDetailRead(SessionGridRead):
    """A session with who is at the table, their cart and their orders."""

    members: list[MemberRead]
    cart: TableCartRead
    orders: list[SessionOrderRead]


class OrderingSwitch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


class OrderingRead(BaseModel):
    outlet_id: str
    enabled: bool = Field(description="Whether guests may open the table and order by QR")
