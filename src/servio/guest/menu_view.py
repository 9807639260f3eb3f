"""The guest's view of a menu: localized, filtered, stripped of internal fields, rendered
once to JSON bytes and cached (`guest.cache`). Pure: rows in, bytes out.

What guests never see: tenant ids, GST/HSN codes, kitchen stations, deleted rows. What
they do see but cannot order: out-of-stock items (`is_available: false`), and combos with
an unavailable part.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from servio.guest.filters import MenuFilter
from servio.i18n import Lang, label, labels
from servio.menu.pricing import ModifierGroupSnapshot, ModifierSnapshot
from servio.menu.snapshot import MenuEntry, MenuSnapshot

# The label groups the guest menu screen uses; the reply carries them in its language.
MENU_LABEL_PREFIXES = (
    "action.",
    "menu.",
    "category.",
    "dietary.",
    "allergen.",
    "item.",
    "cart.",
    "order.",
    "service_point.",
    "bill.",  # the bill and split screens (guest-bill.js, loaded on demand)
    "updates.",  # the WhatsApp order-updates opt-in (guest-order.js)
)
UNCATEGORISED_ID = "uncategorised"
COMBOS_ID = "combos"
# Sections for items without a live category, shown last, under translated names.
FALLBACK_SECTIONS = ((COMBOS_ID, "category.combos"), (UNCATEGORISED_ID, "category.uncategorised"))


@dataclass(frozen=True, slots=True)
class OutletView:
    """The outlet fields the reply shows."""

    name: str
    currency: str
    locale: str
    timezone: str


ImageUrl = Callable[[str], str | None]  # media id → URL (None when the image is gone)


def localized(base: str, translations: Mapping[str, str] | None, lang: Lang) -> str:
    """The text in `lang`, else the base text (the owner's own language)."""
    if translations:
        text = translations.get(lang)
        if text and text.strip():
            return text
    return base


def render_menu(
    menu: MenuSnapshot,
    outlet: OutletView,
    lang: Lang,
    menu_filter: MenuFilter,
    image_url: ImageUrl,
) -> bytes:
    """The menu body (without the service point, which `with_service_point` splices in
    per request so one cached body serves every table of the outlet)."""
    entries = {entry.id: entry for entry in menu.items}
    live_categories = {category.id for category in menu.categories}
    sections: dict[str, list[dict[str, Any]]] = {}
    for entry in menu.items:
        view = _item(entry, entries, lang, outlet.currency, image_url)
        if not menu_filter.keeps(view["dietary"], view["allergens"]):
            continue
        if entry.category_id in live_categories:
            section = entry.category_id
        else:
            section = COMBOS_ID if entry.item.kind == "combo" else UNCATEGORISED_ID
        sections.setdefault(section, []).append(view)

    categories = [
        {"id": c.id, "name": localized(c.name, c.name_i18n, lang), "items": sections[c.id]}
        for c in menu.categories
        if sections.get(c.id)
    ]
    for section_id, key in FALLBACK_SECTIONS:
        if sections.get(section_id):
            categories.append(
                {"id": section_id, "name": label(lang, key), "items": sections[section_id]}
            )

    body = {
        "outlet": {
            "name": outlet.name,
            "currency": outlet.currency,
            "locale": outlet.locale,
            "timezone": outlet.timezone,
        },
        "menu_version": menu.menu_version,
        "language": lang,
        "filter": menu_filter.canonical(),
        "categories": categories,
        "labels": labels(lang, MENU_LABEL_PREFIXES),
    }
    return orjson.dumps(body)


def with_service_point(body: bytes, kind: str, label_text: str) -> bytes:
    """`body` (a JSON object) with `"service_point": {...}` as its first member. Byte
    splicing instead of parse + dump keeps a cache hit free of JSON work."""
    point = orjson.dumps({"service_point": {"kind": kind, "label": label_text}})
    return point[:-1] + b"," + body[1:]


def _item(
    entry: MenuEntry,
    entries: Mapping[str, MenuEntry],
    lang: Lang,
    currency: str,
    image_url: ImageUrl,
) -> dict[str, Any]:
    item = entry.item
    allergens = set(entry.allergens)
    available = item.is_available
    view: dict[str, Any] = {
        "id": item.id,
        "kind": item.kind,
        "name": localized(item.name, entry.name_i18n, lang),
        "description": localized(entry.description, entry.description_i18n, lang),
        "price": item.price,
        "currency": currency,
    }
    if item.kind == "combo":
        components = []
        for component in item.components:
            part = entries.get(component.item_id)
            part_available = component.is_available and part is not None
            available = available and part_available
            if part is not None:
                allergens.update(part.allergens)  # a combo contains what its parts contain
            components.append(
                {
                    "item_id": component.item_id,
                    "name": localized(
                        component.name, part.name_i18n if part is not None else None, lang
                    ),
                    "qty": component.qty,
                    "is_available": part_available,
                }
            )
        view["components"] = components
    view.update(
        {
            "dietary": sorted(set(entry.dietary)),
            "allergens": sorted(allergens),
            "is_available": available,
            "image_url": image_url(entry.image_id) if entry.image_id else None,
            "modifier_groups": [_group(group, lang) for group in item.groups],
        }
    )
    return view


def _group(group: ModifierGroupSnapshot, lang: Lang) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": localized(group.name, group.name_i18n, lang),
        "min_select": group.minimum,
        "max_select": group.max_select,
        "required": group.required,
        "modifiers": [_modifier(m, lang) for m in group.modifiers],
    }


def _modifier(modifier: ModifierSnapshot, lang: Lang) -> dict[str, Any]:
    return {
        "id": modifier.id,
        "name": localized(modifier.name, modifier.name_i18n, lang),
        "price_delta": modifier.price_delta,
        "is_available": modifier.is_available,
    }
