"""Auth use cases: password, PIN and provider logins, refresh rotation, logout,
per-request authentication of staff tokens, deactivation, and creating accounts.

Functions take the request's unit of work and never commit. Refusals that must leave a
trace (lockout counters, reuse revocation, audit entries) raise `RecordedFailure`, which
routes return instead of raising so the trace commits.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import pyotp
from sqlalchemy.exc import IntegrityError

from servio.audit.service import record as audit
from servio.auth import exceptions as exc
from servio.auth.actors import ProviderActor, StaffActor, SystemActor
from servio.auth.passwords import (
    dummy_verify,
    hash_password,
    hash_pin,
    needs_rehash,
    pin_lookup,
    verify_password,
    verify_pin,
)
from servio.auth.permissions import (
    can_act_in_any_outlet,
    permissions_for,
    role_rank,
    unknown_roles,
)
from servio.auth.repository import CredentialRepository, StaffRepository
from servio.auth.tokens import (
    AccessClaims,
    ProviderClaims,
    SignedToken,
    hash_refresh_token,
    issue_access_token,
    issue_provider_token,
    new_refresh_token,
)
from servio.config import Settings, get_settings
from servio.kit.clock import utcnow
from servio.kit.db import UnitOfWork
from servio.kit.errors import Conflict, Forbidden, NotFound, ProblemError, Unauthorized
from servio.kit.logging import get_logger
from servio.models import AuthSession, Outlet, ProviderAdmin, StaffOutletGrant, StaffUser, Tenant

log = get_logger("servio.auth")

SessionKind = Literal["password", "pin", "cookie"]
PIN_PATTERN = re.compile(r"^[0-9]{4,8}$")
MIN_PASSWORD_LENGTH = 10
_AUTH = "auth"  # the system actor name for entries about not-yet-authenticated callers


@dataclass(frozen=True)
class IssuedTokens:
    """What a successful login or refresh hands out."""

    access_token: str
    expires_at: datetime
    refresh_token: str | None  # None for PIN and cookie sessions
    session_id: str
    kind: SessionKind
    user_id: str
    user_name: str
    tenant_id: str
    outlet_id: str | None
    roles: tuple[str, ...]
    token_type: str = "bearer"

    @property
    def expires_in(self) -> int:
        return max(0, int((self.expires_at - utcnow()).total_seconds()))


@dataclass(frozen=True)
class StaffProfile:
    user: StaffUser
    tenant: Tenant
    outlet: Outlet | None
    outlets: Sequence[Outlet]
    actor: StaffActor


def _cfg(settings: Settings | None) -> Settings:
    return settings or get_settings()


def normalize_email(email: str) -> str:
    return email.strip().lower()


def actor_for(user: StaffUser, session: AuthSession, outlet_id: str | None) -> StaffActor:
    return StaffActor(
        user_id=user.id,
        tenant_id=user.tenant_id,
        outlet_id=outlet_id,
        roles=tuple(user.roles),
        permissions=permissions_for(user.roles),
        session_id=session.id,
    )


def _login_system_actor(tenant_id: str) -> SystemActor:
    return SystemActor(name=_AUTH, tenant_id=tenant_id)


# --- issuing -------------------------------------------------------------------------------


def _lifetimes(kind: SessionKind, settings: Settings) -> tuple[timedelta, timedelta]:
    """(session lifetime, access token lifetime) per kind of login."""
    if kind == "password":
        return (
            timedelta(days=settings.refresh_token_ttl_days),
            timedelta(minutes=settings.access_token_ttl_minutes),
        )
    if kind == "cookie":
        ttl = timedelta(hours=settings.session_cookie_ttl_hours)
        return ttl, ttl
    ttl = timedelta(minutes=settings.pin_token_ttl_minutes)
    return ttl, ttl


def _access_token(
    settings: Settings, user: StaffUser, session: AuthSession, ttl: timedelta
) -> SignedToken:
    # An access token never outlives its session.
    ttl = min(ttl, session.expires_at - utcnow())
    return issue_access_token(
        settings,
        user_id=user.id,
        tenant_id=user.tenant_id,
        outlet_id=session.outlet_id,
        roles=user.roles,
        # Cookie tokens carry no scopes: permissions are re-read from the user row on every
        # request anyway, and a browser cookie must stay well under 4 KB.
        scopes=() if session.kind == "cookie" else permissions_for(user.roles),
        session_id=session.id,
        ttl=ttl,
    )


def _issued(
    user: StaffUser, session: AuthSession, access: SignedToken, refresh_token: str | None
) -> IssuedTokens:
    kind: SessionKind = session.kind  # type: ignore[assignment]
    return IssuedTokens(
        access_token=access.token,
        expires_at=access.expires_at,
        refresh_token=refresh_token,
        session_id=session.id,
        kind=kind,
        user_id=user.id,
        user_name=user.name,
        tenant_id=user.tenant_id,
        outlet_id=session.outlet_id,
        roles=tuple(user.roles),
    )


async def start_session(
    uow: UnitOfWork,
    user: StaffUser,
    *,
    kind: SessionKind,
    outlet_id: str | None,
    ip: str,
    user_agent: str,
    settings: Settings,
) -> IssuedTokens:
    """Open a revocable `AuthSession` for an already-verified user and issue its tokens
    (a refresh token only for `password` sessions). Also used by magic-link login."""
    now = utcnow()
    session_ttl, access_ttl = _lifetimes(kind, settings)
    refresh_token = new_refresh_token() if kind == "password" else None
    session = await CredentialRepository(uow.session).add_session(
        AuthSession(
            tenant_id=user.tenant_id,
            staff_id=user.id,
            outlet_id=outlet_id,
            kind=kind,
            refresh_token_hash=hash_refresh_token(refresh_token) if refresh_token else None,
            expires_at=now + session_ttl,
            ip=ip[:64],
            user_agent=user_agent[:255],
        )
    )
    user.last_login_at = now
    access = _access_token(settings, user, session, access_ttl)
    await audit(
        uow,
        actor_for(user, session, outlet_id),
        "auth.login",
        subject_type="staff_user",
        subject_id=user.id,
        after={"kind": kind, "session_id": session.id},
    )
    return _issued(user, session, access, refresh_token)


async def default_outlet(uow: UnitOfWork, user: StaffUser) -> str | None:
    """The outlet a fresh login acts in: the first granted one; for owners/admins without
    grants, the tenant's first outlet."""
    repo = StaffRepository(uow.session, user.tenant_id)
    granted = await repo.granted_outlets(user.id)
    if granted:
        return granted[0].id
    if can_act_in_any_outlet(user.roles):
        outlets = await repo.tenant_outlets()
        return outlets[0].id if outlets else None
    return None


