"""`WS /ws/kds?station=&token=` over a real uvicorn server: a station screen hears its own
tickets (`ticket_new`, `item_status`, `ticket_updated`), the expo screen (`station=*`)
hears every station, and bad or under-privileged tokens are closed (4401, 4403)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from servio.auth.tokens import issue_device_token
from servio.config import Settings
from servio.kit.db import Database
from tests.fixtures.auth import make_staff, staff_headers
from tests.kitchen.kds_world import Kitchen, build_kitchen, lines_by_name, ok, send_order, set_item
from tests.realtime.live import WAIT, close_code, recv_json, recv_type, serve

pytestmark = pytest.mark.backends


@pytest.fixture
async def server(app: FastAPI) -> AsyncIterator[str]:
    async with serve(app) as address:
        yield address


@pytest.fixture
async def kitchen(db: Database, settings: Settings) -> Kitchen:
    return await build_kitchen(db, settings)


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def open_kds(server: str, station: str, token: str) -> ClientConnection:
    ws = await asyncio.wait_for(
        connect(f"ws://{server}/ws/kds?station={station}&token={token}"), WAIT
    )
    assert (await recv_json(ws))["type"] == "ready"
    return ws


async def test_station_and_expo_screens_hear_their_tickets_live(
    backend: str,
    server: str,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    kitchen: Kitchen,
) -> None:
    cook = token_of(kitchen.cook)
    device = issue_device_token(
        settings,
        device_id="01KDSDEVICE000000000000000",
        tenant_id=kitchen.tenant_id,
        outlet_id=kitchen.outlet_id,
        scopes=["kds.read"],
    ).token
    tandoor = await open_kds(server, "tandoor", cook)
    bar = await open_kds(server, "bar", device)
    expo = await open_kds(server, "*", cook)
    try:
        order_id = await send_order(
            client, db, kitchen, [("paneer", 1, ["Mild"]), ("lassi", 2, [])]
        )
        new = (await recv_type(tandoor, "ticket_new"))["data"]["ticket"]
        assert new["station"] == "tandoor"
        assert new["order_id"] == order_id
        assert [i["name"] for i in new["items"]] == ["Paneer Tikka"]
        assert (await recv_type(bar, "ticket_new"))["data"]["ticket"]["station"] == "bar"
        seen = {(await recv_type(expo, "ticket_new"))["data"]["ticket"]["station"] for _ in "ab"}
        assert seen == {"bar", "tandoor"}

        paneer = (await lines_by_name(db, kitchen.tenant_id, order_id))["Paneer Tikka"].id
        await ok(set_item(client, kitchen.cook, paneer, "in_progress"))
        moved = await recv_type(tandoor, "item_status")
        assert moved["data"] == {
            "item_id": paneer,
            "ticket_id": new["id"],
            "status": "in_progress",
        }
        updated = (await recv_type(tandoor, "ticket_updated"))["data"]["ticket"]
        assert updated["status"] == "in_progress"
        assert (await recv_type(expo, "item_status"))["data"]["item_id"] == paneer

        # The bar screen heard nothing of the tandoor's work: its next message is the bar's.
        bar_ticket = (
            await ok(client.get("/api/v1/kds/tickets?station=bar", headers=kitchen.cook))
        )["items"][0]["id"]
        await ok(client.post(f"/api/v1/kds/tickets/{bar_ticket}/bump", headers=kitchen.cook))
        heard = await recv_type(bar, "item_status")
        assert heard["data"]["ticket_id"] == bar_ticket
    finally:
        for ws in (tandoor, bar, expo):
            await ws.close()


async def test_bad_tokens_and_missing_permission_close_the_socket(
    backend: str, server: str, db: Database, settings: Settings, kitchen: Kitchen
) -> None:
    for token in ("", "not-a-jwt"):
        async with connect(f"ws://{server}/ws/kds?station=tandoor&token={token}") as ws:
            assert await close_code(ws) == 4401
    bistro = kitchen.table.bistro
    cleaner = await make_staff(
        db, bistro.tenant, bistro.outlet, roles=["housekeeping"], settings=settings
    )
    headers = await staff_headers(db, cleaner, outlet_id=bistro.outlet.id, settings=settings)
    async with connect(f"ws://{server}/ws/kds?station=*&token={token_of(headers)}") as ws:
        assert await close_code(ws) == 4403
    printer = issue_device_token(
        settings,
        device_id="01KDSPRINTER00000000000000",
        tenant_id=kitchen.tenant_id,
        outlet_id=kitchen.outlet_id,
        scopes=["kot.print"],
    ).token
    async with connect(f"ws://{server}/ws/kds?station=*&token={printer}") as ws:
        assert await close_code(ws) == 4403
