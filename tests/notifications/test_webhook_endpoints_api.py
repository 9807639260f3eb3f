"""Webhook endpoints registry: the secret is shown once and stored encrypted, rotation
needs a manager PIN approval and keeps the old secret signing during the grace period,
test sends verify with any Standard Webhooks library, replays keep the webhook-id, and
another tenant's endpoint is never found."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from servio.config import Settings
from servio.kit.db import Database
from servio.kit.secretbox import SecretBox
from servio.models import OutboxMessage, WebhookEndpoint
from servio.notifications.catalogue import sample_envelope
from servio.notifications.delivery import Notification, enqueue_notification, new_webhook_id
from tests.conftest import problem
from tests.notifications.admin_api_helpers import (
    OWNER_PIN,
    Tenants,
    audit_entries,
    create_endpoint,
    two_tenants,
)
from tests.notifications.http_receiver import Hit, Receiver

ENDPOINTS = "/api/v1/webhooks/endpoints"


@pytest.fixture
async def tenants(db: Database, settings: Settings) -> Tenants:
    return await two_tenants(db, settings)


def verifies(secret: str, hit: Hit) -> bool:
    try:
        Webhook(secret).verify(hit.body, hit.headers)
    except WebhookVerificationError:
        return False
    return True


async def _approval(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    reply = await client.post(
        "/api/v1/approvals/verify_pin",
        json={"action": "webhook_secret_rotate", "pin": OWNER_PIN},
        headers=headers,
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["approval_token"])


async def test_the_secret_is_shown_once_and_stored_encrypted(
    db: Database, settings: Settings, client: httpx.AsyncClient, tenants: Tenants
) -> None:
    headers = tenants.ours.headers
    created = await create_endpoint(client, headers, "https://hooks.example.com/servio?token=x")
    secret = str(created["secret"])
    assert secret.startswith("whsec_")
    assert created["secret_hint"] == f"whsec_…{secret[-4:]}"
    assert created["previous_secret_valid_until"] is None

    one = await client.get(f"{ENDPOINTS}/{created['id']}", headers=headers)
    listed = await client.get(ENDPOINTS, headers=headers)
    for reply in (one, listed):
        assert reply.status_code == 200
        assert secret not in reply.text
        assert "secret" not in (reply.json() if reply is one else reply.json()["items"][0])

    async with db.unit_of_work(tenant_id=tenants.ours.tenant.id) as uow:
        row = await uow.session.get(WebhookEndpoint, created["id"])
    assert row is not None
    assert secret not in row.secret_ciphertext
    box = SecretBox.from_settings(settings, purpose="webhook-signing")
    assert box.decrypt(row.secret_ciphertext) == secret
    entries = await audit_entries(db, tenants.ours.tenant.id)
    assert entries
    assert all(secret not in str(e.after) for e in entries)


async def test_invalid_urls_are_refused(client: httpx.AsyncClient, tenants: Tenants) -> None:
    reply = await client.post(
        ENDPOINTS,
        json={"name": "x", "url": "ftp://files.example.com/"},
        headers=tenants.ours.headers,
    )
    assert reply.status_code == 422
    assert problem(reply)["code"] == "INVALID_TARGET"


async def test_edits_are_versioned_and_delete_hides_the_endpoint(
    client: httpx.AsyncClient, tenants: Tenants
) -> None:
    headers = tenants.ours.headers
    created = await create_endpoint(client, headers, "https://hooks.example.com/a")
    path = f"{ENDPOINTS}/{created['id']}"
    renamed = await client.patch(
        path, json={"name": "Accounting", "enabled": False}, headers={**headers, "If-Match": '"1"'}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["version"] == 2
    assert renamed.json()["enabled"] is False
    stale = await client.patch(path, json={"name": "x"}, headers={**headers, "If-Match": '"1"'})
    assert problem(stale)["code"] == "VERSION_MISMATCH"
    assert (await client.delete(path, headers=headers)).status_code == 204
    assert (await client.get(path, headers=headers)).status_code == 404
    assert (await client.get(ENDPOINTS, headers=headers)).json()["items"] == []


async def test_rotation_needs_an_approval_and_keeps_the_old_secret_in_grace(
    db: Database, client: httpx.AsyncClient, tenants: Tenants, receiver: Receiver
) -> None:
    headers = tenants.pin_owner
    created = await create_endpoint(client, headers, f"{receiver.url}/hook")
    old_secret = str(created["secret"])
    path = f"{ENDPOINTS}/{created['id']}/rotate_secret"

    missing = await client.post(path, json={}, headers=headers)
    assert missing.status_code == 403
    assert problem(missing)["code"] == "APPROVAL_REQUIRED"
    wrong = await client.post(path, json={"approval_token": "apv_forged"}, headers=headers)
    assert problem(wrong)["code"] == "APPROVAL_INVALID"

    token = await _approval(client, headers)
    rotated = await client.post(path, json={"approval_token": token}, headers=headers)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != old_secret
    assert rotated.json()["secret_hint"] == f"whsec_…{new_secret[-4:]}"
    # The token approved one rotation only.
    again = await client.post(path, json={"approval_token": token}, headers=headers)
    assert problem(again)["code"] == "APPROVAL_INVALID"

    read = (await client.get(f"{ENDPOINTS}/{created['id']}", headers=headers)).json()
    assert read["previous_secret_valid_until"] == rotated.json()["previous_valid_until"]
    assert new_secret not in str(read)

    sent = await client.post(
        "/api/v1/webhooks/test", json={"endpoint_id": created["id"]}, headers=headers
    )
    assert sent.json()["ok"] is True, sent.text
    [hit] = receiver.hits
    assert len(hit.headers["webhook-signature"].split()) == 2
    assert verifies(new_secret, hit)
    assert verifies(old_secret, hit)  # receivers still on the old secret keep working

    rotations = await audit_entries(db, tenants.ours.tenant.id, "webhook_endpoint.secret_rotated")
    assert len(rotations) == 1
    assert new_secret not in str(rotations[0].after)
    assert old_secret not in str(rotations[0].after)


async def test_test_send_to_an_endpoint_and_to_an_unsaved_url(
    client: httpx.AsyncClient, tenants: Tenants, receiver: Receiver
) -> None:
    headers = tenants.ours.headers
    created = await create_endpoint(client, headers, f"{receiver.url}/saved")
    saved = await client.post(
        "/api/v1/webhooks/test",
        json={"endpoint_id": created["id"], "event": "payment.recorded"},
        headers=headers,
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["signing_secret"] is None
    unsaved = await client.post(
        "/api/v1/webhooks/test", json={"url": f"{receiver.url}/unsaved"}, headers=headers
    )
    assert unsaved.status_code == 200, unsaved.text
    one_time = unsaved.json()["signing_secret"]
    assert one_time.startswith("whsec_")

    first, second = receiver.hits
    assert (first.path, second.path) == ("/saved", "/unsaved")
    assert verifies(str(created["secret"]), first)
    assert verifies(one_time, second)
    assert first.json()["event"] == "payment.recorded"
    assert second.json()["event"] == "order.placed"

    log = await client.get(f"{ENDPOINTS}/{created['id']}/deliveries", headers=headers)
    [attempt] = log.json()["items"]
    assert attempt["kind"] == "test"
    assert attempt["webhook_id"] == saved.json()["webhook_id"]
    listed = (await client.get(ENDPOINTS, headers=headers)).json()["items"][0]
    assert listed["last_delivery"]["ok"] is True
    assert listed["last_delivery"]["status_code"] == 200

    both = await client.post(
        "/api/v1/webhooks/test",
        json={"endpoint_id": created["id"], "url": receiver.url},
        headers=headers,
    )
    assert problem(both)["code"] == "VALIDATION_ERROR"


async def _notify_row(db: Database, tenant_id: str, status: str) -> tuple[str, str]:
    webhook_id = new_webhook_id()
    notification = Notification(
        channel="console",
        target="",
        event="order.placed",
        envelope=sample_envelope("order.placed", tenant_id, None),
        webhook_id=webhook_id,
    )
    async with db.unit_of_work(tenant_id=tenant_id) as uow:
        message_id = await enqueue_notification(
            uow,
            tenant_id=tenant_id,
            outlet_id=None,
            notification=notification,
            dedupe_key=f"test:{webhook_id}",
        )
        assert message_id is not None
        row = await uow.session.get(OutboxMessage, message_id)
        assert row is not None
        row.status = status
    return message_id, webhook_id


async def test_replay_sends_a_delivered_notification_again_with_the_same_webhook_id(
    db: Database, client: httpx.AsyncClient, tenants: Tenants
) -> None:
    tenant_id = tenants.ours.tenant.id
    delivered, webhook_id = await _notify_row(db, tenant_id, "delivered")
    reply = await client.post(f"/api/v1/webhooks/{delivered}/replay", headers=tenants.ours.headers)
    assert reply.status_code == 201, reply.text
    replay = reply.json()
    assert replay["id"] != delivered
    assert replay["webhook_id"] == webhook_id
    assert replay["status"] == "pending"
    assert replay["dedupe_key"].startswith(f"replay:{delivered}:")
    entries = await audit_entries(db, tenant_id, "outbox.replayed")
    assert entries[0].after is not None
    assert entries[0].after["replay_of"] == delivered

    pending, _ = await _notify_row(db, tenant_id, "pending")
    refused = await client.post(f"/api/v1/webhooks/{pending}/replay", headers=tenants.ours.headers)
    assert refused.status_code == 409
    assert "pending" in problem(refused)["hint"]

    async with db.unit_of_work(bypass_rls=True) as uow:
        rows = (await uow.session.execute(select(OutboxMessage))).scalars().all()
    assert sum(1 for r in rows if r.payload.get("webhook_id") == webhook_id) == 2


async def test_another_tenants_endpoint_is_not_found_on_every_route(
    db: Database, client: httpx.AsyncClient, tenants: Tenants
) -> None:
    theirs = await create_endpoint(client, tenants.theirs.headers, "https://hooks.example.com/t")
    delivered, _ = await _notify_row(db, tenants.theirs.tenant.id, "delivered")
    ours = tenants.pin_owner
    path = f"{ENDPOINTS}/{theirs['id']}"
    token = await _approval(client, ours)
    for reply in (
        await client.get(path, headers=ours),
        await client.patch(path, json={"name": "mine"}, headers=ours),
        await client.delete(path, headers=ours),
        await client.post(f"{path}/rotate_secret", json={"approval_token": token}, headers=ours),
        await client.get(f"{path}/deliveries", headers=ours),
        await client.post(
            "/api/v1/webhooks/test", json={"endpoint_id": theirs["id"]}, headers=ours
        ),
        await client.post(f"/api/v1/webhooks/{delivered}/replay", headers=ours),
    ):
        assert reply.status_code == 404, reply.text
    assert (await client.get(ENDPOINTS, headers=ours)).json()["items"] == []


async def test_managers_may_not_manage_integrations(
    db: Database, client: httpx.AsyncClient, tenants: Tenants
) -> None:
    manager = await tenants.ours.as_role(db, "manager")
    assert (await client.get(ENDPOINTS, headers=manager)).status_code == 403
