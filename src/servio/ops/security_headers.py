"""Baseline security headers on every HTTP response, with a strict Content-Security-Policy
carrying a fresh nonce per request (SEC-01).

Templates put the nonce on inline `<script>`/`<style>` tags:
`nonce="{{ request.state.csp_nonce }}"`.
Headers the application already set win (a page that must be framed can say so itself).

`/docs` and `/redoc` serve Swagger UI / ReDoc from our own `/docs-assets` (no CDN: a
self-hosted install may have no internet). Their bootstrap script carries the nonce, but both
UIs inject inline styles and ReDoc runs a blob: worker, so their CSP allows exactly that.
"""

from __future__ import annotations

import secrets

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_PATHS = ("/docs", "/redoc")


def docs_content_security_policy(nonce: str) -> str:
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; "
        "font-src 'self' data:; "
        "img-src 'self' data: blob:; "
        "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


HSTS = "max-age=63072000; includeSubDomains"


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def content_security_policy(nonce: str) -> str:
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' data:; "
        "connect-src 'self' ws: wss:; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


def is_docs_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in DOCS_PATHS)


def security_headers(path: str, nonce: str, *, hsts: bool) -> list[tuple[str, str]]:
    csp = (
        docs_content_security_policy(nonce)
        if is_docs_path(path)
        else content_security_policy(nonce)
    )
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Frame-Options", "DENY"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Content-Security-Policy", csp),
    ]
    if hsts:
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


_CSP = b"content-security-policy"
_HSTS = (b"strict-transport-security", HSTS.encode("latin-1"))
# `security_headers` before the CSP, encoded once: every response pays for this.
_BEFORE_CSP = tuple(
    (name.lower().encode("latin-1"), value.encode("latin-1"))
    for name, value in security_headers("/", "-", hsts=False)[:-1]
)


def encoded_security_headers(nonce: str, *, hsts: bool) -> list[tuple[bytes, bytes]]:
    """`security_headers` for a non-docs path, as ASGI header pairs."""
    headers = [*_BEFORE_CSP, (_CSP, content_security_policy(nonce).encode("latin-1"))]
    if hsts:
        headers.append(_HSTS)
    return headers


def apply_security_headers(message: Message, scope: Scope, *, hsts: bool) -> None:
    """Add the baseline headers to an `http.response.start` message (absent ones only)."""
    path = scope.get("path", "")
    if is_docs_path(path):
        _apply_slowly(message, scope, hsts=hsts)
        return
    raw = message.get("headers")
    headers: list[tuple[bytes, bytes]] = raw if isinstance(raw, list) else list(raw or ())
    message["headers"] = headers
    present = {name.lower() for name, _ in headers} if headers else set()
    nonce = scope.get("state", {}).get("csp_nonce") or new_nonce()
    for name, value in encoded_security_headers(nonce, hsts=hsts):
        if name not in present:
            headers.append((name, value))


def _apply_slowly(message: Message, scope: Scope, *, hsts: bool) -> None:
    nonce = scope.get("state", {}).get("csp_nonce") or new_nonce()
    message.setdefault("headers", [])
    headers = MutableHeaders(scope=message)
    for name, value in security_headers(scope.get("path", ""), nonce, hsts=hsts):
        if name not in headers:
            headers[name] = value


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["csp_nonce"] = new_nonce()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                apply_security_headers(message, scope, hsts=self.hsts)
            await send(message)

        await self.app(scope, receive, send_with_headers)
