"""Per-process memory of pricing snapshots, keyed by the outlet's `menu_version`.

Every cart write and every order prices its lines from the menu; reading the items, their
modifier groups and modifiers each time was four to six queries per request. Every menu
write bumps `outlets.menu_version` in its own transaction (`menu.repository`), so what was
read under one version stays true for as long as the outlet is at that version: a caller
that has just read the version (with the outlet row it needed anyway) can reuse snapshots
stored under it, and a write makes them unreachable at once. Each process keeps its own
copy; processes agree because they key on the version read from the database.

A reader under PostgreSQL's read committed may see rows slightly newer than the version it
read (a menu write committed in between); that only affects an entry for the older
version, which no later request asks for. Safe on one event loop without a lock: nothing
here awaits.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from servio.menu.pricing import ItemSnapshot

MAX_OUTLETS = 512
# Unknown ids are remembered too (as "not orderable"); a client sending made-up ids must
# not grow an entry without bound, so beyond this it is simply not remembered.
MAX_IDS_PER_OUTLET = 20_000


@dataclass
class _Entry:
    menu_version: int
    items: dict[str, ItemSnapshot | None] = field(default_factory=dict)
    modifier_groups: dict[str, str | None] = field(default_factory=dict)


class PriceCache:
    def __init__(self, max_outlets: int = MAX_OUTLETS) -> None:
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self._max_outlets = max_outlets

    def clear(self) -> None:
        self._entries.clear()

    def _entry(self, tenant_id: str, outlet_id: str, menu_version: int) -> _Entry | None:
        key = (tenant_id, outlet_id)
        entry = self._entries.get(key)
        if entry is None or entry.menu_version < menu_version:
            entry = _Entry(menu_version)
            self._entries[key] = entry
            while len(self._entries) > self._max_outlets:
                self._entries.popitem(last=False)
        elif entry.menu_version > menu_version:
            return None  # a reader behind a newer write: neither use nor overwrite
        self._entries.move_to_end(key)
        return entry

    def items(
        self, tenant_id: str, outlet_id: str, menu_version: int, ids: Iterable[str]
    ) -> tuple[dict[str, ItemSnapshot], set[str]]:
        """(known snapshots among `ids`, ids this version has not seen yet)."""
        entry = self._entry(tenant_id, outlet_id, menu_version)
        wanted = set(ids)
        if entry is None:
            return {}, wanted
        found: dict[str, ItemSnapshot] = {}
        missing: set[str] = set()
        for item_id in wanted:
            if item_id not in entry.items:
                missing.add(item_id)
            elif (snapshot := entry.items[item_id]) is not None:
                found[item_id] = snapshot
        return found, missing

    def store_items(
        self,
        tenant_id: str,
        outlet_id: str,
        menu_version: int,
        asked: Iterable[str],
        snapshots: Mapping[str, ItemSnapshot],
    ) -> None:
        entry = self._entry(tenant_id, outlet_id, menu_version)
        if entry is None:
            return
        for item_id in asked:
            if len(entry.items) >= MAX_IDS_PER_OUTLET:
                return
            entry.items[item_id] = snapshots.get(item_id)

    def modifier_groups(
        self, tenant_id: str, outlet_id: str, menu_version: int, ids: Iterable[str]
    ) -> tuple[dict[str, str], set[str]]:
        """(modifier id → group id among `ids`, ids this version has not seen yet)."""
        entry = self._entry(tenant_id, outlet_id, menu_version)
        wanted = set(ids)
        if entry is None:
            return {}, wanted
        found: dict[str, str] = {}
        missing: set[str] = set()
        for modifier_id in wanted:
            if modifier_id not in entry.modifier_groups:
                missing.add(modifier_id)
            elif (group_id := entry.modifier_groups[modifier_id]) is not None:
                found[modifier_id] = group_id
        return found, missing

    def store_modifier_groups(
        self,
        tenant_id: str,
        outlet_id: str,
        menu_version: int,
        asked: Iterable[str],
        groups: Mapping[str, str],
    ) -> None:
        entry = self._entry(tenant_id, outlet_id, menu_version)
        if entry is None:
            return
        for modifier_id in asked:
            if len(entry.modifier_groups) >= MAX_IDS_PER_OUTLET:
                return
            entry.modifier_groups[modifier_id] = groups.get(modifier_id)


price_cache = PriceCache()
