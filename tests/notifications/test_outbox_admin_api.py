"""Outbox and DLQ admin API. End to end: a receiver that keeps failing sends a
notification to the DLQ after OUTBOX_MAX_ATTEMPTS; requeue over HTTP → delivered once the
receiver is up; discard → gone from the DLQ, 404 on requeue, audited. Plus scrubbed
payloads, conditional state changes, the seed's aliases and tenant isolation."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from servio.config import Settings
from servio.kit import breaker
from servio.kit.clock import FrozenClock
from servio.kit.db import Database
from servio.notifications.catalogue import sample_envelope
from servio.notifications.delivery import Notification, enqueue_notification, new_webhook_id
from servio.notifications.email import enqueue_email
from servio.worker.runner import Worker
from tests.conftest import problem
from tests.notifications.admin_api_helpers import (
    Tenants,
    audit_entries,
    create_endpoint,
    two_tenants,
)
from tests.notifications.delivery_helpers import emit_event, notify_worker
from tests.notifications.http_receiver import Receiver

pytestmark = pytest.mark.backends


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"outbox_max_attempts": 2})


@pytest.fixture
async def tenants(db: Database, settings: Settings) -> Tenants:
    return await two_tenants(db, settings)


async def _drain(worker: Worker, clock: FrozenClock, passes: int = 4) -> None:
    """Run passes, moving past the first back-offs (≈1 s, 5 s ±20 %) in between; small
    steps keep the staff access token valid."""
    for _ in range(passes):
        await worker.run_once(schedules=False)
        clock.advance(timedelta(seconds=40))


async def _dead_letter(
    db: Database, worker: Worker, clock: FrozenClock, tenant_id: str, outlet_id: str
) -> None:
    await emit_event(db, tenant_id, outlet_id, "order.placed", {"order_id": "01JDORDER"})
    await _drain(worker, clock)


async def test_max_attempts_dlq_requeue_delivered_discard_gone_audited(
    backend: str,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    tenants: Tenants,
    receiver: Receiver,
    breakers: breaker.BreakerStore,
) -> None:
    headers = tenants.ours.headers
    tenant_id, outlet_id = tenants.ours.tenant.id, tenants.ours.outlet.id
    endpoint = await create_endpoint(client, headers, f"{receiver.url}/hook")
    rule = await client.post(
        "/api/v1/alerts/rules",
        json={"event": "order.placed", "channel": "webhook", "target": endpoint["id"]},
        headers=headers,
    )
    assert rule.status_code == 201, rule.text
    worker = notify_worker(db, settings)
    receiver.down()

    await _dead_letter(db, worker, clock, tenant_id, outlet_id)
    dlq = (await client.get("/api/v1/dlq", headers=headers)).json()["items"]
    assert len(dlq) == 1
    dead = dlq[0]
    assert dead["status"] == "dead"
    assert dead["attempts"] == dead["max_attempts"] == 2
    assert dead["channel"] == "webhook"
    assert dead["target_display"] == endpoint["id"]
    assert "503" in dead["last_error"]
    assert len(receiver.hits) == 2
    assert {h.headers["webhook-id"] for h in receiver.hits} == {dead["webhook_id"]}
    detail = (await client.get(f"/api/v1/outbox/{dead['id']}", headers=headers)).json()
    assert [a["attempt"] for a in detail["attempts_log"]] == [1, 2]
    assert all(a["ok"] is False for a in detail["attempts_log"])

    requeued = await client.post(f"/api/v1/dlq/{dead['id']}/requeue", headers=headers)
    assert requeued.status_code == 200, requeued.text
    assert requeued.json()["status"] == "pending"
    assert requeued.json()["attempts"] == 0
    receiver.up()
    await _drain(worker, clock, passes=1)
    delivered = (await client.get(f"/api/v1/outbox/{dead['id']}", headers=headers)).json()
    assert delivered["status"] == "delivered"
    assert receiver.delivered()[-1].headers["webhook-id"] == dead["webhook_id"]
    assert (await client.get("/api/v1/dlq", headers=headers)).json()["items"] == []

    receiver.down()
    await _dead_letter(db, worker, clock, tenant_id, outlet_id)
    [second] = (await client.get("/api/v1/dlq", headers=headers)).json()["items"]
    discarded = await client.delete(f"/api/v1/dlq/{second['id']}", headers=headers)
    assert discarded.status_code == 204
    assert (await client.get("/api/v1/dlq", headers=headers)).json()["items"] == []
    again = await client.post(f"/api/v1/dlq/{second['id']}/requeue", headers=headers)
    assert again.status_code == 404
    assert (await client.delete(f"/api/v1/dlq/{second['id']}", headers=headers)).status_code == 404
    kept = (await client.get(f"/api/v1/outbox/{second['id']}", headers=headers)).json()
    assert kept["status"] == "discarded"
    await _drain(worker, clock, passes=1)
    assert len(receiver.hits) == 5  # 2 + 1 (delivered) + 2; nothing after the discard

    [requeue_entry] = await audit_entries(db, tenant_id, "dlq.requeued")
    assert requeue_entry.subject_id == dead["id"]
    [discard_entry] = await audit_entries(db, tenant_id, "dlq.discarded")
    assert discard_entry.subject_id == second["id"]
    assert discard_entry.after is not None
    assert discard_entry.after["status"] == "discarded"


async def _notify(db: Database, tenant_id: str, channel: str, target: str, status: str) -> str:
    webhook_id = new_webhook_id()
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        message_id = await enqueue_notification(
            uow,
            tenant_id=tenant_id,
            outlet_id=None,
            notification=Notification(
                channel=channel,  # type: ignore[arg-type]
                target=target,
                event="order.placed",
                envelope=sample_envelope("order.placed", tenant_id, None),
                webhook_id=webhook_id,
            ),
            dedupe_key=f"test:{webhook_id}",
        )
        assert message_id is not None
        if status != "pending":
            from servio.models import OutboxMessage

            row = await uow.session.get(OutboxMessage, message_id)
            assert row is not None
            row.status = status
    return message_id


async def test_payloads_are_scrubbed_and_targets_masked(
    backend: str, db: Database, client: httpx.AsyncClient, tenants: Tenants
) -> None:
    tenant_id = tenants.ours.tenant.id
    message_id = await _notify(db, tenant_id, "whatsapp", "+919876543210", "pending")
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        await enqueue_email(
            uow,
            tenant_id=tenant_id,
            to=["owner@spice.example"],
            template="daily_pass",
            context={
                "word": "mango",
                "outlet_name": "Spice Route",
                "business_date": "2026-11-22",
                "valid_until_local": "04:00",
                "manual": False,
            },
            secret_fields=["word"],
            dedupe_key="mail:1",
        )
    reply = await client.get("/api/v1/outbox", headers=tenants.ours.headers)
    assert reply.status_code == 200, reply.text
    assert "9876543210" not in reply.text
    assert "mango" not in reply.text
    assert "owner@" not in reply.text
    notify = next(m for m in reply.json()["items"] if m["id"] == message_id)
    assert notify["target_display"] == "…3210"
    assert notify["payload"]["target"] == "…3210"
    mail = next(m for m in reply.json()["items"] if m["topic"] == "email")
    assert mail["payload"]["context"]["word"] == "***"
    only_email = await client.get("/api/v1/outbox?topic=email", headers=tenants.ours.headers)
    assert [m["topic"] for m in only_email.json()["items"]] == ["email"]


async def test_retry_is_conditional_on_the_state(
    backend: str, db: Database, client: httpx.AsyncClient, tenants: Tenants
) -> None:
    tenant_id, headers = tenants.ours.tenant.id, tenants.ours.headers
    dead = await _notify(db, tenant_id, "console", "", "dead")
    delivered = await _notify(db, tenant_id, "console", "", "delivered")
    retried = await client.post(f"/api/v1/outbox/{dead}/retry", headers=headers)
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "pending"
    refused = await client.post(f"/api/v1/outbox/{delivered}/retry", headers=headers)
    assert refused.status_code == 409
    body = problem(refused)
    assert body["code"] == "OUTBOX_STATE"
    assert "delivered" in body["hint"]
    not_dead = await client.post(f"/api/v1/dlq/{delivered}/requeue", headers=headers)
    assert problem(not_dead)["code"] == "OUTBOX_STATE"
    [entry] = await audit_entries(db, tenant_id, "outbox.retried")
    assert entry.before == {"status": "dead"}


async def test_seed_aliases(
    backend: str, db: Database, client: httpx.AsyncClient, tenants: Tenants
) -> None:
    tenant_id, headers = tenants.ours.tenant.id, tenants.ours.headers
    queued = await _notify(db, tenant_id, "console", "", "pending")
    delivered = await _notify(db, tenant_id, "console", "", "delivered")
    dead = await _notify(db, tenant_id, "console", "", "dead")

    async def ids(path: str) -> list[str]:
        reply = await client.get(path, headers=headers)
        assert reply.status_code == 200, reply.text
        return [m["id"] for m in reply.json()["items"]]

    assert await ids("/api/v1/alerts/outbox?status=queued") == [queued]
    assert await ids("/api/v1/alerts/outbox?status=delivered") == [delivered]
    assert await ids("/api/v1/admin/dlq") == [dead]
    replayed = await client.post("/api/v1/admin/dlq/replay", json={"id": dead}, headers=headers)
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["status"] == "pending"
    assert await ids("/api/v1/admin/dlq") == []


async def test_another_tenants_messages_are_not_found(
    backend: str, db: Database, client: httpx.AsyncClient, tenants: Tenants
) -> None:
    dead = await _notify(db, tenants.theirs.tenant.id, "console", "", "dead")
    ours = tenants.ours.headers
    for reply in (
        await client.get(f"/api/v1/outbox/{dead}", headers=ours),
        await client.post(f"/api/v1/outbox/{dead}/retry", headers=ours),
        await client.post(f"/api/v1/dlq/{dead}/requeue", headers=ours),
        await client.delete(f"/api/v1/dlq/{dead}", headers=ours),
        await client.post("/api/v1/admin/dlq/replay", json={"id": dead}, headers=ours),
    ):
        assert reply.status_code == 404, reply.text
    assert (await client.get("/api/v1/dlq", headers=ours)).json()["items"] == []
    assert (await client.get("/api/v1/outbox", headers=ours)).json()["items"] == []
