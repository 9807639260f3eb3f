"""A card-number (PAN) scanner for test evidence: database dumps, logs, outbox payloads and
webhook bodies. Written independently of `servio.payments.card_guard` so it can judge it.

A finding is a run of 13-19 digits (single spaces or dashes allowed between digits, the way
people and terminals write card numbers; not part of a longer digit run) that
- passes the Luhn check, and
- starts with 2, 3, 4, 5 or 6: the ISO/IEC 7812 major industry identifiers of every card
  brand (Mastercard 2/5, Amex/Diners/JCB 3, Visa 4, Discover/RuPay/UnionPay/Maestro 6).

The second rule is what keeps ids out: Unix times in milliseconds (13 digits) and in
nanoseconds (19 digits) start with 1 until the year 2286, and ULIDs are letters and digits;
one in ten of those timestamps would otherwise pass Luhn by chance.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_RUN = re.compile(r"(?<![0-9])(?:[0-9][ -]?){12,18}[0-9](?![0-9])")
CARD_MII = frozenset("23456")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


@dataclass(frozen=True)
class Finding:
    where: str
    masked: str  # first 6 and last 4 digits only: a report must not leak what it found


def card_numbers(text: str) -> Iterator[str]:
    """Every card-number-shaped digit string in `text` (separators removed)."""
    for match in _RUN.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and digits[0] in CARD_MII and luhn_ok(digits):
            yield digits


def scan(sources: Iterable[tuple[str, str]]) -> list[Finding]:
    """Scan (where, text) pairs; findings are masked."""
    return [
        Finding(where, f"{pan[:6]}…{pan[-4:]}")
        for where, text in sources
        for pan in card_numbers(text)
    ]
