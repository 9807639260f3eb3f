"""Blob storage behind one small interface: a folder on local disk, or any S3-compatible
object store (AWS S3, MinIO, Cloudflare R2). Chosen by `STORAGE_BACKEND`; the app keeps one
instance on `app.state.storage` (see `create_storage`).

Keys are relative, slash-separated paths such as `t/{tenant_id}/{ulid}.webp`. Every backend
validates them the same way, so a key that is refused on disk is refused on S3 too.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import quote

if TYPE_CHECKING:
    from servio.config import Settings

MAX_KEY_LENGTH = 512
# Each segment starts with a letter or digit: no "..", no hidden files, no empty segments.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class StorageError(Exception):
    """The store could not do what was asked (network, permissions, misconfiguration)."""


class StorageNotFound(StorageError):
    """No object under that key."""


class InvalidStorageKey(StorageError, ValueError):
    """A key that could escape the storage root or is not portable across backends."""


def validate_key(key: str) -> str:
    """Return `key` when it is a safe relative path; raise `InvalidStorageKey` otherwise."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidStorageKey(f"storage key must be 1..{MAX_KEY_LENGTH} characters")
    for segment in key.split("/"):
        if not _SEGMENT.fullmatch(segment) or ".." in segment:
            raise InvalidStorageKey(f"unsafe storage key {key!r}")
    return key


@runtime_checkable
class Storage(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing any object already there."""

    async def get(self, key: str) -> bytes:
        """The object's bytes; `StorageNotFound` when there is none."""

    async def delete(self, key: str) -> None:
        """Remove the object. Deleting a missing key succeeds (deletes are retried)."""

    async def exists(self, key: str) -> bool: ...

    def url_for(self, key: str) -> str | None:
        """A public URL serving the object directly, or None when only the app serves it."""


class LocalStorage:
    """Files under `root`. Writes are atomic (temp file in the same folder, fsync, rename),
    so a reader never sees half an image; blocking I/O runs in a worker thread."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()

    def path_for(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        # Belt and braces against symlinks inside the root pointing elsewhere.
        if not path.is_relative_to(self.root):
            raise InvalidStorageKey(f"storage key {key!r} leaves the storage root")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self.path_for(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise

    async def get(self, key: str) -> bytes:
        path = self.path_for(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError):
            raise StorageNotFound(key) from None

    async def delete(self, key: str) -> None:
        path = self.path_for(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_for(key).is_file)

    def url_for(self, key: str) -> str | None:
        validate_key(key)
        return None


_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


class S3Storage:
    """Objects in one bucket of an S3-compatible store, through boto3 (the `s3` extra).

    boto3 is synchronous; its clients are thread-safe, so every call runs in a worker
    thread on one shared client. `endpoint_url` selects MinIO/R2/…; path-style addressing
    is used then, because such stores rarely have per-bucket DNS names.
    """

    def __init__(
        self,
        *,
        bucket: str,
        region: str | None = None,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        public_base_url: str | None = None,
    ) -> None:
        if not bucket:
            raise StorageError("S3_BUCKET is required when STORAGE_BACKEND=s3")
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise StorageError("STORAGE_BACKEND=s3 needs boto3: pip install 'servio[s3]'") from exc
        self.bucket = bucket
        self.public_base_url = (public_base_url or "").rstrip("/") or None
        config = Config(
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        session = boto3.session.Session()
        self._client: Any = session.client(
            "s3",
            region_name=region or None,
            endpoint_url=endpoint_url or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=config,
        )

    async def _call(self, operation: str, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        method = getattr(self._client, operation)
        try:
            return await asyncio.to_thread(method, Bucket=self.bucket, **params)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _NOT_FOUND_CODES:
                raise StorageNotFound(params.get("Key", "")) from None
            raise StorageError(f"S3 {operation} failed: {code or exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 {operation} failed: {exc}") from exc

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await self._call("put_object", Key=validate_key(key), Body=data, ContentType=content_type)

    async def get(self, key: str) -> bytes:
        response = await self._call("get_object", Key=validate_key(key))
        body = response["Body"]
        try:
            data: bytes = await asyncio.to_thread(body.read)
        finally:
            body.close()
        return data

    async def delete(self, key: str) -> None:
        # S3 answers 204 for a missing key too, which is exactly the contract.
        await self._call("delete_object", Key=validate_key(key))

    async def exists(self, key: str) -> bool:
        try:
            await self._call("head_object", Key=validate_key(key))
        except StorageNotFound:
            return False
        return True

    def url_for(self, key: str) -> str | None:
        validate_key(key)
        if self.public_base_url is None:
            return None
        return f"{self.public_base_url}/{quote(key)}"


def create_storage(settings: Settings) -> Storage:
    """The backend `STORAGE_BACKEND` names, configured from settings."""
    if settings.storage_backend == "s3":
        return S3Storage(
            bucket=settings.s3_bucket,
            region=settings.s3_region,
            endpoint_url=settings.s3_endpoint_url,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            public_base_url=settings.s3_public_base_url,
        )
    return LocalStorage(Path(settings.media_dir))
