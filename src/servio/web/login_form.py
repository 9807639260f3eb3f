"""Protection for the sign-in form itself, and the `next` redirect after it.

Login CSRF (a foreign site signing the victim into the attacker's account) is stopped with a
pre-session: `GET /login` sets a random HttpOnly cookie and embeds an HMAC of it (with the
issue time) in the form. `POST /login` accepts only a token minted for the cookie the
browser sends back, and only for a few hours. A cross-site form can neither read the cookie
nor forge the HMAC. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from servio.config import Settings

FORM_TOKEN_MAX_AGE = timedelta(hours=2)
DEFAULT_AFTER_LOGIN = "/console"


def presession_cookie_name(settings: Settings) -> str:
    return "__Host-servio_login" if settings.session_cookie_secure else "servio_login"


def new_presession_id() -> str:
    return secrets.token_urlsafe(24)


def _mac(settings: Settings, presession_id: str, issued: int) -> str:
    message = f"login-form:{presession_id}:{issued}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def issue_form_token(settings: Settings, presession_id: str, now: datetime) -> str:
    issued = int(now.timestamp())
    return f"{issued}.{_mac(settings, presession_id, issued)}"


def form_token_valid(
    settings: Settings, presession_id: str | None, token: str | None, now: datetime
) -> bool:
    if not presession_id or not token:
        return False
    issued_text, _, mac = token.partition(".")
    if not issued_text.isdigit() or not mac:
        return False
    issued = int(issued_text)
    age = now.timestamp() - issued
    if age < -60 or age > FORM_TOKEN_MAX_AGE.total_seconds():
        return False
    return hmac.compare_digest(mac, _mac(settings, presession_id, issued))


def safe_next_path(candidate: str | None, default: str = DEFAULT_AFTER_LOGIN) -> str:
    """`candidate` if it is a path on this site, else `default` (no open redirects).

    Rejects absolute and scheme-relative URLs (`//evil.com`, `/\\evil.com` which browsers
    treat alike), anything with a scheme or host, and control characters."""
    if not candidate or len(candidate) > 2000:
        return default
    if not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return default
    if any(ord(ch) < 0x20 or ch in "\\\x7f" for ch in candidate):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return default
    if parts.path.startswith(("/login", "/logout")):
        return default
    return candidate
