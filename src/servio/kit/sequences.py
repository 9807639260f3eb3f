"""Gap-free counters (ticket numbers, invoice numbers) without check-then-act: one
`INSERT … ON CONFLICT DO UPDATE SET value = value + 1 RETURNING value` per number. The row
lock it takes lasts until the caller's transaction ends, so concurrent callers queue and
each gets the next number; a rolled-back caller gives its number back."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from servio.kit.db import UnitOfWork
from servio.kit.ids import new_id
from servio.models.number_sequence import NumberSequence


async def next_number(
    uow: UnitOfWork, *, tenant_id: str, scope: str, name: str, period: str = ""
) -> int:
    """The next value (1, 2, …) of the counter (tenant_id, scope, name, period)."""
    dialect = uow.session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(NumberSequence)
        .values(id=new_id(), tenant_id=tenant_id, scope=scope, name=name, period=period, value=1)
        .on_conflict_do_update(
            index_elements=["tenant_id", "scope", "name", "period"],
            set_={"value": NumberSequence.value + 1},
        )
        .returning(NumberSequence.value)
    )
    return int((await uow.session.execute(statement)).scalar_one())
