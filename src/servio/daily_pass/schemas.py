from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class DailyPassStatus(BaseModel):
    """Whether the outlet uses a pass and which one is current. Never the word."""

    required: bool = Field(description="Guests must enter the word before ordering")
    rotating: bool = Field(
        description="A new word is picked at 04:00 outlet time and e-mailed to the owners"
    )
    valid_from: datetime | None = Field(description="Start of the current word; null if none")
    valid_until: datetime | None = Field(description="When the current word stops working")


class DailyPassRotated(BaseModel):
    """The new word, shown this once (it is also e-mailed to the owners)."""

    word: str = Field(examples=["latte29"])
    business_date: date
    valid_from: datetime
    valid_until: datetime


class PassAttempt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    word: str = Field(min_length=1, max_length=64, examples=["latte29"])


class PassValidated(BaseModel):
    pass_validated: bool = Field(examples=[True])
