"""Shared pieces of the delivery tests: webhook endpoints and alert rules written as rows
(the admin API has its own tests), events emitted like producers do, a worker that runs
only the notification handlers, and the breaker store of the run's backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select

from servio.config import Settings
from servio.kit import breaker
from servio.kit.clock import as_utc
from servio.kit.db import Database
from servio.kit.redis import create_redis
from servio.kit.secretbox import SecretBox
from servio.models import AlertRule, DeliveryAttempt, OutboxMessage, Outlet, Tenant, WebhookEndpoint
from servio.notifications.delivery import NOTIFY_TOPIC, SECRET_PURPOSE
from servio.notifications.signing import new_signing_secret, secret_hint
from servio.notifications.tasks import EVENT_TOPIC, deliver_domain_event, deliver_notification
from servio.worker.dispatch import emit
from servio.worker.handlers import HandlerRegistry
from servio.worker.runner import Worker
from servio.worker.scheduler import ScheduleRegistry
from tests.fixtures.factories import make_tenant


async def make_endpoint(
    db: Database, settings: Settings, tenant_id: str, url: str
) -> tuple[WebhookEndpoint, str]:
    """A webhook endpoint and its signing secret (as shown once at creation)."""
    secret = new_signing_secret()
    endpoint = WebhookEndpoint(
        tenant_id=tenant_id,
        name="Receiver",
        url=url,
        secret_ciphertext=SecretBox.from_settings(settings, purpose=SECRET_PURPOSE).encrypt(secret),
        secret_hint=secret_hint(secret),
    )
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        uow.session.add(endpoint)
    return endpoint, secret


async def make_rule(
    db: Database,
    tenant_id: str,
    *,
    event: str,
    channel: str,
    target: str,
    outlet_id: str | None = None,
    enabled: bool = True,
) -> AlertRule:
    rule = AlertRule(
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        name=f"{event} → {channel}",
        event=event,
        channel=channel,
        target=target,
        enabled=enabled,
    )
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        uow.session.add(rule)
    return rule


class HookedTenant(NamedTuple):
    tenant: Tenant
    outlet: Outlet
    endpoint: WebhookEndpoint
    secret: str


async def hooked_tenant(db: Database, settings: Settings, url: str, *events: str) -> HookedTenant:
    """A new tenant with one webhook endpoint at `url` and a webhook rule for each event."""
    tenant, outlet = await make_tenant(db)
    endpoint, secret = await make_endpoint(db, settings, tenant.id, url)
    for event in events:
        await make_rule(db, tenant.id, event=event, channel="webhook", target=endpoint.id)
    return HookedTenant(tenant, outlet, endpoint, secret)


async def emit_event(
    db: Database, tenant_id: str, outlet_id: str | None, name: str, data: dict[str, Any]
) -> str:
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        event = await emit(uow, name, tenant_id=tenant_id, outlet_id=outlet_id, payload=data)
    assert event is not None
    return event.id


def notify_worker(db: Database, settings: Settings, worker_id: str = "notifier") -> Worker:
    registry = HandlerRegistry()
    registry.register(EVENT_TOPIC)(deliver_domain_event)
    registry.register(NOTIFY_TOPIC)(deliver_notification)
    return Worker(
        db,
        settings,
        worker_id=worker_id,
        handler_registry=registry,
        schedule_registry=ScheduleRegistry(),
    )


async def notify_rows(db: Database) -> list[OutboxMessage]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        rows = await uow.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.topic == NOTIFY_TOPIC)
            .order_by(OutboxMessage.id)
        )
        return list(rows.scalars())


async def attempts_of(db: Database, outbox_id: str) -> list[DeliveryAttempt]:
    async with db.unit_of_work(bypass_rls=True) as uow:
        rows = await uow.session.execute(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.outbox_id == outbox_id)
            .order_by(DeliveryAttempt.attempt)
        )
        return list(rows.scalars())


def latest_due(rows: list[OutboxMessage]) -> datetime:
    return max(as_utc(r.next_attempt_at) for r in rows)


@asynccontextmanager
async def breaker_store(settings: Settings) -> AsyncIterator[breaker.BreakerStore]:
    """A fresh process breaker store: Redis when the run has one, else memory."""
    redis = create_redis(settings)
    store = breaker.install_store(breaker.create_store(settings, redis))
    try:
        yield store
    finally:
        breaker.reset_store()
        if redis is not None:
            await redis.aclose()
