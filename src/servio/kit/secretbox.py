"""Secrets Servio must be able to read back (webhook signing secrets) are stored encrypted,
never in the clear (SEC-06): Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from
`SECRET_KEY` with HKDF and a purpose label, so one leaked column is useless without the
deployment's key and the key is never reused across purposes.

    box = SecretBox.from_settings(settings, purpose="webhook-signing")
    stored = box.encrypt("whsec_…")
    box.decrypt(stored)  # → "whsec_…"; SecretBoxError when the key changed or data is bad
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from servio.config import Settings


class SecretBoxError(Exception):
    """Stored ciphertext that cannot be decrypted (rotated SECRET_KEY, corrupted row)."""


@lru_cache(maxsize=16)
def _fernet(secret_key: str, purpose: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"servio-secretbox", info=purpose.encode()
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class SecretBox:
    def __init__(self, secret_key: str, *, purpose: str) -> None:
        if not purpose:
            raise ValueError("a purpose label is required")
        self._fernet = _fernet(secret_key, purpose)

    @classmethod
    def from_settings(cls, settings: Settings, *, purpose: str) -> SecretBox:
        return cls(settings.secret_key, purpose=purpose)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except (InvalidToken, ValueError, UnicodeError) as exc:
            raise SecretBoxError("stored secret cannot be decrypted") from exc
