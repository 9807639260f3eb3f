"""The daily pass word and its business day (GUEST-04). Pure: no I/O.

A word is a short, everyday food or drink word plus two digits (`latte29`): easy to say
across the counter, easy to type on a phone, hard to guess (about 200 x 100 = 20 000 choices,
with guesses limited per table). Only a keyed hash is ever stored:
HMAC-SHA256(secret_key, "outlet_id|business_date|word"), so a leaked database row is useless
without the server's secret and for any other outlet or day.

The business day starts at 04:00 outlet time, when the word rotates: the pass of business
day D is valid from its rotation until 04:00 of D + 1.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

ROTATE_AT: Final = time(4, 0)

# Lower-case ASCII, 3-8 letters, no homophones or look-alikes of one another, nothing that
# reads as rude, and nothing a guest could misspell in more than one obvious way.
WORDS: Final[tuple[str, ...]] = (
    "almond", "apple", "apricot", "avocado", "bagel", "banana", "barley", "basil", "bean",
    "beetroot", "berry", "bhaji", "biscuit", "bonbon", "bread", "brie", "brioche", "broccoli",
    "brownie", "bun", "burrito", "butter", "cabbage", "cake", "candy", "caramel", "carrot",
    "cashew", "celery", "chai", "cheese", "cherry", "chips", "churro", "chutney", "cider",
    "cinnamon", "clove", "cocoa", "coconut", "coffee", "cola", "cookie", "corn", "couscous",
    "cracker", "cream", "crepe", "crouton", "crumble", "cumin", "curry", "custard", "dates",
    "dosa", "dumpling", "eclair", "espresso", "falafel", "fennel", "fig", "frappe", "fudge",
    "garlic", "gelato", "ginger", "gnocchi", "granola", "grape", "guava", "gumbo", "halwa",
    "hazelnut", "herb", "honey", "hummus", "idli", "jaggery", "jalebi", "jam", "jamun", "jelly",
    "juice", "kale", "kesar", "kheer", "kiwi", "korma", "kulcha", "kulfi", "laksa", "lasagna",
    "lassi", "latte", "leek", "lemon", "lemonade", "lentil", "lime", "mango", "maple", "masala",
    "melon", "meringue", "milk", "mint", "mocha", "mojito", "muesli", "muffin", "mushroom",
    "mustard", "naan", "nachos", "nimbu", "noodle", "nougat", "nutmeg", "oat", "okra", "olive",
    "onion", "orange", "pakora", "pancake", "paneer", "panini", "papaya", "paprika", "paratha",
    "parfait", "pasta", "pastry", "peach", "peanut", "pear", "pecan", "pepper", "pesto",
    "pickle", "pie", "pista", "pizza", "plum", "popcorn", "potato", "praline", "pretzel",
    "pudding", "pumpkin", "puri", "quinoa", "rabri", "radish", "raisin", "raita", "ramen",
    "rasam", "ravioli", "rhubarb", "rice", "risotto", "roti", "saffron", "sago", "salad",
    "salsa", "samosa", "sandwich", "scone", "sesame", "shake", "smoothie", "soda", "sorbet",
    "soup", "spinach", "sprout", "squash", "strudel", "sugar", "sundae", "sushi", "taco",
    "tahini", "tamarind", "tart", "tea", "tikka", "tiramisu", "toast", "toffee", "tofu",
    "tomato", "truffle", "turnip", "upma", "vanilla", "wafer", "waffle", "walnut", "wasabi",
    "wrap", "zucchini",
)  # fmt: skip


def new_word() -> str:
    """A fresh pass word from the OS's CSPRNG, e.g. `latte29`."""
    return f"{secrets.choice(WORDS)}{secrets.randbelow(100):02d}"


def normalize(word: str) -> str:
    """What guests type is compared case- and surrounding-space-insensitively."""
    return word.strip().lower()


def word_hash(secret_key: str, outlet_id: str, business_date: date, word: str) -> str:
    """Hex HMAC-SHA256 of the word, bound to the outlet and the business day."""
    message = f"{outlet_id}|{business_date.isoformat()}|{normalize(word)}"
    return hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()


def matches(
    secret_key: str, outlet_id: str, business_date: date, word: str, stored_hash: str
) -> bool:
    """Constant-time comparison of a guess with the stored hash."""
    guess = word_hash(secret_key, outlet_id, business_date, word)
    return hmac.compare_digest(guess, stored_hash)


def business_date(now: datetime, timezone: str) -> date:
    """The business day `now` belongs to at an outlet: the local date, except that the hours
    before 04:00 still belong to the previous day (the word has not rotated yet)."""
    local = now.astimezone(ZoneInfo(timezone))
    day = local.date()
    return day - timedelta(days=1) if local.time() < ROTATE_AT else day


def next_rotation(now: datetime, timezone: str) -> datetime:
    """The first 04:00 outlet time strictly after `now`, in UTC: when the current pass
    stops working."""
    zone = ZoneInfo(timezone)
    day = business_date(now, timezone) + timedelta(days=1)
    return datetime.combine(day, ROTATE_AT, tzinfo=zone).astimezone(UTC)
