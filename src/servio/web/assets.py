"""Static assets with fingerprinted URLs.

At startup every file under `static/` is hashed. Templates link `/static/<file>?v=<hash>`
(`static_url()`), and a request carrying the current hash is cached by browsers and proxies
for a year as immutable: a changed file gets a new hash, hence a new URL. Unversioned
requests (icons named in the web manifest, hand-typed URLs) must revalidate; every reply
carries the content hash as a strong `ETag`, so revalidation costs a 304.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from pathlib import Path

from starlette.datastructures import Headers, QueryParams
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, PathLike, StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"

mimetypes.add_type("application/manifest+json", ".webmanifest")


class AssetVersions:
    """Content hashes of the static files, keyed by their path relative to the directory."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self.directory = directory.resolve()
        self._hashes: dict[str, str] = {}
        for path in sorted(self.directory.rglob("*")):
            if path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
                self._hashes[path.relative_to(self.directory).as_posix()] = digest

    def version(self, relative_path: str) -> str | None:
        return self._hashes.get(relative_path.lstrip("/"))

    def url(self, relative_path: str) -> str:
        """`/static/<path>?v=<hash>`; raises for a file that does not exist, so a typo in a
        template fails its first render instead of shipping a broken link."""
        name = relative_path.lstrip("/")
        digest = self._hashes.get(name)
        if digest is None:
            raise LookupError(f"no static file {name!r} under {self.directory}")
        return f"{STATIC_PREFIX}/{name}?v={digest}"

    def __len__(self) -> int:
        return len(self._hashes)


class VersionedStaticFiles(StaticFiles):
    """StaticFiles with content-hash ETags and cache headers that depend on the URL version."""

    def __init__(self, assets: AssetVersions) -> None:
        super().__init__(directory=assets.directory)
        self.assets = assets

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        relative = Path(full_path).resolve().relative_to(self.assets.directory).as_posix()
        digest = self.assets.version(relative)
        response = FileResponse(full_path, status_code=status_code, stat_result=stat_result)
        requested = QueryParams(scope.get("query_string", b"").decode("latin-1")).get("v")
        fresh = digest is not None and requested == digest
        response.headers["cache-control"] = IMMUTABLE if fresh else REVALIDATE
        if digest is not None:
            response.headers["etag"] = f'"{digest}"'
        response.headers["x-content-type-options"] = "nosniff"
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response
