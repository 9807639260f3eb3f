"""The delivery channel interface. Every channel (console, webhook, email, WhatsApp, SMS)
takes a `ChannelMessage` and reports a `DeliveryResult`; the outbox handler that calls it
turns a failed result into a retry (or a dead letter when it is not retryable).

The HTTP channels (webhook, WhatsApp, SMS) share one reading of an HTTP answer: 2xx is
delivered; 408, 425, 429, 5xx, timeouts and connection errors are worth another try;
anything else (other 4xx, an unfollowed redirect) will not get better by retrying."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import httpx

RETRYABLE_STATUS = frozenset({408, 425, 429})


@dataclass(frozen=True)
class ChannelMessage:
    """What a channel delivers. `target` is channel-specific (URL, e-mail address, phone);
    `dedupe_key` lets receivers drop the duplicates an at-least-once outbox can produce;
    `message_id` is the Standard Webhooks `webhook-id` (the same for every retry)."""

    tenant_id: str
    event: str
    subject: str
    payload: dict[str, Any]
    dedupe_key: str
    outlet_id: str | None = None
    target: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    message_id: str = ""


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    # False for failures no retry can fix (a 4xx from a webhook, a malformed address).
    retryable: bool = True
    detail: str = ""
    status_code: int | None = None

    @classmethod
    def delivered(cls, detail: str = "", *, status_code: int | None = None) -> DeliveryResult:
        return cls(ok=True, detail=detail, status_code=status_code)

    @classmethod
    def failed(
        cls, detail: str, *, retryable: bool = True, status_code: int | None = None
    ) -> DeliveryResult:
        return cls(ok=False, retryable=retryable, detail=detail, status_code=status_code)


@runtime_checkable
class Channel(Protocol):
    name: str

    async def send(self, message: ChannelMessage) -> DeliveryResult: ...


def http_result(response: httpx.Response, who: str) -> DeliveryResult:
    """Classify an HTTP answer. The detail quotes the status line only: response bodies
    of providers can echo phone numbers or tokens."""
    code = response.status_code
    detail = f"{who} answered {code} {response.reason_phrase}".strip()
    if 200 <= code < 300:
        return DeliveryResult.delivered(detail, status_code=code)
    retryable = code in RETRYABLE_STATUS or code >= 500
    return DeliveryResult.failed(detail, retryable=retryable, status_code=code)


def http_error(exc: httpx.HTTPError, who: str) -> DeliveryResult:
    """Timeouts and connection failures: the destination may be back later."""
    if isinstance(exc, httpx.TimeoutException):
        return DeliveryResult.failed(f"{who} timed out ({type(exc).__name__})")
    return DeliveryResult.failed(f"{who} unreachable ({type(exc).__name__})")


async def post_once(url: str, who: str, timeout_secs: float, **request: Any) -> DeliveryResult:
    """One POST (redirects not followed), classified as above. `request` goes to httpx."""
    try:
        async with httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_secs), follow_redirects=False
        ) as client:
            response = await client.post(url, **request)
    except httpx.HTTPError as exc:
        return http_error(exc, who)
    return http_result(response, who)
