"""The guest PWA: the app shell served at /t/{qr_token} (through `shell.guest_shell`, called
by the session route when a browser asks for HTML), its service worker and its manifest.

`/t/sw.js` and `/t/manifest.webmanifest` are registered before the session router
(`servio.api`), so neither is mistaken for a QR token."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from servio.auth.dependencies import public
from servio.i18n import label, negotiate
from servio.web.endpoints import PageRoute
from servio.web.guest.shell import (
    MANIFEST_PATH,
    SERVICE_WORKER_PATH,
    SHELL_ASSETS,
    app_assets,
    is_token_shaped,
)
from servio.web.templating import get_templates

router = APIRouter(route_class=PageRoute, include_in_schema=False, tags=["web"])

Public = Depends(public)
# Browsers check a service worker for updates on navigation; `no-cache` makes that a cheap
# revalidation and a new asset version reaches phones on their next scan.
REVALIDATE = "no-cache"
THEME_COLOR = "#0f6b63"
BACKGROUND_COLOR = "#f6f7f9"


def _json_response(body: dict[str, Any], media_type: str) -> Response:
    return Response(
        orjson.dumps(body), media_type=media_type, headers={"Cache-Control": REVALIDATE}
    )


@router.get(SERVICE_WORKER_PATH, summary="Guest app service worker", dependencies=[Public])
async def service_worker(request: Request) -> Response:
    assets = app_assets(request)
    precache = [assets.url(name) for name in SHELL_ASSETS]
    version = hashlib.sha256("\n".join(precache).encode()).hexdigest()[:16]
    script = (
        get_templates(request)
        .get_template("guest/sw.js")
        .render({"version": version, "precache": precache})
    )
    return Response(
        script,
        media_type="text/javascript",
        headers={"Cache-Control": REVALIDATE, "X-Content-Type-Options": "nosniff"},
    )


@router.get(MANIFEST_PATH, summary="Guest app web manifest", dependencies=[Public])
async def manifest(
    request: Request,
    t: Annotated[str | None, Query(max_length=128, description="The table's QR token")] = None,
) -> Response:
    """The installable-app manifest. With the page's QR token, "Add to home screen" reopens
    that table; the token is only echoed, never looked up."""
    lang = negotiate(request.headers.get("accept-language"))
    assets = app_assets(request)
    start = f"/t/{t}" if t and is_token_shaped(t) else "/guest"
    body: dict[str, Any] = {
        "name": label(lang, "menu.title") + " · Servio",
        "short_name": label(lang, "menu.title"),
        "id": "/t/",
        "start_url": start,
        "scope": "/t/" if start.startswith("/t/") else "/",
        "display": "standalone",
        "lang": lang,
        "background_color": BACKGROUND_COLOR,
        "theme_color": THEME_COLOR,
        "icons": [
            {
                "src": assets.url("icons/servio.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
                "purpose": "any",
            },
            {
                "src": assets.url("icons/servio-maskable.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
                "purpose": "maskable",
            },
        ],
    }
    return _json_response(body, "application/manifest+json")
