"""S5: PIN lockout within 10 failures for at least 30 minutes (on the frozen clock), session
tokens of at least 128 bits, and disabling a user ends every session including its refresh
token. (Per-IP lockout and the basic deactivation path: tests/auth/.)"""

from __future__ import annotations

import base64
import math

import httpx
import pyotp
import pytest
from fastapi import FastAPI

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from tests.fixtures.auth import DEFAULT_PASSWORD, make_staff, staff_headers, staff_token
from tests.fixtures.factories import make_tenant

pytestmark = pytest.mark.backends


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The request rate limiter is its own mechanism; off so only the lockout answers."""
    return settings.model_copy(update={"rate_limit_enabled": False})


def _client(app: FastAPI, ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_pin_guessing_from_many_ips_locks_the_member_for_30_minutes(
    backend: str, app: FastAPI, db: Database, clock: FrozenClock
) -> None:
    tenant, outlet = await make_tenant(db)
    waiter = await make_staff(db, tenant, outlet, roles=["waiter"], email=None, pin="8642")
    body = {"outlet_id": outlet.id, "staff_id": waiter.id}
    failures = 0
    for attempt in range(11):  # a new address each time: no per-IP lock can help
        async with _client(app, f"198.51.100.{attempt + 1}") as c:
            reply = await c.post(
                "/api/v1/auth/pin-login", json={**body, "pin": f"{1000 + attempt}"}
            )
        if reply.status_code == 423:
            break
        failures += 1
    assert failures <= 10
    async with _client(app, "203.0.113.77") as c:
        locked = await c.post("/api/v1/auth/pin-login", json={**body, "pin": "8642"})
        assert locked.status_code == 423, locked.text
        assert int(locked.headers["Retry-After"]) >= 30 * 60
        clock.advance(minutes=29, seconds=59)
        assert (
            await c.post("/api/v1/auth/pin-login", json={**body, "pin": "8642"})
        ).status_code == 423
        clock.advance(seconds=1)
        assert (
            await c.post("/api/v1/auth/pin-login", json={**body, "pin": "8642"})
        ).status_code == 200


def _bits(token: str) -> float:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    return len(raw) * 8.0


async def test_session_tokens_carry_at_least_128_bits(
    backend: str, client: httpx.AsyncClient, db: Database
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet)
    issued = [await staff_token(db, owner) for _ in range(32)]
    refresh = [str(i.refresh_token) for i in issued]
    assert all(i.refresh_token for i in issued)
    assert len(set(refresh)) == len(refresh)
    assert min(_bits(r) for r in refresh) >= 128
    # Access tokens are signed (HS256 over a ≥ 32-byte secret) and bound to a session id.
    login = await client.post(
        "/api/v1/auth/login", json={"email": owner.email, "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 200, login.text
    assert _bits(login.json()["refresh_token"]) >= 128
    cookies = [c for c in login.cookies.jar if "session" in c.name.lower()]
    for cookie in cookies:
        assert cookie.value is not None
        alphabet = len(set(cookie.value)) or 1
        assert len(cookie.value) * math.log2(alphabet) >= 128, cookie.name


async def test_disabling_a_user_kills_access_and_refresh_tokens(
    backend: str, client: httpx.AsyncClient, db: Database
) -> None:
    tenant, outlet = await make_tenant(db)
    manager = await make_staff(db, tenant, outlet, roles=["manager"])
    cashier = await make_staff(db, tenant, outlet, roles=["cashier"])
    sessions = [await staff_token(db, cashier) for _ in range(3)]
    login = await client.post(
        "/api/v1/auth/login", json={"email": cashier.email, "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 200, login.text
    off = await client.post(
        f"/api/v1/staff/{cashier.id}/deactivate", headers=await staff_headers(db, manager)
    )
    assert off.status_code == 200, off.text
    for tokens in sessions:
        me = await client.get(
            "/api/v1/staff/me", headers={"Authorization": f"Bearer {tokens.access_token}"}
        )
        assert me.status_code == 401
        renewed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens.refresh_token}
        )
        assert renewed.status_code == 401, renewed.text
    again = await client.post(
        "/api/v1/auth/login", json={"email": cashier.email, "password": DEFAULT_PASSWORD}
    )
    assert again.status_code in (401, 403)


async def test_a_totp_code_works_once_within_one_step_of_skew(
    backend: str, client: httpx.AsyncClient, db: Database, clock: FrozenClock
) -> None:
    secret = pyotp.random_base32()
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, totp_secret=secret)
    totp = pyotp.TOTP(secret)

    async def login(code: str) -> int:
        body = {"email": owner.email, "password": DEFAULT_PASSWORD, "otp": code}
        return (await client.post("/api/v1/auth/login", json=body)).status_code

    now = clock.now()
    assert await login(totp.at(now, counter_offset=-2)) == 401  # two steps old: refused
    assert await login(totp.at(now, counter_offset=-1)) == 200  # one step of skew: accepted
    code = totp.at(now)
    assert await login(code) == 200
    assert await login(code) == 401  # the same code a second time
