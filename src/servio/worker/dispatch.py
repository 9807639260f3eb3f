"""In-process domain events (PLAT-12).

    await emit(uow, "order.placed", tenant_id=t, outlet_id=o, payload={"order_id": ...})

does two things in the caller's transaction: it writes an outbox row (topic `event`) so
the event reaches the outside world at least once, and it schedules the in-process
consumers (`@on_event("order.placed")`) to run after the commit — never for a transaction
that rolls back. Consumers run in the emitting process, after the reply's data is durable;
one failing consumer is logged and does not stop the others. Consumers that must not be
lost belong on the outbox instead (`@outbox_handler`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from servio.kit.clock import rfc3339, utcnow
from servio.kit.db import UnitOfWork
from servio.kit.ids import new_id
from servio.worker.outbox import Outgoing, enqueue, enqueue_all

logger = structlog.get_logger("servio.events")


@dataclass(frozen=True)
class DomainEvent:
    id: str
    name: str
    tenant_id: str
    outlet_id: str | None
    payload: dict[str, Any]
    occurred_at: datetime

    def envelope(self) -> dict[str, Any]:
        """The JSON body delivered outside (webhooks, console)."""
        return {
            "id": self.id,
            "event": self.name,
            "tenant_id": self.tenant_id,
            "outlet_id": self.outlet_id,
            "occurred_at": rfc3339(self.occurred_at),
            "data": self.payload,
        }


Consumer = Callable[[DomainEvent], Awaitable[None]]


class UnknownEvent(ValueError):
    pass


class EventBus:
    def __init__(self) -> None:
        self._consumers: dict[str, list[Consumer]] = {}

    def on(self, name: str) -> Callable[[Consumer], Consumer]:
        def decorate(consumer: Consumer) -> Consumer:
            listeners = self._consumers.setdefault(name, [])
            if consumer not in listeners:
                listeners.append(consumer)
            return consumer

        return decorate

    def off(self, name: str, consumer: Consumer) -> None:
        listeners = self._consumers.get(name, [])
        if consumer in listeners:
            listeners.remove(consumer)

    def consumers(self, name: str) -> list[Consumer]:
        return list(self._consumers.get(name, []))

    async def deliver(self, event: DomainEvent) -> None:
        for consumer in self.consumers(event.name):
            try:
                await consumer(event)
            except Exception:
                logger.exception(
                    "event.consumer_failed",
                    event_name=event.name,
                    event_id=event.id,
                    consumer=getattr(consumer, "__qualname__", repr(consumer)),
                )


bus = EventBus()
on_event = bus.on


def _check_known(name: str) -> None:
    try:
        from servio.events import is_known_event
    except ImportError:  # the catalogue module is optional until it exists
        return
    if not is_known_event(name):
        raise UnknownEvent(f"unknown domain event {name!r}; add it to servio.events")


async def emit(
    uow: UnitOfWork,
    name: str,
    *,
    tenant_id: str,
    payload: dict[str, Any],
    outlet_id: str | None = None,
    dedupe_key: str | None = None,
) -> DomainEvent | None:
    """Record a domain event in the caller's transaction. Returns the event, or None when
    `dedupe_key` shows it was already emitted (then consumers do not run again either)."""
    _check_known(name)
    from servio.worker.scheduler import discover_tasks

    discover_tasks()  # consumers live in `<context>/tasks.py`
    event = DomainEvent(
        id=new_id(),
        name=name,
        tenant_id=tenant_id,
        outlet_id=outlet_id,
        payload=payload,
        occurred_at=utcnow(),
    )
    stored = await enqueue(
        uow,
        tenant_id=tenant_id,
        topic="event",
        event=name,
        outlet_id=outlet_id,
        payload=event.envelope(),
        dedupe_key=dedupe_key or f"event:{name}:{event.id}",
    )
    if stored is None:
        return None

    async def deliver() -> None:
        await bus.deliver(event)

    uow.after_commit(deliver)
    return event


@dataclass(frozen=True)
class PendingEvent:
    """One domain event for `emit_all` (the arguments of `emit`)."""

    name: str
    tenant_id: str
    payload: dict[str, Any]
    outlet_id: str | None = None
    dedupe_key: str | None = None


async def emit_all(uow: UnitOfWork, items: Sequence[PendingEvent | Outgoing]) -> None:
    """`emit` for several events (and `enqueue` for plain outbox messages among them) with
    ONE outbox INSERT, in the order given; consumers of each stored event run after the
    commit, in that order too."""
    from servio.worker.scheduler import discover_tasks

    discover_tasks()
    events: list[DomainEvent | None] = []
    messages: list[Outgoing] = []
    for item in items:
        if isinstance(item, Outgoing):
            events.append(None)
            messages.append(item)
            continue
        _check_known(item.name)
        event = DomainEvent(
            id=new_id(),
            name=item.name,
            tenant_id=item.tenant_id,
            outlet_id=item.outlet_id,
            payload=item.payload,
            occurred_at=utcnow(),
        )
        events.append(event)
        messages.append(
            Outgoing(
                tenant_id=item.tenant_id,
                topic="event",
                event=item.name,
                outlet_id=item.outlet_id,
                payload=event.envelope(),
                dedupe_key=item.dedupe_key or f"event:{item.name}:{event.id}",
            )
        )
    stored = await enqueue_all(uow, messages)
    delivered = [e for e, row in zip(events, stored, strict=True) if e is not None and row]

    async def deliver() -> None:
        for event in delivered:
            await bus.deliver(event)

    if delivered:
        uow.after_commit(deliver)
