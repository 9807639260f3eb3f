"""Maintenance mode (PLAT-11).

Platform-wide: `MAINTENANCE=1` makes every HTTP route answer `503 MAINTENANCE` with
`Retry-After`, except what operators need to get the platform back: provider and admin
APIs and console pages, logins, health and metrics, and the API docs (`MAINTENANCE_EXEMPT`).

Per tenant: `Tenant.maintenance_until` (scheduled through the provider API) is checked by
the caller-resolving dependencies via `check_tenant_maintenance(uow, tenant_id)`. The value is
cached in-process for a few seconds so the check costs nothing on the hot path; the provider
API calls `forget_tenant_maintenance(tenant_id)` after changing it (other processes catch up
within `TENANT_CACHE_SECONDS`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from servio.kit.clock import as_utc, utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import ProblemError, problem_response
from servio.ops import repository
from servio.ops.paths import is_under

# Paths that stay up during platform maintenance: operator APIs and the web pages an
# operator signs in through, logins, health/metrics and the API docs. A prefix ending in
# "/" covers everything below it; other entries match themselves and their sub-paths.
MAINTENANCE_EXEMPT = (
    "/api/v1/provider/",
    "/api/v1/admin/",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/health",
    "/healthz",
    "/ready",
    "/readyz",
    "/status.json",
    "/metrics",
    "/time/skew",
    "/docs",
    "/docs-assets/",
    "/redoc",
    "/openapi.json",
    "/login",
    "/logout",
    "/console",
    "/static/",
)

TENANT_CACHE_SECONDS = 5.0


def maintenance_problem(retry_after_secs: int, detail: str) -> ProblemError:
    retry_after = max(1, retry_after_secs)
    return ProblemError(
        503,
        "MAINTENANCE",
        detail,
        title="Service Unavailable",
        hint=f"retry in {retry_after}s",
        headers={"Retry-After": str(retry_after)},
        extra={"retry_after": retry_after},
    )


def is_exempt(path: str) -> bool:
    return any(is_under(path, entry) for entry in MAINTENANCE_EXEMPT)


class MaintenanceMiddleware:
    """503 for everything but the exempt paths while platform maintenance is on.
    WebSocket scopes pass untouched (sockets reconnect and re-read state afterwards)."""

    def __init__(self, app: ASGIApp, *, enabled: bool, retry_after_secs: int) -> None:
        self.app = app
        self.enabled = enabled
        self.retry_after_secs = retry_after_secs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http" or is_exempt(scope["path"]):
            await self.app(scope, receive, send)
            return
        problem = maintenance_problem(self.retry_after_secs, "the platform is down for maintenance")
        await problem_response(problem, Request(scope))(scope, receive, send)


@dataclass(frozen=True)
class _CachedWindow:
    until: datetime | None
    fetched_at: datetime


_tenant_windows: dict[str, _CachedWindow] = {}


def forget_tenant_maintenance(tenant_id: str | None = None) -> None:
    """Drop the cached window of one tenant (or all) after it changed."""
    if tenant_id is None:
        _tenant_windows.clear()
    else:
        _tenant_windows.pop(tenant_id, None)


async def tenant_maintenance_until(uow: UnitOfWork, tenant_id: str) -> datetime | None:
    now = utcnow()
    cached = _tenant_windows.get(tenant_id)
    if cached is not None and (
        cached.fetched_at <= now < cached.fetched_at + timedelta(seconds=TENANT_CACHE_SECONDS)
    ):
        return cached.until
    until = await repository.tenant_maintenance_until(uow.session, tenant_id)
    until = as_utc(until) if until is not None else None
    _tenant_windows[tenant_id] = _CachedWindow(until, now)
    return until


async def check_tenant_maintenance(uow: UnitOfWork, tenant_id: str) -> None:
    """Raise `503 MAINTENANCE` with `Retry-After` while the tenant's window is open."""
    until = await tenant_maintenance_until(uow, tenant_id)
    if until is None:
        return
    remaining = (until - utcnow()).total_seconds()
    if remaining <= 0:
        return
    raise maintenance_problem(
        math.ceil(remaining), f"this venue is down for maintenance until {until.isoformat()}"
    )
