"""Email + password login, refresh rotation, logout (AUTH-01, AUTH-02)."""

from __future__ import annotations

import asyncio

import httpx
import pyotp
import pytest
from sqlalchemy import select

from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.models import AuditLog
from tests.conftest import problem
from tests.fixtures.auth import DEFAULT_PASSWORD, make_staff
from tests.fixtures.factories import make_tenant

pytestmark = pytest.mark.backends


async def _login(
    client: httpx.AsyncClient, email: str | None, password: str = DEFAULT_PASSWORD, **extra: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/login", json={"email": email, "password": password, **extra}
    )


async def _audit_actions(db: Database, tenant_id: str) -> list[str]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        rows = await uow.session.execute(
            select(AuditLog.action).where(AuditLog.tenant_id == tenant_id).order_by(AuditLog.at)
        )
        return list(rows.scalars())


async def test_login_returns_a_working_token_pair(
    backend: str, db: Database, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])

    response = await _login(client, owner.email.upper() if owner.email else None)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["refresh_token"]
    me = await client.get(
        "/api/v1/staff/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["user"]["id"] == owner.id
    assert me.json()["outlet"]["id"] == outlet.id
    assert "auth.login" in await _audit_actions(db, tenant.id)


async def test_wrong_password_and_unknown_email_get_the_same_reply(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])

    wrong = await _login(client, owner.email, "not-the-password")
    unknown = await _login(client, "nobody@test.example", "not-the-password")

    assert wrong.status_code == unknown.status_code == 401
    strip = {"instance", "request_id"}
    assert {k: v for k, v in problem(wrong).items() if k not in strip} == {
        k: v for k, v in problem(unknown).items() if k not in strip
    }
    assert problem(wrong)["code"] == "INVALID_CREDENTIALS"
    assert "not-the-password" not in wrong.text
    # The failed attempt is kept even though the request failed.
    assert await _audit_actions(db, tenant.id) == ["auth.login_failed"]


async def test_deactivated_user_cannot_log_in(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])
    waiter = await make_staff(db, tenant, outlet, roles=["waiter"])
    headers = await _bearer(client, owner.email)
    deactivated = await client.post(f"/api/v1/staff/{waiter.id}/deactivate", headers=headers)
    assert deactivated.status_code == 200
    assert deactivated.json()["is_active"] is False

    response = await _login(client, waiter.email)

    assert response.status_code == 403
    assert problem(response)["code"] == "ACCOUNT_DISABLED"
    # A wrong password still says only "wrong credentials": no account probing.
    assert (
        problem(await _login(client, waiter.email, "nope-nope-nope"))["code"]
        == "INVALID_CREDENTIALS"
    )


async def test_totp_user_needs_a_valid_code(
    backend: str, db: Database, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    tenant, outlet = await make_tenant(db)
    secret = pyotp.random_base32()
    admin = await make_staff(db, tenant, outlet, roles=["admin"], totp_secret=secret)
    totp = pyotp.TOTP(secret)

    missing = await _login(client, admin.email)
    wrong_code = str((int(totp.at(clock.now())) + 1) % 1_000_000).zfill(6)
    wrong = await _login(client, admin.email, otp=wrong_code)
    right = await _login(client, admin.email, otp=totp.at(clock.now()))

    assert problem(missing)["code"] == "OTP_REQUIRED"
    assert missing.status_code == wrong.status_code == 401
    assert problem(wrong)["code"] == "OTP_INVALID"
    assert right.status_code == 200
    # A code from two minutes ago is no longer accepted.
    clock.advance(minutes=2)
    stale = await _login(client, admin.email, otp=totp.at(clock.now().timestamp() - 120))
    assert problem(stale)["code"] == "OTP_INVALID"


async def _bearer(client: httpx.AsyncClient, email: str | None) -> dict[str, str]:
    response = await _login(client, email)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_refresh_rotates_and_reuse_ends_the_session(
    backend: str, db: Database, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])
    first = (await _login(client, owner.email)).json()

    clock.advance(minutes=5)
    rotated = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    again = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert again.status_code == 200
    third = again.json()

    # Someone replays the first (already rotated) token: the whole login ends.
    reuse = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert reuse.status_code == 401
    assert problem(reuse)["code"] == "REFRESH_TOKEN_REUSED"
    latest = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": third["refresh_token"]}
    )
    assert problem(latest)["code"] == "INVALID_REFRESH_TOKEN"
    me = await client.get(
        "/api/v1/staff/me", headers={"Authorization": f"Bearer {third['access_token']}"}
    )
    assert me.status_code == 401
    assert "auth.refresh_reused" in await _audit_actions(db, tenant.id)


async def test_unknown_refresh_token_is_rejected(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "made-up"})
    assert response.status_code == 401
    assert problem(response)["code"] == "INVALID_REFRESH_TOKEN"


async def test_concurrent_refreshes_with_one_token_yield_one_pair(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])
    token = (await _login(client, owner.email)).json()["refresh_token"]

    replies = await asyncio.gather(
        *[client.post("/api/v1/auth/refresh", json={"refresh_token": token}) for _ in range(4)]
    )

    assert sorted(r.status_code for r in replies) == [200, 401, 401, 401]


async def test_expired_access_token_is_refused_but_refresh_works(
    backend: str, db: Database, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])
    pair = (await _login(client, owner.email)).json()

    clock.advance(minutes=16)
    expired = await client.get(
        "/api/v1/staff/me", headers={"Authorization": f"Bearer {pair['access_token']}"}
    )
    assert expired.status_code == 401
    assert problem(expired)["code"] == "TOKEN_EXPIRED"
    fresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert fresh.status_code == 200
    me = await client.get(
        "/api/v1/staff/me", headers={"Authorization": f"Bearer {fresh.json()['access_token']}"}
    )
    assert me.status_code == 200


async def test_logout_revokes_access_and_refresh_tokens(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])
    pair = (await _login(client, owner.email)).json()
    other_login = await _bearer(client, owner.email)
    headers = {"Authorization": f"Bearer {pair['access_token']}"}

    out = await client.post("/api/v1/auth/logout", headers=headers)

    assert out.status_code == 204
    assert (await client.get("/api/v1/staff/me", headers=headers)).status_code == 401
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert refresh.status_code == 401
    # Only that login ended; the user's other session still works.
    assert (await client.get("/api/v1/staff/me", headers=other_login)).status_code == 200


async def test_logins_are_rate_limited_per_ip(
    backend: str, db: Database, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])

    replies = [await _login(client, owner.email, f"guess-{i}") for i in range(11)]

    assert [r.status_code for r in replies] == [401] * 10 + [429]
    assert problem(replies[-1])["code"] == "RATE_LIMIT"
    assert int(replies[-1].headers["Retry-After"]) > 0


async def test_failed_logins_leave_no_secrets_in_the_logs(
    backend: str, db: Database, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"], pin="4455")
    caplog.set_level("INFO")

    await _login(client, owner.email, "Tr0ub4dor&3-secret")
    await _login(client, "ghost@test.example", "Tr0ub4dor&3-secret")
    await client.post("/api/v1/auth/pin-login", json={"outlet_id": outlet.id, "pin": "9876"})

    assert "auth.login_failed" in caplog.text
    assert "auth.pin_failed" in caplog.text
    assert "Tr0ub4dor" not in caplog.text
    assert "9876" not in caplog.text
    assert "ghost@test.example" not in caplog.text
