from __future__ import annotations

import pytest
from sqlalchemy import select

from servio.kit.db import Database
from servio.models import Outlet
from tests.fixtures.factories import make_tenant


@pytest.mark.backends
async def test_migrated_database_round_trips_a_tenant(backend: str, db: Database) -> None:
    tenant, outlet = await make_tenant(db)
    async with db.unit_of_work(bypass_rls=True) as uow:
        row = (await uow.session.execute(select(Outlet).where(Outlet.id == outlet.id))).scalar_one()
    assert row.tenant_id == tenant.id
    assert row.created_at.tzinfo is not None
