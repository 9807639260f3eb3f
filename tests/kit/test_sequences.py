"""Gap-free counters: concurrent callers each get the next number, rolled-back callers
give theirs back, and counters are independent per (tenant, scope, name, period)."""

from __future__ import annotations

import asyncio

import pytest

from servio.kit.db import Database
from servio.kit.sequences import next_number

pytestmark = pytest.mark.backends


async def _take(db: Database, tenant: str, scope: str, period: str = "2026-11-22") -> int:
    async with db.unit_of_work(tenant_id=tenant) as uow:
        return await next_number(uow, tenant_id=tenant, scope=scope, name="ticket", period=period)


async def test_numbers_count_up_per_counter(db: Database) -> None:
    assert [await _take(db, "T1", "O1") for _ in range(3)] == [1, 2, 3]
    assert await _take(db, "T1", "O2") == 1  # another outlet
    assert await _take(db, "T2", "O1") == 1  # another tenant
    assert await _take(db, "T1", "O1", period="2026-11-23") == 1  # a new business day
    assert await _take(db, "T1", "O1") == 4


async def test_concurrent_callers_get_distinct_gap_free_numbers(db: Database) -> None:
    numbers = await asyncio.gather(*(_take(db, "T1", "O1") for _ in range(20)))
    assert sorted(numbers) == list(range(1, 21))


async def test_a_rolled_back_number_is_given_to_the_next_caller(db: Database) -> None:
    assert await _take(db, "T1", "O1") == 1
    taken: list[int] = []

    async def fail_after_taking() -> None:
        async with db.unit_of_work(tenant_id="T1") as uow:
            taken.append(
                await next_number(
                    uow, tenant_id="T1", scope="O1", name="ticket", period="2026-11-22"
                )
            )
            raise RuntimeError("the order failed after taking its ticket number")

    with pytest.raises(RuntimeError):
        await fail_after_taking()
    assert taken == [2]
    assert await _take(db, "T1", "O1") == 2
