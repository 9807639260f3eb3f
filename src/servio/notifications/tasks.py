"""Outbox handlers of the notifications context (auto-discovered by the worker):

- `event`: a domain event written by `worker.dispatch.emit`. One console line, then the
  fan-out (`routing.route_event`: alert rules, guest updates…) in ONE transaction scoped to
  the event's tenant, so what an event causes is queued atomically and, by dedupe key,
  exactly once however often the event row is redelivered.
- `notify`: one notification, one attempt through `delivery.send_now`.
- `email`: a templated e-mail (`email.enqueue_email`), scrubbed after delivery.
"""

from __future__ import annotations

import jinja2
import structlog

import servio.notifications.guest_updates  # noqa: F401 - registers its event router
from servio.notifications import repository
from servio.notifications.channels import ChannelMessage
from servio.notifications.console import ConsoleChannel
from servio.notifications.delivery import (
    NOTIFY_TOPIC,
    DestinationUnavailable,
    Notification,
    send_now,
)
from servio.notifications.email import TOPIC, EmailChannel, render_email, scrubbed_payload
from servio.notifications.routing import route_event
from servio.worker.handlers import (
    ClaimedMessage,
    Deferred,
    HandlerContext,
    PermanentFailure,
    deliver_via,
    outbox_handler,
)

logger = structlog.get_logger("servio.notifications")

EVENT_TOPIC = "event"


@outbox_handler(EVENT_TOPIC)
async def deliver_domain_event(message: ClaimedMessage, ctx: HandlerContext) -> None:
    await deliver_via(
        ConsoleChannel(),
        ChannelMessage(
            tenant_id=message.tenant_id,
            outlet_id=message.outlet_id,
            event=message.event,
            subject=message.event,
            payload=message.payload,
            dedupe_key=message.dedupe_key,
        ),
    )
    if not message.tenant_id:
        return  # platform-level events have no tenant rules to match
    async with ctx.unit_of_work(message) as uow:
        queued = await route_event(uow, ctx.settings, message)
    if queued:
        logger.info("event.routed", message_id=message.id, event_name=message.event, queued=queued)


@outbox_handler(NOTIFY_TOPIC)
async def deliver_notification(message: ClaimedMessage, ctx: HandlerContext) -> None:
    try:
        notification = Notification.from_payload(message.payload)
    except ValueError as exc:
        raise PermanentFailure(f"malformed notification: {exc}") from exc
    try:
        outcome = await send_now(
            ctx.db,
            ctx.settings,
            tenant_id=message.tenant_id,
            outlet_id=message.outlet_id,
            notification=notification,
            kind="delivery",
            outbox_id=message.id,
            attempt=message.attempts,
        )
    except DestinationUnavailable as exc:
        if exc.permanent:
            raise PermanentFailure(str(exc)) from exc
        raise
    if outcome.ok:
        return
    if outcome.retry_after is not None:
        raise Deferred(outcome.retry_after, outcome.detail)
    detail = f"{notification.channel}: {outcome.detail}"
    if not outcome.retryable:
        raise PermanentFailure(detail)
    raise RuntimeError(detail)


@outbox_handler(TOPIC)
async def deliver_email(message: ClaimedMessage, ctx: HandlerContext) -> None:
    """Render and send one queued e-mail, then scrub its secret fields from the stored row.

    Scrubbing happens only after a successful send, so a payload marked `scrubbed` was
    already delivered: a redelivery of it (the worker lost its lease after sending) is
    acknowledged without sending `***` to anyone."""
    payload = message.payload
    if payload.get("scrubbed"):
        logger.info("email.already_delivered", message_id=message.id)
        return
    try:
        subject, body = render_email(str(payload["template"]), dict(payload["context"]))
        recipients = [str(address) for address in payload["to"]]
    except (KeyError, TypeError, ValueError, jinja2.TemplateError) as exc:
        raise PermanentFailure(f"malformed e-mail payload: {type(exc).__name__}: {exc}") from exc
    await deliver_via(
        EmailChannel(ctx.settings),
        ChannelMessage(
            tenant_id=message.tenant_id,
            outlet_id=message.outlet_id,
            event=str(payload["template"]),
            subject=subject,
            payload={"body": body},
            dedupe_key=message.dedupe_key,
            target=", ".join(recipients),
        ),
    )
    if payload.get("secret_fields"):
        async with ctx.db.unit_of_work(bypass_rls=True) as uow:
            await repository.replace_outbox_payload(uow, message.id, scrubbed_payload(payload))
