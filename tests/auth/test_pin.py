"""PIN login per outlet, lockouts per staff member and per outlet + client IP (AUTH-03)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from servio.auth import service
from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.kit.errors import ProblemError
from servio.models import AuditLog, Outlet, PinAttempt
from tests.conftest import problem
from tests.fixtures.auth import auth_settings, make_staff
from tests.fixtures.factories import make_tenant

pytestmark = pytest.mark.backends

ClientAt = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The lockout is its own mechanism: the request rate limiter (10 PIN logins a minute
    per IP) is switched off so these tests can make more attempts than that."""
    return settings.model_copy(update={"rate_limit_enabled": False})


@pytest.fixture
def client_at(app: FastAPI) -> ClientAt:
    """A client whose requests come from the given IP address."""

    @asynccontextmanager
    async def open_client(ip: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c

    return open_client


async def _pin(
    client: httpx.AsyncClient, outlet_id: str, pin: str, staff_id: str | None = None
) -> httpx.Response:
    body = {"outlet_id": outlet_id, "pin": pin}
    if staff_id:
        body["staff_id"] = staff_id
    return await client.post("/api/v1/auth/pin-login", json=body)


async def test_pin_login_gives_a_short_lived_outlet_token(
    backend: str, db: Database, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    tenant, outlet = await make_tenant(db)
    cashier = await make_staff(db, tenant, outlet, roles=["cashier"], email=None, pin="4821")

    response = await _pin(client, outlet.id, "4821")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["staff_id"] == cashier.id
    assert body["outlet_id"] == outlet.id
    assert body["roles"] == ["cashier"]
    assert body["expires_in"] == 12 * 60 * 60
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    me = (await client.get("/api/v1/staff/me", headers=headers)).json()
    assert me["outlet"]["id"] == outlet.id
    assert "payments.take" in me["permissions"]
    assert "staff.manage" not in me["permissions"]
    clock.advance(hours=12, seconds=1)
    assert problem(await client.get("/api/v1/staff/me", headers=headers))["code"] == "TOKEN_EXPIRED"


async def test_seed_alias_route_logs_in_by_tenant(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    waiter = await make_staff(db, tenant, outlet, roles=["waiter"], email=None, pin="1357")

    by_id = await client.post(f"/api/outlet/{tenant.id}/staff/login", json={"pin": "1357"})
    by_slug = await client.post(
        f"/api/outlet/{tenant.slug}/staff/login", json={"pin": "1357", "outlet_id": outlet.id}
    )
    wrong_tenant = await client.post("/api/outlet/no-such-tenant/staff/login", json={"pin": "1357"})

    assert by_id.status_code == by_slug.status_code == 200
    assert by_id.json()["staff_id"] == waiter.id
    assert wrong_tenant.status_code == 404


async def test_pins_are_unique_within_an_outlet_only(backend: str, db: Database) -> None:
    tenant, outlet = await make_tenant(db)
    _, other_outlet = await make_tenant(db, name="Elsewhere")
    await make_staff(db, tenant, outlet, roles=["waiter"], email=None, pin="2468")
    second = await make_staff(db, tenant, None, roles=["waiter"], email=None)

    with pytest.raises(ProblemError) as taken:
        async with db.unit_of_work(tenant_id=tenant.id) as uow:
            await service.grant_outlet(
                uow,
                tenant_id=tenant.id,
                staff_id=second.id,
                outlet_id=outlet.id,
                pin="2468",
                settings=auth_settings(),
            )
    assert taken.value.code == "PIN_TAKEN"
    # The same PIN at another outlet is fine.
    tenant_b = other_outlet.tenant_id
    async with db.unit_of_work(tenant_id=tenant_b) as uow:
        other = await service.create_staff_user(uow, tenant_id=tenant_b, name="B", roles=["waiter"])
        await service.grant_outlet(
            uow,
            tenant_id=tenant_b,
            staff_id=other.id,
            outlet_id=other_outlet.id,
            pin="2468",
            settings=auth_settings(),
        )


async def test_wrong_pin_and_unknown_outlet(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    await make_staff(db, tenant, outlet, roles=["waiter"], email=None, pin="1111")

    wrong = await _pin(client, outlet.id, "2222")
    unknown = await _pin(client, "01JUNKNOWNOUTLET000000000", "1111")

    assert wrong.status_code == 401
    assert problem(wrong)["code"] == "INVALID_PIN"
    assert unknown.status_code == 404


async def test_ten_wrong_pins_from_one_ip_lock_that_ip_for_30_minutes(
    backend: str, db: Database, client_at: ClientAt, clock: FrozenClock
) -> None:
    tenant, outlet = await make_tenant(db)
    await make_staff(db, tenant, outlet, roles=["waiter"], email=None, pin="8642")

    async with client_at("198.51.100.7") as attacker, client_at("198.51.100.8") as colleague:
        codes = [problem(await _pin(attacker, outlet.id, f"{1000 + i}"))["code"] for i in range(10)]
        assert codes == ["INVALID_PIN"] * 9 + ["PIN_LOCKED"]

        locked = await _pin(attacker, outlet.id, "8642")
        assert locked.status_code == 423
        assert problem(locked)["code"] == "PIN_LOCKED"
        assert int(locked.headers["Retry-After"]) == 30 * 60
        # The lock is per outlet + IP: a tablet on another address is unaffected.
        assert (await _pin(colleague, outlet.id, "8642")).status_code == 200

        clock.advance(minutes=20)
        still = await _pin(attacker, outlet.id, "8642")
        assert int(still.headers["Retry-After"]) == 10 * 60
        clock.advance(minutes=10)
        assert (await _pin(attacker, outlet.id, "8642")).status_code == 200

    async with db.unit_of_work(bypass_rls=True) as uow:
        actions = (
            (
                await uow.session.execute(
                    select(AuditLog.action).where(AuditLog.tenant_id == tenant.id)
                )
            )
            .scalars()
            .all()
        )
    assert "auth.pin_locked" in actions


async def test_wrong_pins_for_one_staff_member_lock_them_from_every_ip(
    backend: str, db: Database, client_at: ClientAt, clock: FrozenClock
) -> None:
    tenant, outlet = await make_tenant(db)
    target = await make_staff(db, tenant, outlet, roles=["manager"], email=None, pin="5555")
    other = await make_staff(db, tenant, outlet, roles=["waiter"], email=None, pin="7777")

    # Ten guesses at one person's PIN, spread over five addresses (two each).
    last = None
    for i in range(10):
        async with client_at(f"198.51.100.{20 + i // 2}") as c:
            last = await _pin(c, outlet.id, f"{9000 + i}", staff_id=target.id)
    assert last is not None
    assert last.status_code == 423

    async with client_at("198.51.100.99") as fresh:
        right = await _pin(fresh, outlet.id, "5555", staff_id=target.id)
        assert right.status_code == 423
        assert int(right.headers["Retry-After"]) == 30 * 60
        # Tapping no tile does not get around it either.
        assert (await _pin(fresh, outlet.id, "5555")).status_code == 423
        assert (await _pin(fresh, outlet.id, "7777", staff_id=other.id)).status_code == 200
        clock.advance(minutes=30)
        assert (await _pin(fresh, outlet.id, "5555", staff_id=target.id)).status_code == 200


async def test_concurrent_wrong_pins_are_all_counted(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    await make_staff(db, tenant, outlet, roles=["waiter"], email=None, pin="3141")

    replies = await asyncio.gather(*[_pin(client, outlet.id, f"{2000 + i}") for i in range(12)])

    statuses = sorted(r.status_code for r in replies)
    assert statuses.count(401) == 9
    assert statuses.count(423) == 3
    async with db.unit_of_work(bypass_rls=True) as uow:
        attempt = (
            await uow.session.execute(select(PinAttempt).where(PinAttempt.tenant_id == tenant.id))
        ).scalar_one()
    # Every failure was counted (requests that passed the lock check before the lock was
    # set still count), and exactly nine were answered before the tenth locked the IP.
    assert attempt.failures >= 10
    assert attempt.locked_until is not None


async def test_deactivated_staff_cannot_use_their_pin(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    owner = await make_staff(db, tenant, outlet, roles=["owner"], pin="1000")
    waiter = await make_staff(db, tenant, outlet, roles=["waiter"], email=None, pin="2000")
    owner_token = (await _pin(client, outlet.id, "1000")).json()["access_token"]
    waiter_token = (await _pin(client, outlet.id, "2000")).json()["access_token"]

    out = await client.post(
        f"/api/v1/staff/{waiter.id}/deactivate", headers={"Authorization": f"Bearer {owner_token}"}
    )
    assert out.status_code == 200, out.text

    assert (
        await client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {waiter_token}"})
    ).status_code == 401
    again = await _pin(client, outlet.id, "2000")
    assert again.status_code == 403
    assert problem(again)["code"] == "ACCOUNT_DISABLED"
    assert owner.id != waiter.id


async def test_pin_session_stays_in_its_outlet(
    backend: str, db: Database, client: httpx.AsyncClient
) -> None:
    tenant, outlet = await make_tenant(db)
    second = await _second_outlet(db, tenant.id)
    await make_staff(db, tenant, outlet, roles=["waiter"], email=None, pin="6060", outlets=[second])
    token = (await _pin(client, outlet.id, "6060")).json()["access_token"]

    response = await client.get(
        "/api/v1/staff/me", headers={"Authorization": f"Bearer {token}", "X-Outlet-ID": second.id}
    )

    assert response.status_code == 403
    assert problem(response)["code"] == "OUTLET_NOT_GRANTED"


async def _second_outlet(db: Database, tenant_id: str) -> Outlet:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        outlet = Outlet(tenant_id=tenant_id, name="Second branch")
        uow.session.add(outlet)
        await uow.session.flush()
    return outlet
