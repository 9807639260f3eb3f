"""`WS /ws/staff`, `GET /api/v1/events/stream` and `POST /api/v1/realtime/announce`,
over a real uvicorn server in the test's loop (real WebSocket frames and close codes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from websockets.asyncio.client import ClientConnection, connect

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.models import Outlet, StaffUser, Tenant
from servio.realtime.pubsub import PubSub, staff_channel
from servio.realtime.sse import KEEPALIVE, event_stream
from servio.realtime.websocket import connection_limiter
from tests.conftest import problem
from tests.fixtures.auth import make_staff, staff_token
from tests.fixtures.factories import make_tenant
from tests.realtime.live import (
    WAIT,
    StalledClient,
    close_code,
    eventually,
    recv_json,
    recv_type,
    serve,
)

pytestmark = pytest.mark.backends


@pytest.fixture
async def venue(db: Database) -> tuple[Tenant, Outlet]:
    return await make_tenant(db)


@pytest.fixture
async def server(app: FastAPI) -> AsyncIterator[str]:
    async with serve(app) as address:
        yield address


async def token_for(
    db: Database,
    settings: Settings,
    tenant: Tenant,
    outlet: Outlet,
    *,
    roles: tuple[str, ...] = ("waiter",),
    name: str | None = None,
) -> str:
    user = await make_staff(db, tenant, outlet, roles=roles, name=name, settings=settings)
    return (await staff_token(db, user, settings=settings)).access_token


async def staff_user(
    db: Database,
    tenant: Tenant,
    outlet: Outlet,
    settings: Settings,
    *,
    roles: tuple[str, ...],
    name: str,
) -> tuple[StaffUser, str]:
    user = await make_staff(db, tenant, outlet, roles=roles, name=name, settings=settings)
    return user, (await staff_token(db, user, settings=settings)).access_token


def socket_url(server: str, token: str) -> str:
    return f"ws://{server}/ws/staff?token={token}"


async def open_socket(server: str, token: str, **kwargs: Any) -> ClientConnection:
    ws = await asyncio.wait_for(connect(socket_url(server, token), **kwargs), WAIT)
    ready = await recv_json(ws)
    assert ready["type"] == "ready"
    return ws


def gauge(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


# --- authentication and limits -------------------------------------------------------


async def test_a_bad_or_missing_token_is_closed_with_4401(
    backend: str, server: str, db: Database, settings: Settings, venue: tuple[Tenant, Outlet]
) -> None:
    tenant, outlet = venue
    guest_like = "eyJhbGciOiJIUzI1NiJ9.e30.invalid"
    for token in ("", "not-a-jwt", guest_like):
        async with connect(socket_url(server, token)) as ws:
            assert await close_code(ws) == 4401
    # A well-formed token signed with another secret is just as bad.
    other = settings.model_copy(update={"secret_key": "another-secret-" + "x" * 32})
    user = await make_staff(db, tenant, outlet, roles=("waiter",), settings=settings)
    forged = (await staff_token(db, user, settings=other)).access_token
    async with connect(socket_url(server, forged)) as ws:
        assert await close_code(ws) == 4401


async def test_an_expired_token_is_closed_with_4401(
    backend: str,
    server: str,
    db: Database,
    settings: Settings,
    venue: tuple[Tenant, Outlet],
    clock: FrozenClock,
) -> None:
    token = await token_for(db, settings, *venue)
    clock.advance(timedelta(minutes=settings.access_token_ttl_minutes + 1))
    async with connect(socket_url(server, token)) as ws:
        assert await close_code(ws) == 4401


async def test_connections_per_ip_are_capped_with_4429(
    backend: str,
    app: FastAPI,
    server: str,
    db: Database,
    settings: Settings,
    venue: tuple[Tenant, Outlet],
) -> None:
    settings.max_conn_per_ip = 2
    token = await token_for(db, settings, *venue)
    first = await open_socket(server, token)
    second = await open_socket(server, token)
    async with connect(socket_url(server, token)) as third:
        assert await close_code(third) == 4429
    # Leaving frees the slot.
    await first.close()
    limiter = connection_limiter(app)
    await eventually(lambda: limiter.count("127.0.0.1") == 1, what="slot released")
    again = await open_socket(server, token)
    await again.close()
    await second.close()


# --- delivery ---------------------------------------------------------------------------


async def test_an_announcement_reaches_every_staff_screen_of_that_outlet_only(
    backend: str, server: str, db: Database, settings: Settings, venue: tuple[Tenant, Outlet]
) -> None:
    tenant, outlet = venue
    manager, manager_token = await staff_user(
        db, tenant, outlet, settings, roles=("manager",), name="Asha"
    )
    waiter = await token_for(db, settings, tenant, outlet)
    kitchen = await token_for(db, settings, tenant, outlet, roles=("kitchen",))
    other_tenant, other_outlet = await make_tenant(db, name="Elsewhere")
    elsewhere = await token_for(db, settings, other_tenant, other_outlet)

    floor_ws, kitchen_ws, elsewhere_ws = [
        await open_socket(server, t) for t in (waiter, kitchen, elsewhere)
    ]
    async with httpx.AsyncClient(base_url=f"http://{server}") as http:
        response = await http.post(
            "/api/v1/realtime/announce",
            json={"message": "  86 the salmon  "},
            headers={"Authorization": f"Bearer {manager_token}"},
        )
    assert response.status_code == 202, response.text
    assert response.json()["message"] == "86 the salmon"

    for ws in (floor_ws, kitchen_ws):
        alert = await recv_type(ws, "alert")
        assert alert["data"] == {
            "kind": "announcement",
            "message": "86 the salmon",
            "by": {"id": manager.id, "name": "Asha"},
        }
        assert alert["ts"].endswith("Z")
    # The other venue's screen got nothing: its next message is the pong to our ping.
    await elsewhere_ws.send(orjson.dumps({"type": "ping"}).decode())
    assert (await recv_type(elsewhere_ws, "pong"))["type"] == "pong"
    for ws in (floor_ws, kitchen_ws, elsewhere_ws):
        await ws.close()


async def test_heartbeat_pings_and_client_pings_get_a_pong(
    backend: str, server: str, db: Database, settings: Settings, venue: tuple[Tenant, Outlet]
) -> None:
    settings.ws_heartbeat_secs = 0.05
    ws = await open_socket(server, await token_for(db, settings, *venue))
    assert (await recv_json(ws))["type"] == "ping"
    await ws.send('{"type": "ping"}')
    await ws.send("not json at all")  # ignored, the socket stays open
    assert (await recv_type(ws, "pong"))["type"] == "pong"
    await ws.close()


async def test_a_client_that_stops_reading_is_closed_with_1013_and_not_buffered(
    backend: str,
    app: FastAPI,
    server: str,
    db: Database,
    settings: Settings,
    venue: tuple[Tenant, Outlet],
) -> None:
    settings.ws_queue_max = 5
    tenant, outlet = venue
    pubsub: PubSub = app.state.pubsub
    channel = staff_channel(outlet.id)
    token = await token_for(db, settings, *venue)
    clients_before = gauge("ws_clients")
    ws = await StalledClient.connect(socket_url(server, token))
    await eventually(lambda: gauge("ws_clients") == clients_before + 1, what="subscribed")
    filler = "x" * 64 * 1024
    published = 0
    for published in range(1, 2001):  # bounded; ends after a few MB
        await pubsub.publish(channel, {"type": "alert", "data": {"n": published, "pad": filler}})
        await asyncio.sleep(0)
        if pubsub.subscriber_count(channel) == 0:
            break
    assert pubsub.subscriber_count(channel) == 0, "the stalled client was never cut off"
    assert await ws.drain_until_closed() == 1013
    received = [orjson.loads(text)["data"].get("n") for text in ws.texts]
    assert received[0] is None  # `ready`
    # What reached the client is a prefix; the backlog was dropped, not delivered late.
    assert received[1:] == list(range(1, len(received)))
    assert len(received) - 1 < published
    await eventually(lambda: gauge("ws_clients") == clients_before, what="gauge")


async def test_leaving_unsubscribes_and_updates_metrics(
    backend: str,
    app: FastAPI,
    server: str,
    db: Database,
    settings: Settings,
    venue: tuple[Tenant, Outlet],
) -> None:
    tenant, outlet = venue
    pubsub: PubSub = app.state.pubsub
    sent_before = gauge("ws_messages_total")
    clients_before = gauge("ws_clients")
    ws = await open_socket(server, await token_for(db, settings, tenant, outlet))
    assert pubsub.subscriber_count(staff_channel(outlet.id)) == 1
    assert gauge("ws_clients") == clients_before + 1
    assert gauge("ws_messages_total") >= sent_before + 1  # the `ready`
    await ws.close()
    await eventually(
        lambda: pubsub.subscriber_count(staff_channel(outlet.id)) == 0, what="unsubscribed"
    )
    await eventually(lambda: gauge("ws_clients") == clients_before, what="gauge")


# --- announce and SSE over HTTP -----------------------------------------------------------


async def test_announce_needs_a_manager_and_a_sensible_message(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    venue: tuple[Tenant, Outlet],
) -> None:
    url = "/api/v1/realtime/announce"
    assert problem(await client.post(url, json={"message": "hi"}))["code"] == "UNAUTHORIZED"
    waiter = await token_for(db, settings, *venue)
    denied = await client.post(
        url, json={"message": "hi"}, headers={"Authorization": f"Bearer {waiter}"}
    )
    assert denied.status_code == 403
    manager_token = await token_for(db, settings, *venue, roles=("manager",))
    manager = {"Authorization": f"Bearer {manager_token}"}
    for bad in ("", "   ", "x" * 281):
        reply = await client.post(url, json={"message": bad}, headers=manager)
        assert problem(reply)["code"] == "VALIDATION_ERROR", bad
    ok = await client.post(url, json={"message": "x" * 280}, headers=manager)
    assert ok.status_code == 202
    assert ok.json()["outlet_id"] == venue[1].id


async def test_event_stream_needs_orders_read(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    venue: tuple[Tenant, Outlet],
) -> None:
    url = "/api/v1/events/stream"
    assert problem(await client.get(url))["code"] == "UNAUTHORIZED"
    housekeeping = await token_for(db, settings, *venue, roles=("housekeeping",))
    reply = await client.get(url, headers={"Authorization": f"Bearer {housekeeping}"})
    assert reply.status_code == 403


async def test_event_stream_carries_the_staff_messages(
    backend: str, server: str, db: Database, settings: Settings, venue: tuple[Tenant, Outlet]
) -> None:
    tenant, outlet = venue
    waiter = await token_for(db, settings, tenant, outlet)
    manager = await token_for(db, settings, tenant, outlet, roles=("manager",), name="Ravi")
    async with (
        httpx.AsyncClient(base_url=f"http://{server}", timeout=WAIT) as http,
        http.stream(
            "GET", "/api/v1/events/stream", headers={"Authorization": f"Bearer {waiter}"}
        ) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = aiter(stream.aiter_lines())

        async def next_data() -> dict[str, Any]:
            async with asyncio.timeout(WAIT):
                async for line in events:
                    if line.startswith("data: "):
                        data: dict[str, Any] = orjson.loads(line[len("data: ") :])
                        return data
            raise AssertionError("stream ended")

        assert (await next_data())["type"] == "ready"
        posted = await http.post(
            "/api/v1/realtime/announce",
            json={"message": "VIP on T4"},
            headers={"Authorization": f"Bearer {manager}"},
        )
        assert posted.status_code == 202
        alert = await next_data()
    assert alert["type"] == "alert"
    assert alert["data"]["message"] == "VIP on T4"
    assert alert["data"]["by"]["name"] == "Ravi"


async def test_event_stream_sends_keep_alive_comments_while_idle(backend: str) -> None:
    from servio.realtime.pubsub import InProcessPubSub

    bus = InProcessPubSub()
    stream = event_stream(bus, ["outlet:O:staff"], queue_max=5, keepalive_secs=0.02)
    try:
        assert (await anext(stream)).startswith(b"retry: ")
        assert b'"type":"ready"' in await anext(stream)
        assert await asyncio.wait_for(anext(stream), WAIT) == KEEPALIVE
        await bus.publish("outlet:O:staff", {"type": "alert", "data": {}})
        assert await asyncio.wait_for(anext(stream), WAIT) == (
            b'data: {"type":"alert","data":{}}\n\n'
        )
    finally:
        await stream.aclose()
    assert bus.subscriber_count("outlet:O:staff") == 0
