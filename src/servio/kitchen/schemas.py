"""KDS shapes: station tickets with their items, station counts, item status changes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TicketState = Literal["active", "ready", "all"]
ItemStatusTarget = Literal["in_progress", "ready", "served", "voided", "recalled"]


class KdsModifier(BaseModel):
    name: str
    qty: int = 1


class KdsItem(BaseModel):
    id: str = Field(
        description="The order line's id (what `POST /api/v1/kds/items/{id}/status` takes)"
    )
    name: str
    qty: int
    modifiers: list[KdsModifier]
    note: str
    allergens: list[str] = Field(description="Allergen flags frozen from the menu at order time")
    status: str = Field(description="queued, in_progress, ready, served or voided")
    started_at: datetime | None
    ready_at: datetime | None


class KdsTicket(BaseModel):
    id: str
    order_id: str
    ticket_no: str | None
    station: str
    status: str = Field(description="queued, in_progress, ready, served or voided (from its items)")
    table: str | None = Field(description="The table's (or room's, counter's) label; null for none")
    source: str = Field(description="qr, pos, room or counter")
    created_at: datetime
    ready_at: datetime | None
    picked_at: datetime | None
    age_secs: int = Field(description="Seconds since the station got the ticket")
    print_state: str = Field("none", description="KOT printing: none, queued, printed or failed")
    items: list[KdsItem]


class KdsTicketList(BaseModel):
    items: list[KdsTicket]


class StationCount(BaseModel):
    station: str
    active: int = Field(description="Tickets queued or cooking")
    ready: int = Field(description="Tickets ready and not picked yet")


class StationList(BaseModel):
    items: list[StationCount]


class ItemStatusUpdate(BaseModel):
    """`recalled` sends a `ready` item back to `in_progress`; `voided` needs `orders.void`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "in_progress"}]})

    status: ItemStatusTarget
