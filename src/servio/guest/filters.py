"""The guest menu's `filter=` syntax (MENU-07), parsed without I/O.

    filter=dietary:vegan,-allergen:nuts

Comma-separated terms `[-]facet:value`. `dietary:X` keeps items tagged X, `-dietary:X`
drops them; `allergen:X` keeps only items containing allergen X, `-allergen:X` drops them.
Terms combine with AND. Facets and values are case-insensitive and checked against the
vocabularies below, so a typo is a 422 with the valid choices rather than an empty menu.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from servio.menu import vocabulary

# The menu's fixed vocabularies; each word has a label in `servio/i18n/*.json`
# (`dietary.<tag>`, `allergen.<name>`).
DIETARY_TAGS: frozenset[str] = frozenset(vocabulary.DIETARY_TAGS)
ALLERGENS: frozenset[str] = frozenset(vocabulary.ALLERGENS)
# A vegan or Jain dish is also vegetarian, whether or not the owner ticked "veg" as well.
IMPLIED_TAGS: dict[str, frozenset[str]] = {"vegan": frozenset({"veg"}), "jain": frozenset({"veg"})}
Facet = Literal["dietary", "allergen"]
VOCABULARY: dict[Facet, frozenset[str]] = {"dietary": DIETARY_TAGS, "allergen": ALLERGENS}

MAX_FILTER_LENGTH = 512
MAX_TERMS = 32


class InvalidFilter(ValueError):
    """The filter text is not valid; `hint` says what would be."""

    def __init__(self, detail: str, hint: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint


@dataclass(frozen=True)
class MenuFilter:
    """A parsed filter; the empty filter keeps everything."""

    require_dietary: frozenset[str] = frozenset()
    exclude_dietary: frozenset[str] = frozenset()
    require_allergens: frozenset[str] = frozenset()
    exclude_allergens: frozenset[str] = frozenset()

    @property
    def is_empty(self) -> bool:
        return not (
            self.require_dietary
            or self.exclude_dietary
            or self.require_allergens
            or self.exclude_allergens
        )

    def canonical(self) -> str:
        """One spelling per meaning (sorted, lower case): equal filters, equal text."""
        terms = [
            *(f"dietary:{v}" for v in sorted(self.require_dietary)),
            *(f"-dietary:{v}" for v in sorted(self.exclude_dietary)),
            *(f"allergen:{v}" for v in sorted(self.require_allergens)),
            *(f"-allergen:{v}" for v in sorted(self.exclude_allergens)),
        ]
        return ",".join(terms)

    def digest(self) -> str:
        """A short stable hash of `canonical()`; `"all"` for the empty filter."""
        if self.is_empty:
            return "all"
        return hashlib.sha256(self.canonical().encode()).hexdigest()[:12]

    def keeps(self, dietary: Iterable[str], allergens: Iterable[str]) -> bool:
        """Whether an item with these tags and allergens passes the filter."""
        tags = {t.lower() for t in dietary}
        tags.update(*(IMPLIED_TAGS.get(t, frozenset()) for t in list(tags)))
        contains = {a.lower() for a in allergens}
        return (
            self.require_dietary <= tags
            and not (self.exclude_dietary & tags)
            and self.require_allergens <= contains
            and not (self.exclude_allergens & contains)
        )


EVERYTHING = MenuFilter()


def _valid_terms_hint() -> str:
    return (
        "terms are [-]facet:value separated by commas, e.g. dietary:vegan,-allergen:nuts; "
        f"dietary: {', '.join(sorted(DIETARY_TAGS))}; allergen: {', '.join(sorted(ALLERGENS))}"
    )


def parse_filter(text: str | None) -> MenuFilter:
    """Parse `filter=` text. Empty terms (`a,,b`, a trailing comma) are ignored.

    Raises `InvalidFilter` for an unknown facet or value, a malformed term, a value both
    required and excluded, or text longer than `MAX_FILTER_LENGTH` / `MAX_TERMS` terms."""
    if text is None or not text.strip():
        return EVERYTHING
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidFilter(
            f"filter is longer than {MAX_FILTER_LENGTH} characters", _valid_terms_hint()
        )
    terms = [t.strip() for t in text.split(",") if t.strip()]
    if len(terms) > MAX_TERMS:
        raise InvalidFilter(f"filter has more than {MAX_TERMS} terms", _valid_terms_hint())
    sets: dict[tuple[Facet, bool], set[str]] = {
        (facet, negated): set() for facet in VOCABULARY for negated in (False, True)
    }
    for term in terms:
        facet, negated, value = _parse_term(term)
        sets[(facet, negated)].add(value)
    for facet in VOCABULARY:
        both = sets[(facet, False)] & sets[(facet, True)]
        if both:
            raise InvalidFilter(
                f"{facet} {', '.join(sorted(both))} is both required and excluded",
                "drop one of the two terms",
            )
    return MenuFilter(
        require_dietary=frozenset(sets[("dietary", False)]),
        exclude_dietary=frozenset(sets[("dietary", True)]),
        require_allergens=frozenset(sets[("allergen", False)]),
        exclude_allergens=frozenset(sets[("allergen", True)]),
    )


def _parse_term(term: str) -> tuple[Facet, bool, str]:
    negated = term.startswith("-")
    body = term[1:] if negated else term
    facet_text, sep, value = (part.strip().lower() for part in body.partition(":"))
    if not sep or not value:
        raise InvalidFilter(f"filter term {term!r} is not facet:value", _valid_terms_hint())
    if facet_text == "dietary":
        facet: Facet = "dietary"
    elif facet_text == "allergen":
        facet = "allergen"
    else:
        raise InvalidFilter(f"unknown filter facet {facet_text!r}", "facets are: dietary, allergen")
    if value not in VOCABULARY[facet]:
        raise InvalidFilter(
            f"unknown {facet} value {value!r}",
            f"{facet} values are: {', '.join(sorted(VOCABULARY[facet]))}",
        )
    return facet, negated, value
