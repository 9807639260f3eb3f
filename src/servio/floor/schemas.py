"""Request and response bodies for tables, rooms and counters."""

from __future__ import annotations

import string
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from servio.floor.state import PointState

Kind = Literal["table", "room", "counter"]
Label = Annotated[str, Field(min_length=1, max_length=24, examples=["T1"])]
Seats = Annotated[int, Field(ge=1, le=99)]
Area = Annotated[str, Field(max_length=64, examples=["Patio"])]
# Floor plan coordinates in the console's canvas units (top-left origin).
Coordinate = Annotated[float, Field(ge=0, le=10000)]
MAX_BULK = 200


def _clean_label(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("label must not be blank")
    return value


class ServicePointCreate(BaseModel):
    """One table, room or counter."""

    model_config = ConfigDict(extra="forbid")

    label: Label
    seats: Seats = 4
    area: Area = ""
    pos_x: Coordinate | None = None
    pos_y: Coordinate | None = None

    _label = field_validator("label")(_clean_label)


class ServicePointBulkCreate(BaseModel):
    """`count` points labelled `label_fmt` with `{n}` = start, start+1, …"""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=MAX_BULK, examples=[10])
    label_fmt: str = Field(default="T{n}", min_length=3, max_length=24, examples=["T{n}"])
    start: int = Field(default=1, ge=0, le=100000)
    seats: Seats = 4
    area: Area = ""

    @field_validator("label_fmt")
    @classmethod
    def _one_number_placeholder(cls, value: str) -> str:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
        except ValueError:
            raise ValueError("label_fmt is not a valid template (unbalanced braces?)") from None
        if fields != ["n"]:
            raise ValueError("label_fmt must contain {n} exactly once and no other placeholder")
        return value

    def labels(self) -> list[str]:
        return [
            _clean_label(self.label_fmt.format(n=n))
            for n in range(self.start, self.start + self.count)
        ]

    @model_validator(mode="after")
    def _labels_fit(self) -> ServicePointBulkCreate:
        try:
            too_long = [label for label in self.labels() if len(label) > 24]
        except (ValueError, TypeError):
            raise ValueError("label_fmt cannot be applied to a number") from None
        if too_long:
            raise ValueError(f"generated labels are longer than 24 characters: {too_long[0]!r}")
        return self


class ServicePointUpdate(BaseModel):
    """Only the fields sent change. `state` needs `tables.state`; the rest `tables.write`.
    Send `pos_x`/`pos_y` as null to take a point off the floor plan."""

    model_config = ConfigDict(extra="forbid")

    state: PointState | None = None
    label: Label | None = None
    seats: Seats | None = None
    area: Area | None = None
    pos_x: Coordinate | None = None
    pos_y: Coordinate | None = None

    @field_validator("label")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        return None if value is None else _clean_label(value)

    @model_validator(mode="after")
    def _something_to_change(self) -> ServicePointUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        for name in ("state", "label", "seats", "area"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def layout_changes(self) -> dict[str, object]:
        """The non-state fields that were sent."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "state"}


class ServicePointRead(BaseModel):
    id: str
    kind: Kind
    outlet_id: str
    label: str
    seats: int
    area: str
    state: PointState
    pos_x: float | None
    pos_y: float | None
    qr_version: int
    qr_token: str = Field(description="The signed token printed in the QR code.")
    qr_url: str = Field(description="The guest deeplink the QR code opens.")
    version: int
    created_at: datetime
    updated_at: datetime


class ServicePointList(BaseModel):
    """Every matching point of the outlet, labels in natural order (T2 before T10). The
    licence limit bounds the size, so there is a single page (`next_cursor` is null)."""

    items: list[ServicePointRead]
    next_cursor: str | None = None


class QrRotated(BaseModel):
    qr_token: str
    qr_url: str
    qr_version: int
    svg_url: str
    png_url: str


class LiveState(BaseModel):
    """What is happening at the point right now; filled by the guest-journey context
    (`servio.floor.live`). Every field is null while no session is open."""

    session_state: Literal["active", "stale"] | None = None
    since: datetime | None = Field(None, description="When the live session was opened")
    session_id: str | None = None
    payment_status: Literal["unpaid", "bill_requested", "partially_paid", "settled"] | None = None
    amber: bool | None = Field(
        None, description="The session's orders are still unpaid after 60 minutes"
    )
    last_activity_at: datetime | None = None


class FloorMapPoint(BaseModel):
    id: str
    kind: Kind
    label: str
    seats: int
    area: str
    state: PointState
    pos_x: float | None
    pos_y: float | None
    version: int
    live: LiveState


class FloorMap(BaseModel):
    outlet_id: str
    items: list[FloorMapPoint]
