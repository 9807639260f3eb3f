"""staff_users.totp_last_step: a TOTP code logs in once

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 06:20:00

A login stores the time step its code belonged to and refuses a code of that step or an
earlier one (RFC 6238 §5.2); found by tests/security/test_auth_strength.py.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff_users') as batch:
        batch.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff_users') as batch:
        batch.drop_column('totp_last_step')
