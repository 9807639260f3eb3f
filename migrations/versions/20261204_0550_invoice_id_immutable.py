"""invoices: the immutability trigger also refuses changing an issued invoice's id

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 05:50:00

Migration 0005's trigger compared every snapshot column but `id`, so
`UPDATE invoices SET id = …` re-keyed an issued invoice (and everything pointing at it by id
outside a foreign key: orders, outbox payloads, PDF links). Found by
tests/reliability/test_invoice_immutability.py, which reads the columns from the catalog.
PostgreSQL only, like the trigger itself.
"""

from collections.abc import Sequence

from alembic import op

from servio.kit.rls import is_postgresql

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SNAPSHOT_0005 = (
    'tenant_id', 'outlet_id', 'kind', 'number', 'series_period', 'original_invoice_id',
    'source', 'session_id', 'currency', 'subtotal', 'discount_total', 'effective_discount',
    'service_charge', 'taxable_subtotal', 'tax_total', 'tip', 'round_off', 'total',
    'contact_hash', 'contact_hint', 'issued_at', 'issued_by', 'issued_by_member', 'created_at',
)
SNAPSHOT_JSON = (
    'order_ids', 'applied_coupons', 'lines', 'tax_lines', 'tax_basis', 'seller', 'buyer',
)


def _function_sql(columns: Sequence[str]) -> str:
    changed = [f'NEW.{c} IS DISTINCT FROM OLD.{c}' for c in columns]
    changed += [f'NEW.{c}::jsonb IS DISTINCT FROM OLD.{c}::jsonb' for c in SNAPSHOT_JSON]
    condition = '\n           OR '.join(changed)
    return f'''
        CREATE OR REPLACE FUNCTION servio_invoice_immutable() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'invoice % is issued and cannot be deleted', OLD.number
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF {condition} THEN
            RAISE EXCEPTION 'invoice % is issued; correct it with a credit note', OLD.number
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NEW;
        END $$;
    '''


def upgrade() -> None:
    if is_postgresql():
        op.execute(_function_sql(('id', *SNAPSHOT_0005)))


def downgrade() -> None:
    if is_postgresql():
        op.execute(_function_sql(SNAPSHOT_0005))
