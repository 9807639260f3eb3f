from __future__ import annotations

from dataclasses import dataclass

import pytest

from servio.kit.db import Database
from servio.models import Outlet, StaffUser, Tenant
from tests.fixtures.auth import make_staff
from tests.fixtures.factories import make_tenant


@dataclass(frozen=True)
class Venue:
    tenant: Tenant
    outlet: Outlet
    owner: StaffUser

    @property
    def email(self) -> str:
        assert self.owner.email is not None
        return self.owner.email


@pytest.fixture
async def venue(db: Database) -> Venue:
    tenant, outlet = await make_tenant(db, name="Harbour Café", outlet_name="Harbour Café Marina")
    owner = await make_staff(db, tenant, outlet, roles=["owner"], name="Asha Menon")
    return Venue(tenant, outlet, owner)
