"""Staff, PIN and provider logins, token refresh, logout, `/staff/me`, deactivation."""

from __future__ import annotations

from fastapi import Depends, Request
from starlette.responses import Response

from servio.auth import service
from servio.auth.actors import StaffActor
from servio.auth.cookies import clear_session_cookies, session_cookie_name
from servio.auth.dependencies import app_settings, public, require_staff
from servio.auth.exceptions import RecordedFailure
from servio.auth.schemas import (
    AliasPinLoginRequest,
    LoginRequest,
    MeRead,
    OutletRef,
    PinLoginRequest,
    PinToken,
    ProviderLoginRequest,
    ProviderToken,
    RefreshRequest,
    StaffRead,
    TenantRef,
    TokenPair,
)
from servio.kit.client_ip import client_ip
from servio.kit.db import UnitOfWork
from servio.kit.errors import problem_responses, render_problem
from servio.kit.ratelimit import RATE_LIMIT_PROBLEM, rate_limit, record_auth_failure
from servio.kit.routing import get_uow, make_router, request_context

router = make_router(tags=["auth"])


async def credential_uow(request: Request) -> UnitOfWork:
    """Logins look an account up before the tenant is known: the lookup runs with
    row-level security bypassed, and the service narrows the scope once it finds one."""
    ctx = request_context(request)
    await ctx.scope_tenant(None, bypass=True)
    return await ctx.open()


async def _refused(request: Request, failure: RecordedFailure) -> Response:
    """Return (not raise) the failure so its counters and audit entry commit, and count
    it towards the rate limiter's per-IP block on repeated auth failures."""
    await record_auth_failure(request)
    return render_problem(request, failure)


def _user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


def _pin_token(issued: service.IssuedTokens) -> PinToken:
    assert issued.outlet_id is not None
    return PinToken(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        staff_id=issued.user_id,
        name=issued.user_name,
        outlet_id=issued.outlet_id,
        roles=list(issued.roles),
    )


def _pair(issued: service.IssuedTokens) -> TokenPair:
    assert issued.refresh_token is not None
    return TokenPair(
        access_token=issued.access_token,
        refresh_token=issued.refresh_token,
        expires_in=issued.expires_in,
    )


@router.post(
    "/api/v1/auth/login",
    response_model=TokenPair,
    dependencies=[Depends(public), Depends(rate_limit("login"))],
    summary="Log in with email and password",
    responses=problem_responses(
        (401, "INVALID_CREDENTIALS"),
        (401, "OTP_REQUIRED"),
        (401, "OTP_INVALID"),
        (403, "ACCOUNT_DISABLED"),
        RATE_LIMIT_PROBLEM,
    ),
)
async def login(
    body: LoginRequest, request: Request, uow: UnitOfWork = Depends(credential_uow)
) -> TokenPair | Response:
    try:
        issued = await service.login_with_password(
            uow,
            body.email,
            body.password,
            body.otp,
            ip=client_ip(request, app_settings(request)),
            user_agent=_user_agent(request),
            settings=app_settings(request),
        )
    except RecordedFailure as failure:
        return await _refused(request, failure)
    return _pair(issued)


@router.post(
    "/api/v1/auth/refresh",
    response_model=TokenPair,
    dependencies=[Depends(public)],
    summary="Exchange a refresh token for a new token pair (the old one is retired)",
    responses=problem_responses((401, "INVALID_REFRESH_TOKEN"), (401, "REFRESH_TOKEN_REUSED")),
)
async def refresh(
    body: RefreshRequest, request: Request, uow: UnitOfWork = Depends(credential_uow)
) -> TokenPair | Response:
    try:
        issued = await service.refresh_tokens(
            uow, body.refresh_token, settings=app_settings(request)
        )
    except RecordedFailure as failure:
        return await _refused(request, failure)
    return _pair(issued)


@router.post(
    "/api/v1/auth/logout",
    status_code=204,
    response_class=Response,
    summary="End this login (its access and refresh tokens stop working)",
    responses=problem_responses((401, "UNAUTHORIZED"), (403, "OUTLET_NOT_GRANTED")),
)
async def logout(
    request: Request,
    actor: StaffActor = Depends(require_staff()),
    uow: UnitOfWork = Depends(get_uow),
) -> Response:
    await service.logout(uow, actor)
    response = Response(status_code=204)
    if session_cookie_name(app_settings(request)) in request.cookies:
        clear_session_cookies(response, app_settings(request))
    return response


