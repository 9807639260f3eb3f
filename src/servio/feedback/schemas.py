from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_COMMENT = 500

Comment = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_COMMENT),
    Field(description=f"Optional note, at most {MAX_COMMENT} characters (trimmed)"),
]
OrderId = Annotated[
    str, Field(min_length=26, max_length=26, description="One of the table's orders")
]


class ThumbsFeedbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["thumbs"]
    thumbs_up: bool
    comment: Comment = ""
    order_id: OrderId | None = None


class NpsFeedbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["nps"]
    score: int = Field(ge=0, le=10, description="How likely to recommend us, 0-10")
    comment: Comment = ""


FeedbackCreate = Annotated[ThumbsFeedbackCreate | NpsFeedbackCreate, Field(discriminator="kind")]


class FeedbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: Literal["thumbs", "nps"]
    thumbs_up: bool | None
    score: int | None
    comment: str
    session_id: str | None
    order_id: str | None
    created_at: datetime


class NpsRead(BaseModel):
    responses: int
    promoters: int
    passives: int
    detractors: int
    score: float | None = Field(description="-100 to 100; null without responses")


class CommentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: Literal["thumbs", "nps"]
    thumbs_up: bool | None
    score: int | None
    comment: str
    created_at: datetime


class FeedbackSummary(BaseModel):
    from_date: date = Field(description="First day counted (outlet time), inclusive")
    to_date: date = Field(description="Last day counted (outlet time), inclusive")
    thumbs_up: int
    thumbs_down: int
    nps: NpsRead
    recent_comments: list[CommentRead]
