"""Password and PIN hashing (argon2id via argon2-cffi) and the keyed PIN lookup.

A PIN has only 10^4..10^8 values, so an argon2 hash alone can neither be searched nor
resist an offline attack for long. Each PIN therefore gets two values: `pin_lookup`, an
HMAC-SHA256 keyed with the server secret and bound to the outlet (unique per outlet, so a
login finds the staff member with one indexed query), and an argon2 hash that is what is
actually verified.

Hashing is CPU- and memory-heavy (≈64 MiB each), so the async helpers run it in a worker
thread and cap how many run at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Bounds memory: at most this many argon2 computations at the same time per process.
_hash_slots = threading.BoundedSemaphore(4)


def hash_secret(secret: str) -> str:
    with _hash_slots:
        return _hasher.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    with _hash_slots:
        try:
            return _hasher.verify(stored_hash, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's defaults."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash() -> str:
    return _hasher.hash("servio-timing-equaliser")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hash_secret, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """Verify, spending the same time whether or not there is a hash to check, so the
    reply time does not reveal which emails have accounts."""
    target: str = stored_hash if stored_hash else await asyncio.to_thread(_dummy_hash)
    ok = await asyncio.to_thread(verify_secret, target, password)
    return ok and stored_hash is not None


async def dummy_verify(password: str) -> None:
    await verify_password(None, password)


def pin_lookup(secret_key: str, outlet_id: str, pin: str) -> str:
    """Keyed, outlet-bound digest of a PIN: equal PINs in different outlets differ."""
    message = f"{outlet_id}:{pin}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


async def hash_pin(pin: str) -> str:
    return await asyncio.to_thread(hash_secret, pin)


async def verify_pin(stored_hash: str, pin: str) -> bool:
    return await asyncio.to_thread(verify_secret, stored_hash, pin)
