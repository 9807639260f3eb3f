"""PostgreSQL row-level security for tenant tables, as migration steps. Every migration that
adds a table with a `tenant_id` column calls `enable_tenant_rls` for it (PostgreSQL only;
`tests/platform/test_rls.py` fails for a tenant table left without a policy)."""

from __future__ import annotations

from alembic import op

POLICY = "tenant_isolation"


def _predicate(column: str) -> str:
    # NULLIF: an unset or empty app.tenant_id matches nothing (not even platform rows
    # stored with tenant_id ''); missing_ok=true makes an unset variable read as NULL.
    return (
        f"({column} = NULLIF(current_setting('app.tenant_id', true), '') "
        f"OR current_setting('app.rls_bypass', true) = 'on')"
    )


def is_postgresql() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def enable_tenant_rls(table: str, column: str = "tenant_id") -> None:
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
    predicate = _predicate(column)
    op.execute(
        f'CREATE POLICY {POLICY} ON "{table}" FOR ALL USING {predicate} WITH CHECK {predicate}'
    )


def disable_tenant_rls(table: str) -> None:
    op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
    op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
