"""The choices the console forms offer (labels for people; the APIs validate the values
again)."""

from __future__ import annotations

from servio.menu import vocabulary
from servio.setup.gstin import STATE_CODES as GST_STATE_CODES

TIMEZONES = (
    "Asia/Kolkata",
    "Asia/Dubai",
    "Asia/Singapore",
    "Asia/Bangkok",
    "Asia/Kathmandu",
    "Asia/Colombo",
    "Europe/London",
    "UTC",
)
LANGUAGES = (("en", "English"), ("hi", "हिन्दी (Hindi)"), ("gu", "ગુજરાતી (Gujarati)"))
WEEKDAYS = (
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
)
PAYMENT_MODES = (
    ("cash", "Cash"),
    ("card", "Card"),
    ("upi", "UPI"),
    ("gateway", "Online gateway"),
)
TABLE_STATES = (
    ("open", "Open"),
    ("locked", "Locked"),
    ("cleaning", "Cleaning"),
    ("disabled", "Disabled"),
)

# GST state codes (the first two digits of a GSTIN), in code order.
STATE_CODES: tuple[tuple[str, str], ...] = tuple(sorted(GST_STATE_CODES.items()))
INVOICE_RESETS = (
    ("financial_year", "Every financial year (1 April)"),
    ("calendar_year", "Every calendar year (1 January)"),
    ("monthly", "Every month"),
    ("never", "Never"),
)

# Menu vocabularies (servio.menu.vocabulary) with the words people read.
GST_RATES: tuple[str, ...] = vocabulary.GST_RATES
STATIONS: tuple[str, ...] = vocabulary.STATIONS
_TAG_LABELS = {
    "veg": "Vegetarian",
    "non_veg": "Non-vegetarian",
    "gluten_free": "Gluten-free",
    "dairy_free": "Dairy-free",
    "nut_free": "Nut-free",
    "contains_alcohol": "Contains alcohol",
}


def _label(word: str) -> str:
    return _TAG_LABELS.get(word, word.replace("_", " ").capitalize())


DIETARY_TAGS: tuple[tuple[str, str], ...] = tuple((t, _label(t)) for t in vocabulary.DIETARY_TAGS)
ALLERGENS: tuple[tuple[str, str], ...] = tuple((a, _label(a)) for a in vocabulary.ALLERGENS)
