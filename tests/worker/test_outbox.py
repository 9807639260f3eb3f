"""Outbox: enqueue once per dedupe key, deliver at least once, back off, dead-letter."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.worker import repository
from servio.worker.handlers import ClaimedMessage, HandlerContext, HandlerRegistry, PermanentFailure
from servio.worker.outbox import enqueue, retry_delay
from tests.fixtures.factories import make_tenant
from tests.worker.helpers import (
    Recorder,
    all_outbox_rows,
    make_worker,
    outbox_row,
    second_database,
)

pytestmark = pytest.mark.backends


async def _enqueue(
    db: Database,
    tenant_id: str,
    key: str,
    *,
    topic: str = "test.deliver",
    delay: timedelta | None = None,
) -> str | None:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        return await enqueue(
            uow,
            tenant_id=tenant_id,
            topic=topic,
            payload={"key": key},
            dedupe_key=key,
            event="order.placed",
            delay=delay,
        )


async def test_a_retried_producer_enqueues_once(
    backend: str, db: Database, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)
    other, _ = await make_tenant(db, name="Other")
    first = await _enqueue(db, tenant.id, "invoice.paid:1")
    again = await _enqueue(db, tenant.id, "invoice.paid:1")
    # Another tenant may use the same key: uniqueness is per tenant.
    elsewhere = await _enqueue(db, other.id, "invoice.paid:1")

    assert first is not None
    assert again is None
    assert elsewhere is not None
    assert elsewhere != first
    rows = await all_outbox_rows(db)
    assert sorted((r.tenant_id, r.dedupe_key) for r in rows) == sorted(
        [(tenant.id, "invoice.paid:1"), (other.id, "invoice.paid:1")]
    )


async def test_enqueue_rolls_back_with_the_callers_transaction(
    backend: str, db: Database, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)

    async def change_then_fail() -> None:
        async with db.unit_of_work(tenant_id=tenant.id) as uow:
            await enqueue(
                uow, tenant_id=tenant.id, topic="test.deliver", payload={}, dedupe_key="k1"
            )
            raise RuntimeError("the business change failed")

    with pytest.raises(RuntimeError):
        await change_then_fail()
    assert await all_outbox_rows(db) == []


async def test_delivers_once_and_records_the_attempt(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)
    registry, recorder = HandlerRegistry(), Recorder()
    registry.register("test.deliver")(recorder)
    worker = make_worker(db, settings, registry, worker_id="w1")
    message_id = await _enqueue(db, tenant.id, "k1")

    first = await worker.run_once()
    second = await worker.run_once()

    assert (first.claimed, first.delivered, second.claimed) == (1, 1, 0)
    assert [m.id for m in recorder.seen] == [message_id]
    assert recorder.seen[0].payload == {"key": "k1"}
    assert recorder.seen[0].tenant_id == tenant.id
    row = await outbox_row(db, str(message_id))
    assert (row.status, row.attempts, row.delivered_at) == ("delivered", 1, clock.now())
    assert row.locked_by is None


async def test_delayed_message_waits_for_its_time(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)
    registry, recorder = HandlerRegistry(), Recorder()
    registry.register("test.deliver")(recorder)
    worker = make_worker(db, settings, registry, worker_id="w1")
    await _enqueue(db, tenant.id, "later", delay=timedelta(minutes=5))

    assert (await worker.run_once()).claimed == 0
    clock.advance(minutes=5)
    assert (await worker.run_once()).delivered == 1


async def test_failures_back_off_then_dead_letter(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)
    registry, recorder = HandlerRegistry(), Recorder(failures=99)
    registry.register("test.deliver")(recorder)
    worker = make_worker(db, settings, registry, worker_id="w1", outbox_max_attempts=5)
    message_id = str(await _enqueue(db, tenant.id, "k1"))

    expected_base = [1, 5, 30, 120]
    for attempt, base in enumerate(expected_base, start=1):
        result = await worker.run_once()
        assert (result.claimed, result.retried) == (1, 1)
        row = await outbox_row(db, message_id)
        assert (row.status, row.attempts) == ("pending", attempt)
        assert row.last_error == "RuntimeError: receiver answered 503"
        wait = (row.next_attempt_at - clock.now()).total_seconds()
        assert base * 0.8 <= wait <= base * 1.2, (attempt, wait)
        # Not due before its back-off has passed.
        clock.advance(seconds=base * 0.8 - 0.01)
        assert (await worker.run_once()).claimed == 0
        clock.advance(seconds=base * 0.4 + 0.02)

    last = await worker.run_once()
    assert (last.claimed, last.dead) == (1, 1)
    row = await outbox_row(db, message_id)
    assert (row.status, row.attempts) == ("dead", 5)
    assert row.last_error == "RuntimeError: receiver answered 503"
    clock.advance(hours=1)
    assert (await worker.run_once()).claimed == 0
    assert len(recorder.seen) == 5


async def test_a_failed_message_is_delivered_on_retry(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)
    registry, recorder = HandlerRegistry(), Recorder(failures=1)
    registry.register("test.deliver")(recorder)
    worker = make_worker(db, settings, registry, worker_id="w1")
    message_id = str(await _enqueue(db, tenant.id, "k1"))

    assert (await worker.run_once()).retried == 1
    clock.advance(seconds=2)
    assert (await worker.run_once()).delivered == 1
    row = await outbox_row(db, message_id)
    assert (row.status, row.attempts) == ("delivered", 2)


async def test_permanent_failure_and_unknown_topic(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)
    registry = HandlerRegistry()
    registry.register("test.deliver")(Recorder(failures=1, error=PermanentFailure("HTTP 410")))
    worker = make_worker(db, settings, registry, worker_id="w1", outbox_max_attempts=2)
    permanent = str(await _enqueue(db, tenant.id, "k1"))
    orphan = str(await _enqueue(db, tenant.id, "k2", topic="nobody.listens"))

    await worker.run_once()
    row = await outbox_row(db, permanent)
    assert (row.status, row.attempts, row.last_error) == ("dead", 1, "PermanentFailure: HTTP 410")
    row = await outbox_row(db, orphan)
    assert (row.status, row.last_error) == ("pending", "no handler for topic 'nobody.listens'")
    clock.advance(seconds=2)
    await worker.run_once()
    assert (await outbox_row(db, orphan)).status == "dead"


async def test_stuck_processing_is_reclaimed_after_its_lease(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)
    registry, recorder = HandlerRegistry(), Recorder()
    registry.register("test.deliver")(recorder)
    worker = make_worker(db, settings, registry, worker_id="healthy", outbox_lease_secs=60)
    message_id = str(await _enqueue(db, tenant.id, "k1"))
    # A worker claims the row and dies before recording anything.
    async with db.unit_of_work(bypass_rls=True) as uow:
        crashed = await repository.claim_due_messages(
            uow,
            now=clock.now(),
            worker_id="crashed",
            lease_until=clock.now() + timedelta(seconds=60),
            limit=10,
        )
    assert [m.id for m in crashed] == [message_id]

    assert (await worker.run_once()).claimed == 0  # the lease still holds
    clock.advance(seconds=61)
    assert (await worker.run_once()).delivered == 1
    row = await outbox_row(db, message_id)
    assert (row.status, row.attempts) == ("delivered", 2)
    # The crashed worker coming back late cannot overwrite the outcome.
    async with db.unit_of_work(bypass_rls=True) as uow:
        late = await repository.mark_failed(
            uow,
            message_id=message_id,
            worker_id="crashed",
            attempt=1,
            error="late",
            retry_at=clock.now(),
        )
    assert late is False
    assert (await outbox_row(db, message_id)).status == "delivered"


async def test_lease_expiry_on_the_last_attempt_dead_letters(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)
    registry, recorder = HandlerRegistry(), Recorder()
    registry.register("test.deliver")(recorder)
    worker = make_worker(db, settings, registry, worker_id="w1", outbox_max_attempts=1)
    message_id = str(await _enqueue(db, tenant.id, "poison"))
    async with db.unit_of_work(bypass_rls=True) as uow:
        await repository.claim_due_messages(
            uow,
            now=clock.now(),
            worker_id="crashed",
            lease_until=clock.now() + timedelta(seconds=60),
            limit=10,
        )
    clock.advance(seconds=61)
    result = await worker.run_once()
    assert (result.claimed, result.dead) == (0, 1)
    row = await outbox_row(db, message_id)
    assert row.status == "dead"
    assert "lease expired" in str(row.last_error)
    assert recorder.seen == []


async def test_two_workers_never_deliver_the_same_message_twice(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        for n in range(200):
            await enqueue(
                uow, tenant_id=tenant.id, topic="test.count", payload={"n": n}, dedupe_key=f"k{n}"
            )
    delivered_by: dict[str, list[str]] = {}

    async def count(message: ClaimedMessage, ctx: HandlerContext) -> None:
        delivered_by.setdefault(message.id, []).append(ctx.worker_id)
        await asyncio.sleep(0)  # yield so the other worker's claims interleave

    registry = HandlerRegistry()
    registry.register("test.count")(count)

    async def drain(worker_db: Database, worker_id: str) -> int:
        worker = make_worker(
            worker_db, settings, registry, worker_id=worker_id, worker_batch_size=10
        )
        passes = 0
        while (await worker.run_once(schedules=False)).claimed:
            passes += 1
        return passes

    async with second_database(settings) as other_db:
        await asyncio.gather(drain(db, "w1"), drain(other_db, "w2"), drain(db, "w3"))

    assert len(delivered_by) == 200
    duplicates = {k: v for k, v in delivered_by.items() if len(v) != 1}
    assert duplicates == {}
    rows = await all_outbox_rows(db)
    assert {r.status for r in rows} == {"delivered"}
    assert {r.attempts for r in rows} == {1}


async def test_a_message_whose_lease_ran_short_in_the_queue_is_handed_back(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)
    seen: list[str] = []

    async def slow(message: ClaimedMessage, ctx: HandlerContext) -> None:
        seen.append(message.dedupe_key)
        clock.advance(seconds=55)  # the first delivery eats most of the 60 s lease

    registry = HandlerRegistry()
    registry.register("test.deliver")(slow)
    worker = make_worker(
        db, settings, registry, worker_id="w1", worker_batch_size=2, database_pool_size=1
    )
    first = str(await _enqueue(db, tenant.id, "a"))
    second = str(await _enqueue(db, tenant.id, "b"))

    result = await worker.run_once(schedules=False)
    assert (result.claimed, result.delivered, result.released) == (2, 1, 1)
    assert seen == ["a"]
    assert (await outbox_row(db, first)).status == "delivered"
    row = await outbox_row(db, second)
    assert (row.status, row.attempts, row.locked_by) == ("pending", 0, None)

    assert (await worker.run_once(schedules=False)).delivered == 1
    assert (await outbox_row(db, second)).attempts == 1


async def test_a_hanging_handler_times_out_inside_its_lease(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, _ = await make_tenant(db)

    async def hang(message: ClaimedMessage, ctx: HandlerContext) -> None:
        await asyncio.Event().wait()

    registry = HandlerRegistry()
    registry.register("test.deliver")(hang)
    worker = make_worker(db, settings, registry, worker_id="w1", outbox_lease_secs=2)
    message_id = str(await _enqueue(db, tenant.id, "k1"))
    assert (await worker.run_once(schedules=False)).retried == 1
    row = await outbox_row(db, message_id)
    assert (row.status, row.last_error) == ("pending", "handler timed out after 1.6s")


def test_retry_delays_follow_the_schedule_with_bounded_jitter() -> None:
    assert [retry_delay(n, jitter=0).total_seconds() for n in range(1, 7)] == [
        1,
        5,
        30,
        120,
        600,
        600,
    ]
    assert retry_delay(3, jitter=-1).total_seconds() == pytest.approx(24)
    assert retry_delay(3, jitter=1).total_seconds() == pytest.approx(36)
    samples = {retry_delay(2).total_seconds() for _ in range(50)}
    assert all(4 <= s <= 6 for s in samples)
    assert len(samples) > 1  # jittered, not lockstep
    with pytest.raises(ValueError, match="starts at 1"):
        retry_delay(0)
