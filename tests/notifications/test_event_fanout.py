"""Domain events fan out to alert rules in the worker (NOTIF-04): one `notify` row per
matching rule (its event or `*`, its outlet or every outlet, enabled, not deleted),
exactly once however often the event is redelivered; an e-mail rule's message really
reaches an SMTP server with the rendered alert text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from servio.config import Settings
from servio.kit import breaker
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.models import AlertRule, OutboxMessage, Outlet, WebhookEndpoint
from servio.notifications.delivery import Notification
from servio.notifications.tasks import deliver_domain_event
from servio.worker.handlers import ClaimedMessage, HandlerContext
from tests.fixtures.factories import make_tenant
from tests.notifications.delivery_helpers import (
    emit_event,
    hooked_tenant,
    make_rule,
    notify_rows,
    notify_worker,
)
from tests.notifications.http_receiver import Receiver
from tests.notifications.smtp_sink import smtp_sink
from tests.notifications.test_email import smtp_settings

pytestmark = pytest.mark.backends


async def event_row(db: Database) -> OutboxMessage:
    async with db.unit_of_work(bypass_rls=True) as uow:
        rows = await uow.session.execute(
            OutboxMessage.__table__.select().where(OutboxMessage.topic == "event")
        )
        [row] = rows.all()
    return OutboxMessage(**row._asdict())


async def test_an_event_fans_out_to_the_matching_rules_only(
    backend: str, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    tenant, outlet = await make_tenant(db)
    other_tenant, _ = await make_tenant(db, name="Elsewhere")
    hit_exact = await make_rule(db, tenant.id, event="order.placed", channel="console", target="")
    hit_any = await make_rule(db, tenant.id, event="*", channel="email", target="o@bistro.test")
    hit_outlet = await make_rule(
        db,
        tenant.id,
        event="order.placed",
        channel="sms",
        target="+919876543210",
        outlet_id=outlet.id,
    )
    await make_rule(db, tenant.id, event="order.cancelled", channel="console", target="")
    await make_rule(
        db, tenant.id, event="order.placed", channel="console", target="", enabled=False
    )
    deleted = await make_rule(db, tenant.id, event="order.placed", channel="console", target="")
    await make_rule(db, other_tenant.id, event="*", channel="console", target="")
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        await uow.session.execute(
            update(AlertRule)
            .where(AlertRule.id == deleted.id)
            .values(deleted_at=datetime(2026, 1, 1, tzinfo=UTC))
        )
    event_id = await emit_event(
        db, tenant.id, outlet.id, "order.placed", {"order_id": "O1", "total_paise": 45000}
    )

    assert (await notify_worker(db, settings).deliver_due()).delivered == 1
    rows = await notify_rows(db)
    assert {r.payload["rule_id"] for r in rows} == {hit_exact.id, hit_any.id, hit_outlet.id}
    for row in rows:
        notification = Notification.from_payload(row.payload)
        assert (row.tenant_id, row.outlet_id, row.event) == (tenant.id, outlet.id, "order.placed")
        assert row.dedupe_key == f"notify:{event_id}:{notification.rule_id}"
        assert notification.envelope["id"] == event_id
        assert notification.envelope["data"] == {"order_id": "O1", "total_paise": 45000}
        assert notification.webhook_id.startswith("msg_")
    assert len({r.payload["webhook_id"] for r in rows}) == 3

    # The event row redelivered (lost lease after routing): nothing is queued twice.
    row = await event_row(db)
    claimed = ClaimedMessage(
        id=row.id,
        tenant_id=row.tenant_id,
        outlet_id=row.outlet_id,
        topic=row.topic,
        event=row.event,
        dedupe_key=row.dedupe_key,
        payload=row.payload,
        attempts=2,
        created_at=row.created_at,
    )
    await deliver_domain_event(claimed, HandlerContext(db=db, settings=settings, worker_id="w2"))
    assert {r.id for r in await notify_rows(db)} == {r.id for r in rows}

    # Another outlet's event misses the outlet-bound rule; the other tenant's `*` rule
    # never matches this tenant's events.
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        airport = Outlet(tenant_id=tenant.id, name="Airport", business_hours={})
        uow.session.add(airport)
    await emit_event(db, tenant.id, airport.id, "order.placed", {"order_id": "O2"})
    await notify_worker(db, settings).deliver_due()
    later = [r for r in await notify_rows(db) if r.id not in {x.id for x in rows}]
    assert {r.payload["rule_id"] for r in later} == {hit_exact.id, hit_any.id}
    assert all(r.tenant_id == tenant.id for r in await notify_rows(db))


async def test_an_email_rule_is_received_by_the_smtp_server_with_the_rendered_alert(
    backend: str,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    breakers: breaker.BreakerStore,
) -> None:
    tenant, outlet = await make_tenant(db, name="Spice Route")
    await make_rule(
        db,
        tenant.id,
        event="kds.sla_breach.owner",
        channel="email",
        target="owner@bistro.test, chef@bistro.test",
    )
    await emit_event(
        db,
        tenant.id,
        outlet.id,
        "kds.sla_breach.owner",
        {
            "ticket_no": "K-42",
            "late_secs": 900,
            "guest_phone": "+919876543210",
            "note": "call +91 98765 43210",
        },
    )
    async with smtp_sink() as sink:
        worker = notify_worker(db, smtp_settings(settings, sink))
        await worker.run_once()  # fan-out
        assert (await worker.run_once()).delivered == 1
        [mail] = sink.messages
    assert mail.recipients == ["owner@bistro.test", "chef@bistro.test"]
    assert mail.message["Subject"] == "[Servio] Spice Route Main: kds.sla_breach.owner"
    body = mail.body
    assert "A kitchen ticket stayed breached long enough to alert the owner." in body
    assert "Outlet: Spice Route Main" in body
    assert "ticket_no: K-42" in body
    assert "late_secs: 900" in body
    assert "9876543210" not in body  # no phone numbers by mail
    assert "98765 43210" not in body
    [row] = await notify_rows(db)
    assert row.status == "delivered"


async def test_a_disabled_or_deleted_endpoint_dead_letters_without_sending(
    backend: str,
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    breakers: breaker.BreakerStore,
    receiver: Receiver,
) -> None:
    tenant, outlet, endpoint, _ = await hooked_tenant(
        db, settings, f"{receiver.url}/hooks", "order.placed"
    )
    await make_rule(db, tenant.id, event="order.placed", channel="webhook", target="01NOPE")
    async with db.unit_of_work(tenant_id=tenant.id) as uow:
        await uow.session.execute(
            update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id).values(enabled=False)
        )
    await emit_event(db, tenant.id, outlet.id, "order.placed", {"order_id": "O1"})
    worker = notify_worker(db, settings)
    await worker.run_once()
    assert (await worker.run_once()).dead == 2
    errors = sorted(str(r.last_error) for r in await notify_rows(db))
    assert errors == [
        "PermanentFailure: webhook endpoint is disabled",
        "PermanentFailure: webhook endpoint not found (deleted)",
    ]
    assert receiver.hits == []
