"""Payment states as data, and the providers' webhook signatures as each provider defines
them (computed here independently of the adapters)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from servio.config import Settings
from servio.payments.gateways.razorpay import RazorpayGateway
from servio.payments.gateways.stripe import StripeGateway
from servio.payments.state import can_transition, change_due, initial_status, refundable

NOW = 1_780_000_000


def _settings() -> Settings:
    return Settings(  # type: ignore[call-arg]
        stripe_webhook_secret="whsec_a", razorpay_webhook_secret="rzp_a", _env_file=None
    )


def test_payment_states() -> None:
    assert initial_status("cash") == "succeeded"
    assert initial_status("gateway") == "pending"
    assert can_transition("pending", "succeeded")
    assert can_transition("failed", "succeeded")
    assert not can_transition("succeeded", "failed")
    assert not can_transition("succeeded", "pending")
    assert refundable("succeeded", 5000, 3000) == 2000
    assert refundable("pending", 5000, 0) == 0
    assert change_due(60000, 52500) == 7500


def _stripe_header(secret: str, body: bytes, t: int, extra: str = "") -> dict[str, str]:
    v1 = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"stripe-signature": f"t={t},{extra}v1={v1}"}


def test_stripe_signature_rules() -> None:
    gateway = StripeGateway(_settings())
    body = b'{"id":"evt_1","type":"payment_intent.succeeded"}'
    assert gateway.verify_signature(_stripe_header("whsec_a", body, NOW), body, now=NOW)
    # several v1 values (secret rotation): any may match
    rotated = _stripe_header("whsec_a", body, NOW, extra="v1=deadbeef,")
    assert gateway.verify_signature(rotated, body, now=NOW)
    assert not gateway.verify_signature(_stripe_header("whsec_b", body, NOW), body, now=NOW)
    assert not gateway.verify_signature(_stripe_header("whsec_a", body, NOW), body + b" ", now=NOW)
    assert not gateway.verify_signature(_stripe_header("whsec_a", body, NOW - 301), body, now=NOW)
    assert gateway.verify_signature(_stripe_header("whsec_a", body, NOW + 299), body, now=NOW)
    assert not gateway.verify_signature({"stripe-signature": "garbage"}, body, now=NOW)


def test_razorpay_signature_and_event_parsing() -> None:
    gateway = RazorpayGateway(_settings())
    body = json.dumps(
        {
            "event": "order.paid",
            "payload": {
                "order": {
                    "entity": {
                        "id": "order_1",
                        "amount_paid": 900,
                        "currency": "INR",
                        "notes": {"payment_id": "P1"},
                    }
                },
                "payment": {"entity": {"id": "pay_1", "amount": 900, "order_id": "order_1"}},
            },
        }
    ).encode()
    good = {"x-razorpay-signature": hmac.new(b"rzp_a", body, hashlib.sha256).hexdigest()}
    assert gateway.verify_signature(good, body, now=NOW)
    assert not gateway.verify_signature({"x-razorpay-signature": "ab"}, body, now=NOW)
    event = gateway.parse_event({"x-razorpay-event-id": "evt_9"}, body)
    assert (event.event_id, event.outcome, event.payment_id) == ("evt_9", "succeeded", "P1")
    assert (event.amount, event.gateway_ref, event.provider_payment_id) == (900, "order_1", "pay_1")


@pytest.mark.parametrize("body", [b"[]", b'{"type": 1}', b"not json"])
def test_malformed_events_are_rejected(body: bytes) -> None:
    with pytest.raises(ValueError):
        StripeGateway(_settings()).parse_event({}, body)
