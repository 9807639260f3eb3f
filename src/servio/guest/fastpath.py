"""The guest menu's repeat requests answered in pure ASGI, without FastAPI or the database.

`GET /g/{qr_token}/menu` (no query string) is the most requested route: every scan and
every revalidation. When the route itself answered the same table in the same language
under the current `guest.changes` generation (and not longer than `MAX_AGE_SECS` ago),
this middleware answers again from `RenderedMenuCache`: rate limit (class `guest`, the
same limiter and keys as the route), then `If-None-Match` → 304, else the cached bytes,
gzip when accepted. Anything else — first scan, a write since, a filter, another method,
a token it does not know — goes on to the route unchanged, which refills the cache.

It is the outermost middleware and answers in one layer, doing what the stack around the
route would: the same request ID, security headers, `X-Response-Time-ms`, metrics (it sets
`scope["route"]` to the route, so `route` is the template) and sampled access log, and a 429
rendered by the same Problem renderer. Every layer the stack adds costs more than the
answer itself under load (docs/benchmarks.md), hence one flat layer. Used only when the
process can see every write (no Redis: a single API process) and the platform is not in
maintenance; with CORS configured, a request carrying `Origin` goes to the stack.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servio.config import Settings
from servio.guest import changes as change_watch
from servio.guest.cache import RenderedMenuCache
from servio.guest.changes import changes
from servio.i18n import Lang, negotiate
from servio.kit.errors import ProblemError, render_problem
from servio.kit.ratelimit import rate_limit
from servio.ops.middleware import (
    RequestObserver,
    request_headers,
    sanitize_request_id,
    stamp_request_headers,
)
from servio.ops.security_headers import (
    apply_security_headers,
    encoded_security_headers,
    new_nonce,
)

MENU_PREFIX = "/g/"
MENU_SUFFIX = "/menu"
MAX_TOKEN_CHARS = 128  # the route's `Path(max_length=128)`
_MEMO_LIMIT = 256


def accepts_gzip(accept_encoding: str | None) -> bool:
    """RFC 9110 §12.5.3: gzip (or `*`) listed with q > 0 and gzip not refused."""
    if not accept_encoding:
        return False
    gzip_q: float | None = None
    star_q: float | None = None
    for part in accept_encoding.split(","):
        name, _, params = part.partition(";")
        name = name.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name in ("gzip", "x-gzip"):
            gzip_q = quality
        elif name == "*":
            star_q = quality
    if gzip_q is not None:
        return gzip_q > 0
    return star_q is not None and star_q > 0


class _Memo:
    """Header value → parsed result; browsers send the same few values over and over."""

    def __init__(self) -> None:
        self.languages: dict[str | None, Lang] = {}
        self.encodings: dict[str | None, bool] = {}

    def lang(self, header: str | None) -> Lang:
        lang = self.languages.get(header)
        if lang is None:
            if len(self.languages) >= _MEMO_LIMIT:
                self.languages.clear()
            lang = self.languages[header] = negotiate(header)
        return lang

    def gzip(self, header: str | None) -> bool:
        accepted = self.encodings.get(header)
        if accepted is None:
            if len(self.encodings) >= _MEMO_LIMIT:
                self.encodings.clear()
            accepted = self.encodings[header] = accepts_gzip(header)
        return accepted


memo = _Memo()


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison; `*` matches any current representation."""
    if not if_none_match:
        return False
    if if_none_match == etag:
        return True
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


def menu_token(scope: Scope) -> str | None:
    """The QR token when this is a plain `GET /g/{token}/menu`, else None."""
    if scope["method"] != "GET" or scope.get("query_string"):
        return None
    path: str = scope["path"]
    if not (path.startswith(MENU_PREFIX) and path.endswith(MENU_SUFFIX)):
        return None
    token = path[len(MENU_PREFIX) : -len(MENU_SUFFIX)]
    if not token or "/" in token or len(token) > MAX_TOKEN_CHARS:
        return None
    return token


class GuestMenuFastPath:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        # Maintenance answers 503 and CORS adds headers: both are left to the stack.
        self.enabled = not settings.redis_url and not settings.maintenance
        self.cors = bool(settings.cors_origins)
        self.hsts = settings.app_env == "prod"
        self.observer = RequestObserver(settings)
        self.enforce_rate_limit = rate_limit("guest")
        self._route: APIRoute | None = None

    def _menu_route(self, scope: Scope) -> APIRoute | None:
        if self._route is None:
            for route in scope["app"].router.routes:
                if isinstance(route, APIRoute) and route.path == "/g/{qr_token}/menu":
                    self._route = route
                    break
        return self._route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        token = menu_token(scope)
        cache: RenderedMenuCache | None = (
            getattr(scope["app"].state, "guest_menu_cache", None) if token else None
        )
        if token is None or cache is None or changes.in_flight:
            await self.app(scope, receive, send)
            return
        accept_language = accept_encoding = if_none_match = request_id = None
        for key, value in scope["headers"]:
            if key == b"accept-language":
                accept_language = value.decode("latin-1")
            elif key == b"accept-encoding":
                accept_encoding = value.decode("latin-1")
            elif key == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif key == b"x-request-id":
                request_id = value.decode("latin-1")
            elif key == b"origin" and self.cors:
                await self.app(scope, receive, send)
                return
        answer = cache.recall(
            token, memo.lang(accept_language), changes.generation, time.monotonic()
        )
        route = self._menu_route(scope) if answer is not None else None
        if answer is None or route is None:
            await self.app(scope, receive, send)
            return

        # From here on this is the route's reply, dressed as the middleware stack dresses
        # it: request ID, security headers, response time, metrics and access log.
        request_id = sanitize_request_id(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = {"qr_token": token}
        status = 200
        try:
            await self.enforce_rate_limit(HTTPConnection(scope))
        except ProblemError as refused:
            status = refused.status

            async def dressed(message: Message) -> None:
                if message["type"] == "http.response.start":
                    apply_security_headers(message, scope, hsts=self.hsts)
                    stamp_request_headers(message, request_id, started)
                await send(message)

            await render_problem(Request(scope), refused)(scope, receive, dressed)
            self.observer.observe(scope, status, (time.perf_counter() - started) * 1000, None)
            return
        headers: Any
        if etag_matches(if_none_match, answer.etag):
            status, body, headers = 304, b"", list(answer.headers_304)
        else:
            body, headers = answer.encode(memo.gzip(accept_encoding))
            cache.hits += 1  # served from the cached rendering, as the route counts it
        # The cached headers never carry the ones added here, so no check for duplicates.
        headers.extend(encoded_security_headers(new_nonce(), hsts=self.hsts))
        latency_ms = (time.perf_counter() - started) * 1000
        headers.extend(request_headers(request_id, latency_ms))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self.observer.observe(scope, status, latency_ms, None)


def install_guest_fastpath(app: FastAPI, settings: Settings) -> None:
    """Register the fast path as the outermost middleware (call after `install_middleware`:
    what the fast path does not answer goes through every layer that one installs)."""
    change_watch.install()
    app.state.guest_menu_cache = RenderedMenuCache(settings.guest_menu_cache_entries)
    app.add_middleware(GuestMenuFastPath, settings=settings)
