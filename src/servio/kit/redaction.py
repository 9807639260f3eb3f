"""One catalogue of what must not be written down.

* Secrets (passwords, PINs, tokens, OTPs, UPI references, cookies, keys) are never stored in
  logs or the audit log.
* Personal data (email, phone, GSTIN) may sit in the audit log, whose readers are authorised
  and whose entries are evidence, but never in application logs.

A key matches when one of its words (split on `_`, `-`, `.`, spaces and camelCase) is listed,
so `user_email`, `X-Auth-Token` and `totpSecret` match while `spinach` does not.
"""

from __future__ import annotations

import re
from functools import lru_cache

REDACTED = "[redacted]"

SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pin",
        "token",
        "otp",
        "totp",
        "secret",
        "utr",
        "cvv",
        "apikey",
        "authorization",
        "auth",
        "cookie",
    }
)
SECRET_KEYS = frozenset({"api_key", "access_key", "private_key", "set_cookie"})
PII_WORDS = frozenset({"email", "phone", "mobile", "gstin"})

_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@lru_cache(maxsize=4096)
def _key_words(key: str) -> tuple[frozenset[str], str]:
    words = frozenset(w for w in _WORD_SPLIT.split(_CAMEL.sub("_", key).lower()) if w)
    return words, "_".join(_WORD_SPLIT.split(key.lower()))


def is_secret_key(key: str) -> bool:
    words, normalised = _key_words(key)
    return bool(words & SECRET_WORDS) or normalised in SECRET_KEYS


def is_personal_key(key: str) -> bool:
    return bool(_key_words(key)[0] & PII_WORDS)


def is_loggable_key(key: str) -> bool:
    """False for anything application logs must mask: secrets and personal data."""
    return not (is_secret_key(key) or is_personal_key(key))
