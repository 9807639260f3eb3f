"""PostgreSQL row-level security: the second wall behind repository scoping.

Superusers (what the test suite connects as) bypass RLS, so these tests switch to an
ordinary role with `SET LOCAL ROLE` inside each transaction — the position the application
is in when it connects as a non-owner role in production (docs/tenancy.md).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from servio.kit.db import Database, UnitOfWork
from servio.models import Outlet, Setting, Tenant
from tests.fixtures.factories import make_tenant

ROLE = "servio_rls_test"


def _postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("row-level security exists only on PostgreSQL")


async def _grant_test_role(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "DO $$ BEGIN CREATE ROLE servio_rls_test NOLOGIN; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )
        )
        await conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {ROLE}"))
        await conn.execute(text(f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {ROLE}"))


async def _as_app_role(uow: UnitOfWork) -> None:
    await uow.session.execute(text(f"SET LOCAL ROLE {ROLE}"))


async def _count(uow: UnitOfWork, model: type[Outlet] | type[Tenant] | type[Setting]) -> int:
    return int((await uow.session.execute(select(func.count()).select_from(model))).scalar_one())


@pytest.mark.backends
async def test_policies_show_only_the_scoped_tenant(backend: str, db: Database) -> None:
    _postgres_only(backend)
    a, outlet_a = await make_tenant(db, name="A")
    b, outlet_b = await make_tenant(db, name="B")
    async with db.unit_of_work(bypass_rls=True) as uow:
        uow.session.add_all(
            [
                Setting(tenant_id=a.id, key="kds_sla_secs", value=600),
                Setting(tenant_id=b.id, key="kds_sla_secs", value=300),
            ]
        )
    await _grant_test_role(db)

    async with db.unit_of_work() as uow:  # no tenant set at all
        await _as_app_role(uow)
        assert await _count(uow, Outlet) == 0
        assert await _count(uow, Tenant) == 0
        assert await _count(uow, Setting) == 0

    async with db.unit_of_work() as uow:
        await _as_app_role(uow)
        await uow.set_tenant(a.id)
        outlets = (await uow.session.execute(select(Outlet.id))).scalars().all()
        assert outlets == [outlet_a.id]
        assert (await uow.session.execute(select(Tenant.id))).scalars().all() == [a.id]
        assert (await uow.session.execute(select(Setting.value))).scalars().all() == [600]

    async with db.unit_of_work() as uow:
        await _as_app_role(uow)
        await uow.set_tenant(None, bypass=True)
        ids = set((await uow.session.execute(select(Outlet.id))).scalars().all())
        assert ids == {outlet_a.id, outlet_b.id}

    # SET LOCAL semantics: the scope ends with the transaction.
    async with db.unit_of_work() as uow:
        await _as_app_role(uow)
        assert await _count(uow, Outlet) == 0


@pytest.mark.backends
async def test_policy_refuses_writing_rows_of_another_tenant(backend: str, db: Database) -> None:
    _postgres_only(backend)
    a, _ = await make_tenant(db, name="A")
    b, _ = await make_tenant(db, name="B")
    await _grant_test_role(db)

    async def plant_in_b_while_scoped_to_a() -> None:
        async with db.unit_of_work() as uow:
            await _as_app_role(uow)
            await uow.set_tenant(a.id)
            uow.session.add(Outlet(tenant_id=b.id, name="Planted"))
            await uow.session.flush()

    with pytest.raises(DBAPIError, match="row-level security"):
        await plant_in_b_while_scoped_to_a()

    async with db.unit_of_work() as uow:  # its own tenant is fine
        await _as_app_role(uow)
        await uow.set_tenant(a.id)
        uow.session.add(Outlet(tenant_id=a.id, name="Second"))
        await uow.session.flush()
        assert await _count(uow, Outlet) == 2


@pytest.mark.backends
async def test_every_tenant_table_has_a_forced_policy(backend: str, db: Database) -> None:
    """A new table with a `tenant_id` column must get the policy in a migration."""
    _postgres_only(backend)
    async with db.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   EXISTS (SELECT 1 FROM pg_policies p
                           WHERE p.tablename = c.relname AND p.policyname = 'tenant_isolation')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND (c.relname = 'tenants' OR
                  EXISTS (SELECT 1 FROM information_schema.columns col
                          WHERE col.table_schema = 'public' AND col.table_name = c.relname
                            AND col.column_name = 'tenant_id'))
            """
                )
            )
        ).all()
    unprotected = sorted(
        name for name, enabled, forced, policy in rows if not (enabled and forced and policy)
    )
    assert len(rows) >= 11
    assert unprotected == [], f"tables without row-level security: {unprotected}"
