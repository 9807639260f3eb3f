"""Stripe (PaymentIntents API, form-encoded, Bearer secret key).

- intent: `POST {STRIPE_API_BASE}/v1/payment_intents` with `amount`, `currency`,
  `metadata[payment_id]`, `metadata[invoice_id]` and `Idempotency-Key: <payment id>` (a
  retried call never makes a second intent); the reply's `client_secret` goes to the browser.
- refund: `POST /v1/refunds` with `payment_intent`, `amount`, `metadata[refund_id]` and
  `Idempotency-Key: <refund id>`.
- webhooks: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]` where v1 = HMAC-SHA256(webhook
  secret, "<t>.<raw body>"); refused when no v1 matches (constant-time) or when t is more
  than 300 s from the app clock. `payment_intent.succeeded` → succeeded (amount_received),
  `payment_intent.payment_failed` → failed (last_payment_error.message).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from servio.payments.gateways import (
    EventOutcome,
    GatewayIntent,
    GatewayRefund,
    IntentRequest,
    PaymentGateway,
    RefundRequest,
    WebhookEvent,
    int_at,
    obj_at,
    text_at,
)
from servio.payments.state import GatewayName

SIGNATURE_HEADER = "stripe-signature"
TOLERANCE_SECS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The v1 signature of `body` sent at `timestamp` (what Stripe computes)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def parse_signature_header(value: str) -> tuple[str | None, list[str]]:
    timestamp: str | None = None
    signatures: list[str] = []
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        if key == "t":
            timestamp = item
        elif key == "v1" and item:
            signatures.append(item)
    return timestamp, signatures


class StripeGateway(PaymentGateway):
    name: ClassVar[GatewayName] = "stripe"

    @property
    def api_base(self) -> str:
        return self.settings.stripe_api_base.rstrip("/")

    def configured(self) -> bool:
        return bool(self.settings.stripe_secret_key)

    def webhook_configured(self) -> bool:
        return bool(self.settings.stripe_webhook_secret)

    def _post(self, path: str, form: dict[str, str], idempotency_key: str) -> httpx.Request:
        return self.post(
            path,
            f"Bearer {self.settings.stripe_secret_key}",
            data=form,
            headers={"Idempotency-Key": idempotency_key},
        )

    def intent_request(self, request: IntentRequest) -> httpx.Request:
        form = {
            "amount": str(request.amount),
            "currency": request.currency.lower(),
            "metadata[payment_id]": request.payment_id,
            "metadata[invoice_id]": request.invoice_id,
        }
        if request.description:
            form["description"] = request.description[:200]
        return self._post("/v1/payment_intents", form, request.payment_id)

    async def create_intent(self, request: IntentRequest) -> GatewayIntent:
        data = await self.send(self.intent_request(request))
        ref = self.required_id(data, "a PaymentIntent id")
        return GatewayIntent(
            gateway="stripe", ref=ref, client_secret=text_at(data, "client_secret")
        )

    async def refund(self, request: RefundRequest) -> GatewayRefund:
        form = {
            "payment_intent": request.gateway_ref,
            "amount": str(request.amount),
            "metadata[refund_id]": request.refund_id,
            "metadata[payment_id]": request.payment_id,
        }
        data = await self.send(self._post("/v1/refunds", form, request.refund_id))
        ref = self.required_id(data, "a refund id")
        return GatewayRefund(ref=ref, status=text_at(data, "status") or "succeeded")

    def verify_signature(self, headers: Mapping[str, str], body: bytes, *, now: float) -> bool:
        secret = self.settings.stripe_webhook_secret
        header = headers.get(SIGNATURE_HEADER, "")
        if not secret or not header:
            return False
        timestamp, signatures = parse_signature_header(header)
        if timestamp is None or not timestamp.isdigit() or not signatures:
            return False
        if abs(now - int(timestamp)) > TOLERANCE_SECS:
            return False
        expected = sign(secret, timestamp, body)
        # Check every candidate (no early exit on the first match's position).
        matched = False
        for candidate in signatures:
            matched |= hmac.compare_digest(expected, candidate)
        return matched

    def parse_event(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        data: Any = json.loads(body)
        event_id, event_type = text_at(data, "id"), text_at(data, "type")
        if event_id is None or event_type is None:
            raise ValueError("not a Stripe event")
        obj = obj_at(data, "data", "object")
        outcome: EventOutcome = "other"
        amount = int_at(obj, "amount")
        failure = ""
        if event_type == "payment_intent.succeeded":
            outcome = "succeeded"
            received = int_at(obj, "amount_received")
            amount = received if received is not None else amount
        elif event_type == "payment_intent.payment_failed":
            outcome = "failed"
            failure = text_at(obj, "last_payment_error", "message") or "payment failed"
        is_intent = text_at(obj, "object") in (None, "payment_intent")
        return WebhookEvent(
            event_id=event_id,
            event_type=event_type,
            outcome=outcome,
            payment_id=text_at(obj, "metadata", "payment_id"),
            gateway_ref=text_at(obj, "id") if is_intent else text_at(obj, "payment_intent"),
            amount=amount,
            currency=(text_at(obj, "currency") or "").upper() or None,
            failure_reason=failure,
        )
