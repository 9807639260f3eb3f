"""The delivery channel interface. Every channel (console, webhook, email, WhatsApp, …)
takes a `ChannelMessage` and reports a `DeliveryResult`; the outbox handler that calls it
turns a failed result into a retry (or a dead letter when it is not retryable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class ChannelMessage:
    """What a channel delivers. `target` is channel-specific (URL, e-mail address, phone);
    `dedupe_key` lets receivers drop the duplicates an at-least-once outbox can produce."""

    tenant_id: str
    event: str
    subject: str
    payload: dict[str, Any]
    dedupe_key: str
    outlet_id: str | None = None
    target: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    # False for failures no retry can fix (a 4xx from a webhook, a malformed address).
    retryable: bool = True
    detail: str = ""
    status_code: int | None = None

    @classmethod
    def delivered(cls, detail: str = "") -> DeliveryResult:
        return cls(ok=True, detail=detail)

    @classmethod
    def failed(
        cls, detail: str, *, retryable: bool = True, status_code: int | None = None
    ) -> DeliveryResult:
        return cls(ok=False, retryable=retryable, detail=detail, status_code=status_code)


@runtime_checkable
class Channel(Protocol):
    name: str

    async def send(self, message: ChannelMessage) -> DeliveryResult: ...
