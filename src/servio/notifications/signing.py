"""Standard Webhooks signatures (https://www.standardwebhooks.com), what every webhook Servio
sends carries:

    webhook-id:        msg_<ULID>   — the same for every retry and replay of one message;
                                      receivers dedupe on it (delivery is at-least-once)
    webhook-timestamp: <unix seconds of this attempt>
    webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>

The key is the base64 part of the endpoint's `whsec_…` secret. During a rotation grace
period the header carries one `v1,` signature per live secret, space-separated, so a
receiver holding either secret verifies. Any Standard Webhooks library verifies these.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
SIGNATURE_VERSION = "v1"


def new_signing_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_hint(secret: str) -> str:
    """What the console shows of a secret after creation: prefix and last four characters."""
    return f"{SECRET_PREFIX}…{secret[-4:]}"


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_headers(
    secrets_: Iterable[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every live secret (current first)."""
    signatures = " ".join(sign(s, message_id, timestamp, body) for s in secrets_)
    if not signatures:
        raise ValueError("at least one signing secret is required")
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: int, tolerance_secs: int = 300
) -> bool:
    """Receiver-side check (used by our own probes and documented for integrators): one of
    the signatures matches and the timestamp is within `tolerance_secs` of `now`."""
    try:
        message_id = headers["webhook-id"]
        timestamp = int(headers["webhook-timestamp"])
        offered = headers["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_secs:
        return False
    expected = sign(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)
