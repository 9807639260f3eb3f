"""The fixed words of a menu: GST rates, dietary tags, allergens, stations, languages.

Fixed vocabularies (not free text) so the guest menu filter `dietary:vegan,-allergen:nuts`
matches reliably and labels can be translated.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Literal, get_args

# GST slabs in India, percent, as canonical decimal strings.
GST_RATES: tuple[str, ...] = ("0", "0.25", "3", "5", "12", "18", "28")

DietaryTag = Literal[
    "veg",
    "non_veg",
    "vegan",
    "jain",
    "egg",
    "gluten_free",
    "dairy_free",
    "nut_free",
    "halal",
    "spicy",
    "contains_alcohol",
]
DIETARY_TAGS: tuple[str, ...] = get_args(DietaryTag)

# The 14 allergens of EU Regulation 1169/2011 Annex II, as FSSAI labelling also lists them.
Allergen = Literal[
    "gluten",
    "shellfish",
    "egg",
    "fish",
    "peanuts",
    "soy",
    "dairy",
    "nuts",
    "celery",
    "mustard",
    "sesame",
    "sulphites",
    "lupin",
    "molluscs",
]
ALLERGENS: tuple[str, ...] = get_args(Allergen)

# Common stations; any short lowercase slug is accepted too (see `STATION_PATTERN`).
STATIONS: tuple[str, ...] = ("kitchen", "bar", "tandoor", "grill", "dessert", "beverage")
STATION_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"

LANGUAGES: tuple[str, ...] = ("en", "hi", "gu")

HSN_PATTERN = r"^[0-9]{4,8}$"
RESTAURANT_SERVICE_SAC = "996331"


def canonical_gst_rate(value: str) -> str:
    """ "5.00" → "5", "0.250" → "0.25"; ValueError unless it is one of `GST_RATES`."""
    try:
        rate = Decimal(value.strip())
    except InvalidOperation:
        raise ValueError('gst_rate must be a decimal string such as "5"') from None
    if not rate.is_finite():
        raise ValueError("gst_rate must be a finite number")
    text = format(rate.normalize(), "f")
    if text not in GST_RATES:
        raise ValueError(f"gst_rate must be one of {', '.join(GST_RATES)}")
    return text
