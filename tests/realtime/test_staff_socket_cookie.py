"""`WS /ws/staff` authenticated by the console's HttpOnly session cookie (what the `/staff`
page does: its script never sees the token), next to the `token` query parameter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from servio.config import Settings
from servio.kit.db import Database
from servio.models import Outlet, StaffUser, Tenant
from tests.fixtures.auth import make_staff, staff_token
from tests.fixtures.factories import make_tenant
from tests.realtime.live import WAIT, close_code, recv_json, recv_type, serve
from tests.web.helpers import sign_in

pytestmark = pytest.mark.backends

COOKIE = "servio_session"  # the test app serves plain HTTP: no __Host- prefix


@pytest.fixture
async def server(app: FastAPI) -> AsyncIterator[str]:
    async with serve(app) as address:
        yield address


@pytest.fixture
async def venue(db: Database) -> tuple[Tenant, Outlet, StaffUser]:
    tenant, outlet = await make_tenant(db)
    waiter = await make_staff(db, tenant, outlet, roles=("waiter",), name="Ravi")
    return tenant, outlet, waiter


async def console_cookie(http: httpx.AsyncClient, user: StaffUser) -> str:
    """Sign in through the HTML form like a browser; the session cookie it set."""
    assert user.email is not None
    response = await sign_in(http, user.email)
    assert response.status_code == 303, response.text
    return http.cookies[COOKIE]


async def open_with_cookie(
    server: str, cookie: str, *, origin: str | None = None
) -> ClientConnection:
    return await asyncio.wait_for(
        connect(
            f"ws://{server}/ws/staff",
            additional_headers={"Cookie": f"{COOKIE}={cookie}"},
            origin=origin or f"http://{server}",  # type: ignore[arg-type]
        ),
        WAIT,
    )


async def test_the_console_cookie_opens_the_staff_socket_of_the_users_outlet(
    backend: str,
    server: str,
    db: Database,
    settings: Settings,
    venue: tuple[Tenant, Outlet, StaffUser],
) -> None:
    tenant, outlet, waiter = venue
    manager = await make_staff(db, tenant, outlet, roles=("manager",), settings=settings)
    manager_token = (await staff_token(db, manager, settings=settings)).access_token
    async with httpx.AsyncClient(base_url=f"http://{server}") as http:
        cookie = await console_cookie(http, waiter)
        ws = await open_with_cookie(server, cookie)
        assert (await recv_json(ws))["type"] == "ready"
        # Subscribed to the waiter's outlet: an announcement there reaches the socket.
        said = await http.post(
            "/api/v1/realtime/announce",
            json={"message": "Table 4 birthday cake at 9"},
            headers={"Authorization": f"Bearer {manager_token}"},
        )
        assert said.status_code == 202, said.text
        alert = await recv_type(ws, "alert")
        assert alert["data"]["message"] == "Table 4 birthday cake at 9"
        await ws.close()


async def test_a_bad_or_revoked_cookie_is_closed_with_4401(
    backend: str, server: str, venue: tuple[Tenant, Outlet, StaffUser]
) -> None:
    _, _, waiter = venue
    for junk in ("not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.e30.invalid"):
        ws = await open_with_cookie(server, junk)
        assert await close_code(ws) == 4401
    async with httpx.AsyncClient(base_url=f"http://{server}") as http:
        cookie = await console_cookie(http, waiter)
        page = await http.get("/staff")
        assert page.status_code == 200
        csrf = http.cookies["servio_csrf"]
        signed_out = await http.post("/logout", data={"csrf_token": csrf})
        assert signed_out.status_code == 303
    ws = await open_with_cookie(server, cookie)  # the session behind it has ended
    assert await close_code(ws) == 4401


async def test_a_page_of_another_site_cannot_use_the_cookie(
    backend: str, server: str, venue: tuple[Tenant, Outlet, StaffUser]
) -> None:
    """Cross-site WebSocket hijacking: the browser attaches the cookie to any handshake,
    but says which page asked. Only this site's pages get the cookie honoured."""
    _, _, waiter = venue
    async with httpx.AsyncClient(base_url=f"http://{server}") as http:
        cookie = await console_cookie(http, waiter)
    evil = await open_with_cookie(server, cookie, origin="https://evil.example")
    assert await close_code(evil) == 4403
    # Same host, other scheme (TLS ended at a proxy) is still this site.
    ok = await open_with_cookie(server, cookie, origin=f"https://{server}")
    assert (await recv_json(ok))["type"] == "ready"
    await ok.close()


async def test_the_token_query_still_works_and_wins_over_the_cookie(
    backend: str,
    server: str,
    db: Database,
    settings: Settings,
    venue: tuple[Tenant, Outlet, StaffUser],
) -> None:
    tenant, outlet, waiter = venue
    token = (await staff_token(db, waiter, settings=settings)).access_token
    async with connect(f"ws://{server}/ws/staff?token={token}") as ws:
        assert (await recv_json(ws))["type"] == "ready"
    # An explicit token is checked even when a good cookie rides along.
    async with httpx.AsyncClient(base_url=f"http://{server}") as http:
        cookie = await console_cookie(http, waiter)
    async with connect(
        f"ws://{server}/ws/staff?token=not-a-jwt",
        additional_headers={"Cookie": f"{COOKIE}={cookie}"},
    ) as ws:
        assert await close_code(ws) == 4401
