"""The server-side price of one unit of a menu item with its chosen modifiers. Pure: the
caller loads an `ItemSnapshot` (see `menu.service.price_snapshot`) and passes the modifier
ids the guest or cashier picked; nothing here touches the database or trusts a client price.

    priced = price_item(snapshot, ["mod_medium", "mod_extra_paneer"])
    priced.unit_price  # item price + sum of the chosen modifiers' deltas, minor units

Rules:
- A repeated modifier id means "that modifier N times" (two extra cheese): it adds its
  delta N times and counts N towards its group's `max_select`. Order never matters.
- A group's effective minimum is `min_select`, raised to 1 when `required`.
- A combo is priced at its own `price`; its fixed components add nothing, but each must be
  available, or the combo is `ITEM_UNAVAILABLE`.
- Every problem with the modifiers is collected (not just the first) into one
  `InvalidModifiers` (422 `INVALID_MODIFIERS`) carrying a list of `Violation`s.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from servio.kit.errors import ProblemError

ItemKind = Literal["item", "combo"]


@dataclass(frozen=True)
class ModifierSnapshot:
    id: str
    group_id: str
    name: str
    price_delta: int
    is_available: bool = True
    position: int = 0
    name_i18n: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModifierGroupSnapshot:
    id: str
    name: str
    min_select: int
    max_select: int
    required: bool
    modifiers: tuple[ModifierSnapshot, ...] = ()
    name_i18n: Mapping[str, str] = field(default_factory=dict)

    @property
    def minimum(self) -> int:
        return max(self.min_select, 1 if self.required else 0)


@dataclass(frozen=True)
class ComboComponentSnapshot:
    item_id: str
    name: str
    qty: int
    is_available: bool = True


@dataclass(frozen=True)
class ItemSnapshot:
    """What pricing needs to know about one item, as it is in the database right now."""

    id: str
    name: str
    price: int
    kind: ItemKind = "item"
    is_available: bool = True
    gst_rate: str = "5"
    hsn: str = "996331"
    station: str = "kitchen"
    groups: tuple[ModifierGroupSnapshot, ...] = ()  # in the item's display order
    allergens: tuple[str, ...] = ()  # frozen onto order lines for the kitchen
    components: tuple[ComboComponentSnapshot, ...] = ()  # combos only


class ViolationReason(StrEnum):
    BELOW_MIN = "below_min"
    ABOVE_MAX = "above_max"
    REQUIRED_MISSING = "required_missing"
    UNKNOWN_MODIFIER = "unknown_modifier"
    GROUP_NOT_ATTACHED = "group_not_attached"
    MODIFIER_UNAVAILABLE = "modifier_unavailable"


@dataclass(frozen=True)
class Violation:
    reason: ViolationReason
    detail: str
    group_id: str | None = None
    modifier_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason.value,
            "group_id": self.group_id,
            "modifier_id": self.modifier_id,
            "detail": self.detail,
        }


class PricingError(ProblemError):
    """Base of the two pricing refusals; both are 422 with a stable code."""


class ItemUnavailable(PricingError):
    def __init__(self, item_id: str, detail: str) -> None:
        self.item_id = item_id
        super().__init__(
            422,
            "ITEM_UNAVAILABLE",
            detail,
            hint="remove the item or pick another one",
            extra={"menu_item_id": item_id},
        )


class InvalidModifiers(PricingError):
    def __init__(self, item_id: str, violations: Iterable[Violation]) -> None:
        self.item_id = item_id
        self.violations = tuple(violations)
        super().__init__(
            422,
            "INVALID_MODIFIERS",
            "; ".join(v.detail for v in self.violations) or "the modifiers are not valid",
            hint="check each group's minimum and maximum and pick available modifiers",
            extra={
                "menu_item_id": item_id,
                "violations": [v.as_dict() for v in self.violations],
            },
        )


@dataclass(frozen=True)
class ChosenModifier:
    modifier_id: str
    group_id: str
    name: str
    price_delta: int  # per unit of the modifier
    qty: int

    @property
    def total(self) -> int:
        return self.price_delta * self.qty


@dataclass(frozen=True)
class PricedItem:
    item_id: str
    base_price: int
    modifiers: tuple[ChosenModifier, ...]  # canonical order: group, then modifier position
    unit_price: int


def price_item(
    item: ItemSnapshot,
    chosen: Iterable[str],
    *,
    modifier_groups: Mapping[str, str] | None = None,
) -> PricedItem:
    """Validate `chosen` modifier ids against `item` and price one unit.

    `modifier_groups` (modifier id → group id for the outlet's other modifiers) lets an id
    that exists but belongs to a group not attached to this item be reported as
    `group_not_attached` instead of `unknown_modifier`.

    Raises `ItemUnavailable` or `InvalidModifiers`.
    """
    _check_available(item)
    counts = Counter(chosen)
    offered = {m.id: m for group in item.groups for m in group.modifiers}
    violations = _foreign_choices(counts, offered, modifier_groups or {})

    picked: list[ChosenModifier] = []
    for group in item.groups:
        in_group = [(m, counts[m.id]) for m in group.modifiers if counts[m.id] > 0]
        violations.extend(_group_violations(group, sum(qty for _, qty in in_group)))
        for modifier, qty in in_group:
            if not modifier.is_available:
                violations.append(
                    Violation(
                        ViolationReason.MODIFIER_UNAVAILABLE,
                        f"{modifier.name} is not available right now",
                        group.id,
                        modifier.id,
                    )
                )
            picked.append(
                ChosenModifier(modifier.id, group.id, modifier.name, modifier.price_delta, qty)
            )
    if violations:
        raise InvalidModifiers(item.id, violations)
    return PricedItem(
        item_id=item.id,
        base_price=item.price,
        modifiers=tuple(picked),
        unit_price=item.price + sum(m.total for m in picked),
    )


def unit_price(
    item: ItemSnapshot,
    chosen: Iterable[str],
    *,
    modifier_groups: Mapping[str, str] | None = None,
) -> int:
    """`price_item(...).unit_price`."""
    return price_item(item, chosen, modifier_groups=modifier_groups).unit_price


def price_line(
    snapshots: Mapping[str, ItemSnapshot],
    item_id: str,
    chosen: Iterable[str],
    *,
    modifier_groups: Mapping[str, str] | None = None,
) -> PricedItem:
    """Price an item looked up in `snapshots` (from `price_snapshot`); an id missing there
    (unknown, deleted, another outlet's) is `ITEM_UNAVAILABLE`."""
    item = snapshots.get(item_id)
    if item is None:
        raise ItemUnavailable(item_id, "this item is not on the menu")
    return price_item(item, chosen, modifier_groups=modifier_groups)


def _check_available(item: ItemSnapshot) -> None:
    if not item.is_available:
        raise ItemUnavailable(item.id, f"{item.name} is out of stock")
    for part in item.components:
        if not part.is_available:
            raise ItemUnavailable(item.id, f"{item.name}: {part.name} is out of stock")


def _foreign_choices(
    counts: Counter[str], offered: Mapping[str, ModifierSnapshot], known: Mapping[str, str]
) -> list[Violation]:
    violations: list[Violation] = []
    for modifier_id in sorted(counts):
        if modifier_id in offered:
            continue
        if modifier_id in known:
            violations.append(
                Violation(
                    ViolationReason.GROUP_NOT_ATTACHED,
                    "this modifier belongs to a group the item does not offer",
                    known[modifier_id],
                    modifier_id,
                )
            )
        else:
            violations.append(
                Violation(
                    ViolationReason.UNKNOWN_MODIFIER,
                    "there is no such modifier",
                    None,
                    modifier_id,
                )
            )
    return violations


def _group_violations(group: ModifierGroupSnapshot, picked: int) -> list[Violation]:
    if picked == 0 and group.required:
        return [
            Violation(ViolationReason.REQUIRED_MISSING, f"choose a {group.name.lower()}", group.id)
        ]
    if picked < group.minimum:
        return [
            Violation(
                ViolationReason.BELOW_MIN,
                f"{group.name}: choose at least {group.minimum}",
                group.id,
            )
        ]
    if picked > group.max_select:
        return [
            Violation(
                ViolationReason.ABOVE_MAX,
                f"{group.name}: choose at most {group.max_select}",
                group.id,
            )
        ]
    return []
