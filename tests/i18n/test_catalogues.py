"""The guest UI labels: the three catalogues agree, and `Accept-Language` picks the right one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import servio.i18n as i18n
from servio.guest.filters import ALLERGENS, DIETARY_TAGS
from servio.i18n import SUPPORTED, catalogue, catalogue_problems, label, labels, negotiate

CATALOGUE_DIR = Path(i18n.__file__).parent


def test_the_three_catalogues_have_the_same_keys_and_no_empty_values() -> None:
    assert catalogue_problems() == []
    keys = {lang: set(catalogue(lang)) for lang in SUPPORTED}
    assert keys["en"] == keys["hi"] == keys["gu"]
    assert len(keys["en"]) >= 40


def test_the_parity_check_catches_a_missing_key_an_empty_value_and_a_lost_placeholder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = {lang: json.loads((CATALOGUE_DIR / f"{lang}.json").read_text()) for lang in SUPPORTED}
    del broken["hi"]["action.add"]
    broken["gu"]["cart.total"] = "  "
    broken["gu"]["item.choose_up_to"] = "વધુમાં વધુ પસંદ કરો"
    broken["hi"]["extra.key"] = "अतिरिक्त"
    for lang, data in broken.items():
        (tmp_path / f"{lang}.json").write_text(json.dumps(data, ensure_ascii=False))

    class Files:
        def joinpath(self, name: str) -> Path:
            return tmp_path / name

    monkeypatch.setattr(i18n.resources, "files", lambda _package: Files())
    i18n.catalogue.cache_clear()
    try:
        problems = catalogue_problems()
    finally:
        i18n.catalogue.cache_clear()
    assert "hi: missing key 'action.add'" in problems
    assert "hi: key 'extra.key' is not in en.json" in problems
    assert "gu: 'cart.total' is empty" in problems
    assert "gu: 'item.choose_up_to' placeholders differ from English" in problems


def test_every_filterable_tag_and_allergen_has_a_label_in_each_language() -> None:
    for lang in SUPPORTED:
        for tag in DIETARY_TAGS:
            assert catalogue(lang).get(f"dietary.{tag}"), (lang, tag)
        for allergen in ALLERGENS:
            assert catalogue(lang).get(f"allergen.{allergen}"), (lang, allergen)


def test_hindi_and_gujarati_are_real_translations_in_their_scripts() -> None:
    assert label("en", "action.send_order") == "Send order"
    assert label("hi", "action.send_order") == "ऑर्डर भेजें"
    assert label("gu", "action.send_order") == "ઓર્ડર મોકલો"
    devanagari = range(0x0900, 0x0980)
    gujarati = range(0x0A80, 0x0B00)
    for key, value in catalogue("hi").items():
        assert any(ord(c) in devanagari for c in value), key
    for key, value in catalogue("gu").items():
        assert any(ord(c) in gujarati for c in value), key


def test_labels_selects_by_prefix_and_label_falls_back_to_the_key() -> None:
    subset = labels("hi", ("dietary.",))
    assert subset["dietary.veg"] == "शाकाहारी"
    assert all(k.startswith("dietary.") for k in subset)
    assert label("gu", "no.such.key") == "no.such.key"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("hi", "hi"),
        ("hi-IN", "hi"),
        ("HI-in", "hi"),
        ("gu-IN,hi;q=0.9,en;q=0.8", "gu"),
        ("en;q=0.5, hi-IN;q=0.9", "hi"),
        ("fr-FR,fr;q=0.9,gu;q=0.4", "gu"),
        ("fr, de", "en"),
        ("*", "en"),
        ("hi;q=0, *", "en"),
        ("en;q=0, *;q=0.5", "hi"),
        ("ta-IN, mr;q=0.8, hi;q=0.7, en;q=0.6", "hi"),
        ("hi;q=0.8, gu;q=0.8", "hi"),
        ("hi;q=abc, gu", "gu"),
        ("hi;q=2, gu;q=0.1", "gu"),
        (";;;,,,", "en"),
    ],
)
def test_accept_language_negotiation(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


@given(st.text(max_size=200))
def test_negotiation_never_fails_and_always_answers_a_supported_language(header: str) -> None:
    assert negotiate(header) in SUPPORTED


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["en", "hi", "gu", "fr", "hi-IN", "gu-IN", "en-GB"]),
            st.integers(min_value=1, max_value=1000),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_negotiation_picks_the_highest_quality_supported_language(
    ranges: list[tuple[str, int]],
) -> None:
    header = ", ".join(f"{tag};q={q / 1000:.3f}" for tag, q in ranges)
    supported = [(q, -i, tag.split("-")[0]) for i, (tag, q) in enumerate(ranges)]
    supported = [s for s in supported if s[2] in SUPPORTED]
    expected = max(supported)[2] if supported else "en"
    assert negotiate(header) == expected
