"""Wires the web front end into the app: fingerprinted static files under `/static`, the
Jinja2 environment on `app.state.templates`, and the HTML error pages browsers get for
403/404/500 (`servio.kit.errors.render_problem` calls `app.state.html_error_renderer`).

The page routes themselves are ordinary routes in `servio.web.endpoints`."""

from __future__ import annotations

import logging
from html import escape

from fastapi import FastAPI, Request
from starlette.responses import HTMLResponse, Response

from servio.config import Settings
from servio.web.assets import STATIC_PREFIX, AssetVersions, VersionedStaticFiles
from servio.web.templating import build_templates, render

log = logging.getLogger(__name__)

_FRIENDLY_DETAIL = {
    403: "Your account is signed in but is not allowed to open this page.",
    404: "The page may have moved, or the address may be mistyped.",
}

_HEADINGS = {
    403: "You do not have access to this page",
    404: "We could not find that page",
    500: "Something went wrong on our side",
}


def render_error_page(request: Request, status: int, title: str, detail: str) -> Response:
    """The branded error page; falls back to bare HTML if the template itself fails."""
    if status >= 500:
        # Never echo internal detail to a browser; the request id lets support find the log.
        detail = "The error was logged. Please try again in a moment."
    elif detail.strip().lower() == title.strip().lower():
        detail = _FRIENDLY_DETAIL.get(status, detail)  # say more than the status phrase
    context = {
        "status": status,
        "title": title,
        "heading": _HEADINGS.get(status, title),
        "detail": detail,
        "request_id": getattr(request.state, "request_id", "") or "",
    }
    try:
        return render(request, "error.html", context, status_code=status)
    except Exception:
        log.exception("error page template failed")
        return HTMLResponse(
            f"<!doctype html><html lang=en><meta charset=utf-8><title>{status}</title>"
            f"<h1>{status} {escape(title)}</h1><p>{escape(detail)}</p><a href=/>Servio</a>",
            status_code=status,
        )


def install_web(app: FastAPI, settings: Settings) -> None:
    assets = AssetVersions()
    app.state.assets = assets
    app.state.templates = build_templates(assets)
    app.state.html_error_renderer = render_error_page
    app.mount(STATIC_PREFIX, VersionedStaticFiles(assets), name="static")