# --- password login, refresh, logout -------------------------------------------------------


async def _record_failed_login(uow: UnitOfWork, user: StaffUser, reason: str) -> None:
    log.info("auth.login_failed", reason=reason, staff_id=user.id)
    await audit(
        uow,
        _login_system_actor(user.tenant_id),
        "auth.login_failed",
        subject_type="staff_user",
        subject_id=user.id,
        after={"reason": reason},
    )


async def login_with_password(
    uow: UnitOfWork,
    email: str,
    password: str,
    otp: str | None = None,
    *,
    ip: str,
    user_agent: str,
    kind: Literal["password", "cookie"] = "password",
    settings: Settings | None = None,
) -> IssuedTokens:
    """Email + password (+ TOTP code when the user enrolled one). The reply for an unknown
    email and a wrong password is the same, and takes as long."""
    settings = _cfg(settings)
    user = await CredentialRepository(uow.session).user_by_email(normalize_email(email))
    if user is None or user.password_hash is None:
        await dummy_verify(password)
        log.info("auth.login_failed", reason="unknown_account")
        raise exc.invalid_credentials()
    # From here on the transaction only sees this tenant's rows.
    await uow.set_tenant(user.tenant_id)
    if not await verify_password(user.password_hash, password):
        await _record_failed_login(uow, user, "wrong_password")
        raise exc.invalid_credentials()
    if not user.is_active:
        raise exc.account_disabled()
    if user.totp_secret:
        if not otp:
            raise exc.otp_required()
        step = matching_totp_step(user.totp_secret, otp.strip(), utcnow())
        if step is None or not await CredentialRepository(uow.session).use_totp_step(user.id, step):
            await _record_failed_login(uow, user, "wrong_otp")
            raise exc.otp_invalid()
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password(password)
    outlet_id = await default_outlet(uow, user)
    return await start_session(
        uow, user, kind=kind, outlet_id=outlet_id, ip=ip, user_agent=user_agent, settings=settings
    )


