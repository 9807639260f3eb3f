"""A guest's phone number or e-mail address as a lookup key (GUEST-07). Pure: no I/O.

Invoices never store the contact a guest gave, only `contact_key(...)`: an HMAC-SHA256 of
the normalised contact under a key derived from the app secret for this one purpose (so
the hash is useless anywhere else, and unguessable without the secret), plus a redacted
hint for display ("••••3210", "r•••@gmail.com").

Normalisation makes the spellings of one contact agree:
- phone: spaces, dashes, dots and brackets dropped; "+CC…" keeps its country code; a
  10-digit national number (optionally with a leading 0 trunk prefix) gets the default
  country code (91, India); "91" + 10 digits is read as already international. The result
  is 10-15 digits. "+91 98765-43210", "098765 43210" and "9876543210" are one contact.
- e-mail: trimmed and lower-cased, one "@", a dot in the domain, ≤ 254 characters.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final, Literal

from servio.kit.errors import ProblemError

ContactKind = Literal["phone", "email"]

DEFAULT_COUNTRY_CODE: Final = "91"
HINT_MASK: Final = "\u2022"  # •
_PHONE_SEPARATORS = re.compile(r"[\s\-.()/]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_CONTACT_PURPOSE: Final = b"servio.receipts.contact.v1"
_CODE_PURPOSE: Final = b"servio.receipts.code.v1"


class ContactInvalid(ProblemError):
    def __init__(self, detail: str = "that is not a phone number or e-mail address") -> None:
        super().__init__(
            422,
            "CONTACT_INVALID",
            detail,
            hint="give a mobile number (10 to 15 digits, optionally with +country code) "
            "or an e-mail address",
        )


def normalise_phone(raw: str, default_country_code: str = DEFAULT_COUNTRY_CODE) -> str:
    text = _PHONE_SEPARATORS.sub("", raw.strip())
    international = text.startswith("+")
    if text.startswith("00"):  # the international call prefix spelled out
        international, text = True, text[2:]
    digits = text.lstrip("+")
    if not digits.isdigit() or not digits.isascii():
        raise ContactInvalid("a phone number has only digits (and an optional leading +)")
    if not international:
        if len(digits) == 11 and digits.startswith("0"):
            digits = digits[1:]
        if len(digits) == 10:
            digits = default_country_code + digits
    if not 10 <= len(digits) <= 15:
        raise ContactInvalid("a phone number has 10 to 15 digits")
    return digits


def normalise_email(raw: str) -> str:
    email = raw.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ContactInvalid("that is not an e-mail address")
    return email


def normalise_contact(
    raw: str, *, default_country_code: str = DEFAULT_COUNTRY_CODE
) -> tuple[ContactKind, str]:
    """("phone", digits) or ("email", address); 422 CONTACT_INVALID otherwise."""
    if not isinstance(raw, str) or not raw.strip():
        raise ContactInvalid()
    if "@" in raw:
        return "email", normalise_email(raw)
    return "phone", normalise_phone(raw, default_country_code)


def _purpose_key(secret_key: str, purpose: bytes) -> bytes:
    return hmac.new(secret_key.encode(), purpose, hashlib.sha256).digest()


def contact_hash(secret_key: str, kind: ContactKind, normalised: str) -> str:
    """The keyed hash (64 hex) of an already normalised contact."""
    key = _purpose_key(secret_key, _CONTACT_PURPOSE)
    return hmac.new(key, f"{kind}:{normalised}".encode(), hashlib.sha256).hexdigest()


def contact_hint(kind: ContactKind, normalised: str) -> str:
    """What may be shown: the last 4 digits of a phone, the first letter and the domain
    of an e-mail address."""
    if kind == "phone":
        return HINT_MASK * 4 + normalised[-4:]
    local, _, domain = normalised.partition("@")
    return f"{local[:1]}{HINT_MASK * 3}@{domain}"


def contact_key(secret_key: str, raw: str) -> tuple[str, str]:
    """(keyed hash hex, redacted hint) of a raw phone or e-mail; 422 CONTACT_INVALID."""
    kind, normalised = normalise_contact(raw)
    return contact_hash(secret_key, kind, normalised), contact_hint(kind, normalised)


def code_hash(secret_key: str, code_id: str, code: str) -> str:
    """The keyed hash of a one-time code, bound to its row (equal codes hash apart)."""
    key = _purpose_key(secret_key, _CODE_PURPOSE)
    return hmac.new(key, f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(secret_key: str, code_id: str, code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(code_hash(secret_key, code_id, code.strip()), stored_hash)
