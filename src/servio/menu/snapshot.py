"""The read model of one outlet's menu at one `menu_version`, as `menu.service.load_menu`
returns it: immutable, fully resolved (groups, modifiers, combo parts), ready to render.

The guest menu renders it (and caches the rendering per outlet + version + language);
each entry's `item` is the same `ItemSnapshot` that pricing uses, so what a guest sees is
what they are charged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from servio.menu.pricing import ItemSnapshot


@dataclass(frozen=True)
class CategoryEntry:
    id: str
    name: str
    position: int
    name_i18n: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MenuEntry:
    """An active item or combo (possibly out of stock: `item.is_available` is False)."""

    item: ItemSnapshot
    category_id: str | None
    description: str = ""
    name_i18n: Mapping[str, str] = field(default_factory=dict)
    description_i18n: Mapping[str, str] = field(default_factory=dict)
    dietary: tuple[str, ...] = ()
    allergens: tuple[str, ...] = ()
    image_id: str | None = None
    position: int = 0

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def name(self) -> str:
        return self.item.name


@dataclass(frozen=True)
class MenuSnapshot:
    tenant_id: str
    outlet_id: str
    menu_version: int  # read before the rows, so the snapshot is never older than it
    currency: str
    categories: tuple[CategoryEntry, ...]  # active, in display order
    items: tuple[MenuEntry, ...]  # active, in display order; category_id None = uncategorised

    def items_in(self, category_id: str | None) -> tuple[MenuEntry, ...]:
        return tuple(entry for entry in self.items if entry.category_id == category_id)
