"""Route policies: every route depends on exactly one of these.

- `public` — anyone (health, login).
- `require_staff(permission=None)` → `StaffActor` (Bearer access token or console cookie).
- `require_device(permission=None)` → `DeviceActor` (device token).
- `require_staff_or_device(permission)` → `StaffActor | DeviceActor`.
- `require_guest(member_required=False)` → `GuestActor` (guest or member token).
- `require_provider()` → `ProviderActor` (provider token).

Each dependency verifies the credential, scopes the request's transaction to the caller's
tenant (PostgreSQL row-level security), sets `request.state.actor` and the logging context
variables, and is marked with its `RoutePolicy` for the route-policy test.

The factories are cached: `require_staff("menu.read")` is the same callable everywhere, so
FastAPI resolves it once per request even when a router and a route both declare it.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from functools import cache

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from servio.auth import exceptions as exc
from servio.auth.actors import DeviceActor, GuestActor, ProviderActor, StaffActor
from servio.auth.cookies import CSRF_HEADER, csrf_cookie_name, session_cookie_name
from servio.auth.permissions import is_permission
from servio.auth.service import authenticate_provider, authenticate_staff
from servio.auth.tokens import (
    csrf_token_for,
    decode_access_token,
    decode_device_token,
    decode_guest_token,
    decode_provider_token,
    peek_type,
)
from servio.config import Settings, get_settings
from servio.kit.context import tenant_var, user_var
from servio.kit.db import UnitOfWork
from servio.kit.errors import Forbidden, ProblemError, Unauthorized
from servio.kit.policy import RoutePolicy, mark_policy
from servio.kit.routing import request_context
from servio.ops.maintenance import check_tenant_maintenance

OUTLET_HEADER = "X-Outlet-ID"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# `auto_error=False`: a missing header is our own Problem+JSON 401, not FastAPI's 403.
bearer_scheme = HTTPBearer(
    auto_error=False,
    description="An access, device, guest or provider token, depending on the route",
)

Credentials = HTTPAuthorizationCredentials | None
StaffDependency = Callable[..., Awaitable[StaffActor]]


def app_settings(request: Request) -> Settings:
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


def _bind(
    request: Request,
    actor: StaffActor | DeviceActor | GuestActor | ProviderActor,
) -> None:
    request.state.actor = actor
    request.state.tenant_id = actor.tenant_id
    request.state.user_id = actor.id
    tenant_var.set(actor.tenant_id)
    user_var.set(actor.id)


async def _refuse_during_tenant_maintenance(request: Request, tenant_id: str) -> None:
    # Per-tenant maintenance windows (PLAT-11); cached in-process, so usually no query.
    uow = await request_context(request).open()
    await check_tenant_maintenance(uow, tenant_id)


def _require_token(credentials: Credentials) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("send `Authorization: Bearer <token>`")
    return credentials.credentials


def _check_csrf(request: Request, settings: Settings, session_id: str) -> None:
    expected = csrf_token_for(settings, session_id)
    header = request.headers.get(CSRF_HEADER, "")
    cookie = request.cookies.get(csrf_cookie_name(settings), "")
    if not (hmac.compare_digest(header, expected) and hmac.compare_digest(cookie, expected)):
        raise Forbidden("missing or wrong CSRF token", code="CSRF_FAILED")


@mark_policy(RoutePolicy("public"))
async def public() -> None:
    """Anyone may call the route."""


async def staff_from_token(
    uow: UnitOfWork,
    settings: Settings,
    token: str,
    *,
    permission: str | None = None,
    requested_outlet: str | None = None,
) -> StaffActor:
    """Authenticate a staff access token outside a route dependency (WebSockets, SSE)."""
    claims = decode_access_token(settings, token)
    await uow.set_tenant(claims.tenant_id)
    actor = await authenticate_staff(uow, claims, requested_outlet=requested_outlet)
    if permission is not None and not actor.can(permission):
        raise exc.missing_permission(permission)
    return actor


async def _staff(
    request: Request, credentials: Credentials, outlet_header: str | None, permission: str | None
) -> StaffActor:
    settings = app_settings(request)
    cookie_token = request.cookies.get(session_cookie_name(settings))
    if credentials is not None and credentials.credentials:
        token, via_cookie = credentials.credentials, False
    elif cookie_token:
        token, via_cookie = cookie_token, True
    else:
        raise Unauthorized("log in first: send a Bearer token or the session cookie")
    claims = decode_access_token(settings, token)
    if via_cookie and request.method in UNSAFE_METHODS:
        _check_csrf(request, settings, claims.session_id)
    ctx = request_context(request)
    await ctx.scope_tenant(claims.tenant_id)
    uow = await ctx.open()
    actor = await authenticate_staff(uow, claims, requested_outlet=outlet_header or None)
    if permission is not None and not actor.can(permission):
        raise exc.missing_permission(permission)
    await check_tenant_maintenance(uow, actor.tenant_id)
    _bind(request, actor)
    return actor


def _known(permission: str | None) -> None:
    if permission is not None and not is_permission(permission):
        raise ValueError(f"unknown permission {permission!r}: add it to auth/permissions.py")


@cache
def require_staff(permission: str | None = None) -> StaffDependency:
    """A signed-in staff member (with `permission`, when given) → `StaffActor`.

    401 `UNAUTHORIZED` / `TOKEN_EXPIRED`, 403 `FORBIDDEN` (missing permission),
    `OUTLET_NOT_GRANTED` (`X-Outlet-ID`), `CSRF_FAILED` (cookie without CSRF header),
    `ACCOUNT_DISABLED`.
    """
    _known(permission)

    @mark_policy(RoutePolicy("staff", permission))
    async def staff_dependency(
        request: Request,
        credentials: Credentials = Depends(bearer_scheme),
        x_outlet_id: str | None = Header(
            None, alias=OUTLET_HEADER, description="Acting outlet for multi-outlet staff"
        ),
    ) -> StaffActor:
        return await _staff(request, credentials, x_outlet_id, permission)

    return staff_dependency


async def _device(request: Request, token: str, permission: str | None) -> DeviceActor:
    claims = decode_device_token(app_settings(request), token)
    # Device revocation (AUTH-06) adds a check against the devices table here.
    actor = DeviceActor(
        device_id=claims.device_id,
        tenant_id=claims.tenant_id,
        outlet_id=claims.outlet_id,
        permissions=claims.scopes,
    )
    if permission is not None and not actor.can(permission):
        raise exc.missing_permission(permission)
    await request_context(request).scope_tenant(actor.tenant_id)
    await _refuse_during_tenant_maintenance(request, actor.tenant_id)
    _bind(request, actor)
    return actor


@cache
def require_device(permission: str | None = None) -> Callable[..., Awaitable[DeviceActor]]:
    """An enrolled device (KDS screen, printer bridge, terminal) → `DeviceActor`."""
    _known(permission)

    @mark_policy(RoutePolicy("device", permission))
    async def device_dependency(
        request: Request,
        credentials: Credentials = Depends(bearer_scheme),
    ) -> DeviceActor:
        return await _device(request, _require_token(credentials), permission)

    return device_dependency


@cache
def require_staff_or_device(
    permission: str,
) -> Callable[..., Awaitable[StaffActor | DeviceActor]]:
    """Either a staff member or a device holding `permission` (e.g. the KDS)."""
    _known(permission)

    @mark_policy(RoutePolicy("staff_or_device", permission))
    async def staff_or_device_dependency(
        request: Request,
        credentials: Credentials = Depends(bearer_scheme),
        x_outlet_id: str | None = Header(
            None, alias=OUTLET_HEADER, description="Acting outlet for multi-outlet staff"
        ),
    ) -> StaffActor | DeviceActor:
        if credentials is not None and peek_type(credentials.credentials) == "device":
            return await _device(request, credentials.credentials, permission)
        return await _staff(request, credentials, x_outlet_id, permission)

    return staff_or_device_dependency


@cache
def require_guest(member_required: bool = False) -> Callable[..., Awaitable[GuestActor]]:
    """A guest of a table session (`guest` token) or a joined member (`member` token).
    With `member_required`, a bare guest token is 403 `MEMBER_REQUIRED`."""

    @mark_policy(RoutePolicy("guest", "member" if member_required else None))
    async def guest_dependency(
        request: Request,
        credentials: Credentials = Depends(bearer_scheme),
    ) -> GuestActor:
        claims = decode_guest_token(app_settings(request), _require_token(credentials))
        if member_required and claims.member_id is None:
            raise ProblemError(
                403, "MEMBER_REQUIRED", "join the table with a nickname first", hint="POST /member"
            )
        actor = GuestActor(
            session_id=claims.session_id,
            tenant_id=claims.tenant_id,
            outlet_id=claims.outlet_id,
            member_id=claims.member_id,
        )
        await request_context(request).scope_tenant(actor.tenant_id)
        await _refuse_during_tenant_maintenance(request, actor.tenant_id)
        _bind(request, actor)
        return actor

    return guest_dependency


@cache
def require_provider() -> Callable[..., Awaitable[ProviderActor]]:
    """A platform operator → `ProviderActor`. The transaction sees every tenant."""

    @mark_policy(RoutePolicy("provider"))
    async def provider_dependency(
        request: Request,
        credentials: Credentials = Depends(bearer_scheme),
    ) -> ProviderActor:
        claims = decode_provider_token(app_settings(request), _require_token(credentials))
        ctx = request_context(request)
        await ctx.scope_tenant(None, bypass=True)
        actor = await authenticate_provider(await ctx.open(), claims)
        _bind(request, actor)
        return actor

    return provider_dependency
