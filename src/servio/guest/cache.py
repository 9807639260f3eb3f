"""In-process cache of rendered guest menus (the JSON bytes, ready to send).

Keys include the outlet's `menu_version` (and its profile `version`), which every menu
write bumps, so a write makes the old entries unreachable at once; they are never
invalidated explicitly, just pushed out by the LRU bound. Each process keeps its own
copy: a miss costs one render, and all processes agree because they key on the version
they read from the database in the same request.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from servio.i18n import Lang

DEFAULT_MAX_ENTRIES = 512


@dataclass(frozen=True, slots=True)
class MenuCacheKey:
    outlet_id: str
    menu_version: int
    outlet_version: int
    lang: Lang
    filter_text: str  # MenuFilter.canonical()


class RenderedMenuCache:
    """A bounded LRU of `MenuCacheKey` → JSON bytes. Safe on one event loop without a lock:
    `get` and `put` never await, so they cannot interleave."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: OrderedDict[MenuCacheKey, bytes] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: MenuCacheKey) -> bytes | None:
        body = self._entries.get(key)
        if body is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return body

    def put(self, key: MenuCacheKey, body: bytes) -> None:
        self._entries[key] = body
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
