"""The payment gateway port: what Servio asks of Stripe or Razorpay, and what it reads from
their webhooks. Adapters (`stripe.py`, `razorpay.py`) speak each provider's HTTP API with
`httpx`; every outbound call has a timeout (`GATEWAY_TIMEOUT_SECS`) and goes through a
circuit breaker per API base URL (`kit.breaker`, kind `payment_gateway`), so a provider
that is down costs one fast 502 instead of a timeout per payment.

No raw provider payload leaves the adapter: webhooks become a `WebhookEvent` with the few
facts Servio acts on.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import httpx

from servio.config import Settings
from servio.kit.breaker import BreakerConfig, CircuitBreaker
from servio.payments.state import GatewayName

BREAKER_KIND = "payment_gateway"
# A gateway outage stops guests paying: probe again sooner than a webhook breaker would.
MAX_COOLDOWN_SECS = 60.0
USER_AGENT = "Servio-Payments/1"

EventOutcome = Literal["succeeded", "failed", "other"]


class GatewayError(Exception):
    """The provider could not be reached, timed out, or refused the call."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IntentRequest:
    payment_id: str
    invoice_id: str
    amount: int  # minor units
    currency: str
    description: str = ""


@dataclass(frozen=True)
class GatewayIntent:
    gateway: GatewayName
    ref: str  # Stripe PaymentIntent id / Razorpay order id
    client_secret: str | None = None  # Stripe: what the browser confirms with
    public: dict[str, str] = field(default_factory=dict)  # safe for the client (key id)


@dataclass(frozen=True)
class RefundRequest:
    refund_id: str
    payment_id: str
    gateway_ref: str  # PaymentIntent id / order id
    provider_payment_id: str | None  # Razorpay pay_… (refunds go to the payment)
    amount: int
    currency: str


@dataclass(frozen=True)
class GatewayRefund:
    ref: str
    status: str


@dataclass(frozen=True)
class WebhookEvent:
    """The facts of one verified webhook that Servio acts on."""

    event_id: str
    event_type: str
    outcome: EventOutcome
    payment_id: str | None = None  # ours, from metadata / notes
    gateway_ref: str | None = None  # PaymentIntent id / order id
    provider_payment_id: str | None = None  # Razorpay pay_…
    amount: int | None = None
    currency: str | None = None
    failure_reason: str = ""

    def summary(self) -> dict[str, Any]:
        """What is stored with the event (no raw payload, no personal data)."""
        return {
            "outcome": self.outcome,
            "gateway_ref": self.gateway_ref,
            "provider_payment_id": self.provider_payment_id,
            "amount": self.amount,
            "currency": self.currency,
            "failure_reason": self.failure_reason[:200],
        }


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:40]


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def text_at(data: Any, *path: str) -> str | None:
    value = _get(data, *path)
    return value if isinstance(value, str) and value else None


def obj_at(data: Any, *path: str) -> dict[str, Any]:
    value = _get(data, *path)
    return value if isinstance(value, dict) else {}


def int_at(data: Any, *path: str) -> int | None:
    value = _get(data, *path)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class PaymentGateway(ABC):
    """One provider. Stateless but for its breaker, whose state lives in the process's
    breaker store (Redis when configured)."""

    name: ClassVar[GatewayName]

    def __init__(
        self,
        settings: Settings,
        *,
        breaker: CircuitBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self._transport = transport
        self.breaker = breaker or CircuitBreaker(
            BREAKER_KIND,
            BreakerConfig.from_settings(
                settings,
                cooldown_secs=min(float(settings.cb_cooldown_sec), MAX_COOLDOWN_SECS),
                trial_lease_secs=max(5.0, settings.gateway_timeout_secs + 5.0),
            ),
        )

    @property
    @abstractmethod
    def api_base(self) -> str: ...

    @abstractmethod
    def configured(self) -> bool:
        """Whether the API keys are set."""

    @abstractmethod
    def webhook_configured(self) -> bool: ...

    @abstractmethod
    async def create_intent(self, request: IntentRequest) -> GatewayIntent: ...

    @abstractmethod
    async def refund(self, request: RefundRequest) -> GatewayRefund: ...

    @abstractmethod
    def verify_signature(self, headers: Mapping[str, str], body: bytes, *, now: float) -> bool:
        """Constant-time check of the webhook signature (and its age, where signed)."""

    @abstractmethod
    def parse_event(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Raises ValueError when the body is not an event."""

    def post(
        self,
        path: str,
        authorization: str,
        *,
        json: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        """A `POST {api_base}{path}` with the credentials and Servio's usual headers."""
        return httpx.Request(
            "POST",
            f"{self.api_base}{path}",
            json=json,
            data=data,
            headers={
                "Authorization": authorization,
                **(headers or {}),
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
        )

    def required_id(self, data: Mapping[str, Any], what: str) -> str:
        """The `id` of a provider reply; `GatewayError` when it has none."""
        ref = text_at(data, "id")
        if ref is None:
            raise GatewayError(f"{self.name} answered without {what}")
        return ref

    async def send(self, request: httpx.Request) -> dict[str, Any]:
        """Send through the breaker with the configured timeout; the JSON reply of a 2xx.
        Raises `GatewayError` otherwise (the reason never contains credentials)."""
        destination = self.api_base
        permit = await self.breaker.allow(destination)
        if not permit.allowed:
            raise GatewayError(
                f"{self.name} circuit breaker {permit.state}: not called "
                f"(next probe in {max(permit.retry_after, 0):.0f}s)"
            )
        timeout = self.settings.gateway_timeout_secs
        try:
            async with httpx.AsyncClient(
                timeout=timeout, follow_redirects=False, transport=self._transport
            ) as client:
                response = await client.send(request)
        except httpx.TimeoutException:
            await self.breaker.record_failure(destination)
            raise GatewayError(f"{self.name} did not answer within {timeout:g}s") from None
        except httpx.HTTPError as exc:
            await self.breaker.record_failure(destination)
            raise GatewayError(f"{self.name} unreachable: {type(exc).__name__}") from None
        status = response.status_code
        if status >= 500 or status in (408, 429):
            await self.breaker.record_failure(destination)
            raise GatewayError(f"{self.name} answered {status}")
        # Anything else proves the provider is up.
        await self.breaker.record_success(destination)
        if not 200 <= status < 300:
            raise GatewayError(f"{self.name} refused the call ({status}): {_error_text(response)}")
        try:
            data = response.json()
        except ValueError:
            raise GatewayError(f"{self.name} answered {status} without JSON") from None
        if not isinstance(data, dict):
            raise GatewayError(f"{self.name} answered {status} with unexpected JSON")
        return data


def _error_text(response: httpx.Response) -> str:
    """The provider's error message (Stripe `error.message`, Razorpay `error.description`)."""
    try:
        data = response.json()
    except ValueError:
        return ""
    message = text_at(data, "error", "message") or text_at(data, "error", "description") or ""
    return message[:160]


def gateway_for(
    settings: Settings,
    name: str | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> PaymentGateway:
    """The adapter for `name` (default: the `GATEWAY` setting)."""
    from servio.payments.gateways.razorpay import RazorpayGateway
    from servio.payments.gateways.stripe import StripeGateway

    chosen = name or settings.gateway
    if chosen == "stripe":
        return StripeGateway(settings, transport=transport)
    if chosen == "razorpay":
        return RazorpayGateway(settings, transport=transport)
    raise ValueError(f"unknown gateway {chosen!r}")
