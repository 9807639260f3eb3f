"""Request and response bodies of the kitchen SLA endpoints (KDS-02)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_PUSH_ITEMS = 200

PushLineState = Literal["breached", "within_sla", "not_cooking", "not_found"]


class SlaPushItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_line_id: str = Field(min_length=26, max_length=26, description="The item's ULID.")
    overdue_secs: int = Field(
        default=0,
        ge=0,
        le=7 * 86_400,
        description="What the screen believes; informational only — the server recomputes "
        "every figure from the item's `started_at`.",
    )


class SlaBreachPush(BaseModel):
    """What a KDS screen pushes (seed 000's breach endpoint): the items it sees late."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "window_secs": 300,
                    "items": [{"order_line_id": "01JDZ8Y4V6TQ3N2K1M0P9R8S7T", "overdue_secs": 42}],
                }
            ]
        },
    )

    window_secs: int = Field(
        ge=1, le=86_400, description="The time window the screen looked at (echoed back)."
    )
    items: list[SlaPushItem] = Field(min_length=1, max_length=MAX_PUSH_ITEMS)


class SlaPushLine(BaseModel):
    order_line_id: str
    state: PushLineState = Field(
        description="`breached` (past the SLA by the server's clock), `within_sla`, "
        "`not_cooking` (not in progress any more) or `not_found` (not an item of this outlet)."
    )
    cooking_secs: int | None = None
    overdue_secs: int | None = None
    levels: list[int] = Field(default_factory=list, description="Levels raised for the item.")
    new_levels: list[int] = Field(
        default_factory=list, description="Levels this push raised (the rest were already)."
    )


class SlaPushResult(BaseModel):
    window_secs: int
    checked: int
    items: list[SlaPushLine]


class SlaBreachRead(BaseModel):
    """One escalation level of one late item."""

    id: str
    order_id: str
    order_line_id: str
    ticket_id: str | None
    ticket_no: str | None
    station: str
    table: str | None
    name: str
    qty: int
    level: int = Field(description="1 expo, 2 manager, 3 owner.")
    role: Literal["expo", "manager", "owner"]
    state: Literal["open", "resolved"]
    item_status: str
    overdue_secs: int = Field(description="Seconds past the SLA when this level was raised.")
    cooking_secs: int | None = Field(
        default=None, description="How long the item has been cooking now (null once it left)."
    )
    breached_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
