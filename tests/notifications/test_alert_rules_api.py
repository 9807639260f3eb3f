"""Alert rules API: validation of events and targets, masking, versioned edits, soft
delete, tenant isolation and the test send through the rule's channel."""

from __future__ import annotations

import httpx
import pytest

from servio.config import Settings
from servio.kit.db import Database
from tests.conftest import problem
from tests.notifications.admin_api_helpers import (
    Tenants,
    audit_entries,
    create_endpoint,
    two_tenants,
)
from tests.notifications.http_receiver import Receiver

RULES = "/api/v1/alerts/rules"


@pytest.fixture
async def tenants(db: Database, settings: Settings) -> Tenants:
    return await two_tenants(db, settings)


async def test_create_list_and_read_a_rule_with_its_target_masked(
    db: Database, client: httpx.AsyncClient, tenants: Tenants
) -> None:
    headers = tenants.ours.headers
    reply = await client.post(
        RULES,
        json={
            "name": "Owner SLA alert",
            "event": "kds.sla_breach.owner",
            "channel": "whatsapp",
            "target": "+91 98765-43210",
        },
        headers=headers,
    )
    assert reply.status_code == 201, reply.text
    rule = reply.json()
    assert rule["target_display"] == "…3210"
    assert rule["outlet_id"] is None  # tenant-wide unless an outlet is given
    assert rule["webhook_endpoint_id"] is None
    assert reply.headers["etag"] == '"1"'
    assert "9876543210" not in reply.text

    listed = await client.get(RULES, headers=headers)
    assert [r["id"] for r in listed.json()["items"]] == [rule["id"]]
    assert "9876543210" not in listed.text
    one = await client.get(f"{RULES}/{rule['id']}", headers=headers)
    assert one.json() == rule

    entries = await audit_entries(db, tenants.ours.tenant.id, "alert_rule.changed")
    assert len(entries) == 1
    assert "9876543210" not in str(entries[0].after)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"event": "order.placd", "channel": "console"}, "UNKNOWN_EVENT"),
        ({"event": "order.placed", "channel": "whatsapp", "target": "98765"}, "INVALID_TARGET"),
        ({"event": "*", "channel": "email", "target": "not-an-address"}, "INVALID_TARGET"),
        ({"event": "*", "channel": "webhook", "target": "01JDNOPE"}, "WEBHOOK_ENDPOINT_UNKNOWN"),
        ({"event": "*", "channel": "pager", "target": ""}, "VALIDATION_ERROR"),
    ],
)
async def test_invalid_rules_are_refused_with_a_reason(
    client: httpx.AsyncClient, tenants: Tenants, body: dict[str, str], code: str
) -> None:
    reply = await client.post(RULES, json=body, headers=tenants.ours.headers)
    assert reply.status_code == 422, reply.text
    refusal = problem(reply)
    assert refusal["code"] == code
    if code == "UNKNOWN_EVENT":
        assert "/api/v1/admin/integrations" in refusal["hint"]


async def test_a_webhook_rule_must_name_an_endpoint_of_the_callers_tenant(
    client: httpx.AsyncClient, tenants: Tenants
) -> None:
    foreign = await create_endpoint(client, tenants.theirs.headers, "https://hooks.example.com/x")
    own = await create_endpoint(client, tenants.ours.headers, "https://hooks.example.com/y?k=1")
    refused = await client.post(
        RULES,
        json={"event": "order.placed", "channel": "webhook", "target": foreign["id"]},
        headers=tenants.ours.headers,
    )
    assert problem(refused)["code"] == "WEBHOOK_ENDPOINT_UNKNOWN"
    accepted = await client.post(
        RULES,
        json={"event": "order.placed", "channel": "webhook", "target": own["id"]},
        headers=tenants.ours.headers,
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["webhook_endpoint_id"] == own["id"]
    assert accepted.json()["target_display"] == "https://hooks.example.com/y"


async def test_edits_are_versioned_and_delete_hides_the_rule(
    db: Database, client: httpx.AsyncClient, tenants: Tenants
) -> None:
    headers = tenants.ours.headers
    rule = (
        await client.post(
            RULES, json={"event": "order.placed", "channel": "console"}, headers=headers
        )
    ).json()
    path = f"{RULES}/{rule['id']}"
    changed = await client.patch(
        path,
        json={"channel": "sms", "target": "+919876543210", "enabled": False},
        headers={**headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    assert changed.json()["target_display"] == "…3210"
    assert changed.json()["enabled"] is False

    stale = await client.patch(path, json={"name": "x"}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert problem(stale)["code"] == "VERSION_MISMATCH"

    # Switching to a channel whose target the old one does not fit is refused.
    mismatch = await client.patch(path, json={"channel": "email"}, headers=headers)
    assert problem(mismatch)["code"] == "INVALID_TARGET"

    deleted = await client.delete(path, headers={**headers, "If-Match": '"2"'})
    assert deleted.status_code == 204
    assert (await client.get(path, headers=headers)).status_code == 404
    assert (await client.get(RULES, headers=headers)).json()["items"] == []


async def test_another_tenants_rule_is_not_found_on_every_route(
    client: httpx.AsyncClient, tenants: Tenants
) -> None:
    theirs = (
        await client.post(
            RULES,
            json={"event": "order.placed", "channel": "console"},
            headers=tenants.theirs.headers,
        )
    ).json()
    path = f"{RULES}/{theirs['id']}"
    ours = tenants.ours.headers
    for reply in (
        await client.get(path, headers=ours),
        await client.patch(path, json={"name": "mine"}, headers=ours),
        await client.delete(path, headers=ours),
        await client.post(f"{path}/test", headers=ours),
    ):
        assert reply.status_code == 404, reply.text
        assert problem(reply)["code"] == "NOT_FOUND"
    assert (await client.get(RULES, headers=ours)).json()["items"] == []


async def test_staff_without_the_permission_are_refused(
    db: Database, client: httpx.AsyncClient, tenants: Tenants
) -> None:
    waiter = await tenants.ours.as_role(db, "waiter")
    reply = await client.get(RULES, headers=waiter)
    assert reply.status_code == 403


async def test_testing_a_webhook_rule_sends_the_sample_to_its_endpoint(
    db: Database, client: httpx.AsyncClient, tenants: Tenants, receiver: Receiver
) -> None:
    headers = tenants.ours.headers
    endpoint = await create_endpoint(client, headers, f"{receiver.url}/hook")
    rule = (
        await client.post(
            RULES,
            json={"event": "invoice.issued", "channel": "webhook", "target": endpoint["id"]},
            headers=headers,
        )
    ).json()
    reply = await client.post(f"{RULES}/{rule['id']}/test", headers=headers)
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert result["ok"] is True
    assert result["status_code"] == 200
    assert result["signing_secret"] is None
    [hit] = receiver.hits
    assert hit.headers["webhook-id"] == result["webhook_id"]
    assert hit.json()["event"] == "invoice.issued"
    assert hit.json()["test"] is True
    assert result["payload"]["data"] == hit.json()["data"]
    sent = await audit_entries(db, tenants.ours.tenant.id, "webhook.test_sent")
    assert sent[0].after is not None
    assert sent[0].after["rule_id"] == rule["id"]

    console = (
        await client.post(RULES, json={"event": "*", "channel": "console"}, headers=headers)
    ).json()
    tested = await client.post(
        f"{RULES}/{console['id']}/test", json={"event": "order.placed"}, headers=headers
    )
    assert tested.status_code == 200, tested.text
    assert tested.json()["ok"] is True