def matching_totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (±1 for clock skew) whose code is `code`, else None."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for offset in (0, -1, 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            return current + offset
    return None


async def refresh_tokens(
    uow: UnitOfWork, refresh_token: str, *, settings: Settings | None = None
) -> IssuedTokens:
    """Rotate: the presented refresh token is retired and a new pair is issued. Presenting
    a retired token again revokes the whole session (it was copied by someone)."""
    settings = _cfg(settings)
    creds = CredentialRepository(uow.session)
    now = utcnow()
    old_hash = hash_refresh_token(refresh_token)
    new_token = new_refresh_token()
    session = await creds.rotate_refresh_token(old_hash, hash_refresh_token(new_token), now)
    if session is None:
        retired = await creds.retired_refresh_token(old_hash)
        if retired is None:
            raise exc.invalid_refresh_token()
        await uow.set_tenant(retired.tenant_id)
        if await creds.revoke_session(retired.session_id, now):
            log.warning("auth.refresh_reuse", session_id=retired.session_id)
            await audit(
                uow,
                _login_system_actor(retired.tenant_id),
                "auth.refresh_reused",
                subject_type="auth_session",
                subject_id=retired.session_id,
                after={"revoked": True},
            )
        raise exc.refresh_token_reused()
    await uow.set_tenant(session.tenant_id)
    await creds.retire_refresh_token(session, old_hash, now)
    user = await creds.user(session.staff_id)
    if user is None or not user.is_active:
        raise exc.invalid_refresh_token()
    _, access_ttl = _lifetimes("password", settings)
    return _issued(user, session, _access_token(settings, user, session, access_ttl), new_token)


async def revoke_session(uow: UnitOfWork, session_id: str) -> bool:
    """End one login everywhere; True when it was still active."""
    return await CredentialRepository(uow.session).revoke_session(session_id, utcnow())


async def logout(uow: UnitOfWork, actor: StaffActor) -> None:
    await revoke_session(uow, actor.session_id)
    await audit(uow, actor, "auth.logout", subject_type="auth_session", subject_id=actor.session_id)


# --- PIN login -----------------------------------------------------------------------------


def _ip_scope(outlet_id: str, ip: str) -> str:
    return f"ip:{outlet_id}:{ip}"[:128]


def _staff_scope(staff_id: str) -> str:
    return f"staff:{staff_id}"


async def _refuse_if_locked(creds: CredentialRepository, scope: str, now: datetime) -> None:
    attempt = await creds.pin_attempt(scope)
    if attempt is not None and attempt.locked_until is not None and attempt.locked_until > now:
        raise exc.pin_locked(attempt.locked_until, now)


async def resolve_alias_outlet(uow: UnitOfWork, tenant_key: str, outlet_id: str | None) -> str:
    """For seed 000's `/api/outlet/{tenant}/staff/login`: the outlet named, which must
    belong to the tenant (id or slug), or the tenant's only outlet."""
    creds = CredentialRepository(uow.session)
    tenant = await creds.tenant_by_id_or_slug(tenant_key)
    if tenant is None:
        raise NotFound("tenant")
    if outlet_id is not None:
        outlet = await creds.outlet(outlet_id)
        if outlet is None or outlet.tenant_id != tenant.id:
            raise NotFound("outlet")
        return outlet.id
    outlets = await creds.outlets_of_tenant(tenant.id)
    if len(outlets) != 1:
        raise ProblemError(
            422, "OUTLET_REQUIRED", "this business has several outlets", hint="send `outlet_id`"
        )
    return outlets[0].id


