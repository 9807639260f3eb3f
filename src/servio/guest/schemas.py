"""The guest menu reply, documented for the OpenAPI schema. The route sends pre-rendered
bytes (`guest.menu_view`), so these models describe the shape; `tests/guest` checks that
a real reply validates against `GuestMenuRead`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Closed(BaseModel):
    # Unknown fields are an error, so the shape test notices an internal field leaking out.
    model_config = ConfigDict(extra="forbid")


class GuestOutlet(_Closed):
    name: str
    currency: str = Field(examples=["INR"])
    locale: str = Field(examples=["en"])
    timezone: str = Field(examples=["Asia/Kolkata"])


class GuestServicePoint(_Closed):
    kind: Literal["table", "room", "counter"]
    label: str = Field(examples=["T4"])


class GuestModifier(_Closed):
    id: str
    name: str
    price_delta: int = Field(description="Added per unit, minor units (may be 0).")
    is_available: bool


class GuestModifierGroup(_Closed):
    id: str
    name: str
    min_select: int = Field(description="At least 1 when `required`.")
    max_select: int
    required: bool
    modifiers: list[GuestModifier]


class GuestComboComponent(_Closed):
    item_id: str
    name: str
    qty: int
    is_available: bool


class GuestMenuItem(_Closed):
    id: str
    kind: Literal["item", "combo"]
    name: str = Field(description="In the reply's `language`, else the owner's own text.")
    description: str
    price: int = Field(description="Minor units (paise for INR).", examples=[25000])
    currency: str
    components: list[GuestComboComponent] | None = Field(
        default=None, description="Combos only: the fixed parts."
    )
    dietary: list[str] = Field(examples=[["veg", "jain"]])
    allergens: list[str] = Field(
        description="For combos, including every part's allergens.", examples=[["dairy"]]
    )
    is_available: bool = Field(description="False: shown, but out of stock right now.")
    image_url: str | None
    modifier_groups: list[GuestModifierGroup]


class GuestMenuCategory(_Closed):
    id: str = Field(description="A category id, or `combos` / `uncategorised` fallbacks.")
    name: str
    items: list[GuestMenuItem]


class GuestMenuRead(_Closed):
    service_point: GuestServicePoint
    outlet: GuestOutlet
    menu_version: int = Field(description="Bumped by every menu write; part of the ETag.")
    language: Literal["en", "hi", "gu"]
    filter: str = Field(description="The applied filter, canonical spelling ('' = none).")
    categories: list[GuestMenuCategory] = Field(
        description="Categories with at least one item left after filtering."
    )
    labels: dict[str, str] = Field(
        description="UI labels in `language` (actions, dietary tags, allergens, states)."
    )
