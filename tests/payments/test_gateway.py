"""Gateway payments (PAY-03) against a real HTTP server playing Stripe and Razorpay: the
intent/order request as each provider expects it, signed webhooks (good, bad, stale),
each event processed once, amounts checked, a provider outage → 502 and a `failed`
payment, and the guest's pay button."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from servio.config import Settings
from servio.kit.breaker import reset_store
from servio.kit.db import Database
from servio.models import GatewayEvent
from tests.conftest import problem
from tests.payments.conftest import (
    RAZORPAY_KEY_ID,
    STRIPE_KEY,
    FakeProvider,
    World,
    build_world,
    enable_gateway,
    invoice_row,
    make_invoice,
    outbox_events,
    pay,
    payments_of,
    razorpay_webhook,
    splits_of,
    stripe_webhook,
)

STRIPE_HOOK = "/api/v1/payments/webhooks/stripe"
RAZORPAY_HOOK = "/api/v1/payments/webhooks/razorpay"


@pytest.fixture(autouse=True)
def fresh_breakers() -> None:
    reset_store()


async def _gateway_payment(
    client: httpx.AsyncClient, db: Database, world: World, amount: int = 10000
) -> tuple[str, dict[str, Any]]:
    await enable_gateway(db, world)
    invoice = await make_invoice(db, world, amount)
    response = await pay(client, world, invoice.id, method="gateway", amount=amount)
    assert response.status_code == 201, response.text
    return invoice.id, response.json()


async def test_stripe_intent_is_created_form_encoded_and_idempotent(
    db: Database, client: httpx.AsyncClient, world: World, provider: FakeProvider
) -> None:
    _, body = await _gateway_payment(client, db, world)
    assert body["status"] == "pending"
    assert body["gateway"] == "stripe"
    assert body["checkout"]["gateway"] == "stripe"
    assert body["checkout"]["client_secret"].startswith(body["gateway_ref"])
    assert body["invoice"]["status"] == "sent"  # nothing received yet
    [call] = provider.calls("/v1/payment_intents")
    assert call.headers["authorization"] == f"Bearer {STRIPE_KEY}"
    assert call.headers["idempotency-key"] == body["id"]
    assert call.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert call.form["amount"] == "10000"
    assert call.form["currency"] == "inr"
    assert call.form["metadata[payment_id]"] == body["id"]


@pytest.mark.backends
async def test_signed_webhook_settles_once_and_redelivery_is_a_duplicate(
    backend: str, db: Database, client: httpx.AsyncClient, world: World
) -> None:
    invoice_id, body = await _gateway_payment(client, db, world)
    hook, headers = stripe_webhook(
        "payment_intent.succeeded",
        payment_id=body["id"],
        intent_id=body["gateway_ref"],
        amount=10000,
        event_id="evt_once",
    )
    first = await client.post(STRIPE_HOOK, content=hook, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "processed"
    again = await client.post(STRIPE_HOOK, content=hook, headers=headers)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True

    row = await invoice_row(db, world, invoice_id)
    assert (row.status, row.paid_amount) == ("paid", 10000)
    [payment] = await payments_of(db, world)
    assert payment.status == "succeeded"
    assert payment.succeeded_at is not None
    assert len(await outbox_events(db, world, "payment.verified")) == 1

    events = await client.get("/api/v1/payments/gateway_events", headers=world.manager)
    assert events.status_code == 200
    [event] = events.json()["items"]
    assert event["event_id"] == "evt_once"
    assert event["outcome"] == "processed"
    assert "payload" not in event


@pytest.mark.parametrize("problem_kind", ["wrong_secret", "stale", "tampered", "missing"])
async def test_bad_signatures_are_refused(
    db: Database, client: httpx.AsyncClient, world: World, problem_kind: str
) -> None:
    _, body = await _gateway_payment(client, db, world)
    kwargs: dict[str, Any] = {
        "payment_id": body["id"],
        "intent_id": body["gateway_ref"],
        "amount": 10000,
    }
    if problem_kind == "wrong_secret":
        kwargs["secret"] = "whsec_someone_else"
    if problem_kind == "stale":
        kwargs["timestamp"] = int(time.time()) - 301
    hook, headers = stripe_webhook("payment_intent.succeeded", **kwargs)
    if problem_kind == "tampered":
        hook = hook.replace(b"10000", b"10001")
    if problem_kind == "missing":
        headers.pop("Stripe-Signature")
    response = await client.post(STRIPE_HOOK, content=hook, headers=headers)
    assert response.status_code == 400
    assert problem(response)["code"] == "SIGNATURE_INVALID"
    [payment] = await payments_of(db, world)
    assert payment.status == "pending"


async def test_a_fresh_signature_within_tolerance_is_accepted(
    db: Database, client: httpx.AsyncClient, world: World
) -> None:
    _, body = await _gateway_payment(client, db, world)
    hook, headers = stripe_webhook(
        "payment_intent.succeeded",
        payment_id=body["id"],
        intent_id=body["gateway_ref"],
        amount=10000,
        timestamp=int(time.time()) - 250,
    )
    assert (await client.post(STRIPE_HOOK, content=hook, headers=headers)).status_code == 200


async def test_amount_mismatch_is_ignored_and_failure_fails(
    db: Database, client: httpx.AsyncClient, world: World
) -> None:
    invoice_id, body = await _gateway_payment(client, db, world)
    hook, headers = stripe_webhook(
        "payment_intent.succeeded", payment_id=body["id"], intent_id=body["gateway_ref"], amount=1
    )
    ignored = await client.post(STRIPE_HOOK, content=hook, headers=headers)
    assert ignored.json()["outcome"] == "ignored"
    [payment] = await payments_of(db, world)
    assert payment.status == "pending"
    assert (await invoice_row(db, world, invoice_id)).paid_amount == 0

    hook, headers = stripe_webhook(
        "payment_intent.payment_failed",
        payment_id=body["id"],
        intent_id=body["gateway_ref"],
        amount=10000,
    )
    failed = await client.post(STRIPE_HOOK, content=hook, headers=headers)
    assert failed.json()["outcome"] == "processed"
    [payment] = await payments_of(db, world)
    assert payment.status == "failed"
    assert payment.failure_reason == "Your card was declined."
    async with db.unit_of_work(tenant_id=world.tenant_id) as uow:
        outcomes = (await uow.session.execute(select(GatewayEvent.outcome))).scalars().all()
    assert sorted(outcomes) == ["ignored", "processed"]


async def test_unknown_payments_are_acknowledged_and_ignored(
    db: Database, client: httpx.AsyncClient, world: World
) -> None:
    hook, headers = stripe_webhook(
        "payment_intent.succeeded",
        payment_id="01JD0000000000000000000000",
        intent_id="pi_unknown",
        amount=100,
    )
    response = await client.post(STRIPE_HOOK, content=hook, headers=headers)
    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"


@pytest.mark.backends
async def test_provider_down_is_502_and_the_attempt_is_recorded_failed(
    backend: str, db: Database, client: httpx.AsyncClient, world: World, provider: FakeProvider
) -> None:
    await enable_gateway(db, world)
    invoice = await make_invoice(db, world, 10000)
    provider.down = True
    down = await pay(client, world, invoice.id, key="gw-1", method="gateway", amount=10000)
    assert down.status_code == 502
    assert problem(down)["code"] == "GATEWAY_UNAVAILABLE"
    [failed] = await payments_of(db, world)
    assert failed.status == "failed"
    assert "503" in failed.failure_reason
    assert len(await outbox_events(db, world, "payment.failed")) == 1

    provider.down = False
    retry = await pay(client, world, invoice.id, key="gw-1", method="gateway", amount=10000)
    assert retry.status_code == 201, retry.text  # the 502 was not stored against the key
    assert [p.status for p in await payments_of(db, world)] == ["failed", "pending"]


async def test_a_provider_past_the_timeout_is_502(
    db: Database,
    client: httpx.AsyncClient,
    settings: Settings,
    world: World,
    provider: FakeProvider,
) -> None:
    await enable_gateway(db, world)
    invoice = await make_invoice(db, world, 10000)
    provider.hang = True
    response = await pay(client, world, invoice.id, method="gateway", amount=10000)
    assert response.status_code == 502
    assert f"{settings.gateway_timeout_secs:g}s" in problem(response)["reason"]


async def test_razorpay_order_capture_and_refund(
    db: Database,
    client: httpx.AsyncClient,
    settings: Settings,
    world: World,
    provider: FakeProvider,
    app: Any,
) -> None:
    app.state.settings = settings.model_copy(update={"gateway": "razorpay"})
    invoice_id, body = await _gateway_payment(client, db, world, amount=25000)
    assert body["gateway"] == "razorpay"
    assert body["checkout"] == {
        "gateway": "razorpay",
        "client_secret": None,
        "order_id": body["gateway_ref"],
        "key_id": RAZORPAY_KEY_ID,
    }
    [order] = provider.calls("/v1/orders")
    assert order.json["receipt"] == body["id"]
    assert order.json["notes"]["payment_id"] == body["id"]
    assert order.json["amount"] == 25000
    assert order.headers["authorization"].startswith("Basic ")

    hook, headers = razorpay_webhook(
        "payment.captured",
        payment_id=body["id"],
        order_id=body["gateway_ref"],
        amount=25000,
        provider_payment_id="pay_ABC123",
    )
    captured = await client.post(RAZORPAY_HOOK, content=hook, headers=headers)
    assert captured.json()["outcome"] == "processed"
    # A second capture event for the same payment is stored, but changes nothing
    order_paid, order_headers = razorpay_webhook(
        "payment.captured",
        payment_id=body["id"],
        order_id=body["gateway_ref"],
        amount=25000,
        provider_payment_id="pay_ABC123",
    )
    assert (await client.post(RAZORPAY_HOOK, content=order_paid, headers=order_headers)).json()[
        "outcome"
    ] == "ignored"
    row = await invoice_row(db, world, invoice_id)
    assert (row.status, row.paid_amount) == ("paid", 25000)
    [payment] = await payments_of(db, world)
    assert payment.reference == "pay_ABC123"

    bad = dict(headers, **{"X-Razorpay-Signature": "00" * 32})
    refused = await client.post(RAZORPAY_HOOK, content=hook, headers=bad)
    assert problem(refused)["code"] == "SIGNATURE_INVALID"

    token = (
        await client.post(
            "/api/v1/approvals/verify_pin",
            json={"action": "refund", "pin": "2468"},
            headers=world.cashier,
        )
    ).json()["approval_token"]
    refund = await client.post(
        f"/api/v1/payments/{payment.id}/refunds",
        json={"amount": 5000, "reason": "dish missing", "approval": token},
        headers={**world.cashier, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert refund.status_code == 201, refund.text
    [call] = provider.calls("/v1/payments/pay_ABC123/refund")
    assert call.json["amount"] == 5000
    assert call.json["receipt"] == refund.json()["id"]
    assert refund.json()["gateway_ref"].startswith("rfnd_")


@pytest.mark.backends
async def test_guest_pays_their_part_with_the_member_token(
    backend: str, db: Database, client: httpx.AsyncClient, settings: Settings, world: World
) -> None:
    invoice = await make_invoice(db, world, 9000, splits=[6000, 3000])
    parts = await splits_of(db, world, invoice.id)
    path = f"/g/{world.qr_token}/invoices/{invoice.id}/pay"
    off = await client.post(
        path, json={"split_id": parts[1].id}, headers=world.table.headers("Ravi")
    )
    assert off.status_code == 409
    assert problem(off)["code"] == "GATEWAY_DISABLED"

    await enable_gateway(db, world)
    paid = await client.post(
        path, json={"split_id": parts[1].id}, headers=world.table.headers("Ravi")
    )
    assert paid.status_code == 201, paid.text
    body = paid.json()
    assert (body["amount"], body["status"], body["split_id"]) == (3000, "pending", parts[1].id)
    assert body["taken_by_member"] == world.table.members["Ravi"]
    assert body["checkout"]["client_secret"]

    whole = await client.post(path, json={}, headers=world.table.headers("Asha"))
    assert whole.json()["amount"] == 9000  # pending payments do not hold the balance

    other = await build_world(db, settings, name="Next Door")
    foreign = await client.post(
        f"/g/{other.qr_token}/invoices/{invoice.id}/pay",
        json={},
        headers=world.table.headers("Asha"),
    )
    assert foreign.status_code == 404
    no_key = await client.post(
        path, json={}, headers={"Authorization": world.table.headers("Asha")["Authorization"]}
    )
    assert problem(no_key)["code"] == "IDEMPOTENCY_KEY_REQUIRED"
