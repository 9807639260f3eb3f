"""Gap-free counters (ticket numbers, invoice numbers) without check-then-act: one
`INSERT … ON CONFLICT DO UPDATE SET value = value + 1 RETURNING value` per number. The row
lock it takes lasts until the caller's transaction ends, so concurrent callers queue and
each gets the next number; a rolled-back caller gives its number back."""

from __future__ import annotations

from sqlalchemy import text

from servio.kit.db import UnitOfWork
from servio.kit.ids import new_id

# Text, not `sqlite.insert(...).on_conflict_do_update(...)`: SQLAlchemy 2.0 compiles those
# again on every execution (see `kit.upsert`). The same SQL runs on SQLite and PostgreSQL.
_NEXT_NUMBER = text(
    """
    INSERT INTO number_sequences (id, tenant_id, scope, name, period, value)
    VALUES (:id, :tenant_id, :scope, :name, :period, 1)
    ON CONFLICT (tenant_id, scope, name, period) DO UPDATE
        SET value = number_sequences.value + 1
    RETURNING value
    """
)


async def next_number(
    uow: UnitOfWork, *, tenant_id: str, scope: str, name: str, period: str = ""
) -> int:
    """The next value (1, 2, …) of the counter (tenant_id, scope, name, period)."""
    params = {"id": new_id(), "tenant_id": tenant_id, "scope": scope, "name": name}
    result = await uow.session.execute(_NEXT_NUMBER, {**params, "period": period})
    return int(result.scalar_one())
