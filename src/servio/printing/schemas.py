"""Request and response bodies of the printers API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from servio.menu.vocabulary import STATION_PATTERN

PrinterKind = Literal["escpos_net", "escpos_raw"]
PrinterStatus = Literal["unknown", "online", "offline", "paper_out"]
CharsPerLine = Literal[32, 42, 48]
Name = Annotated[str, Field(min_length=1, max_length=80, examples=["Kitchen printer"])]
# The menu's station slugs (kitchen, bar, tandoor, …): a printer serves the items whose
# `station` is exactly this.
Station = Annotated[str, Field(pattern=STATION_PATTERN, examples=["kitchen"])]
Host = Annotated[str, Field(min_length=1, max_length=255, examples=["192.168.1.50"])]
Port = Annotated[int, Field(ge=1, le=65535, examples=[9100])]
PrinterId = Annotated[str, Field(min_length=26, max_length=26)]


def _clean(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("must not be blank")
    return value


def _station(value: object) -> object:
    """Runs before validation, so `value` may be any JSON value: only a string is
    normalised; anything else is left for the type check to reject (422)."""
    return value.strip().lower() if isinstance(value, str) else value


class PrinterCreate(BaseModel):
    """A network ESC/POS printer for one station. `kind`: `escpos_net` answers ESC/POS
    status requests (health, paper-out detection); `escpos_raw` only takes bytes (no
    status: health is "the port accepts connections")."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    station: Station = "kitchen"
    host: Host
    port: Port = 9100
    chars_per_line: CharsPerLine = 48
    kind: PrinterKind = "escpos_net"
    fallback_printer_id: PrinterId | None = None
    is_active: bool = True

    _name = field_validator("name")(_clean)
    _station_lower = field_validator("station", mode="before")(_station)


class PrinterUpdate(BaseModel):
    """Only the fields sent change; `fallback_printer_id: null` removes the fallback."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    station: Station | None = None
    host: Host | None = None
    port: Port | None = None
    chars_per_line: CharsPerLine | None = None
    kind: PrinterKind | None = None
    fallback_printer_id: PrinterId | None = None
    is_active: bool | None = None

    _name = field_validator("name")(lambda v: None if v is None else _clean(v))
    _station_lower = field_validator("station", mode="before")(_station)


class PrinterRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    outlet_id: str
    name: str
    station: str
    kind: str
    host: str
    port: int
    chars_per_line: int
    fallback_printer_id: str | None
    is_active: bool
    status: str
    status_checked_at: datetime | None
    last_error: str | None
    version: int
    created_at: datetime
    updated_at: datetime


class PrinterList(BaseModel):
    items: list[PrinterRead]


class PrinterHealth(BaseModel):
    id: str
    name: str
    station: str
    is_active: bool
    status: PrinterStatus | str
    status_checked_at: datetime | None
    last_error: str | None
    fallback_printer_id: str | None


class StationCoverage(BaseModel):
    """Where a station's tickets print right now: its printer, or the first fallback
    that is not known to be down; `printer_id: null` means nothing will print."""

    station: str
    primary_printer_id: str
    printer_id: str | None
    status: str


class HealthRead(BaseModel):
    items: list[PrinterHealth]
    stations: list[StationCoverage]


class TestPageQueued(BaseModel):
    printer_id: str
    queued: bool = True
    detail: str = (
        "the result arrives as a staff `alert` (kind `printer_test`) and in the printer's status"
    )
