"""Outbox handlers: one async function per topic, registered with `@outbox_handler("topic")`.

A handler receives a `ClaimedMessage` (a detached snapshot of the outbox row) and a
`HandlerContext`. It returns on success and raises on failure: any exception schedules a
retry with back-off, `PermanentFailure` dead-letters the message at once, `Deferred` puts
it back untried for a while (no attempt used). Delivery is at-least-once, so handlers must
be idempotent (receivers get `dedupe_key`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from servio.config import Settings
from servio.kit.db import Database, UnitOfWork
from servio.notifications.channels import Channel, ChannelMessage


@dataclass(frozen=True)
class ClaimedMessage:
    id: str
    tenant_id: str  # "" for platform-level messages
    outlet_id: str | None
    topic: str
    event: str
    dedupe_key: str
    payload: dict[str, Any]
    attempts: int  # 1 on the first delivery attempt
    created_at: datetime


@dataclass(frozen=True)
class HandlerContext:
    db: Database
    settings: Settings
    worker_id: str
    pubsub: Any = None

    def unit_of_work(self, message: ClaimedMessage) -> AbstractAsyncContextManager[UnitOfWork]:
        """A transaction scoped to the message's tenant (row-level security applies)."""
        if message.tenant_id:
            return self.db.unit_of_work(tenant_id=message.tenant_id)
        return self.db.unit_of_work(bypass_rls=True)


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help; the message goes straight to `dead`."""


class Deferred(Exception):
    """Raised by a handler that did not try at all (its destination's circuit breaker is
    open): the message waits `retry_after` seconds without using up an attempt."""

    def __init__(self, retry_after: float, reason: str = "deferred") -> None:
        super().__init__(reason)
        self.retry_after = retry_after


Handler = Callable[[ClaimedMessage, HandlerContext], Awaitable[None]]


class HandlerRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, topic: str) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            existing = self._handlers.get(topic)
            if existing is not None and existing is not handler:
                raise ValueError(f"outbox topic {topic!r} already has a handler")
            self._handlers[topic] = handler
            return handler

        return decorate

    def get(self, topic: str) -> Handler | None:
        return self._handlers.get(topic)

    def topics(self) -> list[str]:
        return sorted(self._handlers)


handlers = HandlerRegistry()
outbox_handler = handlers.register


async def deliver_via(channel: Channel, message: ChannelMessage) -> None:
    """Send through a channel and turn a failed `DeliveryResult` into the handler contract."""
    result = await channel.send(message)
    if result.ok:
        return
    detail = f"{channel.name}: {result.detail}" if result.detail else channel.name
    if not result.retryable:
        raise PermanentFailure(detail)
    raise RuntimeError(detail)
