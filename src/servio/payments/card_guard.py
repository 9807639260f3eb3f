"""Refuse anything that looks like card data (PAY-01: card payments carry a terminal or
provider token, never a PAN, CVV or expiry). Pure, no I/O.

A request is refused when
- any key of the body (at any depth) names card data (`pan`, `card_number`, `cvv`, `cvc`,
  `expiry`, …), or
- any string value contains a run of 13-19 digits (spaces or dashes allowed between
  digits) that passes the Luhn check — the shape of every payment card number.

The finding names the field, never the value, so nothing downstream (logs, problem
replies, the idempotency store) ever holds the number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

# Keys compared with everything but letters and digits removed, lower-cased.
CARD_KEYS: Final[frozenset[str]] = frozenset(
    {
        "pan",
        "cardnumber",
        "cardno",
        "cardnum",
        "ccnumber",
        "creditcard",
        "creditcardnumber",
        "debitcardnumber",
        "primaryaccountnumber",
        "cvv",
        "cvv2",
        "cvc",
        "cvc2",
        "csc",
        "securitycode",
        "cardsecuritycode",
        "expiry",
        "expirydate",
        "expiration",
        "expirationdate",
        "exp",
        "expmonth",
        "expyear",
        "cardexpiry",
        "track1",
        "track2",
        "trackdata",
        "magstripe",
    }
)
# 13-19 digits, optionally separated by single spaces or dashes, not part of a longer run.
_DIGIT_RUN: Final = re.compile(r"(?<![0-9])(?:[0-9][ -]?){12,18}[0-9](?![0-9])")
_SEPARATORS: Final = re.compile(r"[ -]")
_NON_ALNUM: Final = re.compile(r"[^a-z0-9]")


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check every payment card number passes."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def looks_like_pan(text: str) -> bool:
    """True when `text` contains a 13-19 digit run (spaces/dashes allowed) passing Luhn."""
    for match in _DIGIT_RUN.finditer(text):
        digits = _SEPARATORS.sub("", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


def is_card_key(key: str) -> bool:
    return _NON_ALNUM.sub("", key.lower()) in CARD_KEYS


def _walk(value: Any, path: str) -> Iterator[tuple[str, str | None, Any]]:
    """(path, key or None, value) for every node below `value`."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            child_path = f"{path}.{key}" if path else str(key)
            yield child_path, str(key), child
            yield from _walk(child, child_path)
    elif isinstance(value, list | tuple):
        for index, child in enumerate(value):
            child_path = f"{path}[{index}]"
            yield child_path, None, child
            yield from _walk(child, child_path)


def find_card_data(body: Any) -> str | None:
    """The path of the first field that is or holds card data, or None."""
    if isinstance(body, str):
        return "" if looks_like_pan(body) else None
    for path, key, value in _walk(body, ""):
        if key is not None and is_card_key(key):
            return path
        if isinstance(value, str) and looks_like_pan(value):
            return path
    return None
