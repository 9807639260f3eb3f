"""Browser sessions: the console keeps the access token of a "cookie" login in an HttpOnly
cookie (`__Host-` prefixed when served over HTTPS) and a readable CSRF cookie whose value
pages echo in `X-CSRF-Token` on unsafe requests (double submit). The CSRF value is an HMAC
of the session id, so a cookie planted by another site cannot be made to match."""

from __future__ import annotations

from starlette.responses import Response

from servio.auth.service import IssuedTokens
from servio.auth.tokens import csrf_token_for
from servio.config import Settings

SECURE_SESSION_COOKIE = "__Host-servio_session"
DEV_SESSION_COOKIE = "servio_session"
SECURE_CSRF_COOKIE = "__Host-servio_csrf"
CSRF_COOKIE = "servio_csrf"
CSRF_HEADER = "X-CSRF-Token"


def session_cookie_name(settings: Settings) -> str:
    return SECURE_SESSION_COOKIE if settings.session_cookie_secure else DEV_SESSION_COOKIE


def csrf_cookie_name(settings: Settings) -> str:
    """`__Host-` over HTTPS too: a sibling subdomain cannot plant or shadow it."""
    return SECURE_CSRF_COOKIE if settings.session_cookie_secure else CSRF_COOKIE


def set_session_cookies(response: Response, issued: IssuedTokens, settings: Settings) -> None:
    """Attach the cookies of a `login_with_password(..., kind="cookie")` result."""
    max_age = issued.expires_in
    secure = settings.session_cookie_secure
    response.set_cookie(
        session_cookie_name(settings),
        issued.access_token,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    response.set_cookie(
        csrf_cookie_name(settings),
        csrf_token_for(settings, issued.session_id),
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=False,
        samesite="lax",
    )


def clear_session_cookies(response: Response, settings: Settings) -> None:
    secure = settings.session_cookie_secure
    response.delete_cookie(
        session_cookie_name(settings), path="/", secure=secure, httponly=True, samesite="lax"
    )
    response.delete_cookie(csrf_cookie_name(settings), path="/", secure=secure, samesite="lax")
