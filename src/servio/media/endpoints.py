"""Media routes: upload, read, list and delete under `/api/v1/media` (staff), and the public
file route `/media/{id}.webp` that pages and guests load images from."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import Depends, Header, Query, Request, Response

from servio.auth.actors import StaffActor
from servio.auth.dependencies import public, require_staff
from servio.config import Settings
from servio.kit.db import UnitOfWork
from servio.kit.errors import problem_responses
from servio.kit.pagination import Page, PageParams, page_params
from servio.kit.routing import get_uow, make_router
from servio.kit.storage import Storage
from servio.media import service
from servio.media.dependencies import UploadForm, get_storage, read_upload
from servio.media.images import MAX_UPLOAD_BYTES
from servio.media.schemas import MEDIA_PURPOSES, MediaPurpose, MediaRead
from servio.models import MediaAsset

router = make_router(tags=["media"])

Uow = Annotated[UnitOfWork, Depends(get_uow)]
StorageDep = Annotated[Storage, Depends(get_storage)]
Params = Annotated[PageParams, Depends(page_params)]

_AUTH = ((401, "UNAUTHORIZED"), (403, "FORBIDDEN"))
IMMUTABLE = "public, max-age=31536000, immutable"

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": f"PNG, JPEG or WebP, at most {MAX_UPLOAD_BYTES} "
                            "bytes and 4096x4096 pixels.",
                        },
                        "purpose": {
                            "type": "string",
                            "enum": list(MEDIA_PURPOSES),
                            "default": "menu_item",
                        },
                    },
                }
            }
        },
    }
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _read(request: Request, storage: Storage, asset: MediaAsset) -> MediaRead:
    return MediaRead(
        id=asset.id,
        url=service.media_url(_settings(request), storage, asset),
        key=asset.storage_key,
        purpose=cast(MediaPurpose, asset.purpose),  # validated again by the model
        content_type=asset.content_type,
        bytes=asset.bytes,
        width=asset.width,
        height=asset.height,
        sha256=asset.sha256,
        outlet_id=asset.outlet_id,
        created_at=asset.created_at,
    )


@router.post(
    "/api/v1/media",
    summary="Upload an image (menu photo, logo, poster)",
    status_code=201,
    response_model=MediaRead,
    openapi_extra=_UPLOAD_BODY,
    responses=problem_responses(
        *_AUTH,
        (403, "FEATURE_LIMIT"),
        (413, "UPLOAD_TOO_LARGE"),
        (415, "UNSUPPORTED_MEDIA_TYPE"),
        (422, "IMAGE_TOO_LARGE"),
        (422, "INVALID_IMAGE"),
        (422, "VALIDATION_ERROR"),
        (503, "STORAGE_UNAVAILABLE"),
    ),
)
async def upload_media(
    request: Request,
    # Declared first on purpose: the body is read before auth opens the transaction.
    form: Annotated[UploadForm, Depends(read_upload)],
    actor: Annotated[StaffActor, Depends(require_staff("menu.write"))],
    uow: Uow,
    storage: StorageDep,
    response: Response,
) -> MediaRead:
    asset = await service.upload(uow, storage, actor, data=form.data, purpose=form.purpose)
    read = _read(request, storage, asset)
    response.headers["Location"] = f"/api/v1/media/{asset.id}"
    return read


@router.get(
    "/api/v1/media",
    summary="List uploaded images, newest first",
    response_model=Page[MediaRead],
    responses=problem_responses(*_AUTH, (422, "INVALID_CURSOR")),
)
async def list_media(
    request: Request,
    actor: Annotated[StaffActor, Depends(require_staff("menu.read"))],
    uow: Uow,
    storage: StorageDep,
    params: Params,
    purpose: Annotated[MediaPurpose | None, Query(description="Only this purpose.")] = None,
) -> Page[MediaRead]:
    rows, next_cursor = await service.list_media(
        uow, actor, purpose=purpose, cursor=params.cursor, limit=params.limit
    )
    return Page[MediaRead](
        items=[_read(request, storage, row) for row in rows], next_cursor=next_cursor
    )


@router.get(
    "/api/v1/media/{media_id}",
    summary="One uploaded image's metadata",
    response_model=MediaRead,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND")),
)
async def get_media(
    media_id: str,
    request: Request,
    actor: Annotated[StaffActor, Depends(require_staff("menu.read"))],
    uow: Uow,
    storage: StorageDep,
) -> MediaRead:
    return _read(request, storage, await service.get_media(uow, actor, media_id))


@router.delete(
    "/api/v1/media/{media_id}",
    summary="Delete an uploaded image",
    description="The image stops being served at once and no longer counts toward the "
    "quota; the stored object is removed by the worker, retried until the store confirms.",
    status_code=204,
    response_class=Response,
    responses=problem_responses(*_AUTH, (404, "NOT_FOUND")),
)
async def delete_media(
    media_id: str,
    actor: Annotated[StaffActor, Depends(require_staff("menu.write"))],
    uow: Uow,
) -> Response:
    await service.delete_media(uow, actor, media_id)
    return Response(status_code=204)


def _etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison, as If-None-Match requires."""
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))


@router.get(
    "/media/{filename}",
    summary="Serve an uploaded image",
    description="Public: media ids are unguessable ULIDs. Immutable (a new upload gets a new "
    "id), so caches keep it for a year; `If-None-Match` with the ETag answers 304.",
    response_class=Response,
    responses={
        200: {"content": {"image/webp": {}}, "description": "The image bytes"},
        304: {"description": "Not modified"},
        **problem_responses((404, "NOT_FOUND"), (503, "STORAGE_UNAVAILABLE")),
    },
)
async def serve_media(
    filename: str,
    request: Request,
    _: Annotated[None, Depends(public)],
    uow: Uow,
    storage: StorageDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    asset = await service.find_public(uow, filename)
    etag = f'"{asset.sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE,
        "X-Content-Type-Options": "nosniff",
    }
    if if_none_match and _etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    data = await service.read_bytes(storage, asset)
    return Response(content=data, media_type=asset.content_type, headers=headers)
