"""Which pricing rules and price lists are in force, and for which items. Pure: no I/O.

A window is days (`mon`…`sun`, empty = every day) plus an optional outlet-local
`start_time`-`end_time` ("17:00"-"19:00"). An end at or before the start runs past midnight
and belongs to the day it STARTS: a Friday "22:00"-"02:00" window covers Friday 22:00 up to
Saturday 02:00 (and not Saturday 22:00 unless Saturday is listed too). No times means the
whole day; only a start means "from then to midnight"; only an end means "midnight to then".
`valid_from` / `valid_to` are UTC instants (`valid_from <= at < valid_to`).

Targets: `item_ids` and `category_ids` together name the items a rule applies to (an item
matches when its id or its category is named); both empty means every item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from servio.kit.clock import as_utc

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

RuleKind = Literal["happy_hour", "payment_type", "promotion"]


@dataclass(frozen=True)
class Window:
    days: tuple[str, ...] = ()
    start_time: str | None = None  # "HH:MM", outlet-local
    end_time: str | None = None
    valid_from: datetime | None = None  # UTC
    valid_to: datetime | None = None


@dataclass(frozen=True)
class RuleSpec:
    """A pricing rule as the engine sees it (from a `PricingRule` row)."""

    id: str
    name: str
    kind: RuleKind
    adjustment: Literal["percent", "flat"]
    direction: Literal["discount", "surcharge"]
    percent: Decimal | None = None  # adjustment percent
    amount: int | None = None  # adjustment flat, minor units per unit
    window: Window = field(default_factory=Window)
    payment_type: str | None = None  # kind payment_type: the bill is paid this way
    item_ids: frozenset[str] = frozenset()
    category_ids: frozenset[str] = frozenset()
    priority: int = 0
    is_active: bool = True


@dataclass(frozen=True)
class PriceListSpec:
    """A price list as the engine sees it (from a `PriceList` row)."""

    id: str
    name: str
    prices: Mapping[str, int] = field(default_factory=dict)  # menu item id → unit price
    window: Window = field(default_factory=Window)
    priority: int = 0
    is_active: bool = True


def parse_hhmm(value: str) -> time:
    """ "17:30" → time(17, 30); "24:00" is accepted as the end of the day (23:59:59.999999)."""
    hours, _, minutes = value.partition(":")
    if len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(f"expected HH:MM, got {value!r}")
    h, m = int(hours), int(minutes)
    if (h, m) == (24, 0):
        return time.max
    if h > 23 or m > 59:
        raise ValueError(f"expected HH:MM, got {value!r}")
    return time(h, m)


def local_time(at: datetime, timezone: str) -> datetime:
    """`at` (UTC, naive read as UTC) on the outlet's clock."""
    return as_utc(at).astimezone(ZoneInfo(timezone))


def _day(local: datetime, offset: int = 0) -> str:
    return DAYS[(local.weekday() + offset) % 7]


def window_in_force(window: Window, at: datetime, timezone: str) -> bool:
    """Whether `window` covers the instant `at` (UTC) at an outlet in `timezone`."""
    utc = as_utc(at)
    if window.valid_from is not None and utc < as_utc(window.valid_from):
        return False
    if window.valid_to is not None and utc >= as_utc(window.valid_to):
        return False
    local = local_time(utc, timezone)
    days = {d.strip().lower()[:3] for d in window.days}
    clock = local.time().replace(tzinfo=None)
    start = parse_hhmm(window.start_time) if window.start_time else None
    end = parse_hhmm(window.end_time) if window.end_time else None
    if start is None and end is None:
        return not days or _day(local) in days
    if start is not None and end is not None and end <= start:
        # Past midnight: the evening part belongs to today, the morning part to yesterday.
        if clock >= start:
            return not days or _day(local) in days
        if clock < end:
            return not days or _day(local, -1) in days
        return False
    after_start = start is None or clock >= start
    before_end = end is None or clock < end
    return after_start and before_end and (not days or _day(local) in days)


def applies_to(
    item_ids: frozenset[str], category_ids: frozenset[str], item_id: str, category_id: str | None
) -> bool:
    """Whether a rule with these targets applies to the item (empty targets: every item)."""
    if not item_ids and not category_ids:
        return True
    return item_id in item_ids or (category_id is not None and category_id in category_ids)


def rule_in_force(
    rule: RuleSpec,
    *,
    item_id: str,
    category_id: str | None,
    at: datetime,
    timezone: str,
    payment_type: str | None,
    happy_hours_enabled: bool,
) -> bool:
    """Whether `rule` changes the price of this item at `at`.

    happy_hour rules only while the outlet's `FLAG_HAPPY_HOUR` is on; payment_type rules only
    when the bill's payment type is the rule's; promotions whenever their window is open."""
    if not rule.is_active:
        return False
    if rule.kind == "happy_hour" and not happy_hours_enabled:
        return False
    if rule.kind == "payment_type" and (
        payment_type is None or rule.payment_type is None or payment_type != rule.payment_type
    ):
        return False
    if not applies_to(rule.item_ids, rule.category_ids, item_id, category_id):
        return False
    return window_in_force(rule.window, at, timezone)


def list_price(
    price_lists: tuple[PriceListSpec, ...] | list[PriceListSpec],
    *,
    item_id: str,
    at: datetime,
    timezone: str,
) -> tuple[PriceListSpec, int] | None:
    """The price list in force at `at` that prices `item_id`, with its price: the highest
    priority wins, ties go to the smallest list id (stable)."""
    candidates = [
        pl
        for pl in price_lists
        if pl.is_active and item_id in pl.prices and window_in_force(pl.window, at, timezone)
    ]
    if not candidates:
        return None
    best = min(candidates, key=lambda pl: (-pl.priority, pl.id))
    return best, int(best.prices[item_id])
