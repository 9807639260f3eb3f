"""Cross-cutting HTTP middleware, all pure ASGI (no `BaseHTTPMiddleware`: no extra task per
request, streaming and WebSockets pass through untouched).

Outermost first:
  RequestContextMiddleware  request ID, X-Response-Time-ms, access log, metrics, 500s
  SecurityHeadersMiddleware baseline headers + per-request CSP nonce
  MaintenanceMiddleware     MAINTENANCE=1 → 503 outside the exempt paths
  GuestBodyLimitMiddleware  guest POST/PUT/PATCH bodies ≤ GUEST_BODY_MAX_BYTES
  CORSMiddleware            only when CORS_ORIGINS is set

Outside all of them, `guest.fastpath.GuestMenuFastPath` answers repeat guest menu GETs from
memory, dressing its reply with the helpers below (`stamp_request_headers`, `RequestObserver`).
"""

from __future__ import annotations

import asyncio
import functools
import random
import re
import time
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servio.config import Settings
from servio.kit.client_ip import client_ip
from servio.kit.context import client_ip_var, request_id_var, tenant_var, user_var
from servio.kit.errors import ProblemError, problem_response, render_problem
from servio.kit.ids import new_id
from servio.kit.logging import get_logger
from servio.ops import metrics
from servio.ops.maintenance import MaintenanceMiddleware
from servio.ops.paths import is_guest_path, surface_of
from servio.ops.security_headers import SecurityHeadersMiddleware, apply_security_headers

REQUEST_ID_HEADER = "X-Request-ID"
RESPONSE_TIME_HEADER = "X-Response-Time-ms"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_REQUEST_ID = REQUEST_ID_HEADER.lower().encode()
_RESPONSE_TIME = RESPONSE_TIME_HEADER.lower().encode()
_OWN_HEADERS = frozenset({_REQUEST_ID, _RESPONSE_TIME})  # ours replace any set inside

access_log = get_logger("servio.access")


def sanitize_request_id(value: str | None) -> str:
    """Keep a caller's request ID when it is short and plain; otherwise mint a ULID."""
    if value and _VALID_REQUEST_ID.match(value):
        return value
    return new_id()


