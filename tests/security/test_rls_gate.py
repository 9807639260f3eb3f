"""S3: the PostgreSQL row-level-security gate.

- every tenant table (every table with a `tenant_id` column, read from the catalog, plus
  `tenants`) has RLS enabled AND forced, with the tenant policy;
- the application's role (here a NOLOGIN role set up the way docs/tenancy.md tells
  production to: NOSUPERUSER NOBYPASSRLS, DML grants only) owns no table and cannot bypass;
- with no tenant set it sees 0 rows in every tenant table, though every one of the tables
  the shift below fills holds rows;
- a pooled connection that served tenant A (committed, or rolled back) shows tenant B none of
  A's rows in any tenant table on its next transaction.

The suite connects as a superuser, which ignores RLS; each check switches to the role with
`SET LOCAL ROLE` inside its transaction, as tests/platform/test_rls.py does.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database, UnitOfWork, make_engine
from tests.billing.invoice_world import World, build_world, order, staff_bill
from tests.soak import record

pytestmark = pytest.mark.backends

ROLE = "servio_rls_gate"

TENANT_TABLES = """
    SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
           pg_get_userbyid(c.relowner),
           EXISTS (SELECT 1 FROM pg_policies p
                   WHERE p.schemaname = 'public' AND p.tablename = c.relname
                     AND p.policyname = 'tenant_isolation'
                     AND p.qual LIKE '%app.tenant_id%' AND p.with_check LIKE '%app.tenant_id%')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND (c.relname = 'tenants' OR
          EXISTS (SELECT 1 FROM information_schema.columns col
                  WHERE col.table_schema = 'public' AND col.table_name = c.relname
                    AND col.column_name = 'tenant_id'))
    ORDER BY c.relname
"""


def _postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("row-level security exists only on PostgreSQL")


async def _tenant_tables(db: Database) -> list[tuple[str, bool, bool, str, bool]]:
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text(TENANT_TABLES))).tuples().all()
    return [(str(n), bool(on), bool(forced), str(o), bool(p)) for n, on, forced, o, p in rows]


async def _create_app_role(db: Database) -> None:
    """The production role setup of docs/tenancy.md, for a role that cannot log in."""
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                f"DO $$ BEGIN CREATE ROLE {ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT; "
                "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
            )
        )
        await conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {ROLE}"))
        await conn.execute(
            text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}")
        )


async def _as_app(uow: UnitOfWork) -> None:
    await uow.session.execute(text(f"SET LOCAL ROLE {ROLE}"))


def _key(table: str) -> str:
    return "id" if table == "tenants" else "tenant_id"


async def _shift(client: httpx.AsyncClient, db: Database, settings: Settings, name: str) -> World:
    """A tenant with staff, menu, a table session, an order, its kitchen tickets and a bill."""
    world = await build_world(db, settings, name=name)
    await order(client, db, world, "Asha", [("salad", 1, ()), ("lassi", 1, ())])
    await staff_bill(client, world)
    return world


async def test_every_tenant_table_is_forced_and_the_app_role_cannot_bypass(
    backend: str, db: Database
) -> None:
    _postgres_only(backend)
    await _create_app_role(db)
    tables = await _tenant_tables(db)
    assert len(tables) >= 40, [t[0] for t in tables]
    unprotected = [name for name, on, forced, _, policy in tables if not (on and forced and policy)]
    assert unprotected == [], f"tenant tables without forced row-level security: {unprotected}"
    async with db.engine.connect() as conn:
        role = (
            await conn.execute(
                text("SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = :r"),
                {"r": ROLE},
            )
        ).one()
        owned = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND pg_has_role(:r, c.relowner, 'USAGE')"
                ),
                {"r": ROLE},
            )
        ).scalar_one()
    assert (role.rolsuper, role.rolbypassrls) == (False, False)
    assert owned == 0, "the application role owns (or can act as the owner of) tables"
    assert all(owner != ROLE for _, _, _, owner, _ in tables)
    record("S3", backend, tenant_tables=len(tables), unprotected=len(unprotected))


async def test_no_tenant_set_sees_no_rows_in_any_tenant_table(
    backend: str, client: httpx.AsyncClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    _postgres_only(backend)
    await _shift(client, db, settings, "A")
    await _shift(client, db, settings, "B")
    await _create_app_role(db)
    tables = [t[0] for t in await _tenant_tables(db)]
    filled = []
    async with db.unit_of_work(bypass_rls=True) as uow:
        for table in tables:
            n = (await uow.session.execute(text(f'SELECT count(*) FROM "{table}"'))).scalar_one()
            if n:
                filled.append(table)
    assert len(filled) >= 15, filled  # the shift wrote rows into many tenant tables
    async with db.unit_of_work() as uow:  # no tenant set
        await _as_app(uow)
        seen = {
            table: (await uow.session.execute(text(f'SELECT count(*) FROM "{table}"'))).scalar_one()
            for table in tables
        }
    assert {t: n for t, n in seen.items() if n} == {}
    record("S3", backend, no_tenant_tables_checked=len(tables), tables_with_rows=len(filled))


async def test_a_pooled_connection_shows_tenant_b_none_of_tenant_a(
    backend: str,
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    _postgres_only(backend)
    a = await _shift(client, db, settings, "A")
    b = await _shift(client, db, settings, "B")
    await _create_app_role(db)
    tables = [t[0] for t in await _tenant_tables(db)]
    pooled = Database(make_engine(settings.database_url, pool_size=1))

    async def count_a(uow: UnitOfWork) -> dict[str, int]:
        counts = {}
        for table in tables:
            stmt = text(f'SELECT count(*) FROM "{table}" WHERE {_key(table)} = :a')
            counts[table] = (await uow.session.execute(stmt, {"a": a.tenant_id})).scalar_one()
        return counts

    async def pid(uow: UnitOfWork) -> int:
        return int((await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one())

    try:
        async with pooled.unit_of_work(tenant_id=a.tenant_id) as uow:
            await _as_app(uow)
            first = await pid(uow)
            as_a = await count_a(uow)
        assert as_a["invoices"] == 1, as_a
        assert sum(as_a.values()) > len(tables) // 2, as_a

        class Boom(Exception):
            pass

        pids: list[int] = []

        async def failing_request_of_a() -> None:
            async with pooled.unit_of_work(tenant_id=a.tenant_id) as uow:
                await _as_app(uow)
                pids.append(await pid(uow))
                raise Boom

        with pytest.raises(Boom):  # a request of tenant A that fails mid-transaction
            await failing_request_of_a()
        assert pids == [first]

        async with pooled.unit_of_work(tenant_id=b.tenant_id) as uow:
            await _as_app(uow)
            assert await pid(uow) == first  # the same pooled connection
            as_b = await count_a(uow)
            mine = (
                await uow.session.execute(
                    text("SELECT count(*) FROM invoices WHERE tenant_id = :b"),
                    {"b": b.tenant_id},
                )
            ).scalar_one()
        assert {t: n for t, n in as_b.items() if n} == {}
        assert mine == 1  # B still sees its own rows

        async with pooled.unit_of_work() as uow:  # and then no tenant at all
            await _as_app(uow)
            assert await pid(uow) == first
            assert {t: n for t, n in (await count_a(uow)).items() if n} == {}
    finally:
        await pooled.dispose()
    record("S3", backend, pooled_reuse_tables=len(tables), foreign_rows=0)
