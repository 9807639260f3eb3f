"""What a domain event causes outside the process. The "event" outbox handler opens one
transaction scoped to the event's tenant and runs `route_event` in it: first the owner's
alert rules, then every registered `@event_router` (guest updates, …). Everything an
event causes is therefore enqueued atomically, and the dedupe keys make a redelivered
event enqueue nothing twice.

Routing happens here, in the worker, so emitting an event costs the request path no
extra query."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from servio.config import Settings
from servio.kit.db import UnitOfWork
from servio.notifications import routing_repository
from servio.notifications.delivery import (
    CHANNELS,
    ChannelName,
    Notification,
    enqueue_notification,
    new_webhook_id,
)
from servio.worker.handlers import ClaimedMessage

EventRouter = Callable[[UnitOfWork, Settings, ClaimedMessage], Awaitable[int]]

_routers: list[EventRouter] = []


def event_router(fn: EventRouter) -> EventRouter:
    """Register `fn` to run for every domain event; it returns how many rows it enqueued."""
    if fn not in _routers:
        _routers.append(fn)
    return fn


def registered_routers() -> list[EventRouter]:
    return list(_routers)


def event_id(message: ClaimedMessage) -> str:
    """The envelope's id (stable across redeliveries of the event row)."""
    value = message.payload.get("id")
    return value if isinstance(value, str) and value else message.id


async def fan_out_alert_rules(uow: UnitOfWork, settings: Settings, message: ClaimedMessage) -> int:
    """One `notify` row per matching alert rule."""
    if not message.tenant_id or not message.event:
        return 0
    rules = await routing_repository.matching_alert_rules(
        uow, tenant_id=message.tenant_id, event=message.event, outlet_id=message.outlet_id
    )
    queued = 0
    for rule in rules:
        if rule.channel not in CHANNELS:  # written by a newer release; its worker routes it
            continue
        notification = Notification(
            channel=cast(ChannelName, rule.channel),
            target=rule.target,
            event=message.event,
            envelope=dict(message.payload),
            webhook_id=new_webhook_id(),
            rule_id=rule.id,
        )
        stored = await enqueue_notification(
            uow,
            tenant_id=message.tenant_id,
            outlet_id=message.outlet_id,
            notification=notification,
            dedupe_key=f"notify:{event_id(message)}:{rule.id}",
        )
        queued += stored is not None
    return queued


async def route_event(uow: UnitOfWork, settings: Settings, message: ClaimedMessage) -> int:
    queued = await fan_out_alert_rules(uow, settings, message)
    for router in registered_routers():
        queued += await router(uow, settings, message)
    return queued
