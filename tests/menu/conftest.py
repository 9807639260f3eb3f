"""An owner of "Spice Route" with headers for its main outlet, a second outlet of the same
tenant, and a rival tenant, for the menu API tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from servio.kit.db import Database
from servio.models import Outlet, StaffUser, Tenant
from tests.fixtures.auth import make_staff, staff_headers
from tests.fixtures.factories import make_tenant


@dataclass
class World:
    tenant: Tenant
    outlet: Outlet
    owner: StaffUser
    headers: dict[str, str]


async def make_world(db: Database, name: str) -> World:
    tenant, outlet = await make_tenant(db, name=name)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])
    return World(tenant, outlet, owner, await staff_headers(db, owner, outlet_id=outlet.id))


@pytest.fixture
async def world(db: Database) -> World:
    return await make_world(db, "Spice Route")


@pytest.fixture
async def rival(db: Database) -> World:
    return await make_world(db, "Rival Diner")


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
