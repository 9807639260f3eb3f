"""Two workers (two processes' worth of database handles) over PostgreSQL + Redis deliver
many notifications to one receiver concurrently: each `webhook-id` arrives exactly once,
none is lost. Needs the PostgreSQL + Redis run (`SERVIO_TEST_DATABASE_URL` and
`SERVIO_TEST_REDIS_URL`): SQLite has one writer, so it cannot show this race."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from standardwebhooks.webhooks import Webhook

from servio.config import Settings
from servio.kit import breaker
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.notifications.delivery import Notification, enqueue_notification, new_webhook_id
from tests.fixtures.factories import make_tenant
from tests.notifications.delivery_helpers import make_endpoint, notify_rows, notify_worker
from tests.notifications.http_receiver import Receiver
from tests.worker.helpers import second_database

pytestmark = pytest.mark.backends

MESSAGES = 40


async def test_two_workers_never_deliver_a_row_twice(
    backend: str,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    breakers: breaker.BreakerStore,
    receiver: Receiver,
) -> None:
    if backend != "postgresql" or not settings.redis_url:
        pytest.skip(
            "runs on the PostgreSQL + Redis backend only "
            "(set SERVIO_TEST_DATABASE_URL and SERVIO_TEST_REDIS_URL)"
        )
    assert isinstance(breakers, breaker.RedisBreakerStore)
    settings = settings.model_copy(update={"worker_batch_size": 7})
    tenant, outlet = await make_tenant(db)
    endpoint, secret = await make_endpoint(db, settings, tenant.id, f"{receiver.url}/hooks")
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        for n in range(MESSAGES):
            notification = Notification(
                channel="webhook",
                target=endpoint.id,
                event="order.placed",
                envelope={"id": f"E{n}", "event": "order.placed", "data": {"n": n}},
                webhook_id=new_webhook_id(),
            )
            await enqueue_notification(
                uow,
                tenant_id=tenant.id,
                outlet_id=outlet.id,
                notification=notification,
                dedupe_key=f"notify:E{n}",
            )

    async with second_database(settings) as other_db:
        first = notify_worker(db, settings, "worker-1")
        second = notify_worker(other_db, settings, "worker-2")
        delivered = [0, 0]
        for _ in range(MESSAGES):  # bounded: each pass of either worker delivers some
            one, two = await asyncio.gather(first.run_once(), second.run_once())
            delivered[0] += one.delivered
            delivered[1] += two.delivered
            if one.claimed == two.claimed == 0:
                break

    assert sum(delivered) == MESSAGES
    assert min(delivered) > 0  # both workers took part
    seen = Counter(hit.headers["webhook-id"] for hit in receiver.hits)
    assert len(seen) == MESSAGES
    assert set(seen.values()) == {1}
    for hit in receiver.hits:
        Webhook(secret).verify(hit.body, hit.headers)
    rows = await notify_rows(db)
    assert {r.payload["webhook_id"] for r in rows} == set(seen)
    assert {(r.status, r.attempts) for r in rows} == {("delivered", 1)}
