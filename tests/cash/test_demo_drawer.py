"""The demo outlet comes with a "Front till" the demo cashier can open and close."""

from __future__ import annotations

import httpx

from servio.config import Settings
from servio.demo import seed_demo
from servio.kit.db import Database
from tests.cash.conftest import close, open_session


async def test_the_demo_cashier_opens_and_closes_the_front_till(
    settings: Settings, db: Database, client: httpx.AsyncClient
) -> None:
    info = await seed_demo(settings, db)
    await seed_demo(settings, db)  # seeding twice keeps one drawer
    cashier = next(m for m in info["staff"] if m["role"] == "cashier")
    login = await client.post(
        "/api/v1/auth/pin-login", json={"outlet_id": info["outlet_id"], "pin": cashier["pin"]}
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    drawers = (await client.get("/api/v1/cash/drawers", headers=headers)).json()["items"]
    assert [d["name"] for d in drawers] == ["Front till"]
    opened = await open_session(client, headers, drawers[0]["id"], 1500_00)
    assert opened.status_code == 201, opened.text
    closed = await close(client, headers, opened.json()["id"], 1500_00)
    assert (closed.json()["expected"], closed.json()["variance"]) == (1500_00, 0)


async def test_the_demo_manager_pin_approves_what_a_cashier_cannot(
    settings: Settings, db: Database, client: httpx.AsyncClient
) -> None:
    info = await seed_demo(settings, db)
    pins = {m["role"]: m["pin"] for m in info["staff"]}
    login = await client.post(
        "/api/v1/auth/pin-login", json={"outlet_id": info["outlet_id"], "pin": pins["cashier"]}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    own = await client.post(
        "/api/v1/approvals/verify_pin",
        json={"action": "refund", "pin": pins["cashier"]},
        headers=headers,
    )
    assert own.status_code == 403, own.text
    approved = await client.post(
        "/api/v1/approvals/verify_pin",
        json={"action": "refund", "pin": pins["manager"]},
        headers=headers,
    )
    assert approved.status_code == 201, approved.text
    assert approved.json()["approved_by"]["name"] == "Meera"