async def login_with_pin(
    uow: UnitOfWork,
    outlet_id: str,
    pin: str,
    *,
    ip: str,
    user_agent: str,
    staff_id: str | None = None,
    settings: Settings | None = None,
) -> IssuedTokens:
    """PIN login at one outlet → a short-lived access token (no refresh token).

    Failures are counted per outlet + client IP and, when the caller names the staff
    member (`staff_id`, the tile they tapped), per staff member; reaching the threshold
    locks that scope for `pin_lockout_minutes` (423 with `Retry-After`).
    """
    settings = _cfg(settings)
    creds = CredentialRepository(uow.session)
    outlet = await creds.outlet(outlet_id)
    if outlet is None:
        raise NotFound("outlet")
    await uow.set_tenant(outlet.tenant_id)
    user = await verify_outlet_pin(uow, outlet, pin, ip=ip, staff_id=staff_id, settings=settings)
    return await start_session(
        uow, user, kind="pin", outlet_id=outlet.id, ip=ip, user_agent=user_agent, settings=settings
    )


async def verify_outlet_pin(
    uow: UnitOfWork,
    outlet: Outlet,
    pin: str,
    *,
    ip: str,
    staff_id: str | None = None,
    settings: Settings,
) -> StaffUser:
    """The active staff member of `outlet` whose PIN this is — for PIN login and for every
    other PIN pad (manager approvals). Failures are counted per outlet + client IP and, when
    the caller names the staff member (`staff_id`), per staff member; reaching the threshold
    locks that scope for `pin_lockout_minutes` (423 with `Retry-After`)."""
    creds = CredentialRepository(uow.session)
    now = utcnow()
    ip_scope = _ip_scope(outlet.id, ip)
    await _refuse_if_locked(creds, ip_scope, now)

    grant: StaffOutletGrant | None
    if staff_id is not None:
        grant = await creds.grant(staff_id, outlet.id)
    else:
        grant = await creds.grant_by_pin(outlet.id, pin_lookup(settings.secret_key, outlet.id, pin))
    if grant is not None:
        await _refuse_if_locked(creds, _staff_scope(grant.staff_id), now)
    valid = (
        grant is not None
        and grant.pin_hash is not None
        and PIN_PATTERN.match(pin) is not None
        and await verify_pin(grant.pin_hash, pin)
    )

    if not valid:
        await _count_pin_failure(
            uow, creds, outlet, ip_scope, grant if staff_id else None, now, settings
        )
        raise exc.invalid_pin()
    assert grant is not None
    user = await creds.user(grant.staff_id)
    if user is None or not user.is_active:
        raise exc.account_disabled()
    await creds.clear_pin_failures(_staff_scope(user.id))
    return user


async def _count_pin_failure(
    uow: UnitOfWork,
    creds: CredentialRepository,
    outlet: Outlet,
    ip_scope: str,
    named_grant: StaffOutletGrant | None,
    now: datetime,
    settings: Settings,
) -> None:
    """Add the failure to every scope it belongs to; raise 423 if one of them is locked."""
    # (counter scope, what the audit entry is about)
    scopes = [(ip_scope, "outlet", outlet.id)]
    if named_grant is not None:
        scopes.append((_staff_scope(named_grant.staff_id), "staff_user", named_grant.staff_id))
    lock = timedelta(minutes=settings.pin_lockout_minutes)
    threshold = settings.pin_lockout_threshold
    locked_until: datetime | None = None
    for scope, subject_type, subject_id in scopes:
        attempt = await creds.record_pin_failure(
            scope=scope,
            tenant_id=outlet.tenant_id,
            now=now,
            window=lock,
            threshold=threshold,
            lock_for=lock,
        )
        if attempt.locked_until is None or attempt.locked_until <= now:
            continue
        locked_until = max(locked_until or attempt.locked_until, attempt.locked_until)
        if attempt.failures == threshold:  # this failure set the lock
            log.warning("auth.pin_locked", outlet_id=outlet.id, subject_type=subject_type)
            await audit(
                uow,
                _login_system_actor(outlet.tenant_id),
                "auth.pin_locked",
                subject_type=subject_type,
                subject_id=subject_id,
                outlet_id=outlet.id,
                after={"failures": attempt.failures, "locked_until": attempt.locked_until},
            )
    log.info("auth.pin_failed", outlet_id=outlet.id)
    if locked_until is not None:
        raise exc.pin_locked(locked_until, now)


# --- per-request authentication ----------------------------------------------------------


