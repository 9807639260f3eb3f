"""Two tenants with an owner each, and a provider operator, for the tenancy API tests."""

from __future__ import annotations

import httpx
import pytest

from servio.kit.db import Database
from servio.models import Outlet, Tenant
from tests.fixtures.auth import provider_login_headers
from tests.fixtures.outlet import OwnedOutlet as World
from tests.fixtures.outlet import owned_outlet_fixture

__all__ = ["World", "add_outlet"]


world = owned_outlet_fixture("world", "Spice Route")


# A second tenant: nothing of it may ever show up for `world`.
other = owned_outlet_fixture("other", "Rival Diner")


@pytest.fixture
async def provider_headers(db: Database, client: httpx.AsyncClient) -> dict[str, str]:
    return await provider_login_headers(db, client)


async def add_outlet(db: Database, tenant: Tenant, name: str = "Second Branch") -> Outlet:
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        outlet = Outlet(tenant_id=tenant.id, name=name)
        uow.session.add(outlet)
    return outlet
