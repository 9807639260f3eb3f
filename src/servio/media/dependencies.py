"""Request helpers for the media routes: the app's storage backend, and the multipart
upload read with a hard byte cap while it streams in (Starlette would otherwise spool a
body of any size to disk before the route runs)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from servio.config import Settings
from servio.kit.errors import ProblemError
from servio.kit.storage import Storage, create_storage
from servio.media.images import MAX_UPLOAD_BYTES, upload_too_large
from servio.media.schemas import MEDIA_PURPOSES, MediaPurpose

# Room for the multipart boundaries, part headers and the small `purpose` field.
MULTIPART_OVERHEAD_BYTES = 16 * 1024
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES


def get_storage(request: Request) -> Storage:
    """FastAPI dependency: the storage backend the app's lifespan created."""
    storage: Storage | None = getattr(request.app.state, "storage", None)
    if storage is None:  # an app built without the lifespan (scripts, some tests)
        settings: Settings = request.app.state.settings
        storage = create_storage(settings)
        request.app.state.storage = storage
    return storage


@dataclass(frozen=True)
class UploadForm:
    data: bytes
    purpose: MediaPurpose
    filename: str | None


class _BodyTooLarge(MultiPartException):
    """Raised from inside the parser so it closes its temporary files on the way out."""

    def __init__(self) -> None:
        super().__init__("request body too large")


def _invalid(detail: str, field: str) -> ProblemError:
    return ProblemError(
        422,
        "VALIDATION_ERROR",
        detail,
        title="Unprocessable Content",
        extra={"errors": [{"loc": ["body", field], "msg": detail, "type": "value_error"}]},
    )


async def _capped(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise _BodyTooLarge
        yield chunk


async def read_upload(request: Request) -> UploadForm:
    """FastAPI dependency: `multipart/form-data` with one `file` part (≤ 2 MB) and a
    `purpose` field. Declared before the auth dependency so the body is received before
    a database transaction (and SQLite's write lock) is opened."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise _invalid("send the image as multipart/form-data with a `file` part", "file")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise upload_too_large()
    parser = MultiPartParser(
        request.headers, _capped(request, MAX_BODY_BYTES), max_files=1, max_fields=4
    )
    try:
        form = await parser.parse()
    except _BodyTooLarge:
        raise upload_too_large() from None
    except MultiPartException as exc:
        raise _invalid(f"malformed multipart body: {exc.message}", "file") from None
    except MultipartParseError:  # Starlette lets the parser's own syntax errors through
        raise _invalid("malformed multipart body", "file") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise _invalid("a `file` part is required", "file")
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise upload_too_large()
        raw_purpose = form.get("purpose", "menu_item")
        purpose = next((p for p in MEDIA_PURPOSES if p == raw_purpose), None)
        if purpose is None:
            raise _invalid("purpose must be one of " + ", ".join(MEDIA_PURPOSES), "purpose")
        return UploadForm(data=data, purpose=purpose, filename=upload.filename)
    finally:
        await form.close()
