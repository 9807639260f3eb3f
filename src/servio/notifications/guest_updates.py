"""Guest WhatsApp order updates (GUEST-11): when the kitchen accepts an order (`order.fired`,
pending → in_queue) and when it is ready (`order.status_changed` to `ready`), every member
of the order's table session who opted in gets one short WhatsApp message.

Runs as an event router inside the "event" outbox handler's transaction, so the messages
are queued atomically with the rest of the event's fan-out; the dedupe key makes a
redelivered event queue nothing twice."""

from __future__ import annotations

from typing import Literal

from servio.config import Settings
from servio.events import EventName
from servio.i18n import label, negotiate
from servio.kit.db import UnitOfWork
from servio.notifications.delivery import Notification, enqueue_notification, new_webhook_id
from servio.notifications.guest_update_repository import GuestUpdateRepository, OrderFacts
from servio.notifications.guest_update_service import updates_available
from servio.notifications.routing import event_router
from servio.worker.handlers import ClaimedMessage

UpdateStatus = Literal["accepted", "ready"]


def update_status(event: str, data: dict[str, object]) -> UpdateStatus | None:
    """The guest-visible step an order event stands for, or None when guests are not told."""
    if event == EventName.ORDER_FIRED:
        return "accepted"
    if event == EventName.ORDER_STATUS_CHANGED and data.get("to") == "ready":
        return "ready"
    return None


def update_text(facts: OrderFacts, status: UpdateStatus) -> str:
    lang = negotiate(facts.outlet_locale.replace("_", "-"))
    template = label(lang, f"notify.guest_update.{status}")
    ticket = facts.ticket_no or facts.order_id[-6:]
    return template.format(ticket=ticket, outlet=facts.outlet_name)


@event_router
async def route_guest_updates(uow: UnitOfWork, settings: Settings, message: ClaimedMessage) -> int:
    envelope = dict(message.payload)
    data = envelope.get("data")
    if not message.tenant_id or not isinstance(data, dict):
        return 0
    status = update_status(message.event, data)
    order_id = data.get("order_id")
    if status is None or not isinstance(order_id, str):
        return 0
    repo = GuestUpdateRepository(uow.session, message.tenant_id)
    facts = await repo.order_facts(order_id)
    if facts is None or facts.session_id is None:
        return 0  # counter orders have no table session to tell
    if not await updates_available(uow, settings, message.tenant_id, facts.outlet_id):
        return 0
    members = await repo.opted_in_members(facts.session_id)
    if not members:
        return 0
    text = update_text(facts, status)
    queued = 0
    for member in members:
        notification = Notification(
            channel="whatsapp",
            target=member.phone,
            event=message.event,
            envelope=envelope,
            webhook_id=new_webhook_id(),
            text=text,
        )
        stored = await enqueue_notification(
            uow,
            tenant_id=message.tenant_id,
            outlet_id=facts.outlet_id,
            notification=notification,
            dedupe_key=f"guest-update:{order_id}:{status}:{member.member_id}",
        )
        queued += stored is not None
    return queued
