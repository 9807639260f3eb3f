"""The circuit breaker on the webhook path (NOTIF-03): consecutive failures open it, an
open breaker defers messages without using up their attempts, the half-open trial that
fails opens it again, the one that succeeds closes it; the gauge
`webhook_breaker_state{dest}` follows (0 closed, 1 open, 2 half-open)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from servio.config import Settings
from servio.kit import breaker
from servio.kit.breaker import destination_hash
from servio.kit.clock import FrozenClock, as_utc, utcnow
from servio.kit.db import Database
from servio.models import OutboxMessage
from servio.notifications.delivery import notify_breaker
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

COOLDOWN = 60
# Redis keeps breaker times as float seconds (≈ 0.1 ms at today's epoch): step just past
# the end of a cool-down instead of onto it.
PAST = timedelta(milliseconds=1)


def gauge(url: str) -> float | None:
    return REGISTRY.get_sample_value("webhook_breaker_state", {"dest": destination_hash(url)})


async def only_row(db: Database) -> OutboxMessage:
    [row] = await notify_rows(db)
    return row


async def test_breaker_opens_defers_without_attempts_reopens_on_a_failed_trial_then_closes(
    backend: str,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    breakers: breaker.BreakerStore,
    receiver: Receiver,
) -> None:
    settings = settings.model_copy(
        update={"cb_failure_threshold": 2, "cb_cooldown_sec": COOLDOWN, "cb_halfopen_trials": 1}
    )
    url = f"{receiver.url}/hooks"
    cb = notify_breaker(settings)
    tenant, outlet, *_ = await hooked_tenant(db, settings, url, "order.placed")
    await emit_event(db, tenant.id, outlet.id, "order.placed", {"order_id": "O1"})
    worker = notify_worker(db, settings)
    await worker.run_once()  # fan-out

    receiver.down()
    assert (await worker.run_once()).retried == 1
    assert (await cb.state(url), gauge(url)) == ("closed", 0)
    clock.set(latest_due(await notify_rows(db)))
    assert (await worker.run_once()).retried == 1  # the second consecutive failure opens it
    opened_at = utcnow()
    assert (await cb.state(url), gauge(url)) == ("open", 1)
    assert (await only_row(db)).attempts == 2

    # Due again (≈5 s later) but the breaker refuses: deferred to the end of the cool-down,
    # no request, no attempt used, no delivery-log row.
    clock.set(latest_due(await notify_rows(db)))
    deferred = await worker.run_once()
    assert (deferred.claimed, deferred.deferred, deferred.retried) == (1, 1, 0)
    row = await only_row(db)
    assert (row.status, row.attempts) == ("pending", 2)
    wait = as_utc(row.next_attempt_at) - (opened_at + timedelta(seconds=COOLDOWN))
    assert abs(wait) < timedelta(milliseconds=1)  # Redis keeps times as float seconds
    assert "circuit breaker open" in str(row.last_error)
    assert len(receiver.hits) == 2
    assert len(await attempts_of(db, row.id)) == 2

    # Cool-down over: one half-open trial, which fails → open again for a full cool-down.
    clock.set(opened_at + timedelta(seconds=COOLDOWN) + PAST)
    assert await cb.state(url) == "half_open"
    assert (await worker.run_once()).retried == 1
    reopened_at = utcnow()
    assert (await cb.state(url), gauge(url)) == ("open", 1)
    assert len(receiver.hits) == 3
    assert (await only_row(db)).attempts == 3
    clock.set(latest_due(await notify_rows(db)))  # its ≈30 s back-off ends inside the cool-down
    assert (await worker.run_once()).deferred == 1
    assert (await only_row(db)).attempts == 3

    # The receiver is back; the next trial succeeds → closed, delivered.
    receiver.up()
    clock.set(reopened_at + timedelta(seconds=COOLDOWN) + PAST)
    assert (await worker.run_once()).delivered == 1
    assert (await cb.state(url), gauge(url)) == ("closed", 0)
    row = await only_row(db)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 4, None)
    assert [a.ok for a in await attempts_of(db, row.id)] == [False, False, False, True]
    assert len(receiver.hits) == 4


async def test_while_a_trial_is_in_flight_other_messages_wait(
    backend: str,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    breakers: breaker.BreakerStore,
    receiver: Receiver,
) -> None:
    settings = settings.model_copy(update={"cb_failure_threshold": 1, "cb_cooldown_sec": COOLDOWN})
    url = f"{receiver.url}/hooks"
    cb = notify_breaker(settings)
    tenant, outlet, *_ = await hooked_tenant(db, settings, url, "order.placed")
    await cb.record_failure(url)  # opened by earlier traffic
    assert await cb.state(url) == "open"
    clock.set(utcnow() + timedelta(seconds=COOLDOWN) + PAST)
    trial = await cb.allow(url)  # another worker holds the only half-open trial
    assert trial.trial

    await emit_event(db, tenant.id, outlet.id, "order.placed", {"order_id": "O1"})
    worker = notify_worker(db, settings)
    await worker.run_once()
    result = await worker.run_once()
    assert (result.deferred, result.retried) == (1, 0)
    assert gauge(url) == 2  # half-open
    row = await only_row(db)
    assert (row.status, row.attempts) == ("pending", 0)
    assert receiver.hits == []
