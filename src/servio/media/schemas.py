"""Request and response shapes of the media routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

MediaPurpose = Literal["menu_item", "logo", "poster"]
MEDIA_PURPOSES: tuple[MediaPurpose, ...] = ("menu_item", "logo", "poster")


class MediaRead(BaseModel):
    id: str = Field(examples=["01JD2Q4W6K7Z3N5V8X1C9B0A2M"])
    url: str = Field(
        description="Where the image is served: `/media/{id}.webp` on this server, or the "
        "public bucket/CDN URL when `S3_PUBLIC_BASE_URL` is set.",
        examples=["/media/01JD2Q4W6K7Z3N5V8X1C9B0A2M.webp"],
    )
    key: str = Field(description="The storage key.", examples=["t/01JD…/01JD….webp"])
    purpose: MediaPurpose
    content_type: str = Field(examples=["image/webp"])
    bytes: int = Field(description="Stored size; counts toward the tenant's image quota.")
    width: int
    height: int
    sha256: str = Field(description="Hex digest of the stored bytes (also the ETag).")
    outlet_id: str | None
    created_at: datetime
