"""Response bodies of the QR pack routes (the pack itself is a file, not JSON)."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PerPage(IntEnum):
    """QR codes per sheet: 2x3, 3x4 or 4x6."""

    SIX = 6
    TWELVE = 12
    TWENTY_FOUR = 24


class QrPackExportRead(BaseModel):
    """One logged QR pack or poster generation."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    created_at: datetime
    outlet_id: str
    requested_by: str | None = Field(description="Staff user who generated it.")
    format: str = Field(description="`pdf`, `html` (fallback render) or `zip` (posters).")
    params: dict[str, Any] = Field(description="The options it was generated with.")
    service_points: int = Field(description="How many QR codes it contains.")
    bytes: int
    cache_key: str


class QrPackExportPage(BaseModel):
    items: list[QrPackExportRead]
    next_cursor: str | None = None