async def authenticate_staff(
    uow: UnitOfWork, claims: AccessClaims, *, requested_outlet: str | None = None
) -> StaffActor:
    """Turn verified access-token claims into a `StaffActor`: the session must be live and
    the user active (one primary-key read each). Roles and permissions come from the user
    row, so a role change applies on the next request. `requested_outlet` (the
    `X-Outlet-ID` header) must be granted; PIN logins stay in the outlet they were made in.
    """
    creds = CredentialRepository(uow.session)
    session = await creds.auth_session(claims.session_id)
    if (
        session is None
        or session.revoked_at is not None
        or session.staff_id != claims.user_id
        or session.tenant_id != claims.tenant_id
    ):
        raise Unauthorized("this login has ended; log in again")
    if session.expires_at <= utcnow():
        raise Unauthorized("this login has expired; log in again", code="TOKEN_EXPIRED")
    user = await creds.user(claims.user_id)
    if user is None or not user.is_active:
        raise exc.account_disabled()
    outlet_id = session.outlet_id
    if requested_outlet and requested_outlet != outlet_id:
        if session.kind == "pin" or not await _may_use_outlet(uow, user, requested_outlet):
            raise exc.outlet_not_granted(requested_outlet)
        outlet_id = requested_outlet
    return actor_for(user, session, outlet_id)


async def _may_use_outlet(uow: UnitOfWork, user: StaffUser, outlet_id: str) -> bool:
    repo = StaffRepository(uow.session, user.tenant_id)
    if can_act_in_any_outlet(user.roles):
        return await repo.outlet(outlet_id) is not None
    return await repo.has_grant(user.id, outlet_id)


async def staff_profile(uow: UnitOfWork, actor: StaffActor) -> StaffProfile:
    repo = StaffRepository(uow.session, actor.tenant_id)
    user = await repo.get_or_404(actor.user_id)
    tenant = await repo.tenant()
    if tenant is None:
        raise NotFound("tenant")
    if can_act_in_any_outlet(actor.roles):
        outlets = await repo.tenant_outlets()
    else:
        outlets = await repo.granted_outlets(actor.user_id)
    current = next((o for o in outlets if o.id == actor.outlet_id), None)
    return StaffProfile(user=user, tenant=tenant, outlet=current, outlets=outlets, actor=actor)


# --- staff management ----------------------------------------------------------------------


def _public_view(user: StaffUser) -> dict[str, Any]:
    return {"is_active": user.is_active, "roles": list(user.roles)}


async def deactivate_staff(uow: UnitOfWork, actor: StaffActor, staff_id: str) -> StaffUser:
    """Deactivate a staff member of the actor's tenant and end every login they have."""
    repo = StaffRepository(uow.session, actor.tenant_id)
    target = await repo.get_or_404(staff_id)
    if target.id == actor.user_id:
        raise Conflict(
            "CANNOT_DEACTIVATE_SELF",
            "you cannot deactivate your own account",
            hint="ask another owner or manager",
        )
    if role_rank(target.roles) > role_rank(actor.roles):
        raise Forbidden("you cannot deactivate someone with a higher role than yours")
    before = _public_view(target)
    now = utcnow()
    updated = await repo.deactivate(staff_id, now)
    if updated is None:  # deleted in between
        raise NotFound("staff member")
    revoked = await repo.revoke_all_sessions(staff_id, now)
    await audit(
        uow,
        actor,
        "staff.deactivated",
        subject_type="staff_user",
        subject_id=staff_id,
        before=before,
        after={**_public_view(updated), "sessions_revoked": revoked},
    )
    return updated


async def create_staff_user(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    name: str,
    roles: Sequence[str],
    email: str | None = None,
    password: str | None = None,
    totp_secret: str | None = None,
) -> StaffUser:
    """A new staff account (console login when email + password are given)."""
    stray = unknown_roles(roles)
    if stray or not roles:
        raise ProblemError(422, "UNKNOWN_ROLE", f"unknown roles: {', '.join(stray) or 'none'}")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise ProblemError(
            422, "PASSWORD_TOO_SHORT", f"passwords need at least {MIN_PASSWORD_LENGTH} characters"
        )
    user = StaffUser(
        name=name.strip(),
        email=normalize_email(email) if email else None,
        password_hash=await hash_password(password) if password else None,
        roles=list(dict.fromkeys(roles)),
        totp_secret=totp_secret,
    )
    try:
        async with uow.session.begin_nested():
            await StaffRepository(uow.session, tenant_id).add(user)
    except IntegrityError:
        raise Conflict("EMAIL_TAKEN", "another account already uses this email") from None
    return user


