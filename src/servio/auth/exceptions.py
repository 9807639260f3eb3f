"""Auth failures with stable codes."""

from __future__ import annotations

import math
from datetime import datetime

from servio.kit.errors import ProblemError


class RecordedFailure(ProblemError):
    """A refusal whose bookkeeping must be kept: lockout counters, a revoked session after
    refresh-token reuse, the audit entry of a failed login. Raising rolls the request back,
    so routes catch this and *return* it (`render_problem`) — the transaction then commits
    with the counters in it. Anyone calling the auth service from a route must do the same.
    """


def invalid_credentials() -> RecordedFailure:
    return RecordedFailure(
        401,
        "INVALID_CREDENTIALS",
        "email or password is wrong",
        headers={"WWW-Authenticate": "Bearer"},
    )


def account_disabled() -> ProblemError:
    return ProblemError(
        403,
        "ACCOUNT_DISABLED",
        "this account has been deactivated",
        hint="ask an owner or manager to reactivate it",
    )


def otp_required() -> ProblemError:
    # The normal second step of a 2FA login, not a failed attempt.
    return ProblemError(
        401,
        "OTP_REQUIRED",
        "a one-time code from the authenticator app is required",
        hint="send the 6-digit code as `otp`",
    )


def otp_invalid() -> RecordedFailure:
    return RecordedFailure(401, "OTP_INVALID", "the one-time code is wrong or expired")


def invalid_pin() -> RecordedFailure:
    return RecordedFailure(401, "INVALID_PIN", "the PIN is not valid for this outlet")


def pin_locked(locked_until: datetime, now: datetime) -> RecordedFailure:
    seconds = max(1, math.ceil((locked_until - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    return RecordedFailure(
        423,
        "PIN_LOCKED",
        "too many wrong PINs; PIN login is locked for now",
        hint=f"retry in {minutes} min or ask a manager",
        headers={"Retry-After": str(seconds)},
        extra={"retry_after": seconds},
    )


def invalid_refresh_token() -> ProblemError:
    return ProblemError(
        401,
        "INVALID_REFRESH_TOKEN",
        "the refresh token is not valid",
        hint="log in again",
        headers={"WWW-Authenticate": "Bearer"},
    )


def refresh_token_reused() -> RecordedFailure:
    return RecordedFailure(
        401,
        "REFRESH_TOKEN_REUSED",
        "this refresh token was already used; the login has been ended for safety",
        hint="log in again",
        headers={"WWW-Authenticate": "Bearer"},
    )


def outlet_not_granted(outlet_id: str) -> ProblemError:
    return ProblemError(403, "OUTLET_NOT_GRANTED", f"you have no access to outlet {outlet_id}")


def missing_permission(permission: str) -> ProblemError:
    return ProblemError(
        403,
        "FORBIDDEN",
        f"this action needs the permission '{permission}'",
        extra={"permission": permission},
    )
