"""Outbox handlers of the notifications context (auto-discovered by the worker)."""

from __future__ import annotations

import jinja2
import structlog

from servio.notifications import repository
from servio.notifications.channels import ChannelMessage
from servio.notifications.email import TOPIC, EmailChannel, render_email, scrubbed_payload
from servio.worker.handlers import (
    ClaimedMessage,
    HandlerContext,
    PermanentFailure,
    deliver_via,
    outbox_handler,
)

logger = structlog.get_logger("servio.notifications")


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
