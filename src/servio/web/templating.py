"""Jinja2 for the server-rendered pages: one environment per app (autoescaped, undefined
variables are errors), `static_url()` for fingerprinted assets, and the request's CSP nonce
in every template context for the rare inline `<script nonce>`/`<style nonce>`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from servio import __version__
from servio.web.assets import AssetVersions

TEMPLATES_DIR = Path(__file__).parent / "templates"

# Pages are personal (who is signed in, CSRF tokens): never stored by shared caches.
PAGE_CACHE_CONTROL = "no-store"


def csp_nonce(request: Request) -> str:
    """The per-request nonce the security-headers middleware put in the CSP, or ""."""
    nonce = getattr(request.state, "csp_nonce", "")
    return nonce if isinstance(nonce, str) else ""


def _page_context(request: Request) -> dict[str, Any]:
    return {"csp_nonce": csp_nonce(request), "app_version": __version__}


def document_environment() -> jinja2.Environment:
    """A fresh Jinja2 environment for printed documents (KOT, invoice, QR pack): the page
    templates, autoescaped HTML, undefined variables are errors. Fresh, so a caller may add
    its own filters without touching the others'."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def build_templates(assets: AssetVersions) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(("html", "xml"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static_url"] = assets.url
    return Jinja2Templates(env=env, context_processors=[_page_context])


def get_templates(request: Request) -> Jinja2Templates:
    templates = getattr(request.app.state, "templates", None)
    if not isinstance(templates, Jinja2Templates):
        raise RuntimeError("install_web() has not run on this app")
    return templates


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page. Templates may rely on `user` (the signed-in staff or None) existing."""
    values: dict[str, Any] = {"user": None, "active_nav": ""}
    values.update(context or {})
    response = get_templates(request).TemplateResponse(
        request, template, values, status_code=status_code, headers=dict(headers or {})
    )
    response.headers.setdefault("cache-control", PAGE_CACHE_CONTROL)
    return response
