"""The WhatsApp channel over Meta's Cloud API:

    POST {WHATSAPP_API_URL}/{WHATSAPP_PHONE_NUMBER_ID}/messages
    Authorization: Bearer {WHATSAPP_TOKEN}
    {"messaging_product": "whatsapp", "to": "<digits>", "type": "text", "text": {"body": …}}

Without a token or phone number id the message goes to the console channel instead (one
log line), which is what development uses. `message.target` is an E.164 number."""

from __future__ import annotations

from typing import Any

from servio.config import Settings
from servio.notifications.channels import Channel, ChannelMessage, DeliveryResult, post_once
from servio.notifications.console import ConsoleChannel


def whatsapp_request(to: str, body: str) -> dict[str, Any]:
    digits = "".join(ch for ch in to if ch.isdigit())
    return {"messaging_product": "whatsapp", "to": digits, "type": "text", "text": {"body": body}}


class WhatsAppChannel:
    name = "whatsapp"

    def __init__(self, settings: Settings, *, fallback: Channel | None = None) -> None:
        self.settings = settings
        self.fallback: Channel = fallback or ConsoleChannel()

    @property
    def configured(self) -> bool:
        s = self.settings
        return bool(s.whatsapp_token and s.whatsapp_phone_number_id and s.whatsapp_api_url)

    @property
    def endpoint(self) -> str:
        s = self.settings
        return f"{s.whatsapp_api_url.rstrip('/')}/{s.whatsapp_phone_number_id}/messages"

    async def send(self, message: ChannelMessage) -> DeliveryResult:
        if not self.configured:
            return await self.fallback.send(message)
        if not any(ch.isdigit() for ch in message.target):
            return DeliveryResult.failed("no phone number", retryable=False)
        request = whatsapp_request(message.target, str(message.payload.get("body", "")))
        return await post_once(
            self.endpoint,
            "WhatsApp API",
            self.settings.notify_http_timeout_secs,
            json=request,
            headers={"authorization": f"Bearer {self.settings.whatsapp_token}"},
        )
