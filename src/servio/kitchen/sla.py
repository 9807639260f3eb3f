"""Kitchen SLA rules (KDS-02, BEY-05), pure: no I/O, no clock — `now` is passed in.

An item that stays `in_progress` longer than the outlet's `kds_sla_secs` is *breached* and
escalates by role, one level at a time:

| level | who       | due when the item has been cooking longer than                         |
|-------|-----------|------------------------------------------------------------------------|
| 1     | expo      | `kds_sla_secs` (900 by default)                                        |
| 2     | manager   | half-way between level 1 and level 3: `sla + (owner - sla) // 2`       |
| 3     | owner     | `kds_sla_owner_alert_secs` (1800 by default), never earlier than level 1 |

With the defaults that is 900 s, 1350 s and 1800 s. "Longer than" is strict: at exactly
900 s nothing is due, at 900.001 s level 1 is. If the owner threshold is set at or below the
SLA, all three levels fall due together at the SLA. Levels only ever accumulate (a later
time never has fewer levels due), and each level of an item is raised once: `due_breaches`
leaves out the levels already raised, and the database's unique (order_line_id, level) key
is what makes that hold across workers.

`overdue_secs` is always measured from the SLA (level 1), whatever the level, so every
screen shows the same "late by" figure for an item.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

LEVEL_EXPO = 1
LEVEL_MANAGER = 2
LEVEL_OWNER = 3
LEVELS: tuple[int, ...] = (LEVEL_EXPO, LEVEL_MANAGER, LEVEL_OWNER)
ROLES: dict[int, str] = {LEVEL_EXPO: "expo", LEVEL_MANAGER: "manager", LEVEL_OWNER: "owner"}

OWNER_SUMMARY_TOP_N = 5  # items and tables in the owner summary
NO_TABLE = None  # counter, room-service and staff orders without a table label


@dataclass(frozen=True)
class Thresholds:
    """Seconds of cooking after which each level is due (strictly longer than)."""

    expo_secs: int
    manager_secs: int
    owner_secs: int

    def for_level(self, level: int) -> int:
        return {
            LEVEL_EXPO: self.expo_secs,
            LEVEL_MANAGER: self.manager_secs,
            LEVEL_OWNER: self.owner_secs,
        }[level]


def thresholds(sla_secs: int, owner_alert_secs: int) -> Thresholds:
    """The escalation ladder of an outlet from its two settings (see the module doc)."""
    sla = max(1, int(sla_secs))
    owner = max(sla, int(owner_alert_secs))
    return Thresholds(expo_secs=sla, manager_secs=sla + (owner - sla) // 2, owner_secs=owner)


def cooking_time(started_at: datetime, now: datetime) -> timedelta:
    """How long an item has been cooking; never negative (clock skew between writers)."""
    return max(timedelta(0), now - started_at)


def whole_secs(delta: timedelta) -> int:
    return int(delta.total_seconds())


def levels_due(cooking: timedelta, ladder: Thresholds) -> tuple[int, ...]:
    """Every level due after `cooking` — always a prefix of (1, 2, 3)."""
    return tuple(level for level in LEVELS if cooking > timedelta(seconds=ladder.for_level(level)))


def overdue_secs(cooking: timedelta, ladder: Thresholds) -> int:
    """Whole seconds past the SLA (0 while within it)."""
    return max(0, whole_secs(cooking - timedelta(seconds=ladder.expo_secs)))


@dataclass(frozen=True)
class CookingItem:
    """An order line in progress, with what the screens and the owner need to know."""

    order_line_id: str
    order_id: str
    station: str
    name: str
    qty: int
    started_at: datetime
    table: str | None = NO_TABLE
    ticket_id: str | None = None
    ticket_no: str | None = None
    raised_levels: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class DueBreach:
    item: CookingItem
    level: int
    cooking_secs: int
    overdue_secs: int

    @property
    def role(self) -> str:
        return ROLES[self.level]


def due_breaches(
    items: Iterable[CookingItem], ladder: Thresholds, now: datetime
) -> list[DueBreach]:
    """The levels due now that were not raised yet, most delayed item first, then by level."""
    due: list[DueBreach] = []
    for item in items:
        cooking = cooking_time(item.started_at, now)
        for level in levels_due(cooking, ladder):
            if level not in item.raised_levels:
                due.append(
                    DueBreach(
                        item=item,
                        level=level,
                        cooking_secs=whole_secs(cooking),
                        overdue_secs=overdue_secs(cooking, ladder),
                    )
                )
    due.sort(key=lambda b: (-b.cooking_secs, b.item.order_line_id, b.level))
    return due


# --- the owner summary ------------------------------------------------------------------------


@dataclass(frozen=True)
class DelayedItem:
    order_line_id: str
    order_id: str
    name: str
    qty: int
    station: str
    table: str | None
    ticket_no: str | None
    cooking_secs: int
    overdue_secs: int
    level: int  # the highest level due now

    def as_dict(self) -> dict[str, Any]:
        return {
            "order_line_id": self.order_line_id,
            "order_id": self.order_id,
            "name": self.name,
            "qty": self.qty,
            "station": self.station,
            "table": self.table,
            "ticket_no": self.ticket_no,
            "cooking_secs": self.cooking_secs,
            "overdue_secs": self.overdue_secs,
            "level": self.level,
        }


@dataclass(frozen=True)
class DelayedTable:
    """A table (or, without one, a single order) with breached items."""

    table: str | None
    order_ids: tuple[str, ...]
    items: int
    max_overdue_secs: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "order_ids": list(self.order_ids),
            "items": self.items,
            "max_overdue_secs": self.max_overdue_secs,
        }


@dataclass(frozen=True)
class OwnerSummary:
    breached_items: int  # every item past the SLA right now
    items: tuple[DelayedItem, ...]  # the `top_n` most delayed
    tables: tuple[DelayedTable, ...]  # the `top_n` tables with the most delayed item

    def as_dict(self) -> dict[str, Any]:
        return {
            "breached_items": self.breached_items,
            "items": [i.as_dict() for i in self.items],
            "tables": [t.as_dict() for t in self.tables],
        }


def owner_summary(
    items: Sequence[CookingItem],
    ladder: Thresholds,
    now: datetime,
    *,
    top_n: int = OWNER_SUMMARY_TOP_N,
) -> OwnerSummary:
    """The most delayed items and tables among the items past the SLA at `now`: items by
    cooking time (longest first), tables by their most delayed item. Orders without a
    table label are grouped per order so two counter orders are not merged."""
    delayed: list[DelayedItem] = []
    for item in items:
        cooking = cooking_time(item.started_at, now)
        due = levels_due(cooking, ladder)
        if not due:
            continue
        delayed.append(
            DelayedItem(
                order_line_id=item.order_line_id,
                order_id=item.order_id,
                name=item.name,
                qty=item.qty,
                station=item.station,
                table=item.table,
                ticket_no=item.ticket_no,
                cooking_secs=whole_secs(cooking),
                overdue_secs=overdue_secs(cooking, ladder),
                level=due[-1],
            )
        )
    delayed.sort(key=lambda d: (-d.cooking_secs, d.order_line_id))

    groups: dict[tuple[str, str], list[DelayedItem]] = {}
    for d in delayed:
        key = ("table", d.table) if d.table is not None else ("order", d.order_id)
        groups.setdefault(key, []).append(d)
    tables = [
        DelayedTable(
            table=members[0].table,
            order_ids=tuple(sorted({m.order_id for m in members})),
            items=len(members),
            max_overdue_secs=max(m.overdue_secs for m in members),
        )
        for members in groups.values()
    ]
    # `delayed` is sorted, so each group's first member is its most delayed item.
    tables.sort(key=lambda t: (-t.max_overdue_secs, -t.items, t.table or "", t.order_ids))
    n = max(0, top_n)
    return OwnerSummary(
        breached_items=len(delayed), items=tuple(delayed[:n]), tables=tuple(tables[:n])
    )
