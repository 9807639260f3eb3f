"""An owner of "Spice Route" with headers for its main outlet, a second outlet of the same
tenant, and a rival tenant, for the menu API tests."""

from __future__ import annotations

from typing import Any

import httpx

from servio.kit.db import Database
from servio.models import Outlet
from tests.fixtures.outlet import OwnedOutlet as World
from tests.fixtures.outlet import owned_outlet_fixture

__all__ = ["World", "create", "menu_version"]


world = owned_outlet_fixture("world", "Spice Route")


rival = owned_outlet_fixture("rival", "Rival Diner")


async def menu_version(db: Database, outlet_id: str) -> int:
    async with db.unit_of_work(bypass_rls=True) as uow:
        outlet = await uow.session.get(Outlet, outlet_id)
        assert outlet is not None
        return outlet.menu_version


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, body: dict[str, Any]
) -> dict[str, Any]:
    r = await client.post(f"/api/v1/menu/{path}", headers=headers, json=body)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data
