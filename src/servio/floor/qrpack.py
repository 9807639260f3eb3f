"""QR pack PDFs and poster ZIPs (SP-03).

A generation reads the outlet's active service points, signs each one's current QR token
(`floor.qr.qr_url`), renders the sheets (`qrpack_render`), logs a `QrPackExport` row and an
audit entry `qrpack.generated`, and caches the bytes for ten minutes.

- Cache key: a hash of tenant, outlet, artifact, options, render mode, outlet name and logo,
  and every printed point's (id, kind, label, qr_version). Rotating a QR or renaming a
  table therefore changes the key: a cached pack never carries a dead code.
- Limit: one *generation* per minute per tenant (`app.state.limiter`, sliding window). A
  cache hit is free, is not logged, and does not count.
- Rendering: PDF through WeasyPrint when its system libraries exist; otherwise the same
  document as print-ready HTML (`render == "html"`; posters become `.html` files in the ZIP).
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool

from servio.audit.service import record
from servio.auth.actors import StaffActor
from servio.config import Settings
from servio.floor import qrpack_render as render
from servio.floor.qr import qr_url
from servio.floor.qrpack_repository import (
    PrintablePointRepository,
    QrLogoRepository,
    QrOutletRepository,
    QrPackExportRepository,
)
from servio.floor.service import acting_outlet, natural_key
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import ProblemError
from servio.kit.logging import get_logger
from servio.kit.ratelimit import RateLimiter, too_many_requests
from servio.kit.storage import Storage, StorageError
from servio.models import MediaAsset, Outlet, QrPackExport, ServicePoint

log = get_logger(__name__)

CACHE_TTL: Final = timedelta(minutes=10)
GENERATIONS_PER_WINDOW: Final = 1
GENERATION_WINDOW_SECS: Final = 60
MAX_CACHED_BYTES: Final = 20 * 1024 * 1024  # a pack larger than this is not worth keeping
AUDIT_ACTION: Final = "qrpack.generated"

PackKind = Literal["table", "room", "counter", "all"]
KIND_ORDER: Final = ("table", "room", "counter")
Render = Literal["pdf", "html"]

PDF_TYPE: Final = "application/pdf"
HTML_TYPE: Final = "text/html; charset=utf-8"
ZIP_TYPE: Final = "application/zip"


class InvalidLabelFormat(ProblemError):
    def __init__(self, reason: str) -> None:
        super().__init__(
            422,
            "INVALID_LABEL_FORMAT",
            reason,
            title="Unprocessable Content",
            hint="use at most 40 characters with the placeholders {n} and {label}, "
            "e.g. 'Table {label}'",
        )


@dataclass(frozen=True)
class PackOptions:
    size: render.PackSize = "A4"
    per_page: int = 12  # one of qrpack_render.GRID
    show_logo: bool = True
    label_fmt: str = "{label}"
    kind: PackKind = "table"

    def validated(self) -> PackOptions:
        try:
            render.validate_label_fmt(self.label_fmt)
        except render.LabelFormatError as exc:
            raise InvalidLabelFormat(str(exc)) from None
        return self

    def as_params(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "per_page": self.per_page,
            "show_logo": self.show_logo,
            "label_fmt": self.label_fmt,
            "kind": self.kind,
        }

    @property
    def kinds(self) -> tuple[str, ...]:
        return KIND_ORDER if self.kind == "all" else (self.kind,)


@dataclass(frozen=True)
class PosterOptions:
    size: render.PosterSize = "A4"

    def as_params(self) -> dict[str, Any]:
        return {"size": self.size}


@dataclass(frozen=True)
class Artifact:
    body: bytes
    media_type: str
    filename: str
    render: Render
    cached: bool = field(default=False, compare=False)

    def header(self) -> dict[str, str]:
        return {"media_type": self.media_type, "filename": self.filename, "render": self.render}


# --- cache -----------------------------------------------------------------------------


class ArtifactCache(ABC):
    """Rendered packs by cache key. Expiry follows the app clock (both backends), so a
    `FrozenClock` drives it in tests like it drives the rate limiter."""

    @abstractmethod
    async def get(self, key: str) -> Artifact | None: ...

    @abstractmethod
    async def put(self, key: str, artifact: Artifact, ttl: timedelta) -> None: ...


class MemoryArtifactCache(ArtifactCache):
    """Per-process, bounded: the oldest entries go first when it is full."""

    def __init__(self, max_entries: int = 32) -> None:
        self.max_entries = max_entries
        self._entries: dict[str, tuple[datetime, Artifact]] = {}

    async def get(self, key: str) -> Artifact | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, artifact = entry
        if expires_at <= utcnow():
            del self._entries[key]
            return None
        return artifact

    async def put(self, key: str, artifact: Artifact, ttl: timedelta) -> None:
        now = utcnow()
        self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (now + ttl, artifact)


class RedisArtifactCache(ArtifactCache):
    """Shared by every process: one key per pack holding a JSON header line and the bytes.
    Redis' own TTL only reclaims memory; validity is the header's app-clock expiry."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}qrpack:"

    async def get(self, key: str) -> Artifact | None:
        try:
            raw = await self._redis.get(self._prefix + key)
        except RedisError:
            log.warning("qrpack_cache_unavailable", exc_info=True)
            return None
        if raw is None:
            return None
        header_line, _, body = bytes(raw).partition(b"\n")
        try:
            header = orjson.loads(header_line)
            if datetime.fromisoformat(header["expires_at"]) <= utcnow():
                return None
            return Artifact(body, header["media_type"], header["filename"], header["render"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None

    async def put(self, key: str, artifact: Artifact, ttl: timedelta) -> None:
        header = {**artifact.header(), "expires_at": (utcnow() + ttl).isoformat()}
        value = orjson.dumps(header) + b"\n" + artifact.body
        try:
            await self._redis.set(self._prefix + key, value, ex=int(ttl.total_seconds()))
        except RedisError:
            log.warning("qrpack_cache_unavailable", exc_info=True)


def create_artifact_cache(settings: Settings, redis: Redis | None) -> ArtifactCache:
    if redis is not None:
        return RedisArtifactCache(redis, settings.redis_key_prefix)
    return MemoryArtifactCache()


# --- generation ------------------------------------------------------------------------


@dataclass(frozen=True)
class Tools:
    """What a generation needs besides the unit of work (supplied by the endpoint)."""

    settings: Settings
    cache: ArtifactCache
    limiter: RateLimiter
    storage: Storage


def _sorted_points(points: list[ServicePoint]) -> list[ServicePoint]:
    return sorted(points, key=lambda p: (KIND_ORDER.index(p.kind), natural_key(p.label), p.id))


def _cache_key(
    artifact: str,
    actor: StaffActor,
    outlet: Outlet,
    params: dict[str, Any],
    mode: Render,
    points: list[ServicePoint],
    settings: Settings,
) -> str:
    material = {
        "v": 1,
        "artifact": artifact,
        "tenant": actor.tenant_id,
        "outlet": outlet.id,
        "outlet_name": outlet.name,
        "logo": outlet.logo_media_id if params.get("show_logo", True) else None,
        "params": params,
        "render": mode,
        "base_url": settings.base_url,
        "points": [(p.id, p.kind, p.label, p.qr_version) for p in points],
    }
    return hashlib.sha256(orjson.dumps(material, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def _load_logo(
    uow: UnitOfWork, actor: StaffActor, outlet: Outlet, storage: Storage
) -> render.Logo | None:
    """The outlet's logo, or None when it has none or it cannot be read (the pack is still
    useful without it, so a storage hiccup must not fail the print run)."""
    if not outlet.logo_media_id:
        return None
    asset: MediaAsset | None = await QrLogoRepository(uow.session, actor.tenant_id).get(
        outlet.logo_media_id
    )
    if asset is None:
        return None
    try:
        data = await storage.get(asset.storage_key)
    except StorageError:
        log.warning("qrpack_logo_unreadable", media_id=asset.id, exc_info=True)
        return None
    return render.Logo(asset.content_type, data)


async def _spend_generation(tools: Tools, tenant_id: str) -> None:
    if not tools.settings.rate_limit_enabled:
        return
    decision = await tools.limiter.hit(
        f"qrpack:{tenant_id}", GENERATIONS_PER_WINDOW, GENERATION_WINDOW_SECS
    )
    if not decision.allowed:
        raise too_many_requests(decision.retry_after)


async def _log_generation(
    uow: UnitOfWork,
    actor: StaffActor,
    outlet: Outlet,
    artifact: Artifact,
    *,
    fmt: str,
    params: dict[str, Any],
    points: int,
    cache_key: str,
) -> QrPackExport:
    row = await QrPackExportRepository(uow.session, actor.tenant_id).add(
        QrPackExport(
            outlet_id=outlet.id,
            requested_by=actor.user_id,
            format=fmt,
            params=params,
            service_points=points,
            bytes=len(artifact.body),
            cache_key=cache_key,
        )
    )
    await record(
        uow,
        actor,
        AUDIT_ACTION,
        subject_type="qr_pack_export",
        subject_id=row.id,
        after={"format": fmt, "params": params, "service_points": points, "bytes": row.bytes},
        outlet_id=outlet.id,
    )
    return row


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "outlet"


async def generate_pack(
    uow: UnitOfWork, actor: StaffActor, options: PackOptions, tools: Tools
) -> Artifact:
    """The QR pack for the actor's outlet: from the cache, or freshly rendered and logged."""
    options = options.validated()
    outlet = await QrOutletRepository(uow.session, actor.tenant_id).get_or_404(acting_outlet(actor))
    repo = PrintablePointRepository(uow.session, actor.tenant_id)
    points = _sorted_points(await repo.printable(outlet.id, options.kinds))
    mode: Render = "pdf" if render.pdf_available() else "html"
    params = options.as_params()
    key = _cache_key("pack", actor, outlet, params, mode, points, tools.settings)
    cached = await tools.cache.get(key)
    if cached is not None:
        return Artifact(cached.body, cached.media_type, cached.filename, cached.render, True)
    await _spend_generation(tools, actor.tenant_id)

    logo = await _load_logo(uow, actor, outlet, tools.storage) if options.show_logo else None
    cards = [
        render.Card(
            render.format_label(options.label_fmt, n=index, label=point.label),
            point.kind,
            qr_url(tools.settings, point),
        )
        for index, point in enumerate(points, start=1)
    ]
    layout = render.sheet_layout(options.size, options.per_page, show_logo=options.show_logo)
    html = render.pack_html(
        outlet_name=outlet.name, cards=cards, layout=layout, logo=logo, vector=mode == "html"
    )
    stem = f"qr-pack-{_slug(outlet.name)}-{options.size.lower()}-{options.per_page}"
    if mode == "pdf":
        body = await run_in_threadpool(render.html_to_pdf, html)
        artifact = Artifact(body, PDF_TYPE, f"{stem}.pdf", "pdf")
    else:
        artifact = Artifact(html.encode(), HTML_TYPE, f"{stem}.html", "html")
    await _log_generation(
        uow, actor, outlet, artifact, fmt=mode, params=params, points=len(points), cache_key=key
    )
    _cache_after_commit(uow, tools.cache, key, artifact)
    return artifact


def poster_filenames(points: list[ServicePoint], extension: str) -> list[str]:
    """`T1.pdf`, … — labels made file-safe; a label shared by two kinds gets the kind."""
    names: list[str] = []
    taken: set[str] = set()
    for point in points:
        base = re.sub(r"[^A-Za-z0-9._-]+", "-", point.label).strip("-.") or point.kind
        name = base if base.lower() not in taken else f"{base}-{point.kind}"
        suffix = 2
        while name.lower() in taken:
            name, suffix = f"{base}-{point.kind}-{suffix}", suffix + 1
        taken.add(name.lower())
        names.append(f"{name}.{extension}")
    return names


def _zip(files: list[tuple[str, bytes]], at: datetime) -> bytes:
    buffer = io.BytesIO()
    stamp = (at.year, at.month, at.day, at.hour, at.minute, at.second)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


async def generate_posters(
    uow: UnitOfWork, actor: StaffActor, options: PosterOptions, tools: Tools
) -> Artifact:
    """A ZIP with one poster per active service point of the actor's outlet."""
    outlet = await QrOutletRepository(uow.session, actor.tenant_id).get_or_404(acting_outlet(actor))
    repo = PrintablePointRepository(uow.session, actor.tenant_id)
    points = _sorted_points(await repo.printable(outlet.id, KIND_ORDER))
    mode: Render = "pdf" if render.pdf_available() else "html"
    params = options.as_params()
    key = _cache_key("posters", actor, outlet, params, mode, points, tools.settings)
    cached = await tools.cache.get(key)
    if cached is not None:
        return Artifact(cached.body, cached.media_type, cached.filename, cached.render, True)
    await _spend_generation(tools, actor.tenant_id)

    logo = await _load_logo(uow, actor, outlet, tools.storage)
    cards = [render.Card(p.label, p.kind, qr_url(tools.settings, p)) for p in points]
    html = render.posters_html(
        outlet_name=outlet.name,
        cards=cards,
        size=options.size,
        logo=logo,
        vector=mode == "html",
    )
    if not cards:
        pages: list[bytes] = []
    elif mode == "pdf":
        pages = await run_in_threadpool(render.html_to_pdf_pages, html)
    else:
        pages = [page.encode() for page in render.split_html_pages(html)]
    if len(pages) != len(points):  # a poster that overflowed its page would misalign names
        raise RuntimeError(f"rendered {len(pages)} posters for {len(points)} service points")
    names = poster_filenames(points, "pdf" if mode == "pdf" else "html")
    body = _zip(list(zip(names, pages, strict=True)), utcnow())
    artifact = Artifact(
        body, ZIP_TYPE, f"qr-posters-{_slug(outlet.name)}-{options.size.lower()}.zip", mode
    )
    await _log_generation(
        uow, actor, outlet, artifact, fmt="zip", params=params, points=len(points), cache_key=key
    )
    _cache_after_commit(uow, tools.cache, key, artifact)
    return artifact


def _cache_after_commit(
    uow: UnitOfWork, cache: ArtifactCache, key: str, artifact: Artifact
) -> None:
    """Cache only once the export row is committed: a rolled-back generation must not be
    served later without its log entry."""
    if len(artifact.body) > MAX_CACHED_BYTES:
        return

    async def store() -> None:
        await cache.put(key, artifact, CACHE_TTL)

    uow.after_commit(store)


async def list_exports(
    uow: UnitOfWork,
    actor: StaffActor,
    *,
    outlet_id: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[QrPackExport], str | None]:
    repo = QrPackExportRepository(uow.session, actor.tenant_id)
    return await repo.page(outlet_id=outlet_id, cursor=cursor, limit=limit)


EXPORT_CSV_HEADER: Final = (
    "id",
    "created_at",
    "outlet_id",
    "requested_by",
    "format",
    "size",
    "per_page",
    "show_logo",
    "label_fmt",
    "kind",
    "service_points",
    "bytes",
    "cache_key",
)
CSV_PAGE: Final = 200
CSV_MAX_ROWS: Final = 10_000


def export_csv_row(row: QrPackExport) -> tuple[object, ...]:
    p = row.params or {}
    return (
        row.id,
        row.created_at,
        row.outlet_id,
        row.requested_by,
        row.format,
        p.get("size"),
        p.get("per_page"),
        p.get("show_logo"),
        p.get("label_fmt"),
        p.get("kind"),
        row.service_points,
        row.bytes,
        row.cache_key,
    )


async def all_exports(
    uow: UnitOfWork, actor: StaffActor, *, outlet_id: str | None
) -> list[QrPackExport]:
    """Newest first, at most `CSV_MAX_ROWS` (a QR pack is printed a few times a year)."""
    rows: list[QrPackExport] = []
    cursor: str | None = None
    while len(rows) < CSV_MAX_ROWS:
        page, cursor = await list_exports(
            uow, actor, outlet_id=outlet_id, cursor=cursor, limit=CSV_PAGE
        )
        rows.extend(page)
        if cursor is None:
            break
    return rows[:CSV_MAX_ROWS]