async def grant_outlet(
    uow: UnitOfWork,
    *,
    tenant_id: str,
    staff_id: str,
    outlet_id: str,
    pin: str | None = None,
    settings: Settings | None = None,
) -> StaffOutletGrant:
    """Let a staff member work in an outlet, optionally (re)setting their PIN there.
    PINs are unique per outlet (a unique index on the keyed lookup, no pre-check)."""
    settings = _cfg(settings)
    repo = StaffRepository(uow.session, tenant_id)
    if await repo.outlet(outlet_id) is None:
        raise NotFound("outlet")
    if await repo.get(staff_id) is None:
        raise NotFound("staff member")
    if pin is not None and not PIN_PATTERN.match(pin):
        raise ProblemError(422, "INVALID_PIN_FORMAT", "a PIN is 4 to 8 digits")
    try:
        async with uow.session.begin_nested():
            grant = await repo.grant(staff_id, outlet_id)
            if grant is None:
                grant = await repo.add_grant(
                    StaffOutletGrant(staff_id=staff_id, outlet_id=outlet_id)
                )
            if pin is not None:
                grant.pin_lookup = pin_lookup(settings.secret_key, outlet_id, pin)
                grant.pin_hash = await hash_pin(pin)
            await uow.session.flush()
    except IntegrityError:
        raise Conflict(
            "PIN_TAKEN",
            "another staff member of this outlet uses this PIN",
            hint="choose a different PIN",
        ) from None
    return grant


# --- provider (platform operator) ---------------------------------------------------------


async def create_provider_admin(uow: UnitOfWork, email: str, password: str) -> ProviderAdmin:
    """Used by `servio provider create-admin`."""
    email = normalize_email(email)
    if "@" not in email:
        raise ProblemError(422, "INVALID_EMAIL", "an email address is required")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ProblemError(
            422, "PASSWORD_TOO_SHORT", f"passwords need at least {MIN_PASSWORD_LENGTH} characters"
        )
    admin = ProviderAdmin(email=email, password_hash=await hash_password(password))
    try:
        async with uow.session.begin_nested():
            await CredentialRepository(uow.session).add_provider(admin)
    except IntegrityError:
        raise Conflict("PROVIDER_ADMIN_EXISTS", "a provider admin with this email exists") from None
    await audit(
        uow,
        SystemActor(name="cli"),
        "provider.admin_created",
        subject_type="provider_admin",
        subject_id=admin.id,
        after={"email": email},
    )
    return admin


async def login_provider(
    uow: UnitOfWork, email: str, password: str, *, settings: Settings | None = None
) -> SignedToken:
    settings = _cfg(settings)
    admin = await CredentialRepository(uow.session).provider_by_email(normalize_email(email))
    if admin is None:
        await dummy_verify(password)
        raise exc.invalid_credentials()
    if not await verify_password(admin.password_hash, password):
        log.info("auth.provider_login_failed", admin_id=admin.id)
        raise exc.invalid_credentials()
    if not admin.is_active:
        raise exc.account_disabled()
    if needs_rehash(admin.password_hash):
        admin.password_hash = await hash_password(password)
    await audit(
        uow,
        ProviderActor(admin_id=admin.id),
        "provider.login",
        subject_type="provider_admin",
        subject_id=admin.id,
    )
    return issue_provider_token(
        settings, admin_id=admin.id, ttl=timedelta(minutes=settings.access_token_ttl_minutes)
    )


async def authenticate_provider(uow: UnitOfWork, claims: ProviderClaims) -> ProviderActor:
    admin = await CredentialRepository(uow.session).provider(claims.admin_id)
    if admin is None or not admin.is_active:
        raise Unauthorized("this provider account is not active")
    return ProviderActor(admin_id=admin.id)