def route_template(scope: Scope) -> str:
    """The matched route's path template, so labels never carry IDs or tokens."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str):
        return template
    root_path = scope.get("root_path", "")
    app_root = scope.get("app_root_path", "")
    if root_path and root_path != app_root:  # a mounted app (static files)
        return f"{root_path[len(app_root) :]}/{{path}}"
    return "unmatched"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _client_ip(scope: Scope, settings: Settings) -> str:
    """Trusted-proxy aware (see `kit.client_ip`); works for HTTP and WebSocket scopes."""
    return client_ip(HTTPConnection(scope), settings)


@functools.cache
def _route_series(method: str, route: str, status: int) -> tuple[Any, Any]:
    """The labelled children, looked up once per label set instead of per request."""
    return (
        metrics.http_requests_total.labels(method, route, str(status)),
        metrics.http_request_duration_seconds.labels(method, route),
    )


@functools.cache
def _slo_series(surface: str) -> Any:
    return metrics.slo_requests_total.labels(surface)


def stamp_request_headers(message: Message, request_id: str, started: float) -> float:
    """Put the request ID and `X-Response-Time-ms` on an `http.response.start` message
    (replacing any set further in); returns the latency in ms."""
    latency_ms = (time.perf_counter() - started) * 1000
    raw = message.get("headers")
    headers = raw if isinstance(raw, list) else list(raw or ())
    message["headers"] = headers
    if any(name.lower() in _OWN_HEADERS for name, _ in headers):
        headers[:] = [h for h in headers if h[0].lower() not in _OWN_HEADERS]
    headers.extend(request_headers(request_id, latency_ms))
    return latency_ms


def request_headers(request_id: str, latency_ms: float) -> tuple[tuple[bytes, bytes], ...]:
    """The request ID and `X-Response-Time-ms` header pairs."""
    return (
        (_REQUEST_ID, request_id.encode("latin-1")),
        (_RESPONSE_TIME, f"{latency_ms:.2f}".encode()),
    )


class RequestObserver:
    """Per-request metrics and the sampled access log line."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def observe(
        self, scope: Scope, status: int, latency_ms: float, error: BaseException | None
    ) -> None:
        route = route_template(scope)
        method = str(scope.get("method", ""))
        path = str(scope.get("path", ""))
        requests, duration = _route_series(method, route, status)
        requests.inc()
        duration.observe(latency_ms / 1000)
        surface = surface_of(path)
        _slo_series(surface).inc()
        if status >= 500:
            metrics.http_request_errors_total.labels(method, route).inc()
            metrics.slo_errors_total.labels(surface).inc()
        if error is None and not self._should_log(status, path):
            return
        state = scope.get("state", {})
        fields: dict[str, Any] = {
            "req_id": state.get("request_id"),
            "tenant": tenant_var.get() or state.get("tenant_id"),
            "user": user_var.get() or state.get("user_id"),
            "method": method,
            "route": route,
            "status": status,
            "latency_ms": round(latency_ms, 2),
        }
        if status >= 500 or error is not None:
            # An error after the response started still surfaces here, with its traceback.
            access_log.error("request", exc_info=error, **fields)
        elif status >= 400:
            access_log.warning("request", **fields)
        else:
            access_log.info("request", **fields)

    def _should_log(self, status: int, path: str) -> bool:
        # 304 is a success too (a revalidation that found the copy current), sampled alike.
        if 200 <= status < 300 or status == 304:
            rate = self.settings.log_sample_2xx
        elif 400 <= status < 500 and is_guest_path(path):
            rate = self.settings.log_sample_guest_4xx
        else:
            return True
        return rate >= 1 or (rate > 0 and random.random() < rate)  # noqa: S311 - sampling


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.hsts = settings.app_env == "prod"
        self.observer = RequestObserver(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = sanitize_request_id(_header(scope, b"x-request-id"))
        scope.setdefault("state", {})["request_id"] = request_id
        tokens = (
            request_id_var.set(request_id),
            client_ip_var.set(_client_ip(scope, self.settings)),
            tenant_var.set(None),
            user_var.set(None),
        )
        try:
            if scope["type"] == "websocket":
                await self._websocket(scope, receive, send, request_id)
            else:
                await self._http(scope, receive, send, request_id)
        finally:
            user_var.reset(tokens[3])
            tenant_var.reset(tokens[2])
            client_ip_var.reset(tokens[1])
            request_id_var.reset(tokens[0])

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        async def send_with_id(message: Message) -> None:
            if message["type"] == "websocket.accept":
                message.setdefault("headers", [])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = time.perf_counter()
        status = 500
        latency_ms = 0.0
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, latency_ms, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                latency_ms = stamp_request_headers(message, request_id, started)
            await send(message)

        error: BaseException | None = None
        try:
            await self.app(scope, receive, send_with_headers)
        except asyncio.CancelledError:
            if not response_started:
                status = 499  # the client went away first; not a server error
            raise
        except Exception as exc:
            error = exc
            if response_started:
                raise
            # Answer here rather than in Starlette's ServerErrorMiddleware, so the 500
            # still carries the request ID and the security headers.
            crash = ProblemError(
                500,
                "INTERNAL_ERROR",
                "an unexpected error occurred",
                hint="the error was logged; quote the request_id to support",
            )

            async def send_crash(message: Message) -> None:
                if message["type"] == "http.response.start":
                    apply_security_headers(message, scope, hsts=self.hsts)
                await send_with_headers(message)

            await render_problem(Request(scope), crash)(scope, receive, send_crash)
        finally:
            if not response_started:
                latency_ms = (time.perf_counter() - started) * 1000
            self.observer.observe(scope, status, latency_ms, error)


class _BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body exceeds {limit} bytes")


def payload_too_large(limit: int) -> ProblemError:
    return ProblemError(
        413,
        "PAYLOAD_TOO_LARGE",
        f"request body exceeds {limit} bytes",
        hint=f"send at most {limit // 1024} KB",
    )


class GuestBodyLimitMiddleware:
    """Caps guest POST/PUT/PATCH bodies: by `Content-Length` up front, and by counting the
    bytes actually received (chunked uploads, lying headers)."""

    METHODS = frozenset({"POST", "PUT", "PATCH"})

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in self.METHODS
            or not is_guest_path(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send)
            return

        received = 0
        response_started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if response_started:
                raise
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(payload_too_large(self.max_bytes), Request(scope))
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def install_middleware(app: FastAPI, settings: Settings) -> None:
    # Starlette wraps in reverse order of registration: the last added is outermost.
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials="*" not in settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[
                REQUEST_ID_HEADER,
                RESPONSE_TIME_HEADER,
                "Retry-After",
                "Idempotent-Replayed",
            ],
        )
    app.add_middleware(GuestBodyLimitMiddleware, max_bytes=settings.guest_body_max_bytes)
    app.add_middleware(
        MaintenanceMiddleware,
        enabled=settings.maintenance,
        retry_after_secs=settings.maintenance_retry_after_secs,
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.app_env == "prod")
    app.add_middleware(RequestContextMiddleware, settings=settings)
