"""Razorpay (Orders API, JSON, HTTP basic auth with the key id and secret).

- intent: `POST {RAZORPAY_API_BASE}/v1/orders` with `amount`, `currency`,
  `receipt: <payment id>` and `notes.payment_id`; the order id and the public key id go to
  the guest's checkout.
- refund: `POST /v1/payments/{razorpay payment id}/refund` (the `pay_…` id learnt from the
  capture webhook) with `amount` and `receipt: <refund id>`.
- webhooks: `X-Razorpay-Signature` = hex HMAC-SHA256(webhook secret, raw body), compared
  in constant time; the event id is the `X-Razorpay-Event-Id` header. `payment.captured`
  and `order.paid` → succeeded, `payment.failed` → failed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from servio.payments.gateways import (
    EventOutcome,
    GatewayError,
    GatewayIntent,
    GatewayRefund,
    IntentRequest,
    PaymentGateway,
    RefundRequest,
    WebhookEvent,
    body_digest,
    int_at,
    obj_at,
    text_at,
)
from servio.payments.state import GatewayName

SIGNATURE_HEADER = "x-razorpay-signature"
EVENT_ID_HEADER = "x-razorpay-event-id"
SUCCEEDED_EVENTS = frozenset({"payment.captured", "order.paid"})
FAILED_EVENTS = frozenset({"payment.failed"})


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class RazorpayGateway(PaymentGateway):
    name: ClassVar[GatewayName] = "razorpay"

    @property
    def api_base(self) -> str:
        return self.settings.razorpay_api_base.rstrip("/")

    def configured(self) -> bool:
        return bool(self.settings.razorpay_key_id and self.settings.razorpay_key_secret)

    def webhook_configured(self) -> bool:
        return bool(self.settings.razorpay_webhook_secret)

    def _request(self, path: str, payload: dict[str, Any]) -> httpx.Request:
        credentials = f"{self.settings.razorpay_key_id}:{self.settings.razorpay_key_secret}"
        basic = "Basic " + base64.b64encode(credentials.encode()).decode()
        return self.post(path, basic, json=payload)

    async def create_intent(self, request: IntentRequest) -> GatewayIntent:
        payload = {
            "amount": request.amount,
            "currency": request.currency.upper(),
            "receipt": request.payment_id,
            "notes": {"payment_id": request.payment_id, "invoice_id": request.invoice_id},
        }
        data = await self.send(self._request("/v1/orders", payload))
        ref = self.required_id(data, "an order id")
        return GatewayIntent(
            gateway="razorpay", ref=ref, public={"key_id": self.settings.razorpay_key_id}
        )

    async def refund(self, request: RefundRequest) -> GatewayRefund:
        if not request.provider_payment_id:
            raise GatewayError("razorpay refund needs the captured payment id (pay_…)")
        payload = {
            "amount": request.amount,
            "receipt": request.refund_id,
            "notes": {"refund_id": request.refund_id, "payment_id": request.payment_id},
        }
        data = await self.send(
            self._request(f"/v1/payments/{request.provider_payment_id}/refund", payload)
        )
        ref = self.required_id(data, "a refund id")
        return GatewayRefund(ref=ref, status=text_at(data, "status") or "processed")

    def verify_signature(self, headers: Mapping[str, str], body: bytes, *, now: float) -> bool:
        secret = self.settings.razorpay_webhook_secret
        supplied = headers.get(SIGNATURE_HEADER, "")
        if not secret or not supplied:
            return False
        return hmac.compare_digest(sign(secret, body), supplied)

    def parse_event(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        data: Any = json.loads(body)
        event_type = text_at(data, "event")
        if event_type is None:
            raise ValueError("not a Razorpay event")
        event_id = headers.get(EVENT_ID_HEADER) or f"sha256:{body_digest(body)}"
        payment = obj_at(data, "payload", "payment", "entity")
        order = obj_at(data, "payload", "order", "entity")
        outcome: EventOutcome = "other"
        if event_type in SUCCEEDED_EVENTS:
            outcome = "succeeded"
        elif event_type in FAILED_EVENTS:
            outcome = "failed"
        if event_type == "order.paid" and order:
            amount = int_at(order, "amount_paid")
            currency = text_at(order, "currency")
        else:
            amount = int_at(payment, "amount")
            currency = text_at(payment, "currency")
        payment_id = text_at(payment, "notes", "payment_id") or text_at(
            order, "notes", "payment_id"
        )
        return WebhookEvent(
            event_id=event_id[:128],
            event_type=event_type[:64],
            outcome=outcome,
            payment_id=payment_id,
            gateway_ref=text_at(order, "id") or text_at(payment, "order_id"),
            provider_payment_id=text_at(payment, "id"),
            amount=amount,
            currency=(currency or "").upper() or None,
            failure_reason=(text_at(payment, "error_description") or "payment failed")
            if outcome == "failed"
            else "",
        )
