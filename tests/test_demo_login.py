"""The logins `make run` prints really work against the app."""

from __future__ import annotations

import httpx

from servio.config import Settings
from servio.demo import seed_demo
from servio.kit.db import Database


async def test_printed_demo_logins_work(
    settings: Settings, db: Database, client: httpx.AsyncClient
) -> None:
    info = await seed_demo(settings, db)
    login = await client.post("/api/v1/auth/login", json=info["owner"])
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    me = await client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert "owner" in me.text
    for member in info["staff"]:
        pin = await client.post(
            "/api/v1/auth/pin-login", json={"outlet_id": info["outlet_id"], "pin": member["pin"]}
        )
        assert pin.status_code == 200, pin.text
    menu = await client.get(f"/g/{info['tables'][0]['qr_token']}/menu")
    assert menu.status_code == 200, menu.text
    items = [item for category in menu.json()["categories"] for item in category["items"]]
    assert len(items) >= 40
    provider = await client.post("/api/v1/provider/auth/login", json=info["provider"])
    assert provider.status_code == 200, provider.text
    # Seeding again (make run on a second day) keeps the same tenant and working logins.
    again = await seed_demo(settings, db)
    assert again["tenant_id"] == info["tenant_id"]
    assert (await client.post("/api/v1/auth/login", json=info["owner"])).status_code == 200
