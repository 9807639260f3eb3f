"""Property tests of the pure price model: valid choices cost exactly the item price plus
the chosen deltas, every kind of violation is refused, and choice order never matters."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servio.menu.pricing import (
    ComboComponentSnapshot,
    InvalidModifiers,
    ItemSnapshot,
    ItemUnavailable,
    ModifierGroupSnapshot,
    ModifierSnapshot,
    ViolationReason,
    price_item,
    price_line,
    unit_price,
)


@st.composite
def groups(draw: st.DrawFn, prefix: str = "g") -> tuple[ModifierGroupSnapshot, ...]:
    out = []
    for g in range(draw(st.integers(0, 4))):
        gid = f"{prefix}{g}"
        modifiers = tuple(
            ModifierSnapshot(
                id=f"{gid}m{m}",
                group_id=gid,
                name=f"M{m}",
                price_delta=draw(st.integers(0, 50_000)),
                is_available=True,
                position=m,
            )
            for m in range(draw(st.integers(1, 5)))
        )
        min_select = draw(st.integers(0, 3))
        max_select = draw(st.integers(max(min_select, 1), 5))
        out.append(
            ModifierGroupSnapshot(
                id=gid,
                name=f"Group {g}",
                min_select=min_select,
                max_select=max_select,
                required=draw(st.booleans()),
                modifiers=modifiers,
            )
        )
    return tuple(out)


@st.composite
def item_with_valid_choice(draw: st.DrawFn) -> tuple[ItemSnapshot, list[str]]:
    item = ItemSnapshot(
        id="item", name="Dish", price=draw(st.integers(0, 1_000_000)), groups=draw(groups())
    )
    chosen: list[str] = []
    for group in item.groups:
        low = group.minimum
        count = draw(st.integers(low, group.max_select))
        ids = [m.id for m in group.modifiers]
        chosen += draw(st.lists(st.sampled_from(ids), min_size=count, max_size=count))
    return item, draw(st.permutations(chosen))


@given(item_with_valid_choice(), st.randoms())
def test_valid_choices_cost_the_price_plus_the_deltas_in_any_order(
    case: tuple[ItemSnapshot, list[str]], rnd: object
) -> None:
    item, chosen = case
    deltas = {m.id: m.price_delta for g in item.groups for m in g.modifiers}
    priced = price_item(item, chosen)
    assert priced.unit_price == item.price + sum(deltas[c] for c in chosen)
    assert unit_price(item, chosen) == priced.unit_price
    assert sum(m.qty for m in priced.modifiers) == len(chosen)
    shuffled = list(chosen)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert price_item(item, shuffled) == priced


@st.composite
def any_choice(draw: st.DrawFn) -> tuple[ItemSnapshot, list[str], dict[str, str]]:
    """Random choices, valid or not: the item's modifiers (some unavailable), modifiers of
    groups the item does not offer, and ids that exist nowhere."""
    own = draw(groups("g"))
    own = tuple(
        replace(
            g, modifiers=tuple(replace(m, is_available=draw(st.booleans())) for m in g.modifiers)
        )
        for g in own
    )
    foreign = draw(groups("x"))
    item = ItemSnapshot(id="item", name="Dish", price=10_000, groups=own)
    pool = [m.id for g in own for m in g.modifiers] + [m.id for g in foreign for m in g.modifiers]
    pool += ["nope1", "nope2"]
    chosen = draw(st.lists(st.sampled_from(pool), max_size=10))
    known = {m.id: g.id for g in own + foreign for m in g.modifiers}
    return item, chosen, known


def expected_reasons(
    item: ItemSnapshot, chosen: list[str], known: dict[str, str]
) -> set[ViolationReason]:
    counts = Counter(chosen)
    offered = {m.id: m for g in item.groups for m in g.modifiers}
    reasons: set[ViolationReason] = set()
    for mid in counts:
        if mid not in offered:
            reasons.add(
                ViolationReason.GROUP_NOT_ATTACHED
                if mid in known
                else ViolationReason.UNKNOWN_MODIFIER
            )
        elif not offered[mid].is_available:
            reasons.add(ViolationReason.MODIFIER_UNAVAILABLE)
    for g in item.groups:
        n = sum(counts[m.id] for m in g.modifiers)
        if n == 0 and g.required:
            reasons.add(ViolationReason.REQUIRED_MISSING)
        elif n < g.min_select:
            reasons.add(ViolationReason.BELOW_MIN)
        elif n > g.max_select:
            reasons.add(ViolationReason.ABOVE_MAX)
    return reasons


@settings(max_examples=300)
@given(any_choice())
def test_every_violation_is_refused_and_named(
    case: tuple[ItemSnapshot, list[str], dict[str, str]],
) -> None:
    item, chosen, known = case
    expected = expected_reasons(item, chosen, known)
    if not expected:
        assert price_item(item, chosen, modifier_groups=known).unit_price >= item.price
        return
    with pytest.raises(InvalidModifiers) as caught:
        price_item(item, chosen, modifier_groups=known)
    assert {v.reason for v in caught.value.violations} == expected
    assert caught.value.status == 422
    assert caught.value.code == "INVALID_MODIFIERS"
    # the reversed order is refused for the same reasons
    with pytest.raises(InvalidModifiers) as again:
        price_item(item, list(reversed(chosen)), modifier_groups=known)
    assert {v.reason for v in again.value.violations} == expected


SPICE = ModifierGroupSnapshot(
    id="spice",
    name="Spice level",
    min_select=1,
    max_select=1,
    required=True,
    modifiers=(
        ModifierSnapshot("mild", "spice", "Mild", 0),
        ModifierSnapshot("hot", "spice", "Hot", 0),
    ),
)
ADD_ONS = ModifierGroupSnapshot(
    id="addons",
    name="Add-ons",
    min_select=0,
    max_select=3,
    required=False,
    modifiers=(
        ModifierSnapshot("paneer", "addons", "Extra paneer", 6000),
        ModifierSnapshot("butter", "addons", "Extra butter", 2000, is_available=False),
    ),
)
CURRY = ItemSnapshot(id="curry", name="Paneer Butter Masala", price=30000, groups=(SPICE, ADD_ONS))


def reasons(error: InvalidModifiers) -> list[tuple[str, str | None, str | None]]:
    return [(v.reason.value, v.group_id, v.modifier_id) for v in error.violations]


def test_examples_a_cashier_would_recognise() -> None:
    assert unit_price(CURRY, ["hot", "paneer", "paneer"]) == 30000 + 2 * 6000
    priced = price_item(CURRY, ["paneer", "hot"])
    assert [(m.modifier_id, m.qty) for m in priced.modifiers] == [("hot", 1), ("paneer", 1)]

    with pytest.raises(InvalidModifiers) as missing:
        price_item(CURRY, ["paneer"])
    assert reasons(missing.value) == [("required_missing", "spice", None)]
    assert missing.value.body()["violations"][0]["reason"] == "required_missing"

    with pytest.raises(InvalidModifiers) as many:
        price_item(CURRY, ["hot", "mild", "paneer", "paneer", "paneer", "paneer"])
    assert reasons(many.value) == [("above_max", "spice", None), ("above_max", "addons", None)]

    with pytest.raises(InvalidModifiers) as sold_out:
        price_item(CURRY, ["hot", "butter"])
    assert reasons(sold_out.value) == [("modifier_unavailable", "addons", "butter")]

    with pytest.raises(InvalidModifiers) as foreign:
        price_item(CURRY, ["hot", "naan", "ghost"], modifier_groups={"naan": "bread"})
    assert reasons(foreign.value) == [  # sorted by id: ghost, naan
        ("unknown_modifier", None, "ghost"),
        ("group_not_attached", "bread", "naan"),
    ]


def test_below_min_without_required() -> None:
    pick_two = ModifierGroupSnapshot(
        "sides",
        "Sides",
        2,
        3,
        False,
        (ModifierSnapshot("a", "sides", "A", 100), ModifierSnapshot("b", "sides", "B", 200)),
    )
    item = ItemSnapshot(id="meal", name="Meal", price=1000, groups=(pick_two,))
    with pytest.raises(InvalidModifiers) as caught:
        price_item(item, ["a"])
    assert reasons(caught.value) == [("below_min", "sides", None)]
    assert unit_price(item, ["a", "a"]) == 1200  # a repeated id is that modifier twice
    with pytest.raises(InvalidModifiers):
        price_item(item, [])  # min 2 applies even when the group is not "required"


def test_unavailable_items_and_combo_parts() -> None:
    with pytest.raises(ItemUnavailable) as caught:
        price_item(replace(CURRY, is_available=False), ["hot"])
    assert caught.value.code == "ITEM_UNAVAILABLE"

    combo = ItemSnapshot(
        id="thali",
        name="Veg Thali",
        price=42000,
        kind="combo",
        components=(
            ComboComponentSnapshot("dal", "Dal Makhani", 1),
            ComboComponentSnapshot("rice", "Jeera Rice", 1),
        ),
    )
    assert unit_price(combo, []) == 42000  # parts add nothing: the combo has its own price
    sold_out = replace(
        combo, components=(ComboComponentSnapshot("dal", "Dal Makhani", 1, is_available=False),)
    )
    with pytest.raises(ItemUnavailable) as part:
        price_item(sold_out, [])
    assert "Dal Makhani" in part.value.detail

    with pytest.raises(ItemUnavailable):
        price_line({"thali": combo}, "deleted-item", [])
    assert price_line({"thali": combo}, "thali", []).unit_price == 42000