async def _pin_login(
    request: Request, uow: UnitOfWork, outlet_id: str, pin: str, staff_id: str | None
) -> PinToken | Response:
    try:
        issued = await service.login_with_pin(
            uow,
            outlet_id,
            pin,
            staff_id=staff_id,
            ip=client_ip(request, app_settings(request)),
            user_agent=_user_agent(request),
            settings=app_settings(request),
        )
    except RecordedFailure as failure:
        return await _refused(request, failure)
    return _pin_token(issued)


_PIN_ERRORS = problem_responses(
    (401, "INVALID_PIN"),
    (403, "ACCOUNT_DISABLED"),
    (404, "NOT_FOUND"),
    (423, "PIN_LOCKED"),
    RATE_LIMIT_PROBLEM,
)
_PIN_LOGIN_DEPENDENCIES = [Depends(public), Depends(rate_limit("pin_login"))]


@router.post(
    "/api/v1/auth/pin-login",
    response_model=PinToken,
    dependencies=_PIN_LOGIN_DEPENDENCIES,
    summary="Log in at an outlet with a staff PIN (short-lived token)",
    responses=_PIN_ERRORS,
)
async def pin_login(
    body: PinLoginRequest, request: Request, uow: UnitOfWork = Depends(credential_uow)
) -> PinToken | Response:
    return await _pin_login(request, uow, body.outlet_id, body.pin, body.staff_id)


@router.post(
    "/api/outlet/{tenant}/staff/login",
    response_model=PinToken,
    dependencies=_PIN_LOGIN_DEPENDENCIES,
    summary="PIN login (seed 000 alias of /api/v1/auth/pin-login)",
    responses={**_PIN_ERRORS, **problem_responses((422, "OUTLET_REQUIRED"))},
)
async def pin_login_alias(
    tenant: str,
    body: AliasPinLoginRequest,
    request: Request,
    uow: UnitOfWork = Depends(credential_uow),
) -> PinToken | Response:
    outlet_id = await service.resolve_alias_outlet(uow, tenant, body.outlet_id)
    return await _pin_login(request, uow, outlet_id, body.pin, body.staff_id)


@router.get(
    "/api/v1/staff/me",
    response_model=MeRead,
    summary="Who am I: user, tenant, current outlet, roles, permissions, outlets",
    responses=problem_responses((401, "UNAUTHORIZED"), (403, "OUTLET_NOT_GRANTED")),
)
async def me(
    actor: StaffActor = Depends(require_staff()), uow: UnitOfWork = Depends(get_uow)
) -> MeRead:
    profile = await service.staff_profile(uow, actor)
    return MeRead(
        user=StaffRead.model_validate(profile.user),
        tenant=TenantRef.model_validate(profile.tenant),
        outlet=OutletRef.model_validate(profile.outlet) if profile.outlet else None,
        roles=list(actor.roles),
        permissions=sorted(actor.permissions),
        outlets=[OutletRef.model_validate(o) for o in profile.outlets],
        session_id=actor.session_id,
    )


@router.post(
    "/api/v1/staff/{staff_id}/deactivate",
    response_model=StaffRead,
    summary="Deactivate a staff member and end all of their logins",
    responses=problem_responses(
        (401, "UNAUTHORIZED"),
        (403, "FORBIDDEN"),
        (404, "NOT_FOUND"),
        (409, "CANNOT_DEACTIVATE_SELF"),
    ),
)
async def deactivate(
    staff_id: str,
    actor: StaffActor = Depends(require_staff("staff.manage")),
    uow: UnitOfWork = Depends(get_uow),
) -> StaffRead:
    user = await service.deactivate_staff(uow, actor, staff_id)
    return StaffRead.model_validate(user)


@router.post(
    "/api/v1/provider/auth/login",
    response_model=ProviderToken,
    dependencies=[Depends(public), Depends(rate_limit("login"))],
    tags=["provider"],
    summary="Log in as a platform operator",
    responses=problem_responses(
        (401, "INVALID_CREDENTIALS"), (403, "ACCOUNT_DISABLED"), RATE_LIMIT_PROBLEM
    ),
)
async def provider_login(
    body: ProviderLoginRequest, request: Request, uow: UnitOfWork = Depends(credential_uow)
) -> ProviderToken | Response:
    try:
        token = await service.login_provider(
            uow, body.email, body.password, settings=app_settings(request)
        )
    except RecordedFailure as failure:
        return await _refused(request, failure)
    return ProviderToken(access_token=token.token, expires_in=token.expires_in)
