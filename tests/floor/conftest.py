"""Two tenants, each with an outlet and an owner, plus helpers for the floor API tests."""

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
class Floor:
    tenant: Tenant
    outlet: Outlet
    owner: StaffUser
    headers: dict[str, str]

    async def as_role(self, db: Database, role: str) -> dict[str, str]:
        user = await make_staff(db, self.tenant, self.outlet, roles=[role])
        return await staff_headers(db, user, outlet_id=self.outlet.id)


async def make_floor(db: Database, name: str) -> Floor:
    tenant, outlet = await make_tenant(db, name=name)
    owner = await make_staff(db, tenant, outlet, roles=["owner"])
    return Floor(tenant, outlet, owner, await staff_headers(db, owner, outlet_id=outlet.id))


@pytest.fixture
async def floor(db: Database) -> Floor:
    return await make_floor(db, "Spice Route")


@pytest.fixture
async def rival(db: Database) -> Floor:
    """Another tenant: none of its points may be reachable from `floor`."""
    return await make_floor(db, "Rival Diner")


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], plural: str = "tables"
) -> dict[str, Any]:
    response = await client.post(f"/api/v1/{plural}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
