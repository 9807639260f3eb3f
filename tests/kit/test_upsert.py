"""`kit.upsert.insert_ignoring_conflicts`: the text INSERT … ON CONFLICT DO NOTHING that
SQLAlchemy caches, against the same table on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy import Table, select

from servio.kit.db import Database
from servio.kit.upsert import insert_ignoring_conflicts
from servio.models import OutboxMessage

pytestmark = pytest.mark.backends

OUTBOX = cast(Table, OutboxMessage.__table__)
CONFLICT = ("tenant_id", "dedupe_key")


def message(dedupe_key: str, **extra: object) -> dict[str, object]:
    return {
        "tenant_id": "t-upsert",
        "topic": "event",
        "dedupe_key": dedupe_key,
        "payload": {"n": 1, "nested": {"ok": True}},
        **extra,
    }


async def test_rows_are_inserted_once_with_the_column_defaults_per_row(
    db: Database, backend: str
) -> None:
    rows = [message("a"), message("b"), message("c")]
    async with db.unit_of_work(bypass_rls=True) as uow:
        stmt, params = insert_ignoring_conflicts(OUTBOX, rows, conflict=CONFLICT, returning="id")
        first = set((await uow.session.execute(stmt, params)).scalars())
        # The same keys again, plus a new one: only the new one is inserted.
        stmt, params = insert_ignoring_conflicts(
            OUTBOX, [message("a"), message("d")], conflict=CONFLICT, returning="id"
        )
        second = list((await uow.session.execute(stmt, params)).scalars())
    assert len(first) == 3  # ids come from the column default, one per row
    assert len(second) == 1
    async with db.unit_of_work(bypass_rls=True) as uow:
        stored = (
            await uow.session.execute(
                select(OutboxMessage).where(OutboxMessage.tenant_id == "t-upsert")
            )
        ).scalars()
        by_key = {m.dedupe_key: m for m in stored}
    assert sorted(by_key) == ["a", "b", "c", "d"]
    assert by_key["a"].id in first
    assert by_key["d"].id == second[0]
    a = by_key["a"]
    assert a.payload == {"n": 1, "nested": {"ok": True}}  # JSON bound as JSON
    assert (a.status, a.attempts, a.event) == ("pending", 0, "")  # scalar defaults
    assert a.created_at is not None  # callable defaults
    assert a.next_attempt_at is not None


async def test_a_conflict_returns_no_row(db: Database, backend: str) -> None:
    async with db.unit_of_work(bypass_rls=True) as uow:
        for expected in (1, 0):
            stmt, params = insert_ignoring_conflicts(
                OUTBOX, [message("same")], conflict=CONFLICT, returning="id"
            )
            found = (await uow.session.execute(stmt, params)).scalar_one_or_none()
            assert (found is not None) == bool(expected)


def test_unknown_columns_and_uneven_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="no column"):
        insert_ignoring_conflicts(OUTBOX, [message("x", colour="red")], conflict=CONFLICT)
    with pytest.raises(ValueError, match="same columns"):
        insert_ignoring_conflicts(
            OUTBOX, [message("x"), message("y", status="dead")], conflict=CONFLICT
        )
    with pytest.raises(ValueError, match="at least one row"):
        insert_ignoring_conflicts(OUTBOX, [], conflict=CONFLICT)


def test_the_statement_is_built_once_per_shape() -> None:
    one, _ = insert_ignoring_conflicts(OUTBOX, [message("x")], conflict=CONFLICT, returning="id")
    again, params = insert_ignoring_conflicts(
        OUTBOX, [message("y")], conflict=CONFLICT, returning="id"
    )
    assert one is again  # the same clause object: SQLAlchemy's cache key is stable
    assert params["dedupe_key__0"] == "y"
    assert one._generate_cache_key() is not None  # cacheable, unlike the dialect insert
