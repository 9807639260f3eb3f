"""Bodies of the guest WhatsApp updates API (GUEST-11). A phone number goes in and never
comes back out: replies carry its last digits only."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class GuestUpdatesWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(max_length=32, examples=["+91 98765 43210"])
    whatsapp: Literal[True] = Field(description="The only channel guests can choose")


class GuestUpdatesRead(BaseModel):
    whatsapp: bool = Field(description="Whether your order updates go to WhatsApp")
    phone_hint: str | None = Field(
        default=None, description="The last digits of the number they go to", examples=["…3210"]
    )
    available: bool = Field(description="Whether this outlet sends WhatsApp updates at all")
