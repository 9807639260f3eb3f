"""`WS /ws?sess=&token=` over a real uvicorn server: what every phone at the table hears
(`member_join`, `cart_updated`, `session_closed`) and the close codes of api.md."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from servio.config import Settings
from servio.kit.db import Database
from tests.realtime.live import WAIT, close_code, recv_json, recv_type, serve
from tests.sessions.conftest import Venue, add_table, joined, put_cart, scanned

pytestmark = pytest.mark.backends


@pytest.fixture
async def server(app: FastAPI) -> AsyncIterator[str]:
    async with serve(app) as address:
        yield address


def socket_url(server: str, session_id: str, token: str) -> str:
    return f"ws://{server}/ws?sess={session_id}&token={token}"


async def open_socket(server: str, session_id: str, token: str) -> ClientConnection:
    ws = await asyncio.wait_for(connect(socket_url(server, session_id, token)), WAIT)
    assert (await recv_json(ws))["type"] == "ready"
    return ws


async def cart_updates(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    return [(await recv_type(ws, "cart_updated"))["data"]["cart"] for _ in range(count)]


async def test_both_phones_hear_each_others_concurrent_cart_edits(
    backend: str, server: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    body = await scanned(client, venue.token)
    session_id = body["session_id"]
    asha = await joined(client, body["guest_token"], session_id, "Asha")
    asha_ws = await open_socket(server, session_id, asha["member_token"])
    ravi = await joined(client, body["guest_token"], session_id, "Ravi")
    joined_msg = await recv_type(asha_ws, "member_join")
    assert joined_msg["data"] == {"member_id": ravi["member_id"], "nickname": "Ravi"}
    ravi_ws = await open_socket(server, session_id, ravi["member_token"])
    try:
        rounds = 5
        edits = []
        for qty in range(1, rounds + 1):
            edits.append(put_cart(client, asha["member_token"], session_id, [venue.lassi(qty)]))
            edits.append(put_cart(client, ravi["member_token"], session_id, [venue.paneer(qty)]))
        replies = await asyncio.gather(*edits)
        assert all(r.status_code == 200 for r in replies), [r.text for r in replies]

        # One broadcast per committed edit reaches each phone; none is lost.
        for ws in (asha_ws, ravi_ws):
            carts = await cart_updates(ws, 2 * rounds)
            nicknames = {g["nickname"] for cart in carts for g in cart["members"]}
            assert nicknames == {"Asha", "Ravi"}

        # After the burst both phones converge on the stored cart.
        final = await put_cart(client, asha["member_token"], session_id, [venue.lassi(9)])
        for ws in (asha_ws, ravi_ws):
            [cart] = await cart_updates(ws, 1)
            assert cart == final.json()
            qty = {g["nickname"]: [line["qty"] for line in g["lines"]] for g in cart["members"]}
            assert qty["Asha"] == [9]
            assert len(qty["Ravi"]) == 1  # whichever of Ravi's edits committed last, whole
    finally:
        await asha_ws.close()
        await ravi_ws.close()


async def test_staff_close_reaches_the_table_and_later_sockets_get_4410(
    backend: str, server: str, client: httpx.AsyncClient, venue: Venue
) -> None:
    body = await scanned(client, venue.token)
    session_id = body["session_id"]
    ws = await open_socket(server, session_id, body["guest_token"])  # before anyone joins
    try:
        closed = await client.patch(f"/session/{session_id}/close", headers=venue.owner)
        assert closed.status_code == 200, closed.text
        message = await recv_type(ws, "session_closed")
        assert message["data"] == {"session_id": session_id, "auto_closed": False}
        assert message["ts"].endswith("Z")
    finally:
        await ws.close()
    async with connect(socket_url(server, session_id, body["guest_token"])) as late:
        assert await close_code(late) == 4410


async def test_bad_or_foreign_tokens_are_closed_with_4401(
    backend: str,
    server: str,
    client: httpx.AsyncClient,
    venue: Venue,
    db: Database,
    settings: Settings,
) -> None:
    mine = await scanned(client, venue.token)
    _, other_token = await add_table(db, settings, venue, "T9")
    theirs = await scanned(client, other_token)
    for token in ("", "not-a-jwt", venue.owner["Authorization"].removeprefix("Bearer ")):
        async with connect(socket_url(server, mine["session_id"], token)) as ws:
            assert await close_code(ws) == 4401
    # A real guest token, but of the next table.
    async with connect(socket_url(server, mine["session_id"], theirs["guest_token"])) as ws:
        assert await close_code(ws) == 4401


async def test_connections_per_ip_are_capped_with_4429(
    backend: str, server: str, client: httpx.AsyncClient, venue: Venue, settings: Settings
) -> None:
    settings.max_conn_per_ip = 2
    body = await scanned(client, venue.token)
    first = await open_socket(server, body["session_id"], body["guest_token"])
    second = await open_socket(server, body["session_id"], body["guest_token"])
    try:
        async with connect(socket_url(server, body["session_id"], body["guest_token"])) as third:
            assert await close_code(third) == 4429
    finally:
        await first.close()
        await second.close()
