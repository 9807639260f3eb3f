"""row level security (PostgreSQL only)

Every tenant-owned table gets a policy that shows and accepts only the rows of the tenant
named by the transaction's `app.tenant_id` (set with `SET LOCAL` semantics by
`UnitOfWork.set_tenant()`), unless the transaction switched `app.rls_bypass` on (login
lookups, the worker, provider routes). FORCE makes the table owner subject to it too;
superusers and roles with BYPASSRLS still skip it, so the application must connect as an
ordinary role (see docs/tenancy.md).

The audit log also gets a trigger refusing UPDATE and DELETE: it is append-only.

A later migration that adds a tenant table calls `servio.kit.rls.enable_tenant_rls(table)` for it;
`tests/platform/test_rls.py` fails for any table with a `tenant_id` column left without
a policy.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

from servio.kit.rls import disable_tenant_rls, enable_tenant_rls

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column holding the tenant id). `tenants` is keyed by its own id.
TENANT_TABLES: tuple[tuple[str, str], ...] = (
    ("tenants", "id"),
    ("outlets", "tenant_id"),
    ("staff_users", "tenant_id"),
    ("staff_outlet_grants", "tenant_id"),
    ("auth_sessions", "tenant_id"),
    ("retired_refresh_tokens", "tenant_id"),
    ("pin_attempts", "tenant_id"),
    ("settings", "tenant_id"),
    ("feature_flags", "tenant_id"),
    ("audit_log", "tenant_id"),
    ("idempotency_keys", "tenant_id"),
    ("outbox", "tenant_id"),
    ("menu_categories", "tenant_id"),
    ("menu_items", "tenant_id"),
    ("combo_components", "tenant_id"),
    ("modifier_groups", "tenant_id"),
    ("modifiers", "tenant_id"),
    ("item_modifier_groups", "tenant_id"),
    ("service_points", "tenant_id"),
    ("onboarding_sessions", "tenant_id"),
    ("media_assets", "tenant_id"),
    ("qr_pack_exports", "tenant_id"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in TENANT_TABLES:
        enable_tenant_rls(table, column)
    op.execute(
        """
        CREATE OR REPLACE FUNCTION servio_audit_log_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION servio_audit_log_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS servio_audit_log_append_only()")
    for table, _column in reversed(TENANT_TABLES):
        disable_tenant_rls(table)
