"""Signed credentials (PyJWT, HS256 with `settings.secret_key`) and opaque refresh tokens.

Every JWT carries `type`, which decides who may present it:
`access` (staff, bound to a revocable `AuthSession` via `sid`), `guest` / `member` (a table
session, `sess`), `device` (an enrolled screen or printer) and `provider` (platform operator).
Expiry is checked against `kit.clock.utcnow()` rather than the wall clock so tests can move
time with a `FrozenClock`.

Refresh tokens are random strings; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal

import jwt

from servio.config import Settings
from servio.kit.clock import utcnow
from servio.kit.errors import Unauthorized
from servio.kit.ids import new_id

ALGORITHM = "HS256"
ISSUER = "servio"
TokenType = Literal["access", "guest", "member", "device", "provider"]

GUEST_TOKEN_TTL = timedelta(hours=12)
DEVICE_TOKEN_TTL = timedelta(days=365)


@dataclass(frozen=True)
class SignedToken:
    token: str
    expires_at: datetime
    jti: str

    @property
    def expires_in(self) -> int:
        """Seconds from now until expiry (what OAuth-style replies call `expires_in`)."""
        return max(0, int((self.expires_at - utcnow()).total_seconds()))


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    tenant_id: str
    outlet_id: str | None
    roles: tuple[str, ...]
    scopes: frozenset[str]
    session_id: str
    expires_at: datetime


@dataclass(frozen=True)
class GuestClaims:
    session_id: str
    tenant_id: str
    outlet_id: str
    member_id: str | None
    expires_at: datetime


@dataclass(frozen=True)
class DeviceClaims:
    device_id: str
    tenant_id: str
    outlet_id: str
    scopes: frozenset[str]
    expires_at: datetime


@dataclass(frozen=True)
class ProviderClaims:
    admin_id: str
    expires_at: datetime


def _sign(
    settings: Settings, token_type: TokenType, ttl: timedelta, claims: dict[str, Any]
) -> SignedToken:
    now = utcnow()
    expires_at = now + ttl
    jti = new_id()
    payload = {
        **claims,
        "type": token_type,
        "iss": ISSUER,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": jti,
    }
    token = jwt.encode(payload, settings.secret_key, algorithm=ALGORITHM)
    return SignedToken(token=token, expires_at=expires_at.replace(microsecond=0), jti=jti)


def peek_type(token: str) -> str | None:
    """The `type` claim without verifying anything — only to pick the right decoder."""
    try:
        value = jwt.decode(token, options={"verify_signature": False}).get("type")
    except jwt.PyJWTError:
        return None
    return value if isinstance(value, str) else None


@lru_cache(maxsize=2048)
def _verified_claims(secret_key: str, token: str) -> Mapping[str, Any]:
    """The claims of a token whose signature and issuer check out under `secret_key`.

    Memoized: every guest and staff request carries the same token again and again, and
    HMAC-checking it was ≈ 8 % of a cart update. Only tokens that verified are remembered
    (a failure raises, which `lru_cache` never stores); the key is part of the cache key, so
    a rotated secret verifies afresh; expiry and type are checked on every call, outside."""
    claims: dict[str, Any] = jwt.decode(
        token,
        secret_key,
        algorithms=[ALGORITHM],
        issuer=ISSUER,
        options={
            "require": ["exp", "iat", "type"],
            "verify_exp": False,
            "verify_iat": False,
            "verify_nbf": False,
        },
    )
    return MappingProxyType(claims)


def decode_token(settings: Settings, token: str, *, types: Iterable[str]) -> dict[str, Any]:
    """Verify signature, issuer, type and expiry; 401 `TOKEN_EXPIRED` or `UNAUTHORIZED`."""
    try:
        claims = dict(_verified_claims(settings.secret_key, token))
    except jwt.PyJWTError:
        raise Unauthorized("the credential is not valid") from None
    if claims.get("type") not in set(types):
        raise Unauthorized("this kind of credential cannot be used here")
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= int(utcnow().timestamp()):
        raise Unauthorized("the credential has expired", code="TOKEN_EXPIRED")
    return claims


def _str(claims: dict[str, Any], key: str) -> str:
    value = claims.get(key)
    if not isinstance(value, str) or not value:
        raise Unauthorized("the credential is not valid")
    return value


def _opt_str(claims: dict[str, Any], key: str) -> str | None:
    value = claims.get(key)
    return value if isinstance(value, str) and value else None


def _str_list(claims: dict[str, Any], key: str) -> list[str]:
    value = claims.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Unauthorized("the credential is not valid")
    return value


def _expires(claims: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(claims["exp"]), tz=UTC)


# --- staff access tokens -----------------------------------------------------------------


def issue_access_token(
    settings: Settings,
    *,
    user_id: str,
    tenant_id: str,
    outlet_id: str | None,
    roles: Iterable[str],
    scopes: Iterable[str],
    session_id: str,
    ttl: timedelta,
) -> SignedToken:
    return _sign(
        settings,
        "access",
        ttl,
        {
            "sub": user_id,
            "tenant_id": tenant_id,
            "outlet_id": outlet_id,
            "roles": list(roles),
            "scopes": sorted(scopes),
            "sid": session_id,
        },
    )


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    claims = decode_token(settings, token, types=("access",))
    return AccessClaims(
        user_id=_str(claims, "sub"),
        tenant_id=_str(claims, "tenant_id"),
        outlet_id=_opt_str(claims, "outlet_id"),
        roles=tuple(_str_list(claims, "roles")),
        scopes=frozenset(_str_list(claims, "scopes")),
        session_id=_str(claims, "sid"),
        expires_at=_expires(claims),
    )


# --- guest (table session) tokens ----------------------------------------------------------


def issue_guest_token(
    settings: Settings,
    *,
    session_id: str,
    tenant_id: str,
    outlet_id: str,
    member_id: str | None = None,
    ttl: timedelta = GUEST_TOKEN_TTL,
) -> SignedToken:
    """`guest` token for a table session; with `member_id` a `member` token."""
    claims: dict[str, Any] = {"sess": session_id, "tenant_id": tenant_id, "outlet_id": outlet_id}
    if member_id is None:
        return _sign(settings, "guest", ttl, claims)
    return _sign(settings, "member", ttl, {**claims, "sub": member_id, "member_id": member_id})


def decode_guest_token(settings: Settings, token: str) -> GuestClaims:
    claims = decode_token(settings, token, types=("guest", "member"))
    member_id = _opt_str(claims, "member_id") if claims["type"] == "member" else None
    if claims["type"] == "member" and member_id is None:
        raise Unauthorized("the credential is not valid")
    return GuestClaims(
        session_id=_str(claims, "sess"),
        tenant_id=_str(claims, "tenant_id"),
        outlet_id=_str(claims, "outlet_id"),
        member_id=member_id,
        expires_at=_expires(claims),
    )


# --- device tokens -----------------------------------------------------------------------


def issue_device_token(
    settings: Settings,
    *,
    device_id: str,
    tenant_id: str,
    outlet_id: str,
    scopes: Iterable[str],
    ttl: timedelta = DEVICE_TOKEN_TTL,
) -> SignedToken:
    return _sign(
        settings,
        "device",
        ttl,
        {
            "sub": device_id,
            "tenant_id": tenant_id,
            "outlet_id": outlet_id,
            "scopes": sorted(scopes),
        },
    )


def decode_device_token(settings: Settings, token: str) -> DeviceClaims:
    claims = decode_token(settings, token, types=("device",))
    return DeviceClaims(
        device_id=_str(claims, "sub"),
        tenant_id=_str(claims, "tenant_id"),
        outlet_id=_str(claims, "outlet_id"),
        scopes=frozenset(_str_list(claims, "scopes")),
        expires_at=_expires(claims),
    )


# --- provider (platform operator) tokens -----------------------------------------------------


def issue_provider_token(settings: Settings, *, admin_id: str, ttl: timedelta) -> SignedToken:
    return _sign(settings, "provider", ttl, {"sub": admin_id})


def decode_provider_token(settings: Settings, token: str) -> ProviderClaims:
    claims = decode_token(settings, token, types=("provider",))
    return ProviderClaims(admin_id=_str(claims, "sub"), expires_at=_expires(claims))


# --- opaque refresh tokens and CSRF ----------------------------------------------------------


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token_for(settings: Settings, session_id: str) -> str:
    """Double-submit CSRF value for a cookie session: only the server can mint it."""
    message = f"csrf:{session_id}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()
