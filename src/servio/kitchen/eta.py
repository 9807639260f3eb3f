"""Order ETA from preparation-time averages (RT-04), pure: no I/O, no clock.

The kitchen keeps an exponential moving average of how long an item takes from the moment
its station gets the ticket (`queued`) until it is `ready`, per outlet and menu item, plus
an outlet-wide average (`menu_item_id = ""`) for items never timed. A new sample moves the
average by `ALPHA`:

    ema' = ALPHA · sample + (1 - ALPHA) · ema          (the first sample is the average)

An item's remaining time is `max(0, estimate - elapsed)`; an order's is the largest among
its items still being made. Finished items (`ready`, `served`) and voided ones count 0, and
an order that is `ready` or beyond is exactly 0 — so the guest's countdown only ever goes
down and ends at 0 the moment the food is ready.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

ALPHA: Final[float] = 0.3
OUTLET_WIDE: Final[str] = ""  # PrepTimeStat.menu_item_id of the outlet-wide average

# Item states whose remaining time is 0 (done, or never to be made).
ITEM_DONE: Final[frozenset[str]] = frozenset({"ready", "served", "voided"})
# Order states whose ETA is exactly 0.
ORDER_DONE: Final[frozenset[str]] = frozenset({"ready", "out_for_delivery", "served", "completed"})
# Order states that carry no ETA at all (nothing will come).
ORDER_NO_ETA: Final[frozenset[str]] = frozenset({"cancelled", "refunded"})


def update_ema(previous: float | None, sample: float, alpha: float = ALPHA) -> float:
    """The average after one more sample (negative samples count as 0)."""
    sample = max(0.0, float(sample))
    if previous is None:
        return sample
    return alpha * sample + (1.0 - alpha) * float(previous)


def remaining_secs(estimate_secs: float, elapsed_secs: float, *, status: str = "queued") -> int:
    """Whole seconds left for one item: never below 0, exactly 0 once it is done."""
    if status in ITEM_DONE:
        return 0
    left = float(estimate_secs) - max(0.0, float(elapsed_secs))
    return max(0, math.ceil(left)) if math.isfinite(left) else 0


def estimate_for(menu_item_id: str, averages: Mapping[str, float], default_secs: float) -> float:
    """The item's own average, else the outlet-wide one, else the outlet's default."""
    for key in (menu_item_id, OUTLET_WIDE):
        value = averages.get(key)
        if value is not None and value >= 0:
            return float(value)
    return max(0.0, float(default_secs))


@dataclass(frozen=True)
class ItemTiming:
    """One line of an order as the ETA sees it."""

    menu_item_id: str
    status: str
    elapsed_secs: float  # since its station got the ticket


def order_remaining_secs(
    items: Iterable[ItemTiming],
    averages: Mapping[str, float],
    default_secs: float,
    *,
    order_status: str = "in_queue",
) -> int | None:
    """The order's ETA in seconds: None for a cancelled or refunded order, 0 once it is
    ready or beyond, otherwise the longest remaining time among its items (0 when every
    item is done; the default estimate when the order has no lines yet)."""
    if order_status in ORDER_NO_ETA:
        return None
    if order_status in ORDER_DONE:
        return 0
    timings = list(items)
    if not timings:
        return remaining_secs(default_secs, 0)
    return max(
        remaining_secs(
            estimate_for(t.menu_item_id, averages, default_secs), t.elapsed_secs, status=t.status
        )
        for t in timings
    )
