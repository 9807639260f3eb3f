"""Integration catalogue and probes: every event with its sample, channel configuration,
and a probe that sends a verifiable sample to a target that is not saved yet."""

from __future__ import annotations

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from servio.config import Settings
from servio.events import EventName
from servio.kit.db import Database
from servio.notifications.catalogue import sample_data
from tests.conftest import problem
from tests.notifications.admin_api_helpers import Tenants, audit_entries, two_tenants
from tests.notifications.http_receiver import Receiver

INTEGRATIONS = "/api/v1/admin/integrations"


@pytest.fixture
async def tenants(db: Database, settings: Settings) -> Tenants:
    return await two_tenants(db, settings)


async def test_the_catalogue_lists_every_event_with_a_sample(
    client: httpx.AsyncClient, tenants: Tenants
) -> None:
    reply = await client.get(INTEGRATIONS, headers=tenants.ours.headers)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    events = {e["event"]: e for e in body["events"]}
    assert set(events) == {str(name) for name in EventName}
    placed = events["order.placed"]
    assert placed["description"] == EventName.ORDER_PLACED.description
    assert placed["sample"]["test"] is True
    assert placed["sample"]["tenant_id"] == tenants.ours.tenant.id
    assert placed["sample"]["data"] == sample_data("order.placed")
    channels = {c["type"]: c["configured"] for c in body["channels"]}
    # The test settings configure no SMTP, WhatsApp or SMS provider.
    assert channels == {
        "console": True,
        "webhook": True,
        "email": False,
        "whatsapp": False,
        "sms": False,
    }


async def test_a_webhook_probe_is_signed_with_a_one_time_secret(
    db: Database, client: httpx.AsyncClient, tenants: Tenants, receiver: Receiver
) -> None:
    reply = await client.post(
        f"{INTEGRATIONS}/webhook/probe",
        json={"target": f"{receiver.url}/probe", "event": "kds.sla_breach.owner"},
        headers=tenants.ours.headers,
    )
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert result["ok"] is True
    assert result["status_code"] == 200
    [hit] = receiver.hits
    received = Webhook(result["signing_secret"]).verify(hit.body, hit.headers)
    assert received["event"] == "kds.sla_breach.owner"
    assert received["test"] is True
    assert hit.headers["webhook-id"] == result["webhook_id"]
    assert result["payload"]["data"] == received["data"]
    [entry] = await audit_entries(db, tenants.ours.tenant.id, "webhook.test_sent")
    assert entry.after is not None
    assert entry.after["kind"] == "probe"
    assert result["signing_secret"] not in str(entry.after)


async def test_probes_of_other_channels_and_refusals(
    db: Database, client: httpx.AsyncClient, tenants: Tenants
) -> None:
    headers = tenants.ours.headers
    console = await client.post(f"{INTEGRATIONS}/console/probe", json={}, headers=headers)
    assert console.status_code == 200, console.text
    assert console.json()["ok"] is True
    assert console.json()["signing_secret"] is None

    # Without a WhatsApp provider the message falls back to the console log line.
    whatsapp = await client.post(
        f"{INTEGRATIONS}/whatsapp/probe", json={"target": "+91 98765 43210"}, headers=headers
    )
    assert whatsapp.status_code == 200, whatsapp.text
    assert "9876543210" not in whatsapp.text

    bad_phone = await client.post(
        f"{INTEGRATIONS}/sms/probe", json={"target": "12345"}, headers=headers
    )
    assert problem(bad_phone)["code"] == "INVALID_TARGET"
    bad_event = await client.post(
        f"{INTEGRATIONS}/console/probe", json={"event": "nope"}, headers=headers
    )
    assert problem(bad_event)["code"] == "UNKNOWN_EVENT"
    bad_channel = await client.post(f"{INTEGRATIONS}/pager/probe", json={}, headers=headers)
    assert bad_channel.status_code == 422

    manager = await tenants.ours.as_role(db, "manager")
    assert (await client.get(INTEGRATIONS, headers=manager)).status_code == 403
