from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

AnnouncementText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=280)
]


class AnnouncementCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"message": "86 the salmon"}]}
    )

    message: AnnouncementText = Field(description="Shown on every staff screen of the outlet")


class AnnouncementAuthor(BaseModel):
    id: str
    name: str


class AnnouncementRead(BaseModel):
    """What was pushed: an `alert` `{kind: "announcement", message, by}` on the outlet's
    staff channel."""

    kind: str = "announcement"
    outlet_id: str
    message: str
    by: AnnouncementAuthor
    ts: str = Field(description="RFC 3339 time stamped on the pushed message")
