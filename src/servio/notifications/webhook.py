"""The webhook channel: POST the event envelope as compact JSON, signed the Standard
Webhooks way (`notifications/signing.py`) with every live secret of the endpoint.

`webhook-id` is the notification's id, the same for every retry and replay, so a receiver
that dedupes on it sees each event once even though delivery is at-least-once.
`webhook-timestamp` is the wall-clock second of this attempt: receivers compare it with
their own clock to refuse replays, so it is deliberately not the app's (test) clock.
Redirects are not followed: a signed body must reach the URL the owner registered."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import orjson

from servio.config import Settings
from servio.notifications.channels import ChannelMessage, DeliveryResult, post_once
from servio.notifications.signing import signature_headers
from servio.notifications.targets import InvalidTarget, normalize_webhook_url

USER_AGENT = "Servio-Webhooks/1"


def webhook_body(message: ChannelMessage) -> bytes:
    return orjson.dumps(message.payload)


def webhook_headers(
    secrets: Sequence[str], message_id: str, body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        **signature_headers(secrets, message_id, stamp, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


class WebhookChannel:
    name = "webhook"

    def __init__(self, settings: Settings, signing_secrets: Sequence[str]) -> None:
        self.settings = settings
        self.signing_secrets = tuple(signing_secrets)

    async def send(self, message: ChannelMessage) -> DeliveryResult:
        if not message.message_id:
            return DeliveryResult.failed("no webhook-id", retryable=False)
        try:
            # Checked again at every send: DNS may now point somewhere private (SSRF).
            url = await asyncio.to_thread(
                normalize_webhook_url, message.target, self.settings, resolve=True
            )
        except InvalidTarget as exc:
            return DeliveryResult.failed(f"webhook URL refused: {exc}", retryable=False)
        body = webhook_body(message)
        headers = webhook_headers(self.signing_secrets, message.message_id, body)
        return await post_once(
            url, "receiver", self.settings.notify_http_timeout_secs, content=body, headers=headers
        )
