"""Webhooks from a domain event to a real local receiver (NOTIF-01/02): the event fans out
to the alert rule, the receiver is down for a while and then up; every event arrives
exactly once, on the back-off schedule, signed (verified by the `standardwebhooks`
library) and with the same `webhook-id` on every retry. A worker that dies between
sending and recording sends a duplicate with the same id, and nothing is lost."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from servio.config import Settings
from servio.kit import breaker
from servio.kit.clock import FrozenClock, as_utc, utcnow
from servio.kit.db import Database
from servio.notifications.tasks import deliver_notification
from servio.worker import repository
from servio.worker.handlers import HandlerContext
from servio.worker.outbox import RETRY_DELAYS_SECS, RETRY_JITTER
from tests.notifications.delivery_helpers import (
    attempts_of,
    emit_event,
    hooked_tenant,
    latest_due,
    notify_rows,
    notify_worker,
)
from tests.notifications.http_receiver import Receiver

pytestmark = pytest.mark.backends


def patient(settings: Settings) -> Settings:
    """Breaker threshold above the failures these tests provoke (its own tests open it)."""
    return settings.model_copy(update={"cb_failure_threshold": 1000})


async def test_a_receiver_down_then_up_gets_every_event_once_on_the_backoff_schedule(
    backend: str,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    breakers: breaker.BreakerStore,
    receiver: Receiver,
) -> None:
    settings = patient(settings)
    tenant, outlet, endpoint, secret = await hooked_tenant(
        db, settings, f"{receiver.url}/hooks", "order.placed", "order.cancelled"
    )
    event_ids = [
        await emit_event(db, tenant.id, outlet.id, "order.placed", {"order_id": f"O{n}"})
        for n in range(3)
    ]
    await emit_event(db, tenant.id, outlet.id, "table.cleaned", {"table": "T1"})  # no rule
    worker = notify_worker(db, settings)

    receiver.down()
    fanned = await worker.run_once()
    assert fanned.delivered == 4  # the event rows; the notify rows they queued wait
    rows = await notify_rows(db)
    assert len(rows) == 3
    assert receiver.hits == []

    for failures, base in enumerate(RETRY_DELAYS_SECS[:4], start=1):
        result = await worker.run_once()
        assert (result.claimed, result.retried) == (3, 3)
        rows = await notify_rows(db)
        for row in rows:
            assert (row.status, row.attempts) == ("pending", failures)
            assert "503" in str(row.last_error)
            gap = (as_utc(row.next_attempt_at) - utcnow()).total_seconds()
            assert base * (1 - RETRY_JITTER) <= gap <= base * (1 + RETRY_JITTER), (failures, gap)
        clock.advance(timedelta(seconds=base * (1 - RETRY_JITTER) / 2))
        assert (await worker.run_once()).claimed == 0  # not due before its back-off
        clock.set(latest_due(rows))

    receiver.up()
    assert (await worker.run_once()).delivered == 3
    assert (await worker.run_once()).claimed == 0

    delivered = receiver.delivered()
    assert len(delivered) == 3
    assert sorted(h.json()["id"] for h in delivered) == sorted(event_ids)
    assert len(receiver.hits) == 3 * 5
    ids_per_event: dict[str, set[str]] = defaultdict(set)
    for hit in receiver.hits:
        assert hit.path == "/hooks"
        assert hit.headers["content-type"] == "application/json"
        assert hit.headers["user-agent"] == "Servio-Webhooks/1"
        envelope = Webhook(secret).verify(hit.body, hit.headers)  # raises unless signed
        assert envelope["event"] == "order.placed"
        assert envelope["tenant_id"] == tenant.id
        ids_per_event[envelope["id"]].add(hit.headers["webhook-id"])
    assert all(len(ids) == 1 for ids in ids_per_event.values())  # unchanged across retries
    assert len({next(iter(ids)) for ids in ids_per_event.values()}) == 3

    for row in await notify_rows(db):
        assert (row.status, row.attempts, row.last_error) == ("delivered", 5, None)
        log = await attempts_of(db, row.id)
        assert [(a.attempt, a.ok, a.status_code) for a in log] == [
            (1, False, 503),
            (2, False, 503),
            (3, False, 503),
            (4, False, 503),
            (5, True, 200),
        ]
        assert {a.webhook_id for a in log} == {row.payload["webhook_id"]}
        assert {a.webhook_endpoint_id for a in log} == {endpoint.id}
        assert all(a.target == f"{receiver.url}/hooks" and a.kind == "delivery" for a in log)


async def test_a_worker_killed_after_sending_causes_a_duplicate_with_the_same_id(
    backend: str,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    breakers: breaker.BreakerStore,
    receiver: Receiver,
) -> None:
    tenant, outlet, endpoint, secret = await hooked_tenant(
        db, settings, f"{receiver.url}/hooks", "*"
    )
    await emit_event(db, tenant.id, outlet.id, "bill.requested", {"session_id": "S1"})
    await notify_worker(db, settings, "router").run_once()  # event → notify row

    # Worker "doomed" claims the notify row and sends it, then dies before recording.
    now = utcnow()
    async with db.unit_of_work(bypass_rls=True) as uow:
        [claimed] = await repository.claim_due_messages(
            uow,
            now=now,
            worker_id="doomed",
            lease_until=now + timedelta(seconds=settings.outbox_lease_secs),
            limit=10,
        )
    await deliver_notification(
        claimed, HandlerContext(db=db, settings=settings, worker_id="doomed")
    )
    assert len(receiver.delivered()) == 1

    survivor = notify_worker(db, settings, "survivor")
    assert (await survivor.run_once()).claimed == 0  # the lease still holds
    clock.advance(seconds=settings.outbox_lease_secs + 1)
    assert (await survivor.run_once()).delivered == 1

    first, second = receiver.delivered()
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    Webhook(secret).verify(second.body, second.headers)
    [row] = await notify_rows(db)
    assert (row.status, row.attempts) == ("delivered", 2)
    # The dead worker's late report cannot overwrite the survivor's outcome.
    async with db.unit_of_work(bypass_rls=True) as uow:
        assert not await repository.mark_failed(
            uow,
            message_id=row.id,
            worker_id="doomed",
            attempt=1,
            error="late",
            retry_at=utcnow(),
        )


async def test_max_attempts_dead_letters_with_the_last_error(
    backend: str,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    breakers: breaker.BreakerStore,
    receiver: Receiver,
) -> None:
    settings = patient(settings)
    tenant, outlet, *_ = await hooked_tenant(db, settings, f"{receiver.url}/hooks", "order.placed")
    await emit_event(db, tenant.id, outlet.id, "order.placed", {"order_id": "O1"})
    worker = notify_worker(db, settings)
    await worker.run_once()

    receiver.status = 500
    outcomes = []
    for _ in range(settings.outbox_max_attempts):
        result = await worker.run_once()
        outcomes.append((result.retried, result.dead))
        clock.set(latest_due(await notify_rows(db)))
    assert outcomes == [(1, 0)] * (settings.outbox_max_attempts - 1) + [(0, 1)]
    [row] = await notify_rows(db)
    assert (row.status, row.attempts) == ("dead", settings.outbox_max_attempts)
    assert row.last_error == "RuntimeError: webhook: receiver answered 500 Internal Server Error"
    assert len(receiver.hits) == settings.outbox_max_attempts
    clock.advance(hours=1)
    assert (await worker.run_once()).claimed == 0  # the DLQ is not retried on its own


async def test_a_refusing_receiver_dead_letters_at_once(
    backend: str,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    breakers: breaker.BreakerStore,
    receiver: Receiver,
) -> None:
    tenant, outlet, *_ = await hooked_tenant(db, settings, f"{receiver.url}/hooks", "order.placed")
    await emit_event(db, tenant.id, outlet.id, "order.placed", {"order_id": "O1"})
    worker = notify_worker(db, settings)
    await worker.run_once()

    receiver.status = 410
    assert (await worker.run_once()).dead == 1
    [row] = await notify_rows(db)
    assert (row.status, row.attempts) == ("dead", 1)
    assert "410" in str(row.last_error)
