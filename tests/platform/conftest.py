"""Two tenants with an owner each, and a provider operator, for the tenancy API tests."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from servio.auth import service as auth_service
from servio.kit.db import Database
from servio.models import Outlet, StaffUser, Tenant
from tests.fixtures.auth import make_staff, staff_headers
from tests.fixtures.factories import make_tenant

PROVIDER_EMAIL = "ops@provider.example"
PROVIDER_PASSWORD = "provider-password-123"


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
async def other(db: Database) -> World:
    """A second tenant: nothing of it may ever show up for `world`."""
    return await make_world(db, "Rival Diner")


@pytest.fixture
async def provider_headers(db: Database, client: httpx.AsyncClient) -> dict[str, str]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        await auth_service.create_provider_admin(uow, PROVIDER_EMAIL, PROVIDER_PASSWORD)
    response = await client.post(
        "/api/v1/provider/auth/login", json={"email": PROVIDER_EMAIL, "password": PROVIDER_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def add_outlet(db: Database, tenant: Tenant, name: str = "Second Branch") -> Outlet:
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        outlet = Outlet(tenant_id=tenant.id, name=name)
        uow.session.add(outlet)
    return outlet
