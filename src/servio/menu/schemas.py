"""Request and response bodies of the menu API. Validation lives here (prices, GST slabs,
HSN/SAC codes, tag vocabularies, i18n labels) so services get clean values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from servio.kit.pagination import Page
from servio.menu.vocabulary import (
    HSN_PATTERN,
    LANGUAGES,
    STATION_PATTERN,
    Allergen,
    DietaryTag,
    canonical_gst_rate,
)

T = TypeVar("T")

MAX_PRICE = 100_000_000  # ₹10 lakh in paise: anything above is a typo
MAX_COMBO_COMPONENTS = 12

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=160)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Price = Annotated[int, Field(ge=0, le=MAX_PRICE, strict=True, examples=[25000])]
Position = Annotated[int, Field(ge=0, le=100_000)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=26)]
Hsn = Annotated[str, StringConstraints(pattern=HSN_PATTERN)]
Station = Annotated[str, StringConstraints(pattern=STATION_PATTERN)]


def _labels(value: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(value) - set(LANGUAGES))
    if unknown:
        raise ValueError(f"languages must be among {', '.join(LANGUAGES)} (got {unknown})")
    cleaned = {lang: text.strip() for lang, text in value.items()}
    if any(not text for text in cleaned.values()):
        raise ValueError("a translation may not be empty")
    return cleaned


def _name_labels(value: dict[str, str]) -> dict[str, str]:
    cleaned = _labels(value)
    if any(len(text) > 160 for text in cleaned.values()):
        raise ValueError("a translated name may have at most 160 characters")
    return cleaned


def _description_labels(value: dict[str, str]) -> dict[str, str]:
    cleaned = _labels(value)
    if any(len(text) > 2000 for text in cleaned.values()):
        raise ValueError("a translated description may have at most 2000 characters")
    return cleaned


NameLabels = Annotated[
    dict[str, str],
    AfterValidator(_name_labels),
    Field(description="Translations by language (en, hi, gu)", examples=[{"hi": "पनीर टिक्का"}]),
]
DescriptionLabels = Annotated[dict[str, str], AfterValidator(_description_labels)]


def _gst(value: str) -> str:
    return canonical_gst_rate(value)


GstRate = Annotated[
    str,
    AfterValidator(_gst),
    Field(description="GST percent: 0, 0.25, 3, 5, 12, 18 or 28", examples=["5"]),
]


def _sorted_unique(values: list[str]) -> list[str]:
    return sorted(set(values))


DietaryTags = Annotated[list[DietaryTag], AfterValidator(_sorted_unique)]
Allergens = Annotated[list[Allergen], AfterValidator(_sorted_unique)]


def _check_diet(dietary: Sequence[str] | None) -> None:
    if not dietary:
        return
    tags = set(dietary)
    if "non_veg" in tags and tags & {"veg", "vegan", "jain"}:
        raise ValueError("an item cannot be non_veg and veg, vegan or jain at once")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _reject_null(cls: type[BaseModel], value: Any) -> Any:
    if value is None:
        raise ValueError("may not be null; leave the field out to keep it")
    return value


def _not_null_fields(*fields: str) -> Any:
    """For `XUpdate` bodies: these fields may be left out, but not sent as null."""
    return field_validator(*fields)(classmethod(_reject_null))


# --- categories ---------------------------------------------------------------------------


class CategoryCreate(_Body):
    name: Name
    name_i18n: NameLabels = Field(default_factory=dict)
    position: Position = 0


class CategoryUpdate(_Body):
    name: Name | None = None
    name_i18n: NameLabels | None = None
    position: Position | None = None

    _not_null = _not_null_fields("name", "name_i18n", "position")


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    name_i18n: dict[str, str]
    position: int
    is_active: bool
    version: int
    menu_version: int | None = Field(None, description="The outlet's menu version after a write")


# --- items and combos ---------------------------------------------------------------------


class ComboComponentIn(_Body):
    item_id: Id
    qty: Annotated[int, Field(ge=1, le=20)] = 1


class ComboComponentRead(BaseModel):
    item_id: str
    name: str
    qty: int


def _unique_components(components: list[ComboComponentIn] | None) -> None:
    if components is None:
        return
    ids = [c.item_id for c in components]
    if len(ids) != len(set(ids)):
        raise ValueError("list each component item once and set its qty")


class ItemCreate(_Body):
    kind: Literal["item", "combo"] = "item"
    category_id: Id | None = None
    name: Name
    description: Description = ""
    name_i18n: NameLabels = Field(default_factory=dict)
    description_i18n: DescriptionLabels = Field(default_factory=dict)
    price: Price
    gst_rate: GstRate = "5"
    hsn: Hsn = Field("996331", description="HSN/SAC code, 4 to 8 digits")
    dietary: DietaryTags = Field(default_factory=list)
    allergens: Allergens = Field(default_factory=list)
    station: Station = Field("kitchen", description="kitchen, bar, tandoor, … or a short slug")
    image_id: Id | None = None
    position: Position = 0
    is_available: bool = True
    components: Annotated[list[ComboComponentIn], Field(max_length=MAX_COMBO_COMPONENTS)] = Field(
        default_factory=list, description="Combos only: the fixed parts"
    )

    @model_validator(mode="after")
    def _consistent(self) -> ItemCreate:
        _check_diet(self.dietary)
        _unique_components(self.components)
        if self.kind == "combo" and not self.components:
            raise ValueError("a combo needs at least one component")
        if self.kind == "item" and self.components:
            raise ValueError("only combos have components")
        return self


class ItemUpdate(_Body):
    category_id: Id | None = None
    name: Name | None = None
    description: Description | None = None
    name_i18n: NameLabels | None = None
    description_i18n: DescriptionLabels | None = None
    price: Price | None = None
    gst_rate: GstRate | None = None
    hsn: Hsn | None = None
    dietary: DietaryTags | None = None
    allergens: Allergens | None = None
    station: Station | None = None
    image_id: Id | None = None
    position: Position | None = None
    is_available: bool | None = None
    components: (
        Annotated[list[ComboComponentIn], Field(min_length=1, max_length=MAX_COMBO_COMPONENTS)]
        | None
    ) = None

    @model_validator(mode="after")
    def _consistent(self) -> ItemUpdate:
        _check_diet(self.dietary)
        _unique_components(self.components)
        return self

    _not_null = _not_null_fields(
        "name",
        "description",
        "name_i18n",
        "description_i18n",
        "price",
        "gst_rate",
        "hsn",
        "dietary",
        "allergens",
        "station",
        "position",
        "is_available",
    )


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    category_id: str | None
    name: str
    description: str
    name_i18n: dict[str, str]
    description_i18n: dict[str, str]
    price: int
    currency: str = "INR"
    gst_rate: str
    hsn: str
    dietary: list[str]
    allergens: list[str]
    station: str
    image_id: str | None
    position: int
    is_available: bool
    is_active: bool
    version: int
    modifier_group_ids: list[str] = Field(default_factory=list)
    components: list[ComboComponentRead] = Field(default_factory=list)
    menu_version: int | None = Field(None, description="The outlet's menu version after a write")


class StockFlag(_Body):
    flag: bool = Field(description="true = out of stock (not orderable), false = back in stock")


class ItemGroupsSet(_Body):
    group_ids: Annotated[list[Id], Field(max_length=20)] = Field(
        description="Modifier groups the item offers, in display order"
    )

    @field_validator("group_ids")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(value) != len(set(value)):
            raise ValueError("each group may be attached once")
        return value


# --- modifier groups and modifiers --------------------------------------------------------

Selection = Annotated[int, Field(ge=0, le=50)]


class ModifierCreate(_Body):
    name: Name
    name_i18n: NameLabels = Field(default_factory=dict)
    price_delta: Price = 0
    is_available: bool = True
    position: Position = 0


class ModifierUpdate(_Body):
    name: Name | None = None
    name_i18n: NameLabels | None = None
    price_delta: Price | None = None
    is_available: bool | None = None
    position: Position | None = None

    _not_null = _not_null_fields("name", "name_i18n", "price_delta", "is_available", "position")


class ModifierRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    group_id: str
    name: str
    name_i18n: dict[str, str]
    price_delta: int
    is_available: bool
    is_active: bool
    position: int
    version: int
    menu_version: int | None = None


class ModifierGroupCreate(_Body):
    name: Name
    name_i18n: NameLabels = Field(default_factory=dict)
    min_select: Selection = 0
    max_select: Annotated[int, Field(ge=1, le=50)] = 1
    required: bool = False
    position: Position = 0
    modifiers: Annotated[list[ModifierCreate], Field(max_length=50)] = Field(
        default_factory=list, description="Optional: create the group's modifiers at once"
    )

    @model_validator(mode="after")
    def _bounds(self) -> ModifierGroupCreate:
        if self.min_select > self.max_select:
            raise ValueError("min_select may not exceed max_select")
        return self


class ModifierGroupUpdate(_Body):
    name: Name | None = None
    name_i18n: NameLabels | None = None
    min_select: Selection | None = None
    max_select: Annotated[int, Field(ge=1, le=50)] | None = None
    required: bool | None = None
    position: Position | None = None

    _not_null = _not_null_fields(
        "name", "name_i18n", "min_select", "max_select", "required", "position"
    )


class ModifierGroupRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    name_i18n: dict[str, str]
    min_select: int
    max_select: int
    required: bool
    position: int
    is_active: bool
    version: int
    modifiers: list[ModifierRead] = Field(default_factory=list)
    menu_version: int | None = None


# --- lists and price check ----------------------------------------------------------------


class MenuPage(Page[T], Generic[T]):
    menu_version: int = Field(description="The outlet's current menu version")


class PriceCheck(_Body):
    menu_item_id: Id
    modifiers: Annotated[list[Id], Field(max_length=50)] = Field(
        default_factory=list, description="Chosen modifier ids; repeat an id to take it twice"
    )


class PricedModifierRead(BaseModel):
    modifier_id: str
    group_id: str
    name: str
    price_delta: int
    qty: int


class PriceCheckRead(BaseModel):
    menu_item_id: str
    currency: str
    base_price: int
    modifiers: list[PricedModifierRead]
    unit_price: int
    menu_version: int
