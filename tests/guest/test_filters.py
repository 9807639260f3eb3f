"""The `filter=` syntax of the guest menu, parsed without I/O."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.guest.filters import (
    ALLERGENS,
    DIETARY_TAGS,
    EVERYTHING,
    InvalidFilter,
    MenuFilter,
    parse_filter,
)


def test_the_seed_example_parses_to_required_and_excluded_sets() -> None:
    parsed = parse_filter("dietary:vegan,-allergen:nuts")
    assert parsed == MenuFilter(
        require_dietary=frozenset({"vegan"}), exclude_allergens=frozenset({"nuts"})
    )
    assert parsed.canonical() == "dietary:vegan,-allergen:nuts"


@pytest.mark.parametrize("text", [None, "", "  ", ",", ",,"])
def test_no_filter_keeps_everything(text: str | None) -> None:
    assert parse_filter(text) == EVERYTHING
    assert EVERYTHING.keeps(["veg"], ["nuts"])
    assert EVERYTHING.digest() == "all"


def test_spelling_does_not_matter() -> None:
    a = parse_filter(" Dietary:VEG , -allergen:Nuts,-allergen:dairy ")
    b = parse_filter("-allergen:dairy,dietary:veg,-allergen:nuts,dietary:veg")
    assert a == b
    assert a.canonical() == b.canonical() == "dietary:veg,-allergen:dairy,-allergen:nuts"
    assert a.digest() == b.digest() != "all"


def test_each_kind_of_term_keeps_or_drops_the_right_items() -> None:
    assert parse_filter("dietary:vegan").keeps(["vegan"], [])
    assert not parse_filter("dietary:vegan").keeps(["veg"], [])
    assert not parse_filter("-dietary:non_veg").keeps(["non_veg"], [])
    assert parse_filter("-dietary:non_veg").keeps(["veg"], ["dairy"])
    assert parse_filter("allergen:gluten").keeps([], ["gluten", "dairy"])
    assert not parse_filter("allergen:gluten").keeps([], ["dairy"])
    assert not parse_filter("-allergen:nuts").keeps(["vegan"], ["nuts"])
    combined = parse_filter("dietary:veg,-allergen:nuts,-allergen:dairy")
    assert combined.keeps(["veg"], ["gluten"])
    assert not combined.keeps(["veg"], ["gluten", "dairy"])
    assert not combined.keeps(["non_veg"], [])


def test_vegan_and_jain_dishes_count_as_vegetarian() -> None:
    veg = parse_filter("dietary:veg")
    assert veg.keeps(["vegan"], [])
    assert veg.keeps(["jain"], [])
    assert not veg.keeps(["egg"], [])


@pytest.mark.parametrize(
    ("text", "hint_mentions"),
    [
        ("diet:vegan", "dietary, allergen"),
        ("dietary:keto", "vegan"),
        ("-allergen:peanut", "peanuts"),
        ("vegan", "facet:value"),
        ("dietary:", "facet:value"),
        ("-", "facet:value"),
        ("dietary:vegan,-dietary:vegan", "drop one"),
        ("dietary:veg," * 40, "facet:value"),
    ],
)
def test_invalid_filters_say_what_is_valid(text: str, hint_mentions: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse_filter(text)
    assert hint_mentions in caught.value.hint


facets = st.sampled_from(
    [("dietary", tag) for tag in sorted(DIETARY_TAGS)]
    + [("allergen", name) for name in sorted(ALLERGENS)]
)
terms = st.tuples(st.booleans(), facets)


@given(st.lists(terms, max_size=8))
def test_canonical_text_parses_back_to_the_same_filter(
    chosen: list[tuple[bool, tuple[str, str]]],
) -> None:
    text = ",".join(f"{'-' if neg else ''}{facet}:{value}" for neg, (facet, value) in chosen)
    required = {(f, v) for neg, (f, v) in chosen if not neg}
    excluded = {(f, v) for neg, (f, v) in chosen if neg}
    if required & excluded:
        with pytest.raises(InvalidFilter):
            parse_filter(text)
        return
    parsed = parse_filter(text)
    assert parse_filter(parsed.canonical()) == parsed
    assert parsed.require_dietary == {v for f, v in required if f == "dietary"}
    assert parsed.exclude_allergens == {v for f, v in excluded if f == "allergen"}


@given(
    st.lists(terms, max_size=6),
    st.sets(st.sampled_from(sorted(DIETARY_TAGS))),
    st.sets(st.sampled_from(sorted(ALLERGENS))),
)
def test_keeps_is_the_conjunction_of_every_term(
    chosen: list[tuple[bool, tuple[str, str]]], tags: set[str], allergens: set[str]
) -> None:
    try:
        parsed = parse_filter(
            ",".join(f"{'-' if neg else ''}{facet}:{value}" for neg, (facet, value) in chosen)
        )
    except InvalidFilter:
        return
    effective_tags = set(tags) | ({"veg"} if tags & {"vegan", "jain"} else set())
    expected = all(
        ((value in (effective_tags if facet == "dietary" else allergens)) != neg)
        for neg, (facet, value) in chosen
    )
    assert parsed.keeps(tags, allergens) == expected


@given(st.text(max_size=100))
def test_arbitrary_text_either_parses_or_raises_invalid_filter(text: str) -> None:
    try:
        parsed = parse_filter(text)
    except InvalidFilter as exc:
        hint = exc.hint
        assert hint, text
        return
    assert parse_filter(parsed.canonical()) == parsed
