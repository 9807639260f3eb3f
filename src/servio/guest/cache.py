"""In-process caches of the guest menu, two tiers:

- rendered menus: the JSON bytes of one (outlet, `menu_version`, outlet profile version,
  language, filter), shared by every table of the outlet. Menu writes bump `menu_version`,
  so a write makes the old entries unreachable at once; the LRU bound pushes them out.
- answers: per (QR token, language), the reply for that table — ETag, the service point
  spliced in front of the shared rendering, gzip parts — stamped with the
  `guest.changes` generation it was checked under, so `guest.fastpath` can answer a
  repeat request without the database while nothing relevant was written.

Each process keeps its own copy; all processes agree because they key on the versions
they read from the database. Safe on one event loop without a lock: nothing here awaits.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field

from servio.i18n import Lang

DEFAULT_MAX_ENTRIES = 512
ANSWERS_PER_RENDERING = 16  # answers kept per rendered-menu slot (tables x languages)
GZIP_LEVEL = 6
MIN_GZIP_BYTES = 1024  # below this, gzip's framing eats the gain
# A remembered answer is re-checked against the database at least this often, so a writer
# in another process (a CLI on the same SQLite file) is seen within this time.
MAX_AGE_SECS = 1.0
VARY = b"Accept-Language, Accept-Encoding"
# gzip member header: deflate, no flags, mtime 0, no extra flags, OS unknown.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


@dataclass(frozen=True, slots=True)
class MenuCacheKey:
    outlet_id: str
    menu_version: int
    outlet_version: int
    lang: Lang
    filter_text: str  # MenuFilter.canonical()


def _raw_deflate(data: bytes | memoryview, *, final: bool) -> bytes:
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    mode = zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH
    return compressor.compress(data) + compressor.flush(mode)


def not_modified_headers(etag: str, lang: Lang) -> tuple[tuple[bytes, bytes], ...]:
    """The headers of a 304, and the first ones of a 200."""
    return (
        (b"etag", etag.encode("latin-1")),
        (b"content-language", lang.encode()),
        (b"cache-control", b"no-cache"),
        (b"vary", VARY),
    )


class RenderedMenu:
    """One rendering (a JSON object) and, once asked for, its tail (everything after the
    opening brace) as a finished raw-deflate stream, so each table's gzip reply is its
    own small head + this shared tail, not a fresh compression of the whole menu."""

    __slots__ = ("_tail", "body")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self._tail: bytes | None = None

    def deflated_tail(self) -> bytes:
        """body[1:] as a finished raw-deflate stream (computed once per rendering)."""
        if self._tail is None:
            self._tail = _raw_deflate(memoryview(self.body)[1:], final=True)
        return self._tail


class MenuAnswer:
    """What one table sees in one language: `head` (`{"service_point":{...},`) + the
    rendering's tail, with its ETag and ready header lists."""

    __slots__ = ("_gzip", "etag", "head", "headers_200", "headers_304", "length", "rendered")

    def __init__(self, etag: str, rendered: RenderedMenu, head: bytes, lang: Lang) -> None:
        self.etag = etag
        self.rendered = rendered
        self.head = head
        self.length = len(head) + len(rendered.body) - 1
        self._gzip: tuple[bytes, bytes, int] | None = None  # head deflate, trailer, length
        self.headers_304 = not_modified_headers(etag, lang)
        self.headers_200 = (
            *self.headers_304,
            (b"content-length", str(self.length).encode()),
            (b"content-type", b"application/json"),
        )

    def identity(self) -> bytes:
        return b"".join((self.head, memoryview(self.rendered.body)[1:]))

    def gzip_parts(self) -> tuple[bytes, bytes, int]:
        """(gzip header + head deflate, trailer, total length): a valid gzip member is
        parts[0] + the rendering's deflated tail + parts[1]. The head ends in a sync flush
        (byte-aligned, not final) and the tail is an independent stream, so the two
        concatenate into one deflate stream."""
        if self._gzip is None:
            tail = self.rendered.deflated_tail()
            crc = zlib.crc32(memoryview(self.rendered.body)[1:], zlib.crc32(self.head))
            trailer = struct.pack("<II", crc & 0xFFFFFFFF, self.length & 0xFFFFFFFF)
            head = _GZIP_HEADER + _raw_deflate(self.head, final=False)
            self._gzip = (head, trailer, len(head) + len(tail) + len(trailer))
        return self._gzip

    def encode(self, gzip: bool) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        """The 200 body and headers, gzip-encoded when the client takes it and it pays."""
        if not gzip or self.length < MIN_GZIP_BYTES:
            return self.identity(), list(self.headers_200)
        head, trailer, length = self.gzip_parts()
        tail = self.rendered.deflated_tail()
        headers = list(self.headers_304)
        headers += [
            (b"content-encoding", b"gzip"),
            (b"content-length", str(length).encode()),
            (b"content-type", b"application/json"),
        ]
        return b"".join((head, tail, trailer)), headers


@dataclass(slots=True)
class _Remembered:
    answer: MenuAnswer
    generation: int
    fresh_until: float = field(default=0.0)


class RenderedMenuCache:
    """Bounded LRUs of `MenuCacheKey` → `RenderedMenu` and (token, language) → answer."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.max_answers = max_entries * ANSWERS_PER_RENDERING
        self._entries: OrderedDict[MenuCacheKey, RenderedMenu] = OrderedDict()
        self._answers: OrderedDict[tuple[str, Lang], _Remembered] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: MenuCacheKey) -> RenderedMenu | None:
        rendered = self._entries.get(key)
        if rendered is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return rendered

    def put(self, key: MenuCacheKey, body: bytes) -> RenderedMenu:
        rendered = RenderedMenu(body)
        self._entries[key] = rendered
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return rendered

    # --- answers (read by guest.fastpath without the database) -----------------------
    def answer_for(
        self, token: str, lang: Lang, etag: str, rendered: RenderedMenu, head: bytes
    ) -> MenuAnswer:
        """The remembered answer when it still says the same thing, else a new one (not
        yet remembered: see `remember`)."""
        known = self._answers.get((token, lang))
        if known is not None and known.answer.etag == etag and known.answer.rendered is rendered:
            return known.answer
        return MenuAnswer(etag, rendered, head, lang)

    def remember(self, token: str, lang: Lang, answer: MenuAnswer, generation: int) -> None:
        key = (token, lang)
        self._answers[key] = _Remembered(answer, generation, time.monotonic() + MAX_AGE_SECS)
        self._answers.move_to_end(key)
        while len(self._answers) > self.max_answers:
            self._answers.popitem(last=False)

    def reconfirm(self, token: str, lang: Lang, etag: str, generation: int) -> None:
        """A revalidation found `etag` still current: keep answering it without the
        database (nothing to render: an equal ETag means an equal body)."""
        known = self._answers.get((token, lang))
        if known is not None and known.answer.etag == etag:
            known.generation = generation
            known.fresh_until = time.monotonic() + MAX_AGE_SECS

    def recall(self, token: str, lang: Lang, generation: int, now: float) -> MenuAnswer | None:
        """The answer for this table and language if nothing was written since it was
        checked and it is fresh."""
        known = self._answers.get((token, lang))
        if known is None or known.generation != generation or known.fresh_until < now:
            return None
        return known.answer

    def clear(self) -> None:
        self._entries.clear()
        self._answers.clear()

    def __len__(self) -> int:
        return len(self._entries)
