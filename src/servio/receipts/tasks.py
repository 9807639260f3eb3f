"""Outbox handler of guest receipts (auto-discovered by the worker): the text message with
a one-time code for a phone number.

The text goes out through the SMS channel (`notifications/sms.py`: the Twilio-style
provider configured by `SMS_*`, or the console channel without one — the number itself is
not logged). After delivery the stored row keeps neither the code nor the number (only its
hint), like the daily pass e-mail."""

from __future__ import annotations

from typing import Any

import structlog

from servio.notifications import repository as outbox_repository
from servio.notifications.channels import Channel, ChannelMessage
from servio.notifications.email import scrubbed_payload
from servio.notifications.sms import SmsChannel
from servio.receipts.service import SMS_TOPIC, sms_text
from servio.worker.handlers import (
    ClaimedMessage,
    HandlerContext,
    PermanentFailure,
    deliver_via,
    outbox_handler,
)

logger = structlog.get_logger("servio.receipts")

# None: the deployment's SMS channel. Set only to swap the provider out in tests.
sms_channel: Channel | None = None


def scrubbed_sms(payload: dict[str, Any]) -> dict[str, Any]:
    return {**scrubbed_payload(payload), "to": payload.get("hint", "")}


@outbox_handler(SMS_TOPIC)
async def deliver_receipt_code_sms(message: ClaimedMessage, ctx: HandlerContext) -> None:
    payload = message.payload
    if payload.get("scrubbed"):
        logger.info("receipt_code_sms.already_delivered", message_id=message.id)
        return
    try:
        target = str(payload["to"])
        body = sms_text(dict(payload["context"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentFailure(f"malformed receipt code payload: {type(exc).__name__}") from exc
    await deliver_via(
        sms_channel or SmsChannel(ctx.settings),
        ChannelMessage(
            tenant_id=message.tenant_id,
            outlet_id=message.outlet_id,
            event="receipt_code",
            subject="Your receipts code",
            payload={"body": body},
            dedupe_key=message.dedupe_key,
            target=target,
        ),
    )
    async with ctx.db.unit_of_work(bypass_rls=True) as uow:
        await outbox_repository.replace_outbox_payload(uow, message.id, scrubbed_sms(payload))
