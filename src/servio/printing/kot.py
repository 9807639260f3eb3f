"""The kitchen order ticket as data, and its text layout (pure; no I/O).

`KotTicket` is what every rendering shares — ESC/POS bytes for the thermal printer
(`escpos_render`) and the 80 mm PDF/HTML (`pdf`). Layout helpers wrap to the printer's
`chars_per_line` (48: 80 mm font A; 42: 80 mm printers in 42-column mode; 32: 58 mm).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WIDTHS: Final = (32, 42, 48)
QTY_COLUMN: Final = 5  # "12 x " — names hang under their first letter
KIND_TITLE: Final = {"table": "Table", "room": "Room", "counter": "Counter"}


@dataclass(frozen=True)
class KotItem:
    name: str
    qty: int
    modifiers: tuple[str, ...] = ()
    note: str = ""
    allergens: tuple[str, ...] = ()
    voided: bool = False


@dataclass(frozen=True)
class KotTicket:
    outlet_name: str
    station: str
    ticket_no: str
    where: str  # "Table T4", "Counter C1", "Takeaway"
    placed_at: datetime  # aware, in the outlet's time zone
    order_ref: str  # last characters of the order id, for matching with the POS
    items: tuple[KotItem, ...] = field(default_factory=tuple)
    source: str = "qr"
    reprint: bool = False

    @property
    def item_count(self) -> int:
        return sum(item.qty for item in self.items if not item.voided)

    @property
    def allergens(self) -> tuple[str, ...]:
        """Every allergen on the ticket, once, in first-seen order."""
        seen: dict[str, None] = {}
        for item in self.items:
            for allergen in item.allergens:
                seen.setdefault(allergen, None)
        return tuple(seen)

    @property
    def time_text(self) -> str:
        return self.placed_at.strftime("%d %b %Y %H:%M")


def local_time(moment: datetime, timezone: str) -> datetime:
    """`moment` (UTC, naive means UTC) on the outlet's wall clock; UTC for a bad zone."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        return aware.astimezone(ZoneInfo(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        return aware.astimezone(UTC)


def where_label(kind: str | None, label: str | None, source: str) -> str:
    if kind and label:
        return f"{KIND_TITLE.get(kind, kind.title())} {label}"
    if label:
        return label
    return {"pos": "Counter", "counter": "Counter", "room": "Room"}.get(source, "Takeaway")


def modifier_names(modifiers: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    names = []
    for modifier in modifiers:
        name = str(modifier.get("name") or "").strip()
        if not name:
            continue
        qty = int(modifier.get("qty") or 1)
        names.append(f"{qty} x {name}" if qty > 1 else name)
    return tuple(names)


def allergen_names(allergens: Iterable[Any]) -> tuple[str, ...]:
    """Allergen flags as printed: upper case, de-duplicated, order kept."""
    seen: dict[str, None] = {}
    for allergen in allergens:
        text = str(allergen).strip().upper()
        if text:
            seen.setdefault(text, None)
    return tuple(seen)


def check_width(chars_per_line: int) -> int:
    if chars_per_line not in WIDTHS:
        raise ValueError(f"chars_per_line must be one of {WIDTHS}")
    return chars_per_line


def wrap(text: str, width: int, *, indent: int = 0, first_prefix: str = "") -> list[str]:
    """`text` wrapped to `width` columns; the first line starts with `first_prefix`, the
    rest hang at `indent`. Long words are broken rather than overflowing the paper."""
    first = first_prefix or " " * indent
    lines = textwrap.wrap(
        " ".join(text.split()),
        width=width,
        initial_indent=first,
        subsequent_indent=" " * indent,
        break_long_words=True,
        break_on_hyphens=False,
    )
    return lines or [first.rstrip()]


def item_lines(item: KotItem, width: int) -> list[tuple[str, str]]:
    """The printed lines of one item as (style, text); style is `item`, `modifier`,
    `note` or `allergen` (the renderer picks emphasis per style)."""
    prefix = f"{item.qty:>2} x ".ljust(QTY_COLUMN)
    name = f"VOID {item.name}" if item.voided else item.name
    lines = [("item", line) for line in wrap(name, width, indent=QTY_COLUMN, first_prefix=prefix)]
    for modifier in item.modifiers:
        lines += [
            ("modifier", line)
            for line in wrap(
                modifier, width, indent=QTY_COLUMN + 2, first_prefix=" " * QTY_COLUMN + "+ "
            )
        ]
    if item.note:
        lines += [
            ("note", line)
            for line in wrap(
                f"NOTE: {item.note}",
                width,
                indent=QTY_COLUMN + 2,
                first_prefix=" " * QTY_COLUMN + "> ",
            )
        ]
    if item.allergens:
        lines += [
            ("allergen", line)
            for line in wrap(
                "ALLERGY: " + ", ".join(item.allergens),
                width,
                indent=QTY_COLUMN + 2,
                first_prefix=" " * QTY_COLUMN + "! ",
            )
        ]
    return lines


def two_columns(left: str, right: str, width: int) -> str:
    """`left` and `right` on one line, `right` flush right (left shortened if needed)."""
    room = width - len(right) - 1
    if room < 1:
        return right[:width]
    return left[:room].ljust(room) + " " + right


def ruler(width: int) -> str:
    """`1234567890123…` up to `width`, for the test page (shows the configured width)."""
    return "".join(str(n % 10) for n in range(1, width + 1))


def sorted_items(items: Sequence[KotItem]) -> tuple[KotItem, ...]:
    """Live items first, voided last (cooks read top down)."""
    return tuple(sorted(items, key=lambda item: item.voided))
