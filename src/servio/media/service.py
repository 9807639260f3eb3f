"""Media use cases: upload (validate → quota → store → row + audit), read, list, delete,
and the public file lookup. Deleting removes the row at once (the quota is freed and the
public URL stops answering) and leaves a durable outbox message — the tombstone — that the
worker retries until the store confirms the object is gone (`media/tasks.py`)."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from servio.audit.service import record
from servio.auth.actors import StaffActor
from servio.config import Settings
from servio.kit.db import UnitOfWork
from servio.kit.errors import NotFound, ProblemError
from servio.kit.ids import is_ulid, new_id
from servio.kit.storage import Storage, StorageError, StorageNotFound
from servio.media.images import ProcessedImage, process_image
from servio.media.repository import MediaRepository, find_media_any_tenant
from servio.media.schemas import MediaPurpose
from servio.models import MediaAsset
from servio.platform.limits import enforce_limit
from servio.worker.outbox import enqueue

DELETE_TOPIC = "media.delete"
PUBLIC_PREFIX = "/media"


def storage_key(tenant_id: str, media_id: str, extension: str) -> str:
    return f"t/{tenant_id}/{media_id}.{extension}"


def _extension(asset: MediaAsset) -> str:
    return asset.storage_key.rsplit(".", 1)[-1]


def media_path(media_id: str, extension: str = "webp") -> str:
    """The path this server serves a media file under (relative, for same-origin pages)."""
    return f"{PUBLIC_PREFIX}/{media_id}.{extension}"


def media_url(settings: Settings, storage: Storage, asset: MediaAsset) -> str:
    """The URL clients should load: the store's public URL when it has one, else ours
    (absolute when `PUBLIC_BASE_URL` is set, same-origin relative otherwise)."""
    direct = storage.url_for(asset.storage_key)
    if direct:
        return direct
    return f"{settings.public_base_url.rstrip('/')}{media_path(asset.id, _extension(asset))}"


def storage_unavailable(exc: StorageError) -> ProblemError:
    return ProblemError(
        503,
        "STORAGE_UNAVAILABLE",
        "the media store did not accept the request",
        hint="try again in a minute; if it persists, check the storage settings",
        headers={"Retry-After": "30"},
    )


def _snapshot(asset: MediaAsset) -> dict[str, Any]:
    return {
        "purpose": asset.purpose,
        "content_type": asset.content_type,
        "bytes": asset.bytes,
        "width": asset.width,
        "height": asset.height,
        "sha256": asset.sha256,
        "storage_key": asset.storage_key,
    }


async def upload(
    uow: UnitOfWork,
    storage: Storage,
    actor: StaffActor,
    *,
    data: bytes,
    purpose: MediaPurpose,
) -> MediaAsset:
    # CPU-bound decoding off the event loop; validation errors surface as ProblemError.
    image: ProcessedImage = await asyncio.to_thread(process_image, data)
    await enforce_limit(uow, actor.tenant_id, "max_images_mb", adding=len(image.data))
    media_id = new_id()
    key = storage_key(actor.tenant_id, media_id, image.extension)
    try:
        await storage.put(key, image.data, image.content_type)
    except StorageError as exc:
        raise storage_unavailable(exc) from exc
    asset = MediaAsset(
        id=media_id,
        outlet_id=actor.outlet_id,
        purpose=purpose,
        content_type=image.content_type,
        bytes=len(image.data),
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(image.data).hexdigest(),
        storage_key=key,
        uploaded_by=actor.user_id,
    )
    await MediaRepository(uow.session, actor.tenant_id).add(asset)
    await record(
        uow,
        actor,
        "media.uploaded",
        subject_type="media",
        subject_id=asset.id,
        after=_snapshot(asset) | {"source_format": image.source_format, "upload_bytes": len(data)},
    )
    return asset


async def get_media(uow: UnitOfWork, actor: StaffActor, media_id: str) -> MediaAsset:
    return await MediaRepository(uow.session, actor.tenant_id).get_or_404(media_id)


async def list_media(
    uow: UnitOfWork,
    actor: StaffActor,
    *,
    purpose: MediaPurpose | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[MediaAsset], str | None]:
    repo = MediaRepository(uow.session, actor.tenant_id)
    filters = [MediaAsset.purpose == purpose] if purpose else []
    return await repo.list_page(*filters, cursor=cursor, limit=limit)


async def delete_media(uow: UnitOfWork, actor: StaffActor, media_id: str) -> None:
    asset = await MediaRepository(uow.session, actor.tenant_id).remove(media_id)
    if asset is None:
        raise NotFound("media")
    await record(
        uow,
        actor,
        "media.deleted",
        subject_type="media",
        subject_id=asset.id,
        before=_snapshot(asset),
    )
    await enqueue(
        uow,
        tenant_id=actor.tenant_id,
        topic=DELETE_TOPIC,
        payload={"media_id": asset.id, "key": asset.storage_key},
        dedupe_key=f"{DELETE_TOPIC}:{asset.id}",
        outlet_id=asset.outlet_id,
    )


def parse_public_name(filename: str) -> tuple[str, str] | None:
    """`01J….webp` → (id, "webp"); anything that cannot be a media file name → None."""
    media_id, dot, extension = filename.partition(".")
    if not dot or not is_ulid(media_id) or not extension.isalnum():
        return None
    return media_id.upper(), extension.lower()


async def find_public(uow: UnitOfWork, filename: str) -> MediaAsset:
    """The asset behind a public media file name. Any miss is the same 404."""
    parsed = parse_public_name(filename)
    if parsed is None:
        raise NotFound("media")
    media_id, extension = parsed
    # The caller has no tenant: look across tenants, then narrow to the owner.
    await uow.set_tenant(None, bypass=True)
    asset = await find_media_any_tenant(uow.session, media_id)
    await uow.set_tenant(asset.tenant_id if asset is not None else None)
    if asset is None or _extension(asset) != extension:
        raise NotFound("media")
    return asset


async def read_bytes(storage: Storage, asset: MediaAsset) -> bytes:
    try:
        return await storage.get(asset.storage_key)
    except StorageNotFound:
        raise NotFound("media") from None
    except StorageError as exc:
        raise storage_unavailable(exc) from exc
