"""Guest-facing translations (GUEST-07): UI label catalogues in `en.json`, `hi.json` and
`gu.json` next to this module, and `Accept-Language` negotiation.

Keys are flat and dotted (`action.add`, `allergen.nuts`); values may hold `{name}`
placeholders the PWA fills in. `catalogue_problems()` is the parity check: every language
has exactly English's keys, no empty values and the same placeholders (run by the tests).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Literal, cast, get_args

Lang = Literal["en", "hi", "gu"]
SUPPORTED: tuple[Lang, ...] = get_args(Lang)
DEFAULT_LANG: Lang = "en"

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def catalogue(lang: Lang) -> Mapping[str, str]:
    """The labels of one language (read once per process, read-only)."""
    raw = resources.files(__name__).joinpath(f"{lang}.json").read_text(encoding="utf-8")
    data = json.loads(raw)
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(f"i18n/{lang}.json must be an object of string labels")
    return MappingProxyType(dict(sorted(data.items())))


def label(lang: Lang, key: str) -> str:
    """One label, falling back to English (then to the key) so the UI never shows a blank."""
    return catalogue(lang).get(key) or catalogue(DEFAULT_LANG).get(key) or key


def labels(lang: Lang, prefixes: Iterable[str]) -> dict[str, str]:
    """The labels whose keys start with one of `prefixes`, in key order."""
    wanted = tuple(prefixes)
    return {k: v for k, v in catalogue(lang).items() if k.startswith(wanted)}


def catalogue_problems() -> list[str]:
    """Everything wrong with the catalogues compared with English; empty when they agree."""
    problems: list[str] = []
    reference = catalogue(DEFAULT_LANG)
    for lang in SUPPORTED:
        labels_ = catalogue(lang)
        for key in sorted(reference.keys() - labels_.keys()):
            problems.append(f"{lang}: missing key {key!r}")
        for key in sorted(labels_.keys() - reference.keys()):
            problems.append(f"{lang}: key {key!r} is not in en.json")
        for key, value in labels_.items():
            if not value.strip():
                problems.append(f"{lang}: {key!r} is empty")
            elif key in reference and _placeholders(value) != _placeholders(reference[key]):
                problems.append(f"{lang}: {key!r} placeholders differ from English")
    return problems


def _placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def negotiate(accept_language: str | None) -> Lang:
    """The best supported language for an `Accept-Language` header (RFC 9110 §12.5.4).

    Ranges match on their primary subtag (`hi-IN` → `hi`); higher q wins, ties go to the
    earlier range; `q=0` excludes; `*` or nothing usable means English."""
    if not accept_language:
        return DEFAULT_LANG
    best: tuple[float, int, Lang] | None = None
    excluded: set[str] = set()
    for position, part in enumerate(accept_language.split(",")):
        tag, quality = _parse_range(part)
        if tag is None:
            continue
        primary = tag.split("-", 1)[0]
        if quality <= 0:
            excluded.add(primary)
            continue
        if primary == "*":
            candidate: Lang | None = _first_not(excluded)
        elif primary in SUPPORTED:
            candidate = cast(Lang, primary)
        else:
            candidate = None
        if candidate is not None and (best is None or quality > best[0]):
            best = (quality, position, candidate)
    if best is None or best[2] in excluded:
        return _first_not(excluded) or DEFAULT_LANG
    return best[2]


def _first_not(excluded: set[str]) -> Lang | None:
    return next((lang for lang in SUPPORTED if lang not in excluded), None)


def _parse_range(part: str) -> tuple[str | None, float]:
    """`" hi-IN ; q=0.8"` → `("hi-in", 0.8)`; malformed ranges give `(None, 0)`."""
    tag, *params = (p.strip() for p in part.split(";"))
    tag = tag.lower()
    if not tag or not re.fullmatch(r"\*|[a-z]{1,8}(-[a-z0-9]{1,8})*", tag):
        return None, 0.0
    quality = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return None, 0.0
            if not 0.0 <= quality <= 1.0:
                return None, 0.0
    return tag, quality
